// What stands behind the simulated computes. By default nothing (NO_BACKEND): the simulator is only an
// API. With `startNeonSimulator({ postgres: true })` a real PostgreSQL cluster (test/sim/pg/) is told
// about every change of branches, roles and databases (the hooks run before the change's operations
// are scheduled), applies it asynchronously, and holds those operations (and so the branch's
// readiness) until it has.

import type { MaskOutcome, SimMaskingRule } from './masking-types.js'
import type { SimBranch } from './state.js'

export interface Backend {
  /**
   * A token for the work queued so far for this branch, or undefined when none is pending. Operations
   * scheduled now carry it and do not finish before `done(token)` (so the branch is not ready, nor
   * its computes active, before the real change is made).
   */
  ticket(branchId: string): number | undefined
  done(ticket: number): boolean
  /**
   * A branch came to exist with the roles and databases the World now gives it: copies of `from`'s
   * (its parent, or the branch a schema-only branch takes its schema from), or empty without `from`.
   */
  branchCreated(branch: SimBranch, from: SimBranch | undefined): void
  /**
   * A branch's data, roles and databases are replaced by `source`'s (restore from another branch).
   * Called before the route moves the roles and databases over: read them from the World when applying.
   */
  branchRestored(branch: SimBranch, source: SimBranch): void
  /**
   * A branch was deleted (by the API or by its expiry): its computes stop, so its sessions end, but
   * it is only soft-deleted, and its data, roles and databases stay until branchPurged (BEHAVIOUR.md,
   * "Deleted branches can be recovered").
   */
  branchDeleted(branch: SimBranch): void
  /** A soft-deleted branch was recovered: it is reachable again, with the data it had. */
  branchRecovered(branch: SimBranch): void
  /**
   * A deleted branch is gone for good: its recovery window passed, it was deleted with
   * `hard_delete`, its project offers no recovery, or its project was deleted.
   */
  branchPurged(branch: SimBranch): void
  /** A role of a branch was created, got a new password, or was deleted: make it match the World. */
  roleChanged(branch: SimBranch, name: string): void
  /** A database of a branch was created, updated (renamed from `renamedFrom`, new owner) or deleted. */
  databaseChanged(branch: SimBranch, name: string, renamedFrom?: string): void
  /**
   * The branch's logical size in bytes as last measured in the backend's real databases (the
   * pg backend: pg_database_size), or undefined before a measurement; absent: the model's (usage.ts).
   */
  logicalSize?(branch: SimBranch): number | undefined
  /** The World was emptied (`sim.reset()`). */
  reset(): void
  /**
   * Why the backend cannot give `source`'s data as it was at `at` (a branch or a restore at a past
   * point), or undefined when it can. Absent: the backend holds no data, so any point is fine.
   */
  refusePoint?(source: SimBranch, at: number): string | undefined
  /**
   * A database's schema as `pg_dump --schema-only` prints it (BEHAVIOUR.md, Schemas), read from
   * the backend; absent when the backend holds no real databases (the World's is used instead).
   */
  dumpSchema?(branch: SimBranch, database: string): Promise<string>
  /**
   * Masks the branch's data with the rules, for real, after every change queued before it, and
   * calls `done` with how it ended. Absent: the backend holds no data, and the simulator decides
   * the outcome itself (anonymization.ts).
   */
  anonymize?(branch: SimBranch, rules: readonly SimMaskingRule[], done: (outcome: MaskOutcome) => void): void
}

export const NO_BACKEND: Backend = {
  ticket: () => undefined,
  done: () => true,
  branchCreated: () => undefined,
  branchRestored: () => undefined,
  branchDeleted: () => undefined,
  branchRecovered: () => undefined,
  branchPurged: () => undefined,
  roleChanged: () => undefined,
  databaseChanged: () => undefined,
  reset: () => undefined,
}
