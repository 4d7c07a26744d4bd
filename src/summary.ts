/**
 * The job summary every run writes: what ran, on which branch, what changed, how long it took and
 * how many API requests it cost; for cleanup the table of verdicts; on failure the error.
 *
 * Rendering is pure (renderSummary, tested directly); writeSummary is the one call to core.summary.
 * Every value is HTML-escaped: branch names come from head refs and Neon, and are not ours to trust.
 *
 * GitHub renders the summary as Markdown with HTML (CommonMark), and there an HTML block such as
 * `<table>` or `<details>` ends at the first blank line: whatever follows is Markdown again, where
 * `![x](…)` is an image and `[x](…)` a link. So no value ever brings a line break into one
 * (escapeInline turns them into `<br>`), and the text that keeps its lines (a schema diff, an
 * error) goes in a `<pre>` that starts a block of its own after a blank line: such a block ends
 * only at a line holding `</pre>` (CommonMark 0.31, HTML blocks, start condition 1), which the
 * escaped text cannot hold.
 */
import { tooLargeText } from './modes/schema-too-large.js'
import * as core from '@actions/core'

import type { CommentOutcome } from './github/comment.js'
import { coreLogger } from './log.js'
import type { DeletedBranchReport, ModeResult, SchemaComparison } from './modes/types.js'
import { recoverableText } from './modes/undo.js'
import { describeData, describeRecreated, SCHEMA_ONLY } from './masking/describe.js'
import { escapeHtml, escapeInline, escapeMarkdownHtml, shellQuote } from './util/escape.js'
import { describeComputeUnits } from './neon/compute-units.js'
import { usageRow } from './neon/usage-text.js'
import { freedHtml } from './usage-summary.js'

export interface SummaryView {
  /** The mode that ran or was about to, or undefined when inputs were invalid. */
  mode?: string
  /** When `mode: auto` chose: the event that made it choose, e.g. `pull_request closed`. */
  autoBecause?: string
  /** The branch the run targeted, when known; shown when there is no result. */
  target?: string
  result?: ModeResult
  /** The failure, already scrubbed of secrets. */
  error?: string
  /** Why the run deliberately did nothing. */
  skipped?: string
  dryRun?: boolean
  /** `ephemeral: true`: the post step deletes the branch when the job ends. */
  ephemeral?: boolean
  neon?: {
    requests: number
    retries: number
    lock?: { waits: number; tries: number; waitedMs: number; longestMs: number }
  }
  github?: { requests: number }
  /** What happened to the pull request comment; a string says why none was written. */
  comment?: CommentOutcome | string
  /** `owner/repo` and the running workflow's file, for the command that undoes a delete. */
  repository?: string
  workflowFile?: string
}

/**
 * Text that keeps its lines, in a `<pre>` block of its own: the blank line before it ends the
 * HTML block above, so `<pre` opens one that only `</pre>` ends. Two entries of the `html` list.
 */
function preBlock(text: string): string[] {
  return ['', `<pre>${escapeHtml(text.replace(/\r\n?/g, '\n'))}</pre>`]
}

/** Bytes of the escaped schema diff a summary shows; GitHub caps a step's summary at 1 MiB. */
export const MAX_SUMMARY_DIFF_BYTES = 900_000

/** Rows of the cleanup table; a row is a few hundred bytes, the summary's limit 1 MiB. */
export const MAX_VERDICT_ROWS = 1500

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** The summary as HTML (GitHub renders job summaries as Markdown with HTML). */
export function renderSummary(v: SummaryView): string {
  const r = v.result
  const rows: [string, string][] = []
  rows.push(['Mode', `${v.mode ?? '-'}${v.autoBecause ? ` (chosen by auto for ${v.autoBecause})` : ''}`])
  rows.push(['Outcome', outcomeOf(v)])
  if (v.skipped) rows.push(['Why', v.skipped])
  rows.push(...branchRows(v), ...costRows(v))

  const html: string[] = [
    `<h3>Neon preview branch: ${escapeHtml(v.mode ?? 'not started')}</h3>`,
    table(['What', 'Value'], rows),
  ]
  if (r?.verdicts?.length) {
    html.push(...verdictsHtml(r.verdicts))
  } else if (r?.mode === 'cleanup') {
    html.push(`<p>No branch under the prefix was a candidate.</p>`)
  }
  if (r?.freed) html.push(...freedHtml(r.freed, v.dryRun === true))
  if (r?.recoverable?.length) html.push(...undoHtml(r.recoverable, v))
  if (r?.schema) html.push(...schemaHtml(r.schema))
  if (r?.failures?.length) {
    html.push(
      `<h4>Failures</h4>`,
      `<ul>${r.failures.map((f) => `<li>${escapeInline(f)}</li>`).join('')}</ul>`,
    )
  }
  if (v.error) html.push(`<h4>Error</h4>`, ...preBlock(v.error))
  return html.join('\n')
}

