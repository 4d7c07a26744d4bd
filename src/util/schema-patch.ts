/**
 * The schema diff as `neonctl branches schema-diff` prints it, and the small amount of reading of
 * unified diffs the comment and the summary need. Pure.
 */
import { createPatch } from 'diff'

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
  if (baseSql === compareSql) return ''
  const patch = createPatch(`Database: ${database}`, baseSql, compareSql, header(base), header(compare))
  return patch.replace(/^([^\n]+)\n([^\n]+)\n/m, '')
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
