// Issue 30, items 1 and 3: the masking rules are the pull request's text. They are read in one pass
// (no quadratic scan of quotes or trailing spaces), capped in size and line length, and read
// strictly: a JSON key given twice is an error, and a JSON error is the action's own line and
// column, never the parser's message (which quotes the rules, and the rules are x-sensitive).
import { closeSync, ftruncateSync, mkdtempSync, openSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { getInputs, InputError } from '../../src/inputs.js'
import { parseStrictJson, StrictJsonError } from '../../src/masking/json-strict.js'
import { MaskingRulesError, parseMaskingRules } from '../../src/masking/rules.js'
import { MAX_LINE_CHARS, parseYamlList, YamlSubsetError } from '../../src/masking/yaml-subset.js'

const base = { mode: 'create', api_key: 'napi_test_key_1234', project_id: 'wispy-lake-12345678' }
function inputError(values: Record<string, string>, options = {}): InputError {
  try {
    getInputs(
      (n) => ({ ...base, ...values })[n] ?? '',
      () => new Date(),
      options,
    )
  } catch (e) {
    if (e instanceof InputError) return e
    throw e
  }
  throw new Error('no input error')
}

describe('JSON rules are read strictly', () => {
  it('refuses a key given twice in one rule, naming masking_rules and the key', () => {
    const e = inputError({
      masking_rules: '[{"table": "users", "column": "email",\n  "value": "x", "column": "nickname"}]',
    })
    expect(e.input).toBe('masking_rules')
    expect(e.message).toMatch(/^Invalid input 'masking_rules'/)
    expect(e.message).toContain("line 2, column 17: the key 'column' is given twice in one object")
    expect(e.message).not.toContain('nickname')
  })

  it('names the key given twice in a file too', () => {
    const text = '[\n  {"table": "t", "column": "c", "value": "v", "value": "w"}\n]'
    const e = inputError({ masking_rules_file: 'db/r.json' }, { workspace: '/ws', readFile: () => text })
    expect(e.input).toBe('masking_rules_file')
    expect(e.message).toContain("line 2, column 47: the key 'value' is given twice")
  })

  it('reports a syntax error by a line and column it computes, never quoting the text', () => {
    const secretish = 'customer_ssn_column'
    const cases: Array<[string, string]> = [
      [`[{"table": "${secretish}", "column": ${secretish}}]`, 'line 1, column 45: expected a value'],
      [`[\n {"table": "${secretish}"\n  "column": "c"}]`, "line 3, column 3: expected ',' or '}'"],
      [`[{"table": "${secretish}"`, "line 1, column 33: expected ',' or '}'"],
      [`[{"table": "${secretish}}]`, 'line 1, column 34: a string is not closed on its line'],
      [`[{"table": "a\\q${secretish}"}]`, 'line 1, column 14: a bad escape in a string'],
      [`[1, 2] ${secretish}`, 'line 1, column 8: expected the end of the text after the value'],
      [`[01]`, "line 1, column 3: expected ',' or ']'"],
    ]
    for (const [text, where] of cases) {
      let err: unknown
      try {
        parseMaskingRules(text, 'auto', 'neondb')
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(MaskingRulesError)
      const message = (err as Error).message
      expect(message).toContain(`the rules are not valid JSON: ${where}`)
      expect(message).not.toContain(secretish)
      // Nothing of V8's wording ("Unexpected token", "in JSON at position").
      expect(message).not.toMatch(/Unexpected|position/)
    }
  })

  it('agrees with JSON.parse on what is valid', () => {
    const valid = [
      '[]',
      ' [ {"a": 1, "b": [true, false, null], "c": {"a": -0.5e+3}} ] ',
      '["\\u00e9\\n\\"\\\\\\/"]',
      '{"a": {"a": 1}, "b": {"a": 2}}',
      '[1e5, -0, 0.25, 1E-2]',
    ]
    for (const text of valid) expect(parseStrictJson(text)).toEqual(JSON.parse(text))
    const invalid = ['[1,]', '{"a" 1}', '[.5]', '[1.]', '[tru]', '["\t"]', '{a: 1}', '', '[] []', "['a']"]
    for (const text of invalid) {
      expect(() => JSON.parse(text)).toThrow()
      expect(() => parseStrictJson(text)).toThrow(StrictJsonError)
    }
  })
})

describe('the YAML reader is linear in its input, and capped', () => {
  it('reads a line of many quotes, and one of many spaces, as before', () => {
    // The shapes that took minutes (issue 30): a quote after every character, and a long run of spaces.
    const quotes = `- table: x${"'x".repeat(5_000)}\n  column: c\n  value: v\n`
    expect(parseYamlList(quotes)).toEqual([
      { value: { table: `x${"'x".repeat(5_000)}`, column: 'c', value: 'v' }, line: 1 },
    ])
    const spaces = `- table: t${' '.repeat(10_000)}x\n  column: c${' '.repeat(10_000)}\n`
    expect(parseYamlList(spaces)).toEqual([
      { value: { table: `t${' '.repeat(10_000)}x`, column: 'c' }, line: 1 },
    ])
  })

  it('opens a quoted value only where a scalar starts', () => {
    expect(parseYamlList(`- table: 'a # b' # a comment\n  column: it's\n`)).toEqual([
      { value: { table: 'a # b', column: "it's" }, line: 1 },
    ])
    expect(parseYamlList(`- 'x': "y"\n`)).toEqual([{ value: { x: 'y' }, line: 1 }])
    expect(() => parseYamlList(`- table: 'open # not a comment\n`)).toThrow(/not closed on its line/)
  })

  it('reads a line with a Unicode line separator in a value', () => {
    expect(parseYamlList(`- table: "a\u2028b"\n`)).toEqual([{ value: { table: 'a\u2028b' }, line: 1 }])
  })

  it('refuses a line longer than the cap, naming the input and the line', () => {
    const long = `- table: t\n  column: c\n  value: ${'v'.repeat(MAX_LINE_CHARS)}\n`
    expect(() => parseYamlList(long)).toThrow(YamlSubsetError)
    const e = inputError({ masking_rules: long })
    expect(e.input).toBe('masking_rules')
    expect(e.message).toMatch(
      /^Invalid input 'masking_rules': the rules are not YAML this action reads: line 3: the line is longer than 16,384 characters/,
    )
  })

  it('refuses inline rules larger than 1 MiB, naming the input, before reading them', () => {
    const e = inputError({ masking_rules: `- table: ${"x'".repeat(600_000)}` })
    expect(e.input).toBe('masking_rules')
    expect(e.message).toMatch(/^Invalid input 'masking_rules': it is larger than 1,048,576 bytes \(1 MiB\)/)
  })
})

describe('a rules file larger than 1 MiB', () => {
  it('is refused by its size before it is read, naming the input', () => {
    const ws = mkdtempSync(join(tmpdir(), 'npb-ws30-'))
    // Sparse: 2 GiB on paper, nothing on disk. Read, it would exhaust memory before being refused.
    const fd = openSync(join(ws, 'rules.yml'), 'w')
    ftruncateSync(fd, 2 * 1024 ** 3)
    closeSync(fd)
    const e = inputError({ masking_rules_file: 'rules.yml' }, { workspace: ws })
    expect(e.input).toBe('masking_rules_file')
    expect(e.message).toMatch(
      /^Invalid input 'masking_rules_file': 'rules\.yml' is larger than 1,048,576 bytes \(1 MiB\)/,
    )
  })
})

describe('api_host: what is wrong, never the value', () => {
  const SECRET = 'ghp_FAKE-test-token-abcdefghijklmnopqrstuvwxyz'
  it.each([
    [`https://neon.example/api/v2?access_token=${SECRET}`, /it has a query string \(\?…\)/],
    [`https://neon.example/api/v2#${SECRET}`, /it has a fragment \(#…\)/],
    [`https://user:${SECRET}@neon.example/api/v2`, /it holds a user name or password/],
    [`ftp://neon.example/${SECRET}?x=${SECRET}`, /its scheme is 'ftp:', not https:; it has a query string/],
    [`${SECRET} is not a url`, /the value is not a URL/],
    [`http://neon.example/${SECRET}`, /^Invalid input 'api_host': http:\/\/neon\.example: Plain http:\/\//],
  ])('refuses %#, naming what is wrong', (value, why) => {
    const e = inputError({ api_host: value })
    expect(e.input).toBe('api_host')
    expect(e.message).toMatch(why)
    expect(e.message).not.toContain(SECRET)
    expect(e.message).not.toContain('***')
  })
})