function outcomeOf(v: SummaryView): string {
  const r = v.result
  return v.error
    ? '❌ failed'
    : v.skipped
      ? '⏭️ skipped'
      : v.dryRun
        ? '🔎 dry run: nothing was changed'
        : r?.failures?.length
          ? '⚠️ finished with failures'
          : '✅ succeeded'
}

/** The rows about the branch: which, from where, what data, created or deleted, its URLs. */
function branchRows(v: SummaryView): [string, string][] {
  const r = v.result
  const rows: [string, string][] = []
  const b = r?.branch
  const branchName = b?.name || v.target
  if (branchName) rows.push(['Branch', b?.id ? `${branchName} (${b.id})` : branchName])
  const parent = b?.parentName ?? b?.parentId
  if (parent) rows.push(['Parent', parent])
  if (b?.pointInTime) rows.push(['Point in time', b.pointInTime])
  if (r?.computeUnits) rows.push(['Compute', describeComputeUnits(r.computeUnits)])
  if (r?.anonymization) rows.push(['Data', describeData(r.anonymization)])
  if (r?.recreated) rows.push(['Re-created', describeRecreated(r.recreated.previousId)])
  if (r?.created !== undefined && !v.dryRun && r.mode !== 'delete') {
    rows.push([
      'Created',
      r.created
        ? 'yes, by this run'
        : r.recovery
          ? `no: recovered the branch deleted at ${r.recovery.deletedAt}; its data and URL are as they were`
          : 'no, adopted the existing branch',
    ])
  }
  if (v.ephemeral && !v.dryRun) rows.push(['Ephemeral', 'yes: the post step deletes it when the job ends'])
  if (r?.deleted !== undefined) {
    rows.push([
      'Deleted',
      r.deleted
        ? 'yes'
        : v.dryRun
          ? 'no (dry run)'
          : r.notDeleted
            ? `no: ${r.notDeleted}`
            : 'no, it was already gone',
    ])
  }
  if (b && !v.dryRun && r?.mode !== 'delete' && b.id) rows.push(['Expires', b.expiresAt ?? 'never'])
  if (r?.connection) rows.push(['Host', r.connection.urls.host])
  if (b?.schemaOnly) rows.push(['Data', SCHEMA_ONLY])
  if (r?.authUrl !== undefined) rows.push(['Neon Auth', r.authUrl ?? 'not enabled on this branch'])
  if (r?.dataApiUrl !== undefined)
    rows.push(['Data API', r.dataApiUrl ?? "not enabled for the branch's database"])
  const usage = usageRow(r?.usage, r?.mode === 'delete' && r.deleted === true)
  if (usage) rows.push(usage)
  return rows
}

