/**
 * The YAML that masking rules are written in, and nothing more: a block sequence of block mappings
 * whose values are scalars on one line (plain, 'single-' or "double-quoted"), with comments.
 *
 * Why not a YAML library: the one the tests use (`yaml`) would add about 290 KB to dist/index.js
 * (643 KB today) for a list of flat records. Why not a lax parser: a YAML document misread is a
 * column left unmasked. So everything outside the subset (flow collections, anchors, aliases,
 * tags, block scalars, multi-line scalars, nested values) is refused with the line it is on and a
 * pointer to JSON, never guessed at; and what is accepted reads exactly as YAML 1.2 reads it
 * (test/unit/yaml-subset.test.ts checks that against the `yaml` library): a plain scalar that the
 * core schema resolves to null, a boolean or a number comes back as one, so the caller can say
 * "quote it" instead of silently turning `0.50` into `0.5`.
 */

/** One item of the top-level list, with the line it starts on (1-based), for messages. */
export interface YamlItem {
  value: unknown
  line: number
}

/** Malformed or unsupported YAML; the message names the line and never quotes its text. */
export class YamlSubsetError extends Error {
  constructor(
    readonly line: number,
    what: string,
  ) {
    super(`line ${line}: ${what}`)
    this.name = 'YamlSubsetError'
  }
}

const JSON_HINT = 'write the rules as a JSON list instead, or as block-style YAML (`- table: …` lines)'
const KEY_RE = /^(?:[A-Za-z_][A-Za-z0-9_.-]*|'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")$/

interface Line {
  no: number
  indent: number
  /** The line without its indentation and without a trailing comment. */
  text: string
  /** Whether a comment was cut off the end. */
  commented: boolean
}

/** Parses `text` as a YAML list (the subset above); throws YamlSubsetError. */
export function parseYamlList(text: string): YamlItem[] {
  const lines = significantLines(text)
  if (lines.length === 0) return []
  const first = lines[0]!
  if (!isItemStart(first.text)) {
    throw new YamlSubsetError(first.no, `expected a list of rules, each starting with '- '`)
  }
  const indent = first.indent
  const items: YamlItem[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!
    if (line.indent !== indent || !isItemStart(line.text)) {
      throw new YamlSubsetError(
        line.no,
        line.indent > indent
          ? 'this line continues a value, which is not supported (values are one line each): ' + JSON_HINT
          : `expected '- ' at the indentation of the list (${indent} spaces)`,
      )
    }
    const rest = line.text.slice(1).replace(/^ +/, '')
    const map = new Map<string, unknown>()
    let fieldIndent: number | undefined
    if (rest !== '') {
      if (rest.startsWith('-')) throw new YamlSubsetError(line.no, `a list inside a list is not supported`)
      fieldIndent = line.indent + (line.text.length - rest.length)
      addField(map, rest, line)
    }
    i++
    while (i < lines.length && lines[i]!.indent > indent) {
      const field = lines[i]!
      fieldIndent ??= field.indent
      if (field.indent !== fieldIndent) {
        throw new YamlSubsetError(
          field.no,
          `expected a field at the indentation of the rule's first field (${fieldIndent} spaces); ` +
            `nested values and multi-line values are not supported: ${JSON_HINT}`,
        )
      }
      if (isItemStart(field.text))
        throw new YamlSubsetError(field.no, `a list inside a rule is not supported`)
      addField(map, field.text, field)
      i++
    }
    items.push({
      value: rest === '' && fieldIndent === undefined ? null : Object.fromEntries(map),
      line: line.no,
    })
  }
  return items
}

function isItemStart(text: string): boolean {
  return text === '-' || text.startsWith('- ')
}

/**
 * The longest line read. The rules are the pull request's text: a cap keeps every message about a
 * line short and every line's work small (a rule is a few words; an expression is at most 10,000
 * characters, rules.ts).
 */
export const MAX_LINE_CHARS = 16_384

/**
 * The lines that hold something: indentation measured, comments and blank lines dropped. Linear in
 * the text: every line is scanned once, left to right (no regular expression that could backtrack
 * over a run of spaces or quotes).
 */
function significantLines(text: string): Line[] {
  const out: Line[] = []
  const raw = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)
  raw.forEach((full, idx) => {
    const no = idx + 1
    if (full.length > MAX_LINE_CHARS) {
      throw new YamlSubsetError(
        no,
        `the line is longer than ${MAX_LINE_CHARS.toLocaleString('en-US')} characters (a rule's fields go on lines of their own)`,
      )
    }
    let start = 0
    while (full[start] === ' ') start++
    const lead = full.slice(0, start)
    let body = full.slice(start)
    if (body.startsWith('\t')) throw new YamlSubsetError(no, 'tabs cannot indent YAML; use spaces')
    const uncommented = stripComment(body, no)
    const commented = uncommented.length < body.length
    body = trimBlanksEnd(uncommented)
    if (body === '') return
    if (out.length === 0 && lead === '' && (body === '---' || body.startsWith('--- '))) {
      if (body !== '---') throw new YamlSubsetError(no, `content after '---' is not supported: ${JSON_HINT}`)
      return
    }
    if (lead === '' && (body === '---' || body === '...' || body.startsWith('%'))) {
      throw new YamlSubsetError(no, `more than one YAML document, or a directive, is not supported`)
    }
    out.push({ no, indent: lead.length, text: body, commented })
  })
  return out
}

