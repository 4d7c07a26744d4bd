/**
 * Masking rules as the workflow gives them (`masking_rules`, `masking_rules_file`: a JSON or YAML
 * list) turned into Neon's (OpenAPI `MaskingRule`), every one checked before any request.
 *
 * A rule names its column in the workflow's words (`table` or `schema.table`, `column`, and one of
 * `function` or `value`; optional `database` and `schema`) or in Neon's (`table_name`, …,
 * `masking_function`, `masking_value`), so that the `masking_rules` JSON of Neon's own
 * create-branch-action works here as it is. Messages name a rule by its position (and line) and
 * the field that is wrong, and never quote a value: Neon marks every field of a rule
 * `x-sensitive`, and these messages reach the pull request comment.
 */
import type { MaskingRule } from '@neondatabase/api-client'

import { parseStrictJson, StrictJsonError } from './json-strict.js'
import { parseYamlList, YamlSubsetError, type YamlItem } from './yaml-subset.js'

export type { MaskingRule }

/** A bad list of rules; the caller (inputs.ts) turns it into an InputError naming its input. */
export class MaskingRulesError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MaskingRulesError'
  }
}

/** How the text is written: by the file's extension, or (inline) told apart by its first character. */
export type RulesFormat = 'json' | 'yaml' | 'auto'

/** Schema of a rule that names only a table. */
export const DEFAULT_SCHEMA = 'public'

const FIELDS = {
  database: 'database_name',
  schema: 'schema_name',
  table: 'table_name',
  column: 'column_name',
  function: 'masking_function',
  value: 'masking_value',
} as const
type Field = keyof typeof FIELDS

export const RULE_SHAPE =
  'A rule is: table (or schema.table), column, and exactly one of function (a PostgreSQL Anonymizer ' +
  'expression such as anon.dummy_free_email()) or value (a literal); optionally database (default: the ' +
  "'database' input) and schema (default: public)."

const MAX_IDENTIFIER_BYTES = 63
const MAX_EXPRESSION_CHARS = 10_000
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/

/**
 * Parses and checks a list of rules; `database` fills in rules that name none. Throws
 * MaskingRulesError for the first thing wrong.
 */
export function parseMaskingRules(text: string, format: RulesFormat, database: string): MaskingRule[] {
  const items = readList(text, format)
  if (items.length === 0) {
    throw new MaskingRulesError(
      'the list of rules is empty. Leave the input unset for a branch that is not anonymized. ' + RULE_SHAPE,
    )
  }
  const rules = items.map((item, i) => toRule(item, i, database))
  const seen = new Map<string, number>()
  rules.forEach((r, i) => {
    const key = columnKey(r)
    const earlier = seen.get(key)
    if (earlier !== undefined) {
      throw new MaskingRulesError(
        `${label(i, items[i]?.line)} masks the same column as ${label(earlier, items[earlier]?.line)}; ` +
          'give each column one rule.',
      )
    }
    seen.set(key, i)
  })
  return rules
}