/** The rows about the run: the branch limit, the sweep, changes, times, requests, the comment. */
function costRows(v: SummaryView): [string, string][] {
  const r = v.result
  const rows: [string, string][] = []
  const room = r?.branchLimit
  if (room) {
    rows.push([
      'Branch limit',
      `at the limit (${room.count} of ${room.limit ?? '?'}): ${room.madeRoom.length ? '' : 'nothing deleted'}` +
        room.madeRoom.map((v) => `${v.verdict} ${v.branch} (${v.reason})`).join('; '),
    ])
  }
  if (r?.staleBranches) rows.push(['Stale branches', String(r.staleBranches.length)])
  if (r?.deletedBranches) rows.push(['Deleted branches', String(r.deletedBranches.length)])
  if (r) rows.push(['Changes', r.changes.length ? r.changes.join('; ') : 'none'])
  if (r?.timings.readyMs !== undefined) rows.push(['Time to ready', seconds(r.timings.readyMs)])
  if (r) {
    rows.push(['Total time', seconds(r.timings.totalMs)])
    rows.push(['Waiting on Neon', `${seconds(r.timings.wait.waitedMs)}, ${r.timings.wait.polls} polls`])
  }
  const lock = v.neon?.lock
  if (lock && lock.waits > 0) {
    rows.push([
      'Waited for the project lock',
      `${seconds(lock.waitedMs)} (${lock.tries} ${lock.tries === 1 ? 'try' : 'tries'} refused with 423` +
        (lock.waits > 1 ? `, over ${lock.waits} requests; the longest wait ${seconds(lock.longestMs)}` : '') +
        ')',
    ])
  }
  if (v.neon) rows.push(['Neon API requests', `${v.neon.requests} (${v.neon.retries} retries)`])
  if (v.github && v.github.requests > 0) rows.push(['GitHub API requests', String(v.github.requests)])
  if (v.comment !== undefined) rows.push(['Pull request comment', commentText(v.comment)])
  return rows
}

/** The cleanup verdicts as a table. */
function verdictsHtml(verdicts: NonNullable<ModeResult['verdicts']>): string[] {
  const html: string[] = []
  // GitHub caps a step's summary at 1 MiB: every deleted, failed or would-be-deleted branch is
  // listed, and kept ones only up to a bound, so a project of many thousands still fits.
  const acted = verdicts.filter((x) => x.verdict !== 'kept')
  const kept = verdicts.filter((x) => x.verdict === 'kept')
  const shownKept = kept.slice(0, Math.max(0, MAX_VERDICT_ROWS - acted.length))
  html.push(`<h4>Cleanup verdicts (${verdicts.length} candidate branches)</h4>`)
  html.push(
    table(
      ['Branch', 'Pull request', 'Age (days)', 'Verdict', 'Reason'],
      [...acted, ...shownKept].map((x) => [
        `${x.branch} (${x.branchId})`,
        x.pr === undefined ? '-' : `#${x.pr}${x.prState ? ` (${x.prState})` : ''}`,
        String(x.ageDays),
        x.verdict,
        x.reason,
      ]),
    ),
  )
  if (shownKept.length < kept.length) {
    html.push(`<p>… and ${kept.length - shownKept.length} more kept branches, not listed.</p>`)
  }
  return html
}

/**
 * The schema diff, as the comment shows it but whole, up to {@link MAX_SUMMARY_DIFF_BYTES}; the
 * `schema_diff` output always has all of it. Escaped, in a `<pre>` block of its own (preBlock):
 * neither its blank lines nor anything in it can end the block.
 */
function schemaHtml(c: SchemaComparison): string[] {
  const code = (s: string): string => `<code>${escapeInline(s)}</code>`
  const where = `${code(c.database)} on ${code(c.branch.name)}, compared with ${code(c.base.name)}`
  if (c.tooLarge) {
    return [
      '<h4>Schema changes</h4>',
      `<p>Schema of ${where}: <b>the schemas differ, but the diff was too large to compute</b>: ${escapeHtml(tooLargeText(c.tooLarge))}</p>`,
    ]
  }
  if (c.diff === '') return ['<h4>Schema changes</h4>', `<p>No schema changes: ${where}.</p>`]
  const lines = escapeHtml(c.diff.replace(/\r\n?/g, '\n').replace(/\n$/, '')).split('\n')
  let bytes = 0
  let shown = 0
  for (const line of lines) {
    bytes += Buffer.byteLength(line, 'utf8') + 1
    if (bytes > MAX_SUMMARY_DIFF_BYTES) break
    shown++
  }
  const counts = `${c.added.toLocaleString('en-US')} ${c.added === 1 ? 'line' : 'lines'} added, ${c.removed.toLocaleString('en-US')} removed`
  const out = [
    '<h4>Schema changes</h4>',
    `<p>Schema of ${where}:</p>`,
    `<details open><summary><b>+${c.added.toLocaleString('en-US')} −${c.removed.toLocaleString('en-US')}</b>: ${counts} in ${code(c.database)}</summary>`,
    // Already escaped, line by line, to be measured: preBlock would escape it twice.
    '',
    `<pre lang="diff">${lines.slice(0, shown).join('\n')}</pre>`,
  ]
  if (shown < lines.length) {
    out.push(
      `<p>✂️ ${(lines.length - shown).toLocaleString('en-US')} of ${lines.length.toLocaleString('en-US')} diff lines are not shown (a job summary holds at most 1 MiB); the full diff is in the <code>schema_diff</code> output.</p>`,
    )
  }
  out.push('</details>')
  return out
}