/** `s` without trailing spaces and tabs (a loop: `/[ \t]+$/` is quadratic on a long run of spaces). */
function trimBlanksEnd(s: string): string {
  let end = s.length
  while (end > 0 && (s[end - 1] === ' ' || s[end - 1] === '\t')) end--
  return s.slice(0, end)
}

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c)

/**
 * Drops a comment (`#` at the start or after whitespace, outside quotes). One pass: where the last
 * character that is not whitespace is, is carried forward, so whether a quote may open a scalar
 * (after `key: `, `- `, or at the start) is known without looking back over the line.
 */
function stripComment(body: string, no: number): string {
  let quote: '"' | "'" | undefined
  let last = -1
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (quote === '"') {
      if (c === '\\') i++
      else if (c === '"') quote = undefined
    } else if (quote === "'") {
      if (c === "'") {
        if (body[i + 1] === "'") i++
        else quote = undefined
      }
    } else if (c === '#' && (i === 0 || body[i - 1] === ' ' || body[i - 1] === '\t')) {
      return body.slice(0, i)
    } else if ((c === '"' || c === "'") && startsScalar(body, i, last)) {
      quote = c
    }
    if (!isSpace(body[i])) last = i
  }
  if (quote)
    throw new YamlSubsetError(
      no,
      `a quoted value is not closed on its line (multi-line values are not supported)`,
    )
  return body
}

/**
 * A quote opens a quoted scalar only where a scalar begins: at the start, or after whitespace that
 * follows `:` or a `-` standing alone. `last` is the index of the last character before `i` that
 * is not whitespace (-1 when there is none).
 */
function startsScalar(body: string, i: number, last: number): boolean {
  if (i === 0) return true
  if (last < 0 || last === i - 1) return false
  const c = body[last]
  return c === ':' || (c === '-' && (last === 0 || isSpace(body[last - 1])))
}

function addField(map: Map<string, unknown>, text: string, line: Line): void {
  const no = line.no
  const at = mappingColon(text)
  if (at < 0) {
    throw new YamlSubsetError(
      no,
      `expected 'field: value'${/^[[{]/.test(text) ? `; flow style is not supported: ${JSON_HINT}` : ''}`,
    )
  }
  const rawKey = text.slice(0, at).trimEnd()
  if (!KEY_RE.test(rawKey))
    throw new YamlSubsetError(no, `a field name must be a plain word (letters, digits, '_')`)
  const key = rawKey.startsWith("'") || rawKey.startsWith('"') ? quoted(rawKey, no) : rawKey
  if (map.has(key)) throw new YamlSubsetError(no, `the field '${key}' is given twice in one rule`)
  const rest = text.slice(at + 1).replace(/^ +/, '')
  if (rest === '') {
    throw new YamlSubsetError(
      no,
      `the field '${key}' has no value on its line (nested values are not supported)`,
    )
  }
  map.set(key, scalar(rest, line))
}

