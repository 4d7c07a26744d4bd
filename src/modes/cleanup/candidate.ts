// A cleanup candidate and what ties it to a pull request: the types the sweep (index.ts), its
// ephemeral part (ephemeral.ts), its finality (finality.ts) and create's make-room (branch-limit.ts)
// share. They live here, not in index.ts, so that those files do not import each other in a circle.
import type { Branch } from '../../neon/types.js'

/**
 * What ties a branch to a pull request of this repository. `name`: only a `pr-<n>` in its name
 * does, which may be a coincidence (another tool's branch, or another repository's made by hand):
 * such a tie can keep a branch (its pull request is open) but never dooms it before
 * `cleanup_max_age`.
 */
export interface Tie {
  pr: number
  by: 'annotation' | 'name'
  /**
   * A tie of `by: 'name'` strength that came from a `github-pr-number` annotation on a branch no
   * repository annotation makes this repository's (cleanup/index.ts, tieOf).
   */
  unowned?: boolean
}

/** A branch under `cleanup_prefix` (neither default nor protected), as the cleanup rules judged it. */
export interface Candidate {
  branch: Branch
  tie?: Tie
  ageDays: number
  /** Whether the rules delete it now, and why (or why not). */
  remove: boolean
  reason: string
  prState?: string
  /** Stale, but kept because a child of it stays (Neon cannot delete a branch with children). */
  heldByChild?: boolean
  /** Annotated for this other repository (ownership.ts): never deleted. */
  foreign?: string
  /**
   * Kept because GitHub answered its look-up with a 404 this token was not shown to be able to
   * tell from "may not see" (github/pulls.ts, UnverifiedNotFound): the permission it lacks.
   */
  unverified?: string
  /** Tied by its name only, and within `cleanup_max_age`: kept without a look-up. */
  youngNameTie?: boolean
}