/** Rows of the undo table at most; every branch is in the `recoverable_until` output. */
export const MAX_UNDO_ROWS = 1000

/**
 * The one-line workflow_dispatch that brings a deleted branch back: the branch by its id (unique,
 * and `[a-z0-9-]` only), every word shell-quoted.
 */
export function recoverCommand(id: string, o: { repository?: string; workflowFile?: string }): string {
  return [
    'gh workflow run',
    o.workflowFile ? shellQuote(o.workflowFile) : '<workflow file>',
    ...(o.repository ? ['--repo', shellQuote(o.repository)] : []),
    '-f mode=recover',
    `-f ${shellQuote(`branch_name=${id}`)}`,
  ].join(' ')
}

/** "Undo a delete": per deleted branch, until when it can be recovered and the command that does it. */
export function undoHtml(
  reports: readonly DeletedBranchReport[],
  o: { repository?: string; workflowFile?: string },
): string[] {
  const e = escapeMarkdownHtml
  const rows = reports
    .slice(0, MAX_UNDO_ROWS)
    .map(
      (r) =>
        `<tr><td>${e(r.name)} (${e(r.id)})</td><td>${e(recoverableText(r))}</td>` +
        `<td><code>${e(recoverCommand(r.id, o))}</code></td></tr>`,
    )
  const out = [
    `<h4>Undo a delete</h4>`,
    `<p>Neon keeps a deleted branch, with its data, host and password, where it offers branch recovery ` +
      `(a preview). Reopening a pull request brings its branch back (create recovers it); any branch ` +
      `comes back with <code>mode: recover</code>:</p>`,
    `<table><tr><th>Branch</th><th>Can be recovered</th><th>Bring it back</th></tr>${rows.join('')}</table>`,
  ]
  if (reports.length > MAX_UNDO_ROWS) {
    out.push(
      `<p>… and ${reports.length - MAX_UNDO_ROWS} more: see the <code>recoverable_until</code> output.</p>`,
    )
  }
  out.push(
    `<p>The command runs ${o.workflowFile ? `<code>${e(o.workflowFile)}</code>` : 'your workflow'}, which needs ` +
      `a <code>workflow_dispatch</code> trigger whose inputs <code>mode</code> and <code>branch_name</code> ` +
      `are passed to this action (<code>docs/recover.md</code> in the action's repository shows one).</p>`,
  )
  return out
}

function commentText(c: CommentOutcome | string): string {
  if (typeof c === 'string') return c
  switch (c.status) {
    case 'failed':
      return `not written (warning): ${c.error}`
    case 'unchanged':
      return 'up to date'
    default:
      return c.removedDuplicates ? `${c.status}; ${c.removedDuplicates} duplicate(s) removed` : c.status
  }
}

function table(head: string[], rows: string[][]): string {
  const tr = (cells: string[], tag: 'th' | 'td'): string =>
    `<tr>${cells.map((c) => `<${tag}>${escapeInline(c)}</${tag}>`).join('')}</tr>`
  return `<table>${tr(head, 'th')}${rows.map((r) => tr(r, 'td')).join('')}</table>`
}

/**
 * Appends the summary to GITHUB_STEP_SUMMARY. A summary that cannot be written (no file outside a
 * runner, a full disk) is a warning: the work is done and the outputs are set.
 */
export async function writeSummary(html: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  try {
    await core.summary.addRaw(html, true).write()
  } catch (e) {
    coreLogger.warning(`Could not write the job summary: ${(e as Error).message}`)
  }
}
