import type { RunContext } from '../github/context.js'
import type { PullRequestLookup } from '../github/pulls.js'
import type { Mode } from '../inputs.js'
import type { NeonClient } from '../neon/client.js'
import type { ConnectionUrls } from '../neon/connection-string.js'
import type { PollOptions, WaitStats } from '../neon/operations.js'
import type { Clock } from '../util/clock.js'

/** Where a mode reports progress; main.ts wires it to @actions/core, tests to an array. */
export interface Logger {
  info(message: string): void
  notice(message: string): void
  warning(message: string): void
  debug(message: string): void
}

/** Everything a mode talks to, passed in so tests can hand it fakes. */
export interface ModeDeps {
  neon: NeonClient
  clock: Clock
  context: RunContext
  log: Logger
  /** Masks a value in every later log line (core.setSecret in the action). */
  setSecret(value: string): void
  /** Polling cadence; the deadline is derived from the `timeout` input. */
  poll?: Partial<Omit<PollOptions, 'clock' | 'deadline'>>
  /** Pull request states, for cleanup; absent when no GitHub token is available. */
  pulls?: PullRequestLookup
}

/** What cleanup decided for one candidate branch, and why. */
export interface CleanupVerdict {
  branch: string
  branchId: string
  /** The pull request the branch is tied to, when it is. */
  pr?: number
  /** open, closed, merged, missing, or unknown (the look-up failed). */
  prState?: string
  /** Days since the branch was last updated. */
  ageDays: number
  verdict: 'deleted' | 'kept' | 'would delete' | 'failed'
  reason: string
}

export interface BranchInfo {
  id: string
  name: string
  parentId?: string
  /** The parent's name, when the run learned it without an extra request. */
  parentName?: string
  /** RFC 3339, or null when the branch does not expire. */
  expiresAt: string | null
}

export interface ConnectionInfo {
  urls: ConnectionUrls
  password: string
  role: string
  database: string
  endpointId: string
}

/** create, when the project was at its branch limit: what was found, and what make-room deleted. */
export interface BranchLimitReport {
  /** `project.owner.branches_limit`; undefined when Neon did not say. */
  limit?: number
  /** `GET /projects/{id}/branches/count` when the limit was met. */
  count: number
  /** The stale branches deleted to make room ('would delete' in a dry run), in the order they went. */
  madeRoom: CleanupVerdict[]
}

/** What a mode did, for outputs, the job summary and the PR comment. */
export interface ModeResult {
  mode: Exclude<Mode, 'auto'>
  branch?: BranchInfo
  created?: boolean
  connection?: ConnectionInfo
  deleted?: boolean
  /** cleanup: what was deleted (or found already gone) by this run; `[]` in a dry run. */
  deletedBranches?: string[]
  /**
   * cleanup: what the rules chose to delete: in a dry run what would be deleted, in a real run what
   * was deleted or failed to be.
   */
  staleBranches?: string[]
  skipped?: boolean
  /** create: set when the project was at its branch limit and `on_branch_limit: make-room` made room. */
  branchLimit?: BranchLimitReport
  /** cleanup: one line per candidate. */
  verdicts?: CleanupVerdict[]
  /**
   * Failures that did not stop the mode (one delete of a sweep). main.ts publishes the result first,
   * then fails the step listing them.
   */
  failures?: string[]
  /** One line per change made, in order ("created branch …", "created role …"). */
  changes: string[]
  timings: { totalMs: number; readyMs?: number; wait: WaitStats }
}

/**
 * An error that knows what the run had already changed in Neon before it failed, so the user is
 * never left guessing what is half-done.
 */
export class ModeError extends Error {
  constructor(
    message: string,
    readonly changes: readonly string[],
    override readonly cause?: unknown,
  ) {
    super(message)
    this.name = 'ModeError'
  }
}
