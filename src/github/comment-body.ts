/**
 * The pull request comment's text, rendered from a mode's result. Pure: no I/O, no clock of its own.
 *
 * It never reads `result.connection`: a comment is public to everyone who can read the pull request,
 * so no password and no URL with one in it can reach it, whatever the result holds.
 */
import type { RunContext } from './context.js'
import type { ModeResult } from '../modes/types.js'

/** Where the branch stands, as the comment shows it. */
export type CommentStatus = 'created' | 'ready' | 'reset' | 'deleted' | 'failed'

export interface CommentView {
  status: CommentStatus
  projectId: string
  /** The branch as the run targeted it (a name or a `br-…` id); the marker is built from it. */
  target: string
  /** The mode that ran (or was about to). */
  mode: string
  result?: ModeResult
  /** On failure: the error, already scrubbed of secrets. */
  error?: string
  context: RunContext
  /** Milliseconds since the epoch, for "expires in …". */
  now: number
  /** e.g. `neon-preview-branch 0.1.0`, for the footer. */
  producer: string
}

/** GitHub refuses comment bodies of 65,536 characters or more. */
export const MAX_COMMENT_CHARS = 65_536
const MAX_ERROR_CHARS = 8_000
const CONSOLE = 'https://console.neon.tech/app/projects'

/**
 * The hidden marker that finds the comment again: one per Neon project and branch, so two
 * instances of the action on one pull request (two branches) keep two comments. `<`, `>`, `@` and
 * `%` are percent-encoded so a name can neither end the HTML comment early nor mention anyone.
 */
export function commentMarker(projectId: string, branch: string): string {
  const safe = (s: string): string => s.replace(/[%<>@]/g, (c) => encodeURIComponent(c))
  return `<!-- neon-preview-branch: ${safe(projectId)}/${safe(branch)} -->`
}

/** The status a successful result shows. */
export function statusOf(result: ModeResult): CommentStatus {
  switch (result.mode) {
    case 'reset':
      return 'reset'
    case 'delete':
      return 'deleted'
    default:
      return result.created ? 'created' : 'ready'
  }
}

const HEADLINE: Record<CommentStatus, string> = {
  created: '🟢 created and ready',
  ready: '🟢 ready',
  reset: '🔄 reset from its parent, ready',
  deleted: '🗑️ deleted',
  failed: '🔴 failed',
}

