/**
 * The sticky pull request comment: one per pull request and branch, found again by its hidden
 * marker and its author (the action itself), and updated in place. Writing it is best effort: any
 * failure is a warning, never a failed step (a fork's read-only token answers 403, and the branch
 * is what the job needs).
 */
import { truncateComment } from './comment-body.js'
import type { Logger } from '../modes/types.js'
import type { GitHubClient } from './octokit.js'
import { isRateLimited } from './rate-limit.js'
import { escapeControl } from '../util/log-text.js'

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
  user?: { login?: string; type?: string } | null
  created_at: string
  html_url?: string
}

/** Who the token writes as: the login GitHub puts on the comments it writes. */
interface Identity {
  login: string
}

const PER_PAGE = 100

/**
 * Creates the marked comment, or updates the marked one in place. Only a comment this action wrote
 * is ever edited or deleted: one that opens with the marker **and** whose author is the identity
 * the token writes as (the marker is predictable, so anyone who can comment can post it). That
 * identity is GitHub's GraphQL `viewer` for the token (`github-actions[bot]` for the GITHUB_TOKEN,
 * `<app>[bot]` for an app's token, the user for a personal token), asked beside the first listing;
 * when that cannot be had, the author GitHub gives the comment this run creates is the answer.
 *
 * When earlier concurrent runs left several of ours, the oldest is kept (its link may already be
 * shared) and updated; the rest are deleted. After creating one, the comments are listed again: a
 * run that raced this one may have created its own at the same moment, and the two runs converge
 * on the oldest.
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
  // Beside the listing, so it costs no round trip of its own; awaited on every path below.
  const viewer = whoAmI(c)
  let step = 'list the comments of'
  try {
    const marked = await listMarked(c, owner, repo)
    const me = marked.length > 0 ? await viewer : undefined
    const ours = me ? marked.filter((x) => wroteIt(x, me)) : []
    const others = marked.length - ours.length
    if (me && others > 0) {
      c.log.info(
        `Left alone ${others} comment(s) that carry this action's marker but were written by someone else ` +
          `than ${me.login}: only the action's own comment is ever edited or deleted`,
      )
    }
    if (ours.length > 0) {
      step = 'update the comment on'
      const kept = await collapse(c, owner, repo, ours, bodyFor(ours[0]?.body ?? undefined))
      c.log.info(
        kept.changed
          ? `Updated the pull request comment ${kept.url ?? kept.id}`
          : `The pull request comment is already up to date`,
      )
      return {
        status: kept.changed ? 'updated' : 'unchanged',
        id: kept.id,
        removedDuplicates: ours.length - 1,
      }
    }
    // None of ours (or, without the viewer, none known to be): a new one, whose author is us.
    step = 'create a comment on'
    const body = bodyFor(undefined)
    const { data } = await c.octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: c.issueNumber,
      body,
    })
    c.log.info(`Created the pull request comment ${data.html_url}`)
    let outcome: CommentOutcome = { status: 'created', id: data.id, url: data.html_url, removedDuplicates: 0 }
    const author = data.user?.login ? { login: data.user.login } : (me ?? (await viewer))
    if (!author) return outcome
    step = "check for a concurrent run's comment on"
    const again = (await listMarked(c, owner, repo)).filter((x) => wroteIt(x, author))
    if (again.length > 1) {
      // A racing run's, or (without the viewer) an earlier run's: the oldest stays, with this body.
      step = 'collapse duplicate comments on'
      const kept = await collapse(c, owner, repo, again, bodyFor(again[0]?.body ?? undefined))
      outcome = { ...outcome, id: kept.id, removedDuplicates: again.length - 1 }
    }
    return outcome
  } catch (e) {
    const error = `Could not ${step} pull request ${where}: ${describe(e)}`
    c.log.warning(`${error}. The branch is fine; only the comment is missing or stale.${hint(e)}`)
    return { status: 'failed', error }
  } finally {
    await viewer
  }
}

/**
 * The login the token writes as (GraphQL `query { viewer { login } }`: it answers for a personal
 * token, an app's installation token and the GITHUB_TOKEN alike, where REST `GET /user` refuses the
 * last two), or undefined when it cannot be had (then the caller learns it from a comment it
 * creates). Never rejects.
 */
async function whoAmI(c: StickyComment): Promise<Identity | undefined> {
  try {
    const r = await c.octokit.graphql<{ viewer?: { login?: unknown } }>('query { viewer { login } }')
    const login = r.viewer?.login
    return typeof login === 'string' && login !== '' ? { login } : undefined
  } catch (e) {
    c.log.debug(`Could not ask GitHub who the token is (GraphQL viewer): ${describe(e)}`)
    return undefined
  }
}

/**
 * Whether `me` wrote the comment. Logins are unique whatever their case; a login ending in `[bot]`
 * is an app's (GitHub's comment object says `type: "Bot"`), any other a user's, so a user can
 * never pass for the action's bot.
 */
function wroteIt(x: IssueComment, me: Identity): boolean {
  const login = x.user?.login
  if (!login || login.toLowerCase() !== me.login.toLowerCase()) return false
  return x.user?.type === (me.login.endsWith('[bot]') ? 'Bot' : 'User')
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

/** Keeps the oldest of our marked comments with `body` in it and deletes the others (ours too). */
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

/** GitHub's answer as one line: its message is GitHub's text (util/log-text.ts). */
function describe(e: unknown): string {
  const status = statusOf(e)
  const message = escapeControl(e instanceof Error ? e.message : String(e))
  return status ? `HTTP ${status}: ${message}` : message
}

function hint(e: unknown): string {
  const status = statusOf(e)
  // A rate limit that outlasted the retries is not a permission problem: no hint that would mislead.
  if ((status === 403 && !isRateLimited(e)) || status === 404) {
    return (
      ` The token needs 'pull-requests: write' (add it under 'permissions:'); pull requests from forks ` +
      `get a read-only token, so set 'comment: false' there or accept this warning.`
    )
  }
  return ''
}
