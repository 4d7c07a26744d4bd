/**
 * The "Schema changes" section of the pull request comment. Pure.
 *
 * The diff is the schema of a database, and a table may be named anything: every identifier is
 * shown inside a fenced code block (whose fence no line of the diff can close: every diff line
 * starts with +, -, space, @ or \) or an inline code span / `<code>` element, where Markdown, HTML
 * and @-mentions are inert. The section never exceeds the characters it is given.
 */
import type { SchemaComparison } from '../modes/types.js'
import { tooLargeText } from '../modes/schema-too-large.js'
import { cutLines } from '../util/schema-patch.js'
import { codeBlock, codeSpan, escapeHtml } from '../util/escape.js'

/** What the section shows: a comparison, or why there is none. */
export type SchemaSectionView = { comparison: SchemaComparison } | { error: string }

export const SCHEMA_HEADING = '#### Schema changes'
const MAX_ERROR_CHARS = 4_000

/** `+3 −1`: lines added and removed, for the summary line and the log. */
export function changeCounts(c: Pick<SchemaComparison, 'added' | 'removed'>): string {
  const n = (k: number, what: string): string => `${k.toLocaleString('en-US')} ${what}`
  return `${n(c.added, c.added === 1 ? 'line added' : 'lines added')}, ${n(c.removed, 'removed')}`
}

/**
 * The section in at most `budget` characters: the heading, then the diff in `<details>` (cut at
 * a line boundary when it does not fit, with a line saying how much was cut and where the rest
 * is), or "No schema changes", or the failure.
 */
export function renderSchemaSection(v: SchemaSectionView, budget: number): string {
  const minimal = `${SCHEMA_HEADING}\n\nNot shown: the comment has no room left; see the job summary.`
  if ('error' in v) {
    const error =
      v.error.length > MAX_ERROR_CHARS
        ? `${v.error.slice(0, MAX_ERROR_CHARS)}\n… (cut; the full message is in the run log)`
        : v.error
    const text = `${SCHEMA_HEADING}\n\n**The schema comparison failed:**\n\n${codeBlock(error)}`
    return text.length <= budget ? text : fit(minimal, budget)
  }
  const c = v.comparison
  const where = `${codeSpan(c.database)} on ${codeSpan(c.branch.name)}, compared with ${codeSpan(c.base.name)}`
  if (c.tooLarge) {
    // The action's own sentence (numbers only): nothing in it needs escaping for Markdown.
    const text = `${SCHEMA_HEADING}\n\nSchema of ${where}: **the schemas differ, but the diff was too large to compute**: ${tooLargeText(c.tooLarge)}`
    return fit(text, budget)
  }
  if (c.diff === '') return fit(`${SCHEMA_HEADING}\n\nNo schema changes: ${where}.`, budget)

  const head = `${SCHEMA_HEADING}\n\nSchema of ${where}:\n\n<details><summary>${summaryLine(c)}</summary>\n\n`
  const tail = '\n\n</details>'
  // A lone CR ends a line for Markdown too: normalized first, so what is measured is what is shown.
  const diff = c.diff.replace(/\r\n?/g, '\n').replace(/\n$/, '')
  const whole = `${head}${codeBlock(diff, 'diff')}${tail}`
  if (whole.length <= budget) return whole

  // Cut: the fence is measured on the whole diff, so it is long enough for any part of it.
  const fenceOf = (block: string): number => block.indexOf('\n') - 'diff'.length
  const fenceLength = fenceOf(codeBlock(diff, 'diff'))
  const total = diff.split('\n').length
  const note = (cut: ReturnType<typeof cutLines>): string =>
    `\n\n✂️ ${cut.cutLines.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} diff lines ` +
    `(${cut.cutChars.toLocaleString('en-US')} characters) are not shown: the comment would pass GitHub's ` +
    `65,536-character limit. The full diff is in the job summary and the \`schema_diff\` output.`
  const frame = head.length + 2 * fenceLength + 'diff'.length + 2 + tail.length
  // The note's own length depends on the numbers in it; reserve room for the longest it can be.
  const reserve = note({ kept: '', keptLines: 0, cutLines: total, cutChars: diff.length }).length
  const room = budget - frame - reserve
  if (room <= 0) return fit(minimal, budget)
  const cut = cutLines(diff, room)
  const fence = '`'.repeat(fenceLength)
  return `${head}${fence}diff\n${cut.kept}\n${fence}${note(cut)}${tail}`
}

function summaryLine(c: SchemaComparison): string {
  return `<b>+${c.added.toLocaleString('en-US')} −${c.removed.toLocaleString('en-US')}</b>: ${escapeHtml(changeCounts(c))} in <code>${escapeHtml(c.database)}</code>`
}

function fit(text: string, budget: number): string {
  return text.length <= budget ? text : ''
}