/** Renders the whole comment body, marker first. */
export function renderComment(v: CommentView): string {
  const r = v.result
  const branch = r?.branch
  const name = branch?.name || v.target
  const id = branch?.id || (v.target.startsWith('br-') ? v.target : '')
  const lines: string[] = [commentMarker(v.projectId, v.target)]
  lines.push(`### Neon preview branch ${codeSpan(name)}: ${HEADLINE[v.status]}`, '')

  const rows: [string, string][] = []
  rows.push([
    'Branch',
    id && v.status !== 'deleted'
      ? `${codeSpan(name)} · [${codeSpan(id)}](${CONSOLE}/${encodeURIComponent(v.projectId)}/branches/${encodeURIComponent(id)})`
      : `${codeSpan(name)}${id ? ` (${codeSpan(id)})` : ''}`,
  ])
  rows.push(['Project', codeSpan(v.projectId)])
  const parent = branch?.parentName ?? branch?.parentId
  if (parent) rows.push(['Parent', codeSpan(parent)])
  rows.push(['State', stateText(v)])
  if (branch && v.status !== 'deleted' && v.status !== 'failed') {
    rows.push(['Expires', expiryText(branch.expiresAt, v.now)])
  }
  const sha = v.context.pullRequest?.headSha || v.context.sha
  if (sha && /^[0-9a-f]{7,64}$/i.test(sha)) {
    const short = sha.slice(0, 7)
    rows.push([
      v.status === 'failed' ? 'Commit' : 'Updated for',
      v.context.repository
        ? `[${codeSpan(short)}](${v.context.serverUrl}/${v.context.repository}/commit/${sha})`
        : codeSpan(short),
    ])
  }
  const room = r?.branchLimit
  if (room && room.madeRoom.length > 0) {
    rows.push([
      'Made room',
      `the project was at its branch limit (${room.count} of ${room.limit ?? '?'}); deleted ` +
        room.madeRoom
          .map(
            (v) =>
              `${codeSpan(v.branch)}${v.pr !== undefined ? ` (PR #${v.pr}${v.prState ? ` ${v.prState}` : ''})` : ''}`,
          )
          .join(', '),
    ])
  }
  if (r?.timings.readyMs !== undefined) rows.push(['Time to ready', seconds(r.timings.readyMs)])
  if (r) rows.push(['Run took', seconds(r.timings.totalMs)])
  lines.push('| | |', '| --- | --- |', ...rows.map(([k, val]) => `| ${k} | ${tableCell(val)} |`), '')

  if (v.status === 'failed') {
    lines.push(`**The ${v.mode} step failed:**`, '', codeBlock(shorten(v.error ?? 'unknown error')), '')
    if (v.context.runUrl) lines.push(`See [the run log](${v.context.runUrl}) for details.`, '')
  } else if (v.status !== 'deleted') {
    lines.push(
      'Connect from your machine with [`neonctl`](https://neon.tech/docs/reference/neon-cli):',
      '',
      codeBlock(
        `neonctl connection-string ${shellQuote(name)} --project-id ${shellQuote(v.projectId)}`,
        'sh',
      ),
      '',
    )
  }
  const run = v.context.runUrl ? ` in [this run](${v.context.runUrl})` : ''
  lines.push(`<sub>Updated by ${v.producer}${run}.</sub>`)
  return truncateComment(lines.join('\n'))
}

function stateText(v: CommentView): string {
  const r = v.result
  switch (v.status) {
    case 'created':
      return 'ready: created by this run'
    case 'ready':
      return 'ready: existing branch adopted, expiry refreshed'
    case 'reset':
      return 'ready: data reset from the parent; same host and password'
    case 'deleted':
      return r?.deleted === false
        ? 'deleted (it was already gone: nothing to do)'
        : 'deleted because the pull request closed'
    case 'failed':
      return 'failed; see below'
  }
}

function expiryText(expiresAt: string | null, now: number): string {
  if (!expiresAt) return 'never'
  const ms = Date.parse(expiresAt) - now
  if (!Number.isFinite(ms)) return codeSpan(expiresAt)
  const days = ms / 86_400_000
  const rel =
    ms <= 0
      ? 'expired'
      : days >= 1
        ? `in ${Math.round(days)} day${Math.round(days) === 1 ? '' : 's'}`
        : `in ${Math.max(1, Math.round(ms / 3_600_000))} h`
  return `${codeSpan(expiresAt)} (${rel})`
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

// C0, DEL and C1 control characters (a newline would end a table row or a code span).
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/g

/**
 * Text as an inline code span: Markdown, HTML, autolinks and @-mentions are all inert inside one.
 * The fence is longer than any run of backticks in the text, so the text cannot close it.
 */
export function codeSpan(text: string): string {
  const clean = text.replace(CONTROL_RE, ' ')
  const longest = Math.max(0, ...[...clean.matchAll(/`+/g)].map((m) => m[0].length))
  const fence = '`'.repeat(longest + 1)
  const pad = clean.startsWith('`') || clean.endsWith('`') || clean === '' ? ' ' : ''
  return `${fence}${pad}${clean}${pad}${fence}`
}

/** A fenced code block whose fence no line of the text can close. */
export function codeBlock(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length))
  const fence = '`'.repeat(longest + 1)
  return `${fence}${lang}\n${text.replace(/\r\n?/g, '\n')}\n${fence}`
}

// In a GFM table `|` splits cells even inside a code span unless escaped; `\|` is kept as `|` there.
function tableCell(text: string): string {
  return text.replace(/\|/g, '\\|')
}

/** POSIX single-quoting when the word has anything but safe characters. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9._/:@%+=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

function shorten(text: string): string {
  if (text.length <= MAX_ERROR_CHARS) return text
  return `${cutAt(text, MAX_ERROR_CHARS)}\n… (${text.length - MAX_ERROR_CHARS} more characters in the run log)`
}

/** Cuts without splitting a surrogate pair. */
function cutAt(text: string, n: number): string {
  const code = text.charCodeAt(n - 1)
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n)
}

/**
 * Keeps a body below GitHub's limit. The marker stays first, so the comment is still found; the
 * cut is marked. Bodies rendered here never come close, but an error message could.
 */
export function truncateComment(body: string, max = MAX_COMMENT_CHARS - 1): string {
  if (body.length <= max) return body
  const note = '\n\n… (truncated: the full text is in the run log)'
  return cutAt(body, max - note.length) + note
}
