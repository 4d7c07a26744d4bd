/**
 * The pull request comment's text, rendered from a mode's result. Pure: no I/O, no clock of its own.
 *
 * It never reads `result.connection`: a comment is public to everyone who can read the pull request,
 * so no password and no URL with one in it can reach it, whatever the result holds.
 */
import type { RunContext } from './context.js'
import type { ModeResult } from '../modes/types.js'
import { describeData, SCHEMA_ONLY } from '../masking/describe.js'
import { describeComputeUnits } from '../neon/compute-units.js'
import { usageRow } from '../neon/usage-text.js'
import { isProjectId } from '../inputs.js'
import { codeBlock, codeSpan, shellQuote, tableCell } from '../util/escape.js'
import { isBranchId } from './naming.js'
import { renderSchemaSection, type SchemaSectionView } from './schema-section.js'
import { UNKNOWN_WINDOW } from '../modes/undo.js'

/** Where the branch stands, as the comment shows it. */
export type CommentStatus = 'created' | 'ready' | 'recovered' | 'reset' | 'deleted' | 'failed'

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
  /** The comment's current body, when there is one: the sections this run does not write are kept. */
  existing?: string
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
      return result.created ? 'created' : result.recovered ? 'recovered' : 'ready'
  }
}

const HEADLINE: Record<CommentStatus, string> = {
  created: '🟢 created and ready',
  ready: '🟢 ready',
  recovered: '♻️ recovered and ready',
  reset: '🔄 reset from its parent, ready',
  deleted: '🗑️ deleted',
  failed: '🔴 failed',
}

/**
 * Hidden markers that open each section of the comment, each on a line of its own: a schema-diff
 * run replaces the schema section and keeps the branch section a create run wrote, and the other
 * way round. Rendered text never holds one (see {@link neutralize}), so only these lines are real.
 */
export const SECTION = {
  branch: '<!-- neon-preview-branch:section branch -->',
  schema: '<!-- neon-preview-branch:section schema -->',
  footer: '<!-- neon-preview-branch:section footer -->',
} as const

type SectionName = keyof typeof SECTION

/** Breaks up anything in untrusted text that could pass for one of our markers (invisibly). */
export function neutralize(text: string): string {
  return text.replace(/<!--(?=\s*neon-preview-branch)/g, '<!-\u200b-')
}

/**
 * The sections of a comment body as written by this action (each without its marker line). A
 * body from before sections existed is read as one branch section, its footer line dropped.
 */
export function parseSections(body: string): Partial<Record<SectionName, string>> {
  const lines = body.replace(/\r\n?/g, '\n').split('\n')
  const names = Object.keys(SECTION) as SectionName[]
  const out: Partial<Record<SectionName, string>> = {}
  let current: SectionName | undefined
  let buf: string[] = []
  const flush = (): void => {
    if (current) out[current] = trimEnd(buf.join('\n'))
    buf = []
  }
  for (const line of lines.slice(1)) {
    const name = names.find((n) => SECTION[n] === line)
    if (name) {
      flush()
      current = name
    } else if (current) buf.push(line)
    else buf.push(line)
  }
  if (current) flush()
  else if (buf.length > 0) {
    while (buf.length > 0 && (buf.at(-1) === '' || buf.at(-1)?.startsWith('<sub>Updated by '))) buf.pop()
    if (buf.length > 0) out.branch = buf.join('\n')
  }
  return out
}

/**
 * Renders the whole comment body, marker first: the branch section, the schema section when
 * there is one, the footer; under GitHub's limit. A schema-diff run renders only the schema
 * section and keeps the branch section of `existing`; the other modes render the branch section
 * and keep the schema section only where it is still true (see keepsSchema).
 */
