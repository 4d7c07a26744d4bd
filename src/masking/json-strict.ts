/**
 * JSON read strictly, for the masking rules. Pure, and linear in the text.
 *
 * `JSON.parse` alone will not do: it keeps the last of two equal keys (`"column": "email", …,
 * "column": "nickname"` masks only the nickname, silently), and its message quotes a snippet of
 * the text (masking rules are `x-sensitive` in Neon's API description, and the message would reach
 * the log and the summary). So the text is first scanned here, one pass, by the grammar of RFC 8259:
 * the first error is reported by its line and column, computed here, with what was expected; a
 * key given twice in one object is reported by its line and name. Only then does `JSON.parse`
 * build the value, from text known to be valid.
 */

/** Invalid JSON, or a key given twice; the message quotes nothing of the text but a duplicate key. */
export class StrictJsonError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    what: string,
  ) {
    super(`line ${line}, column ${column}: ${what}`)
    this.name = 'StrictJsonError'
  }
}

/** The longest key quoted in a message (keys are field names; a longer one is cut). */
const MAX_KEY_SHOWN = 40

/** Parses `text` as JSON, refusing duplicate keys; throws StrictJsonError. */
export function parseStrictJson(text: string): unknown {
  new Scanner(text).document()
  return JSON.parse(text) as unknown
}

class Scanner {
  private i = 0

  constructor(private readonly s: string) {}

  document(): void {
    this.blank()
    this.value(0)
    this.blank()
    if (this.i < this.s.length) this.fail('expected the end of the text after the value')
  }

  /** Nesting is bounded: the rules are a list of flat objects, and recursion must not overflow. */
  private value(depth: number): void {
    if (depth > 64) this.fail('the value is nested more than 64 levels deep')
    const c = this.s[this.i]
    if (c === '{') this.object(depth)
    else if (c === '[') this.array(depth)
    else if (c === '"') this.string()
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) this.number()
    else if (!this.word('true') && !this.word('false') && !this.word('null'))
      this.fail(c === undefined ? 'the text ends where a value was expected' : 'expected a value')
  }

  private object(depth: number): void {
    this.i++
    const keys = new Set<string>()
    this.blank()
    if (this.s[this.i] === '}') return void this.i++
    for (;;) {
      if (this.s[this.i] !== '"') this.fail('expected a key in double quotes')
      const start = this.i
      this.string()
      const key = JSON.parse(this.s.slice(start, this.i)) as string
      if (keys.has(key)) {
        const shown = key.length > MAX_KEY_SHOWN ? `${key.slice(0, MAX_KEY_SHOWN)}…` : key
        const at = this.position(start)
        throw new StrictJsonError(
          at.line,
          at.column,
          // eslint-disable-next-line no-control-regex
          `the key '${shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}' is given twice in one object`,
        )
      }
      keys.add(key)
      this.blank()
      this.expect(':', "expected ':' after the key")
      this.blank()
      this.value(depth + 1)
      this.blank()
      if (this.s[this.i] === '}') return void this.i++
      this.expect(',', "expected ',' or '}'")
      this.blank()
    }
  }

  private array(depth: number): void {
    this.i++
    this.blank()
    if (this.s[this.i] === ']') return void this.i++
    for (;;) {
      this.value(depth + 1)
      this.blank()
      if (this.s[this.i] === ']') return void this.i++
      this.expect(',', "expected ',' or ']'")
      this.blank()
    }
  }

  private string(): void {
    const s = this.s
    this.i++
    for (;;) {
      const c = s[this.i]
      if (c === undefined || c === '\n' || c === '\r') this.fail('a string is not closed on its line')
      if (c === '"') return void this.i++
      if (c < ' ') this.fail('a control character inside a string (escape it)')
      if (c === '\\') {
        const e = s[this.i + 1] ?? ''
        if ('"\\/bfnrt'.includes(e) && e !== '') this.i += 2
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(this.i + 2, this.i + 6))) this.i += 6
        else this.fail('a bad escape in a string')
      } else this.i++
    }
  }

  private number(): void {
    const m = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y
    m.lastIndex = this.i
    if (!m.exec(this.s)) this.fail('a malformed number')
    this.i = m.lastIndex
  }

  private word(w: string): boolean {
    if (!this.s.startsWith(w, this.i)) return false
    this.i += w.length
    return true
  }

  private expect(c: string, what: string): void {
    if (this.s[this.i] !== c) this.fail(what)
    this.i++
  }

  private blank(): void {
    const s = this.s
    while (s[this.i] === ' ' || s[this.i] === '\t' || s[this.i] === '\n' || s[this.i] === '\r') this.i++
  }

  /** Line and column (1-based, in characters) of the scan's position; counted at failure only. */
  private position(at = this.i): { line: number; column: number } {
    let line = 1
    let from = 0
    for (let k = 0; k < at; k++) {
      if (this.s[k] === '\n' || (this.s[k] === '\r' && this.s[k + 1] !== '\n')) {
        line++
        from = k + 1
      }
    }
    return { line, column: at - from + 1 }
  }

  private fail(what: string): never {
    const { line, column } = this.position()
    throw new StrictJsonError(line, column, what)
  }
}
