import type { Inputs } from '../inputs.js'
import type { PullState } from '../github/pulls.js'
import { BranchIndex } from '../neon/lookup.js'
import type { Annotation, Branch } from '../neon/types.js'
import { isEphemeral, judgeEphemeral } from './cleanup-ephemeral.js'
import { ModeRun } from './run.js'
import type { CleanupVerdict, ModeDeps, ModeResult } from './types.js'

const DAY_MS = 86_400_000

/** What ties a branch to a pull request, and whose it is. */
export interface Tie {
  pr: number
  /** `owner/repo` from the annotation; undefined when only the name tied it (then it is ours). */
  repo?: string
  by: 'annotation' | 'name'
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
}

export interface CleanupOptions {
  /**
   * Deletes in flight at once. Neon runs one project's operations one after another and answers 423
   * to anything else meanwhile, so more than one only adds 423 retries; it stays configurable (and
   * tested) in case Neon ever relaxes that lock.
   */
  deleteConcurrency?: number
}

/**
 * cleanup: the scheduled sweeper. Deletes stale branches under `cleanup_prefix` and never anything
 * else: the default branch, protected branches, branches outside the prefix, another repository's
 * branches and branches of open pull requests are always kept. A branch tied to a pull request of
 * this repository goes when that PR is closed, merged or gone; one tied to none goes when it has not
 * been updated for `cleanup_max_age`. Children go before parents, and a parent whose child stays
 * stays too. Ephemeral CI branches are judged apart, by their workflow run (cleanup-ephemeral.ts).
 */
export async function cleanupMode(
  deps: ModeDeps,
  inputs: Inputs,
  opts: CleanupOptions = {},
): Promise<ModeResult> {
  const run = new ModeRun(deps, inputs)
  const { neon, log } = deps
  const now = deps.clock.now()
  try {
    const index = await BranchIndex.load(neon, run.project)
    log.info(`${index.branches.length} branches in project ${run.project}`)
    const candidates = await judgeBranches(run, index, now)

    const verdicts = new Map<string, CleanupVerdict>()
    for (const c of candidates) {
      verdicts.set(
        c.branch.id,
        verdictOf(c, c.remove ? (inputs.dryRun ? 'would delete' : 'deleted') : 'kept'),
      )
    }
    const doomed = candidates.filter((c) => c.remove).map((c) => c.branch)
    const failures: string[] = []
    const deleted: string[] = []
    if (inputs.dryRun) {
      log.notice(
        `Dry run: ${doomed.length} of ${candidates.length} candidate branches would be deleted. Nothing was changed.`,
      )
      for (const b of doomed) run.changed(`would delete '${b.name}' (${b.id})`)
    } else {
      await deleteChildrenFirst(run, index, doomed, opts.deleteConcurrency ?? 1, (b, error) => {
        const v = verdicts.get(b.id)!
        if (error === undefined) {
          deleted.push(b.name)
          run.changed(`deleted '${b.name}' (${b.id})`)
        } else if (error === 'gone') {
          v.reason += '; it was already gone (204)'
          deleted.push(b.name)
        } else {
          v.verdict = 'failed'
          v.reason += `; delete failed: ${error}`
          failures.push(`'${b.name}' (${b.id}): ${error}`)
        }
      })
    }
    return {
      mode: 'cleanup',
      // A later step reads deleted_branches as what is gone: a dry run deleted nothing.
      deletedBranches: inputs.dryRun ? [] : deleted,
      staleBranches: doomed.map((b) => b.name),
      verdicts: [...verdicts.values()],
      ...(failures.length ? { failures } : {}),
      changes: run.changes,
      timings: run.timings(),
    }
  } catch (e) {
    throw run.fail(`cleanup of project ${run.project}`, e)
  }
}

/**
 * The cleanup rules, in one place: every branch of `index` that `mode: cleanup` considers (under
 * `cleanup_prefix`, neither default nor protected), with whether the rules delete it now and why.
 * cleanupMode deletes what they choose; create's `on_branch_limit: make-room` (branch-limit.ts)
 * deletes the oldest of the same choice, so the two can never disagree. Ages are taken at `now`.
 */
export async function judgeBranches(run: ModeRun, index: BranchIndex, now: number): Promise<Candidate[]> {
  const { inputs } = run
  const candidates = index.branches
    .filter(
      (b) =>
        b.name.startsWith(inputs.cleanupPrefix) &&
        !b.default &&
        !b.protected &&
        !isEphemeral(index.annotations[b.id]),
    )
    .map((b): Candidate => ({
      branch: b,
      ageDays: (now - Date.parse(b.updated_at)) / DAY_MS,
      remove: false,
      reason: '',
    }))
  for (const c of candidates) c.tie = tieOf(c.branch, index.annotations[c.branch.id], inputs.cleanupPrefix)

  await judgeByPullRequest(run, candidates)
  for (const c of candidates) {
    if (c.tie) continue
    const maxDays = inputs.cleanupMaxAgeMs / DAY_MS
    c.remove = c.ageDays * DAY_MS > inputs.cleanupMaxAgeMs
    c.reason = c.remove
      ? `tied to no pull request; not updated for ${fmtDays(c.ageDays)} (> ${fmtDays(maxDays)})`
      : `tied to no pull request; updated ${fmtDays(c.ageDays)} ago (≤ ${fmtDays(maxDays)})`
  }
  // Ephemeral CI branches, whatever their prefix, judged by their workflow run.
  candidates.push(...(await judgeEphemeral(run, index, now)))
  keepParentsOfKeptChildren(run, index, candidates)
  return candidates
}

