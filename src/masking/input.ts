/**
 * The `masking_rules` and `masking_rules_file` inputs: one or the other, read and checked by
 * getInputs before any request (rules.ts says what a rule is).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs'
import { extname, isAbsolute, relative, resolve } from 'node:path'

import { INPUTS, type InputName } from '../constants.js'
import { MaskingRulesError, parseMaskingRules, type MaskingRule, type RulesFormat } from './rules.js'

/** The rules a run masks with, and where they came from (for messages: never the rules themselves). */
export interface MaskingRulesInput {
  rules: MaskingRule[]
  /** `masking_rules`, or `masking_rules_file (db/masking.yml)`. */
  source: string
}

export interface ReadMaskingRulesOptions {
  inline: string
  file: string
  /** Whether to read `file` (only where a branch is made; see getInputs). */
  readFile: boolean
  /** The `database` input: a rule's default database. */
  database: string
  branchType: string
  /** Throws an InputError naming the input (getInputs' own, which also scrubs secrets). */
  fail: (input: InputName, message: string) => never
  workspace?: string
  read?: (absolutePath: string) => string
}

/** A rules file larger than this is not a list of rules. */
export const MAX_RULES_FILE_BYTES = 1 << 20
const MAX_RULES_BYTES_SHOWN = `${MAX_RULES_FILE_BYTES.toLocaleString('en-US')} bytes (1 MiB)`
const TOO_LARGE_HINT =
  'a list of masking rules is a few lines per masked column: check that the input names the rules, ' +
  'not a dump or a generated file.'
const FORMATS: Record<string, RulesFormat> = { '.json': 'json', '.yaml': 'yaml', '.yml': 'yaml' }

export function readMaskingRules(o: ReadMaskingRulesOptions): MaskingRulesInput | undefined {
  const { fail } = o
  if (o.inline !== '' && o.file !== '') {
    fail(
      INPUTS.maskingRules,
      `Inputs '${INPUTS.maskingRules}' and '${INPUTS.maskingRulesFile}' are both set; give the rules one way.`,
    )
  }
  const input = o.inline !== '' ? INPUTS.maskingRules : o.file !== '' ? INPUTS.maskingRulesFile : undefined
  if (input === undefined) return undefined
  if (o.branchType === 'schema-only') {
    fail(
      input,
      `Input '${input}' is set, but 'branch_type' is 'schema-only': a schema-only branch has no data to ` +
        `mask. Use branch_type: default for masked data, or drop the rules for an empty copy of the schema.`,
    )
  }
  if (input === INPUTS.maskingRules) {
    if (Buffer.byteLength(o.inline, 'utf8') > MAX_RULES_FILE_BYTES) {
      fail(input, `Invalid input '${input}': it is larger than ${MAX_RULES_BYTES_SHOWN}; ${TOO_LARGE_HINT}`)
    }
    return { rules: parse(o, input, o.inline, 'auto', `Invalid input '${input}'`), source: input }
  }
  if (!o.readFile) return undefined
  const { path, shown } = locate(o)
  const format = FORMATS[extname(path).toLowerCase()]
  if (!format) {
    fail(
      input,
      `Invalid input '${input}': ${shown} must end in .json, .yaml or .yml (it says how to read it).`,
    )
  }
  let text: string
  try {
    text = (o.read ?? ((p) => readFileSync(p, 'utf8')))(path)
  } catch (e) {
    return fail(
      input,
      `Input '${input}': could not read ${shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
    )
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_RULES_FILE_BYTES) {
    fail(
      input,
      `Invalid input '${input}': ${shown} is larger than ${MAX_RULES_BYTES_SHOWN}; ${TOO_LARGE_HINT}`,
    )
  }
  return {
    rules: parse(o, input, text, format!, `Invalid input '${input}' (${shown})`),
    source: `${input} (${shown})`,
  }
}

function parse(
  o: ReadMaskingRulesOptions,
  input: InputName,
  text: string,
  format: RulesFormat,
  prefix: string,
): MaskingRule[] {
  try {
    return parseMaskingRules(text, format, o.database)
  } catch (e) {
    if (e instanceof MaskingRulesError) return o.fail(input, `${prefix}: ${e.message}`)
    throw e
  }
}

/**
 * The file, resolved in the workspace. A path that leads out of it (`..`, an absolute path
 * elsewhere, a symbolic link) is refused: the rules belong to the repository, and an error
 * message must never be how another file's content gets printed.
 */
function locate(o: ReadMaskingRulesOptions): { path: string; shown: string } {
  const input = INPUTS.maskingRulesFile
  const workspace = o.workspace ?? process.env.GITHUB_WORKSPACE ?? process.cwd()
  // eslint-disable-next-line no-control-regex
  const shown = `'${o.file.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}'`
  const candidate = isAbsolute(o.file) ? o.file : resolve(workspace, o.file)
  if (outside(resolve(workspace), candidate)) o.fail(input, outsideMessage(shown))
  // Tests hand in files by path: only the lexical check applies.
  if (o.read) return { path: candidate, shown }
  let real: string
  let root: string
  try {
    root = realpathSync(workspace)
    real = realpathSync(candidate)
  } catch {
    return o.fail(
      input,
      `Input '${input}': ${shown} does not exist in the workspace (${workspace}). Check the repository ` +
        `out first (actions/checkout), or fix the path (it is relative to the repository's root).`,
    )
  }
  // A symbolic link in the workspace may lead out of it.
  if (outside(root, real)) o.fail(input, outsideMessage(shown))
  const stat = statSync(real)
  if (!stat.isFile()) o.fail(input, `Invalid input '${input}': ${shown} is not a file.`)
  // Before reading it: a file of gigabytes must not be read into memory to be refused.
  if (stat.size > MAX_RULES_FILE_BYTES) {
    o.fail(
      input,
      `Invalid input '${input}': ${shown} is larger than ${MAX_RULES_BYTES_SHOWN}; ${TOO_LARGE_HINT}`,
    )
  }
  return { path: real, shown }
}

function outside(root: string, path: string): boolean {
  const rel = relative(root, path)
  return rel === '' || rel.startsWith('..') || isAbsolute(rel)
}

function outsideMessage(shown: string): string {
  return (
    `Invalid input '${INPUTS.maskingRulesFile}': ${shown} is outside the workspace; give a path inside ` +
    'the repository, e.g. db/masking-rules.yml.'
  )
}