function readList(text: string, format: RulesFormat): YamlItem[] {
  const trimmed = text.trim()
  // JSON is YAML too, and the YAML subset has no flow style: text opening a list or a mapping is JSON.
  const json = format === 'json' || /^[[{]/.test(trimmed)
  if (json) {
    let value: unknown
    try {
      value = parseStrictJson(text.replace(/^\uFEFF/, ''))
    } catch (e) {
      if (!(e instanceof StrictJsonError)) throw e
      // The action's own message (line, column, what was expected), never the parser's: that one
      // quotes the text, and the rules are x-sensitive.
      throw new MaskingRulesError(
        `the rules are not valid JSON: ${e.message}.` +
          (format === 'json' ? '' : ' (Text starting with [ or { is read as JSON.)'),
      )
    }
    if (!Array.isArray(value))
      throw new MaskingRulesError('the rules must be a list (a JSON array). ' + RULE_SHAPE)
    return value.map((v) => ({ value: v, line: 0 }))
  }
  try {
    return parseYamlList(text)
  } catch (e) {
    if (e instanceof YamlSubsetError)
      throw new MaskingRulesError(`the rules are not YAML this action reads: ${e.message}.`)
    throw e
  }
}

function label(i: number, line: number | undefined): string {
  return `rule ${i + 1}${line ? ` (line ${line})` : ''}`
}

function toRule(item: YamlItem, i: number, database: string): MaskingRule {
  const where = label(i, item.line)
  const fail = (what: string): never => {
    throw new MaskingRulesError(`${where}: ${what}`)
  }
  const o = item.value
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    return fail(`expected a rule (fields such as table and column), got ${describe(o)}. ${RULE_SHAPE}`)
  }
  const record = o as Record<string, unknown>
  const known = new Set<string>([...Object.keys(FIELDS), ...Object.values(FIELDS)])
  const unknown = Object.keys(record).filter((k) => !known.has(k))
  if (unknown.length > 0) {
    fail(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${shortKey(k)}'`).join(', ')}. ` +
        `Fields: ${Object.keys(FIELDS).join(', ')} (or Neon's ${Object.values(FIELDS).join(', ')}).`,
    )
  }
  const get = (f: Field): string | undefined => {
    const short = record[f]
    const long = record[FIELDS[f]]
    if (short !== undefined && long !== undefined)
      fail(`'${f}' and '${FIELDS[f]}' are the same field; give one`)
    const v = short ?? long
    if (v === undefined) return undefined
    if (typeof v !== 'string') {
      return fail(
        `'${short !== undefined ? f : FIELDS[f]}' must be text, got ${describe(v)}` +
          (v === null || typeof v === 'number' || typeof v === 'boolean' ? ` (in YAML, quote it: '…')` : ''),
      )
    }
    return v
  }
  const name = (f: Field, v: string): string => {
    if (v === '') fail(`'${f}' is empty`)
    if (v !== v.trim()) fail(`'${f}' starts or ends with spaces`)
    if (CONTROL_RE.test(v)) fail(`'${f}' holds a control character`)
    const bytes = Buffer.byteLength(v, 'utf8')
    if (bytes > MAX_IDENTIFIER_BYTES) {
      fail(`'${f}' has ${bytes} bytes; Postgres names are at most ${MAX_IDENTIFIER_BYTES}`)
    }
    return v
  }
  const tableText = get('table')
  const column = get('column')
  const fn = get('function')
  const value = get('value')
  let schema = get('schema')
  if (tableText === undefined) fail(`'table' is missing. ${RULE_SHAPE}`)
  if (column === undefined) fail(`'column' is missing. ${RULE_SHAPE}`)
  let table = tableText!
  // `schema.table` when no schema is given; with `schema`, the table is taken as written.
  if (schema === undefined && table.includes('.')) {
    const dot = table.indexOf('.')
    schema = table.slice(0, dot)
    table = table.slice(dot + 1)
    if (schema === '' || table === '') fail(`'table' must be a table or schema.table`)
  }
  if (fn !== undefined && value !== undefined) fail(`'function' and 'value' are both given; give exactly one`)
  if (fn === undefined && value === undefined)
    fail(`neither 'function' nor 'value' is given; give exactly one`)
  if (fn !== undefined) {
    if (fn.trim() === '') fail(`'function' is empty`)
    if (fn.includes('\0')) fail(`'function' holds a NUL character`)
    if (fn.length > MAX_EXPRESSION_CHARS) fail(`'function' is longer than ${MAX_EXPRESSION_CHARS} characters`)
  }
  if (value !== undefined) {
    if (value.includes('\0')) fail(`'value' holds a NUL character`)
    if (value.length > MAX_EXPRESSION_CHARS) fail(`'value' is longer than ${MAX_EXPRESSION_CHARS} characters`)
  }
  const dbText = get('database')
  return {
    database_name: dbText === undefined ? database : name('database', dbText),
    schema_name: schema === undefined ? DEFAULT_SCHEMA : name('schema', schema),
    table_name: name('table', table),
    column_name: name('column', column!),
    ...(fn !== undefined ? { masking_function: fn } : { masking_value: value! }),
  }
}

function describe(v: unknown): string {
  if (v === null) return 'nothing (null)'
  if (Array.isArray(v)) return 'a list'
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`
}

// An unknown key is the user's typo, not data; still, keep it short and on one line.
function shortKey(k: string): string {
  // eslint-disable-next-line no-control-regex
  const one = k.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
  return one.length > 40 ? `${one.slice(0, 40)}…` : one
}

/** The column a rule masks: database, schema, table and column. */
function columnKey(r: MaskingRule): string {
  return JSON.stringify([r.database_name, r.schema_name, r.table_name, r.column_name])
}

function ruleKey(r: MaskingRule): string {
  return JSON.stringify([
    r.database_name,
    r.schema_name,
    r.table_name,
    r.column_name,
    r.masking_function ?? null,
    r.masking_value ?? null,
  ])
}

/**
 * Whether two lists hold the same rules, in any order: Neon's PATCH replaces the whole list, so
 * this is what decides whether an adopted branch needs one (and a new masking run).
 */
export function sameRules(a: readonly MaskingRule[], b: readonly MaskingRule[]): boolean {
  if (a.length !== b.length) return false
  const x = a.map(ruleKey).sort()
  const y = b.map(ruleKey).sort()
  return x.every((k, i) => k === y[i])
}

/** "1 rule", "3 rules". */
export function countRules(n: number): string {
  return `${n} masking rule${n === 1 ? '' : 's'}`
}