/** A judged branch as a row of the verdict table. */
export function verdictOf(c: Candidate, verdict: CleanupVerdict['verdict']): CleanupVerdict {
  return {
    branch: c.branch.name,
    branchId: c.branch.id,
    ...(c.tie ? { pr: c.tie.pr } : {}),
    ...(c.prState ? { prState: c.prState } : {}),
    ageDays: Math.round(c.ageDays * 10) / 10,
    verdict,
    reason: c.reason,
  }
}

/** Annotation first (it survives renames); else a `pr-<n>` in the name under the prefix. */
export function tieOf(branch: Branch, annotation: Annotation | undefined, prefix: string): Tie | undefined {
  const a = annotation?.value ?? {}
  const n = Number(a['github-pr-number'])
  if (Number.isInteger(n) && n > 0)
    return { pr: n, repo: a['github-repo'] ?? a['github-commit-repo'], by: 'annotation' }
  const m = branch.name.slice(prefix.length).match(/(?:^|[^a-z0-9])pr-(\d+)(?![0-9])/i)
  if (m?.[1]) return { pr: Number(m[1]), by: 'name' }
  return undefined
}

async function judgeByPullRequest(run: ModeRun, candidates: Candidate[]): Promise<void> {
  const repo = run.deps.context.repository
  const ours = candidates.filter((c) => c.tie && (!c.tie.repo || c.tie.repo === repo))
  for (const c of candidates) {
    if (c.tie?.repo && c.tie.repo !== repo) {
      c.reason = `annotated for another repository (${c.tie.repo}): not ours`
    }
  }
  if (ours.length === 0) return
  const lookup = run.deps.pulls
  if (!lookup) {
    for (const c of ours) c.reason = `tied to PR #${c.tie!.pr}, but no GitHub token to look it up: kept`
    run.deps.log.warning(`No GitHub token: ${ours.length} branches tied to pull requests were kept unchecked`)
    return
  }
  const states = await lookup.states(ours.map((c) => c.tie!.pr))
  for (const c of ours) {
    const s: PullState | Error | undefined = states.get(c.tie!.pr)
    const pr = `PR #${c.tie!.pr}${c.tie!.by === 'name' ? ' (from the name)' : ''}`
    if (s instanceof Error || s === undefined) {
      c.prState = 'unknown'
      c.reason = `${pr} could not be looked up (${s instanceof Error ? s.message : 'no answer'}): kept`
      run.deps.log.warning(`Keeping '${c.branch.name}': ${c.reason}`)
    } else {
      c.prState = s
      c.remove = s !== 'open'
      c.reason = s === 'open' ? `${pr} is open` : s === 'missing' ? `${pr} does not exist` : `${pr} is ${s}`
    }
  }
}

/**
 * Neon cannot delete a branch with children. A stale branch whose child stays (not stale, not a
 * candidate, or protected) stays too, with a warning naming the child; that can keep its own
 * parent, so this runs until nothing changes.
 */
function keepParentsOfKeptChildren(run: ModeRun, index: BranchIndex, candidates: Candidate[]): void {
  const byId = new Map(candidates.map((c) => [c.branch.id, c]))
  for (let changed = true; changed;) {
    changed = false
    for (const c of candidates) {
      if (!c.remove) continue
      const kept = index.children(c.branch.id).find((k) => !byId.get(k.id)?.remove)
      if (!kept) continue
      c.remove = false
      c.heldByChild = true
      c.reason += `; kept because its child '${kept.name}' (${kept.id}) stays`
      run.deps.log.warning(
        `Keeping stale branch '${c.branch.name}': its child '${kept.name}' is not being deleted`,
      )
      changed = true
    }
  }
}

/**
 * Deletes in waves, leaves first, each delete waited for (its operations) before its parent's turn.
 * A failure is reported through `done` and does not stop the sweep; a branch whose child failed to
 * go is not attempted (Neon would refuse it).
 */
export async function deleteChildrenFirst(
  run: ModeRun,
  index: BranchIndex,
  doomed: Branch[],
  concurrency: number,
  done: (b: Branch, error?: string) => void,
): Promise<void> {
  const pending = new Map(doomed.map((b) => [b.id, b]))
  const blocked = new Set<string>()
  while (pending.size > 0) {
    const wave = [...pending.values()].filter((b) => !index.children(b.id).some((k) => pending.has(k.id)))
    for (const b of wave) pending.delete(b.id)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < wave.length) {
        const b = wave[next++]!
        if (blocked.has(b.id)) {
          done(b, 'not attempted: one of its children could not be deleted')
          markParent(b)
          continue
        }
        const outcome = await deleteOne(run, b)
        done(b, outcome)
        if (outcome !== undefined && outcome !== 'gone') markParent(b)
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, wave.length)) }, worker))
  }

  function markParent(b: Branch): void {
    if (b.parent_id) blocked.add(b.parent_id)
  }
}

/** undefined when deleted, 'gone' when Neon says it no longer exists, else the error message. */
async function deleteOne(run: ModeRun, b: Branch): Promise<string | undefined> {
  try {
    const res = await run.deps.neon.deleteBranch(run.project, b.id)
    if (res === null) return 'gone'
    await run.waitOps(res.operations, true)
    return undefined
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}

function fmtDays(days: number): string {
  return days >= 1 ? `${Math.round(days * 10) / 10} d` : `${Math.round(days * 24 * 10) / 10} h`
}
