import type { RunContext } from '../github/context.js'
import type { PullRequestLookup } from '../github/pulls.js'
import type { WorkflowRunLookup } from '../github/runs.js'
import type { Mode } from '../inputs.js'
import type { NeonClient } from '../neon/client.js'
import type { ComputeUnits } from '../neon/compute-units.js'
import type { ConnectionUrls } from '../neon/connection-string.js'
import type { PollOptions, WaitStats } from '../neon/operations.js'
import type { FreedReport, Usage } from '../neon/usage.js'
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
  /**
   * The step's deadline, epoch ms: `timeout` from when the step started (main.ts sets it, and the
   * client shares it). Without it, a mode's deadline is `timeout` from when the mode started.
   */
  deadline?: number
  /** Pull request states, for cleanup; absent when no GitHub token is available. */
  pulls?: PullRequestLookup
  /** Workflow run states, for cleanup of ephemeral branches; absent without a GitHub token. */
  runs?: WorkflowRunLookup
  /** With `ephemeral`: where create records what the post step must delete (core.saveState). */
  ephemeral?: EphemeralRecorder
}

/**
 * Where create, in ephemeral mode, records what it is creating, at each moment it learns it, so
 * that a main step stopped at any point (cancelled, failed, killed) leaves the post step knowing.
 */
export interface EphemeralRecorder {
  /** Just before the create request: from here on a branch of this name may exist. */
  creating(name: string, key: string): void
  /** Neon answered the create: the branch exists, and these operations are under way. */
  created(branch: { id: string; name: string }, operationIds: string[]): void
  /** The create was refused: nothing exists for the post step to delete. */
  nothing(): void
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
  /** Where on the parent the branch starts, as Neon reports it. */
  parentLsn?: string
  parentTimestamp?: string
  /** Set when `parent_branch` asked for a point in time: how it reads, e.g. `2026-11-30T09:00:00Z (LSN 0/1A2B3C4)`. */
  pointInTime?: string
  /** RFC 3339, or null when the branch does not expire. */
  expiresAt: string | null
  /** Neon's `init_source: schema-only`: the parent's schema and none of its rows. */
  schemaOnly?: boolean
}

export interface ConnectionInfo {
  urls: ConnectionUrls
  password: string
  role: string
  database: string
  endpointId: string
}

/** schema-diff: one database compared between a branch and its base. */
export interface SchemaComparison {
  database: string
  /** The side compared against: the parent, or `parent_branch` (possibly at an LSN or a timestamp). */
  base: { id: string; name: string; lsn?: string; timestamp?: string }
  /** The pull request's branch, at its head. */
  branch: { id: string; name: string }
  /** The unified diff from base to branch, as neonctl prints it; empty when the schemas are equal. */
  diff: string
  added: number
  removed: number
  /**
   * Set when the schemas differ but the diff was not computed (`diff` is then empty): more changed
   * lines than the action diffs, or not within what was left of the step's deadline.
   */
  tooLarge?: SchemaTooLarge
}

/** The sizes of two schemas whose diff was too large to compute. */
export interface SchemaTooLarge {
  base: { lines: number; chars: number }
  branch: { lines: number; chars: number }
  /** The most changed lines the action diffs. */
  maxChangedLines: number
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

/** A branch a run deleted (or found already deleted), and until when Neon can bring it back. */
export interface DeletedBranchReport {
  name: string
  id: string
  /**
   * RFC 3339, the listing's `recovery.recoverable_until`; undefined when Neon did not list the
   * branch as recoverable (recovery not offered to the account, or the listing failed): then it is
   * "up to 7 days, where Neon offers recovery".
   */
  recoverableUntil?: string
}

/** create and recover: the deleted branch that was brought back. */
export interface RecoveryReport {
  /** RFC 3339, when it had been deleted. */
  deletedAt: string
  /** `user` or `ttl`, as Neon said. */
  deletionMethod?: string
}

/** An anonymized branch's masking, as Neon reported it once it was done. */
export interface AnonymizationReport {
  /** `last_run.masked_columns`, when Neon reports it. */
  maskedColumns?: number
  /** How many rules the branch is masked with, when the run gave them (or read them). */
  rules?: number
  /** True when this run had an existing branch masked again (its rules changed, or it had failed). */
  remasked: boolean
}

/** What a mode did, for outputs, the job summary and the PR comment. */
export interface ModeResult {
  mode: Exclude<Mode, 'auto'>
  branch?: BranchInfo
  created?: boolean
  /** create and recover: true when this run recovered a deleted branch (then `recovery` says which). */
  recovered?: boolean
  recovery?: RecoveryReport
  /** delete, cleanup, make-room: every branch deleted, with until when it can be recovered. */
  recoverable?: DeletedBranchReport[]
  connection?: ConnectionInfo
  /** The read-write compute's size after the run (as applied, or as found). */
  computeUnits?: ComputeUnits
  /**
   * create and reset, with `get_auth_url`: the branch's Neon Auth URL (`base_url`), or null when
   * Neon Auth is not enabled on it; absent when not asked.
   */
  authUrl?: string | null
  /**
   * create and reset, with `get_data_api_url`: the Data API URL of `database` on the branch, or null
   * when the Data API is not enabled for it; absent when not asked.
   */
  dataApiUrl?: string | null
  deleted?: boolean
  /** delete: why an existing branch was left alone (`deleted` false), e.g. another repository's. */
  notDeleted?: string
  /** cleanup: what was deleted (or found already gone) by this run; `[]` in a dry run. */
  deletedBranches?: string[]
  /**
   * cleanup: what the rules chose to delete: in a dry run what would be deleted, in a real run what
   * was deleted or failed to be.
   */
  staleBranches?: string[]
  skipped?: boolean
  /** schema-diff: what the comparison found. */
  schema?: SchemaComparison
  /** Set for an anonymized branch: the masking is done (nothing is handed out before). */
  anonymization?: AnonymizationReport
  /**
   * reset of an anonymized branch, which Neon cannot reset: the branch was deleted and made anew,
   * so its id, host and password changed.
   */
  recreated?: { previousId: string }
  /** create: set when the project was at its branch limit and `on_branch_limit: make-room` made room. */
  branchLimit?: BranchLimitReport
  /** cleanup: one line per candidate. */
  verdicts?: CleanupVerdict[]
  /**
   * create, reset, delete, recover: the branch's usage figures from the branch object the run read
   * (delete: read just before the delete); only the figures Neon gave (neon/usage.ts).
   */
  usage?: Usage
  /** cleanup: what the branches deleted (in a dry run, those that would be) had used. */
  freed?: FreedReport
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
