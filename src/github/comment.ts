/**
 * The sticky pull request comment: one per pull request and branch, found again by its hidden
 * marker and updated in place. Writing it is best effort: any failure is a warning, never a failed
 * step (a fork's read-only token answers 403, and the branch is what the job needs).
 */
import { truncateComment } from './comment-body.js'
import type { Logger } from '../modes/types.js'
import type { GitHubClient } from './octokit.js'

/** Where the comment code reports: the modes' logger is enough. */
export type CommentLog = Pick<Logger, 'info' | 'warning' | 'debug'>

export interface StickyComment {
  octokit: GitHubClient
  /** `owner/repo`. */
  repository: string
  /** The pull request's number (pull requests are issues for comments). */
  issueNumber: number
  /** The hidden marker the body starts with; see commentMarker. */
  marker: string
  /**
   * The body, or how to make it from the body of the comment being updated (undefined when a new
   * one is created): a schema-diff run keeps the branch section a create run wrote.
   */
  body: string | ((existing: string | undefined) => string)
  log: CommentLog
}

/** What happened to the comment. */
export type CommentOutcome =
  | { status: 'created' | 'updated' | 'unchanged'; id: number; url?: string; removedDuplicates: number }
  | { status: 'failed'; error: string }

interface IssueComment {
  id: number
  body?: string | null
  created_at: string
  html_url?: string
}

const PER_PAGE = 100

/**
 * Creates the marked comment, or updates the marked one in place. When earlier concurrent runs
 * left several, the oldest is kept (its link may already be shared) and updated; the rest are
 * deleted. After creating one, the comments are listed again: a run that raced this one may have
 * created its own at the same moment, and the two runs converge on the oldest.
 *
 * Never throws: a failure is logged as a warning and returned as `failed`.
 */
export async function upsertStickyComment(c: StickyComment): Promise<CommentOutcome> {
  const [owner = '', repo = ''] = c.repository.split('/')
  const where = `${c.repository}#${c.issueNumber}`
  const bodyFor = (existing: string | undefined): string => {
    const text = typeof c.body === 'string' ? c.body : c.body(existing)
    return truncateComment(text.startsWith(c.marker) ? text : `${c.marker}\n${text}`)
  }
  let step = 'list the comments of'
  try {
    const marked = await listMarked(c, owner, repo)
    let outcome: CommentOutcome
    if (marked.length === 0) {
      step = 'create a comment on'
      const body = bodyFor(undefined)
      const { data } = await c.octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: c.issueNumber,
        body,
      })
      c.log.info(`Created the pull request comment ${data.html_url}`)
      outcome = { status: 'created', id: data.id, url: data.html_url, removedDuplicates: 0 }
      step = "check for a concurrent run's comment on"
      const again = await listMarked(c, owner, repo)
      if (again.length > 1) {
        step = 'collapse duplicate comments on'
        const kept = await collapse(c, owner, repo, again, body)
        outcome = { ...outcome, id: kept.id, removedDuplicates: again.length - 1 }
      }
    } else {
      step = 'update the comment on'
      const kept = await collapse(c, owner, repo, marked, bodyFor(marked[0]?.body ?? undefined))
      outcome = {
        status: kept.changed ? 'updated' : 'unchanged',
        id: kept.id,
        removedDuplicates: marked.length - 1,
      }
      c.log.info(
        kept.changed
          ? `Updated the pull request comment ${kept.url ?? kept.id}`
          : `The pull request comment is already up to date`,
      )
    }
    return outcome
  } catch (e) {
    const error = `Could not ${step} pull request ${where}: ${describe(e)}`
    c.log.warning(`${error}. The branch is fine; only the comment is missing or stale.${hint(e)}`)
    return { status: 'failed', error }
  }
}

async function listMarked(c: StickyComment, owner: string, repo: string): Promise<IssueComment[]> {
  const all = (await c.octokit.paginate(c.octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number: c.issueNumber,
    per_page: PER_PAGE,
  })) as IssueComment[]
  // The marker must open the body: a reply quoting the comment contains it too, after "> ".
  return all
    .filter((x) => (x.body ?? '').startsWith(c.marker))
    .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id)
}

/** Keeps the oldest marked comment with `body` in it and deletes the others. */
async function collapse(
  c: StickyComment,
  owner: string,
  repo: string,
  marked: IssueComment[],
  body: string,
): Promise<{ id: number; url?: string; changed: boolean }> {
  const [keep, ...rest] = marked as [IssueComment, ...IssueComment[]]
  const changed = keep.body !== body
  if (changed) {
    await c.octokit.rest.issues.updateComment({ owner, repo, comment_id: keep.id, body })
  }
  for (const dup of rest) {
    try {
      await c.octokit.rest.issues.deleteComment({ owner, repo, comment_id: dup.id })
      c.log.info(`Deleted duplicate pull request comment ${dup.id} (kept the oldest, ${keep.id})`)
    } catch (e) {
      // Gone already (the racing run deleted it) is what we wanted.
      if (statusOf(e) === 404) continue
      c.log.warning(`Could not delete duplicate pull request comment ${dup.id}: ${describe(e)}`)
    }
  }
  return { id: keep.id, url: keep.html_url, changed }
}

function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown }).status
  return typeof s === 'number' ? s : undefined
}

function describe(e: unknown): string {
  const status = statusOf(e)
  const message = e instanceof Error ? e.message : String(e)
  return status ? `HTTP ${status}: ${message}` : message
}

function hint(e: unknown): string {
  const status = statusOf(e)
  if (status === 403 || status === 404) {
    return (
      ` The token needs 'pull-requests: write' (add it under 'permissions:'); pull requests from forks ` +
      `get a read-only token, so set 'comment: false' there or accept this warning.`
    )
  }
  return ''
}
