/**
 * The schema diff as `neonctl branches schema-diff` prints it, and the small amount of reading of
 * unified diffs the comment and the summary need. Pure.
 */
import { formatPatch, structuredPatch } from 'diff'

/** One side of a comparison: a branch at its head, or at an LSN or a timestamp of its history. */
export interface SchemaSide {
  branchId: string
  lsn?: string
  timestamp?: string
}

/**
 * What neonctl prints (node_modules/neon/dist/commands/schema_diff.js): jsdiff's createPatch with
 * `Database: <name>` as the file name and `(Branch: <id>[ at <point>])` as each side's header, minus
 * the patch's first two lines (`Index: …` and the `===` rule), which neonctl cuts off before
 * printing. Empty when the schemas are equal (neonctl would still print the `---`/`+++` pair).
 */
export function schemaPatch(
  database: string,
  base: SchemaSide,
  compare: SchemaSide,
  baseSql: string,
  compareSql: string,
): string {
  return boundedSchemaPatch(database, base, compare, baseSql, compareSql, {}) ?? ''
}

/**
 * The most work a schema diff may take. The schemas are the pull request's: Myers' algorithm
 * (jsdiff's) costs time in the number of changed lines, squared at worst, and memory with it (a
 * 20,000-line change took 84 s). Past this many changed lines (added plus removed) the diff is
 * not computed; a change that large does not fit the comment anyway. A change whose lines are all
 * new is refused at once (unmatchedLines); one that only moves lines still costs jsdiff seconds
 * before it gives up (7 to 13 s on a busy 2-core machine: `npm run bench:pr-content`), which the
 * step's deadline bounds as well.
 */
export const MAX_DIFF_EDIT_LINES = 10_000

export interface PatchLimits {
  /** Give up after this long (what is left of the step's deadline); jsdiff's `timeout`. */
  timeoutMs?: number
  /** Give up past this many changed lines; jsdiff's `maxEditLength`. */
  maxEditLength?: number
}

/**
 * schemaPatch within `limits`: undefined when jsdiff gave up (too many changed lines, or out of
 * time). jsdiff 5.2's structuredPatch answers undefined then (its createPatch would throw).
 */
export function boundedSchemaPatch(
  database: string,
  base: SchemaSide,
  compare: SchemaSide,
  baseSql: string,
  compareSql: string,
  limits: PatchLimits,
): string | undefined {
  if (baseSql === compareSql) return ''
  if (limits.timeoutMs !== undefined && limits.timeoutMs <= 0) return undefined
  if (limits.maxEditLength !== undefined && unmatchedLines(baseSql, compareSql) > limits.maxEditLength) {
    return undefined
  }
  const name = `Database: ${database}`
  const options = {
    context: 4,
    ...(limits.maxEditLength !== undefined ? { maxEditLength: limits.maxEditLength } : {}),
    // Whole milliseconds, at least one: jsdiff reads 0 as "no timeout".
    ...(limits.timeoutMs !== undefined ? { timeout: Math.max(1, Math.floor(limits.timeoutMs)) } : {}),
  }
  const patch = structuredPatch(name, name, baseSql, compareSql, header(base), header(compare), options) as
    ReturnType<typeof structuredPatch> | undefined
  if (patch === undefined) return undefined
  // formatPatch writes `Index:` and the `===` rule first, as createPatch does; neonctl cuts them.
  return formatPatch(patch).replace(/^([^\n]+)\n([^\n]+)\n/m, '')
}

/**
 * A lower bound of the changed lines of any diff of `a` and `b`, in one pass: each line's count in
 * one less its count in the other, summed (a line that one side has more often than the other
 * must be added or removed that many times). Past the limit, jsdiff need not even start.
 */
function unmatchedLines(a: string, b: string): number {
  const counts = new Map<string, number>()
  for (const line of a.split('\n')) counts.set(line, (counts.get(line) ?? 0) + 1)
  for (const line of b.split('\n')) counts.set(line, (counts.get(line) ?? 0) - 1)
  let n = 0
  for (const c of counts.values()) n += Math.abs(c)
  return n
}

/** Lines and characters of a text, for a message about a diff too large to compute. */
export function textSize(text: string): { lines: number; chars: number } {
  let lines = 0
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++
  if (text !== '' && !text.endsWith('\n')) lines++
  return { lines, chars: text.length }
}

function header(side: SchemaSide): string {
  const point = side.lsn ?? side.timestamp
  return `(Branch: ${side.branchId}${point !== undefined ? ` at ${point}` : ''})`
}

/** Lines added and removed by a unified diff (the `---`/`+++` file headers are not changes). */
export function countChanges(diff: string): { added: number; removed: number } {
  let added = 0
  let removed = 0
  let inHunk = false
  for (const line of diff.split('\n')) {
    if (line.startsWith('@@')) inHunk = true
    else if (!inHunk) continue
    else if (line.startsWith('+')) added++
    else if (line.startsWith('-')) removed++
  }
  return { added, removed }
}

/**
 * The longest run of whole lines of `text` from its start whose length stays within `max`
 * characters (newlines between them counted), and what was left out.
 */
export function cutLines(
  text: string,
  max: number,
): { kept: string; keptLines: number; cutLines: number; cutChars: number } {
  const lines = text.split('\n')
  let length = -1
  let n = 0
  for (const line of lines) {
    if (length + 1 + line.length > max) break
    length += 1 + line.length
    n++
  }
  const kept = lines.slice(0, n).join('\n')
  return { kept, keptLines: n, cutLines: lines.length - n, cutChars: text.length - kept.length }
}