/** Where `key: value` splits: the first `:` followed by a space or the end, outside a quoted key. */
function mappingColon(text: string): number {
  let i = 0
  if (text[0] === '"' || text[0] === "'") {
    const q = text[0]
    for (i = 1; i < text.length; i++) {
      if (q === '"' && text[i] === '\\') i++
      else if (text[i] === q) {
        if (q === "'" && text[i + 1] === "'") i++
        else break
      }
    }
  }
  for (; i < text.length; i++) {
    if (text[i] === ':' && (i + 1 === text.length || text[i + 1] === ' ')) return i
  }
  return -1
}

const INDICATORS = new Set(['[', ']', '{', '}', '&', '*', '!', '|', '>', '%', '@', '`', ','])

function scalar(text: string, line: Line): unknown {
  const no = line.no
  const c = text[0]!
  if (c === '"' || c === "'") {
    const end = closingQuote(text)
    if (end < 0) throw new YamlSubsetError(no, `a quoted value is not closed on its line`)
    if (text.slice(end + 1).trim() !== '') {
      throw new YamlSubsetError(no, `something follows a quoted value; put the whole value in the quotes`)
    }
    return quoted(text.slice(0, end + 1), no)
  }
  if (
    INDICATORS.has(c) ||
    ((c === '-' || c === '?' || c === ':') && (text.length === 1 || text[1] === ' '))
  ) {
    throw new YamlSubsetError(
      no,
      c === '[' || c === '{'
        ? `flow style is not supported: ${JSON_HINT}`
        : c === '&' || c === '*'
          ? 'anchors and aliases are not supported'
          : c === '!'
            ? 'tags are not supported'
            : c === '|' || c === '>'
              ? 'block scalars are not supported (values are one line each)'
              : `a value starting with '${c}' must be quoted`,
    )
  }
  if (/: |:$/.test(text)) throw new YamlSubsetError(no, `a value holding ': ' must be quoted`)
  // ` #` ends a plain value in YAML (the rest is a comment). Where that cut a function call in two,
  // the user meant the `#` as part of it: say so rather than send half an expression.
  if (line.commented && !balanced(text)) {
    throw new YamlSubsetError(no, `' #' inside a value starts a YAML comment; put the whole value in quotes`)
  }
  return resolvePlain(text)
}

/** Whether parentheses pair up and single and double quotes come in pairs. */
function balanced(s: string): boolean {
  let depth = 0
  for (const c of s) {
    if (c === '(') depth++
    else if (c === ')' && --depth < 0) return false
  }
  return depth === 0 && (s.match(/'/g) ?? []).length % 2 === 0 && (s.match(/"/g) ?? []).length % 2 === 0
}

/** YAML 1.2 core schema: what a plain scalar means. */
function resolvePlain(s: string): unknown {
  if (/^(?:null|Null|NULL|~)$/.test(s)) return null
  if (/^(?:true|True|TRUE)$/.test(s)) return true
  if (/^(?:false|False|FALSE)$/.test(s)) return false
  if (/^[-+]?[0-9]+$/.test(s)) return Number(s)
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8)
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16)
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s)) return Number(s)
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity
  if (/^\.(?:nan|NaN|NAN)$/.test(s)) return NaN
  return s
}

function closingQuote(text: string): number {
  const q = text[0]
  for (let i = 1; i < text.length; i++) {
    if (q === '"' && text[i] === '\\') i++
    else if (text[i] === q) {
      if (q === "'" && text[i + 1] === "'") i++
      else return i
    }
  }
  return -1
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
}

/** The value of a complete quoted scalar (quotes included in `text`). */
function quoted(text: string, no: number): string {
  const body = text.slice(1, -1)
  if (text[0] === "'") return body.replace(/''/g, "'")
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (c !== '\\') {
      out += c
      continue
    }
    const e = body[++i] ?? ''
    const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0
    if (hex > 0) {
      const digits = body.slice(i + 1, i + 1 + hex)
      if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits))
        throw new YamlSubsetError(no, `a bad \\${e} escape`)
      out += String.fromCodePoint(parseInt(digits, 16))
      i += hex
    } else if (e in ESCAPES) {
      out += ESCAPES[e]
    } else {
      throw new YamlSubsetError(no, `an unknown escape '\\${e}' in a double-quoted value`)
    }
  }
  return out
}