export function renderComment(v: CommentView): string {
  const marker = commentMarker(v.projectId, v.target)
  const kept = v.existing !== undefined ? parseSections(v.existing) : {}
  const schemaRun = v.mode === 'schema-diff'
  const branch = trimEnd(
    schemaRun && kept.branch !== undefined ? kept.branch : neutralize(renderBranchSection(v)),
  )
  const run = v.context.runUrl ? ` in [this run](${v.context.runUrl})` : ''
  const footer = `<sub>Updated by ${v.producer}${run}.</sub>`
  const assemble = (schema: string | undefined): string =>
    [
      marker,
      SECTION.branch,
      branch,
      // A blank line before each marker ends any HTML block above it (`</details>`), so what
      // follows is read as Markdown again.
      ...(schema !== undefined && schema !== '' ? ['', SECTION.schema, trimEnd(schema)] : []),
      '',
      SECTION.footer,
      footer,
    ].join('\n')
  // What the schema section may use: everything below the limit the rest leaves, less its marker line.
  const budget = MAX_COMMENT_CHARS - 1 - assemble(undefined).length - SECTION.schema.length - 3
  let schema: string | undefined
  if (schemaRun) {
    const view: SchemaSectionView | undefined = v.result?.schema
      ? { comparison: v.result.schema }
      : v.error !== undefined
        ? { error: v.error }
        : undefined
    if (view) schema = neutralize(renderSchemaSection(view, budget))
  } else if (kept.schema !== undefined && keepsSchema(v.status)) {
    schema = kept.schema.length <= budget ? kept.schema : undefined
  }
  return truncateComment(assemble(schema))
}

/** Without trailing blank lines: sections are stored so, and separated by one when assembled. */
function trimEnd(text: string): string {
  // trimEnd, not /\s+$/: that one is quadratic on a long run of blanks, and the text holds the schema diff.
  return text.trimEnd()
}

/**
 * Whether a branch-mode run leaves the last schema diff in place: an adopted branch still holds
 * what its migrations did, and a failure changed no schema; a new branch starts from its parent's
 * schema, a reset brings it back to the parent's, and a deleted branch has none.
 */
function keepsSchema(status: CommentStatus): boolean {
  return status === 'ready' || status === 'recovered' || status === 'failed'
}

/** The branch section: headline, table, and how to connect (or the failure). */
function renderBranchSection(v: CommentView): string {
  const r = v.result
  const branch = r?.branch
  const name = branch?.name || v.target
  const id = branch?.id || (isBranchId(v.target) ? v.target : '')
  // schema-diff writes a branch section only when there is no comment yet: who the branch is, and
  // nothing about its state, which that run did not look at.
  const schemaRun = v.mode === 'schema-diff'
  const lines: string[] = [
    schemaRun
      ? `### Neon preview branch ${codeSpan(name)}`
      : `### Neon preview branch ${codeSpan(name)}: ${r?.notDeleted ? '⚠️ left alone' : HEADLINE[v.status]}`,
    '',
  ]

  const rows: [string, string][] = []
  const link = v.status !== 'deleted' ? consoleLink(v.projectId, id) : undefined
  rows.push([
    'Branch',
    link
      ? `${codeSpan(name)} · [${codeSpan(id)}](${link})`
      : `${codeSpan(name)}${id ? ` (${codeSpan(id)})` : ''}`,
  ])
  rows.push(['Project', codeSpan(v.projectId)])
  const parent = branch?.parentName ?? branch?.parentId
  if (parent && !schemaRun) rows.push(['Parent', codeSpan(parent)])
  if (branch?.pointInTime && !schemaRun) rows.push(['Point in time', codeSpan(branch.pointInTime)])
  if (r?.computeUnits && v.status !== 'deleted' && !schemaRun)
    rows.push(['Compute', describeComputeUnits(r.computeUnits)])
  if (r?.anonymization && v.status !== 'deleted' && !schemaRun)
    rows.push(['Data', describeData(r.anonymization)])
  if (!schemaRun) rows.push(['State', stateText(v)])
  if (branch?.schemaOnly && v.status !== 'deleted' && !schemaRun) rows.push(['Data', SCHEMA_ONLY])
  if (v.status !== 'deleted' && !schemaRun) {
    if (r?.authUrl !== undefined)
      rows.push(['Neon Auth', r.authUrl !== null ? codeSpan(r.authUrl) : 'not enabled on this branch'])
    if (r?.dataApiUrl !== undefined)
      rows.push([
        'Data API',
        r.dataApiUrl !== null ? codeSpan(r.dataApiUrl) : "not enabled for the branch's database",
      ])
  }
  if (branch && v.status !== 'deleted' && v.status !== 'failed') {
    rows.push(['Expires', expiryText(branch.expiresAt, v.now)])
  }
  const usage = schemaRun ? undefined : usageRow(r?.usage, v.status === 'deleted')
  if (usage) rows.push(usage)
  rows.push(...runRows(v, id, schemaRun))
  lines.push('| | |', '| --- | --- |', ...rows.map(([k, val]) => `| ${k} | ${tableCell(val)} |`), '')

  if (!schemaRun) lines.push(...connectOrFailure(v, name))
  return lines.join('\n')
}

/** The rows about this run: the commit, room made, how to undo a delete, times. */
function runRows(v: CommentView, id: string, schemaRun: boolean): [string, string][] {
  const r = v.result
  const rows: [string, string][] = []
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
  const undo = v.status === 'deleted' ? r?.recoverable?.find((x) => x.id === id) : undefined
  if (undo) {
    rows.push([
      'Recoverable',
      `${undo.recoverableUntil ? `until ${codeSpan(undo.recoverableUntil)}` : `for ${UNKNOWN_WINDOW}`}: ` +
        `reopen this pull request to get it back, data and URL as they were`,
    ])
  }
  if (r?.timings.readyMs !== undefined) rows.push(['Time to ready', seconds(r.timings.readyMs)])
  if (r && !schemaRun) rows.push(['Run took', seconds(r.timings.totalMs)])
  return rows
}

/**
 * After the table: the failure, or how to connect (nothing for a deleted branch). Not for
 * schema-diff, whose failure, if any, is shown in the schema section.
 */
function connectOrFailure(v: CommentView, name: string): string[] {
  const lines: string[] = []
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
  return lines
}

/**
 * The branch's page in the Neon console, only for a project id and a branch id of the forms Neon
 * gives them (a name, or an id from elsewhere, is shown as code, never linked), and with every
 * character a Markdown link destination could end at percent-encoded anyway.
 */
export function consoleLink(projectId: string, branchId: string): string | undefined {
  if (!isProjectId(projectId) || !isBranchId(branchId)) return undefined
  return `${CONSOLE}/${pathSegment(projectId)}/branches/${pathSegment(branchId)}`
}

/** encodeURIComponent, and the characters it leaves alone that Markdown reads: `( ) ! ' *`. */
function pathSegment(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function stateText(v: CommentView): string {
  const r = v.result
  switch (v.status) {
    case 'created':
      return 'ready: created by this run'
    case 'ready':
      return 'ready: existing branch adopted, expiry refreshed'
    case 'recovered':
      return r?.recovery
        ? `ready: recovered the branch deleted at ${codeSpan(r.recovery.deletedAt)}; its data and URL are as they were`
        : 'ready: recovered; its data and URL are as they were'
    case 'reset':
      if (r?.recreated) {
        return `ready: re-created from the parent with freshly masked data (Neon cannot reset an anonymized branch); new branch id (it was ${codeSpan(r.recreated.previousId)}), host and password`
      }
      return r?.branch?.pointInTime
        ? 'ready: data restored to the point in time above; same host and password'
        : 'ready: data reset from the parent; same host and password'
    case 'deleted':
      return r?.notDeleted
        ? // Neon's text (another repository's annotation, which anyone writing to the project sets),
          // in a code span: no link, image, heading or mention, bare URLs included.
          `not deleted: ${codeSpan(r.notDeleted)}`
        : r?.deleted === false
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
