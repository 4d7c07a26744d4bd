import type { Inputs } from '../../inputs.js'
import { UnverifiedNotFound, type PullState } from '../../github/pulls.js'
import { BranchIndex } from '../../neon/lookup.js'
import { freedReport } from '../../neon/usage.js'
import type { Annotation, Branch } from '../../neon/types.js'
import type { Candidate, Tie } from './candidate.js'
import { ChildrenFirstDeleter, type DeleteOutcome } from './deleter.js'
import { ephemeralCandidates, isEphemeral, judgeByRun } from './ephemeral.js'
import { Finality } from './finality.js'
import { restrictionOf } from '../guards.js'
import { ownership } from '../ownership.js'
import { ModeRun } from '../run.js'
import { escapeControl as shown } from '../../util/log-text.js'
import type { CleanupVerdict, DeletedBranchReport, ModeDeps, ModeResult } from '../types.js'
import { reportRecoverable } from '../undo.js'

const DAY_MS = 86_400_000

export interface CleanupOptions {
  /**
   * Deletes in flight at once. Neon runs one project's operations one after another and answers 423
   * to anything else meanwhile, so more than one only adds 423 retries; it stays configurable (and
   * tested) in case Neon ever relaxes that lock.
   */
  deleteConcurrency?: number
  /**
   * Start each delete as soon as its verdict is final, while the GitHub look-ups for the other
   * branches are still out (the default). `false` judges everything first and deletes after, as the
   * sweep did before issue 17; tests and the figures compare the two.
   */
  overlap?: boolean
}

/**
 * cleanup: the scheduled sweeper. Deletes stale branches under `cleanup_prefix` and never anything
 * else: the default branch, protected branches, branches outside the prefix, another repository's
 * branches and branches of open pull requests are always kept. A branch tied to a pull request of
 * this repository goes when that PR is closed, merged or gone; one tied to none goes when it has not
 * been updated for `cleanup_max_age`. Children go before parents, and a parent whose child stays
 * stays too. Ephemeral CI branches are judged apart, by their workflow run (ephemeral.ts).
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

    // What each delete came to, by branch id; the verdicts are written once everything is judged.
    const outcomes = new Map<string, DeleteOutcome>()
    const deleted: Branch[] = []
    // Deleted by this run (not found already gone): what the sweep freed.
    const freed: Branch[] = []
    const deleter = inputs.dryRun
      ? undefined
      : new ChildrenFirstDeleter(run, Math.max(1, opts.deleteConcurrency ?? 1), (b, error) => {
          outcomes.set(b.id, error)
          if (error === undefined) run.changed(`deleted '${b.name}' (${b.id})`)
          if (error === undefined || error === 'gone') deleted.push(b)
          if (error === undefined) freed.push(b)
        })
    let candidates: Candidate[]
    try {
      // A branch whose fate is final goes at once, while the other look-ups are still out.
      const early = deleter && opts.overlap !== false ? (c: Candidate) => deleter.add(c.branch) : undefined
      candidates = await judgeBranches(run, index, now, early)
    } catch (e) {
      // Start no more deletes, and let those under way finish, so the error lists every change made.
      deleter?.stop()
      await deleter?.finished
      throw e
    }
    const doomed = candidates.filter((c) => c.remove).map((c) => c.branch)
    let recoverable: DeletedBranchReport[] | undefined
    if (deleter) {
      // With the overlap every one of these was handed in already (add ignores them); without, all go now.
      deleter.add(...doomed)
      deleter.close()
      await deleter.finished
      // How to undo each: one listing (with include_deleted) after the sweep, never judged.
      recoverable = await reportRecoverable(deps, run.project, deleted)
    } else {
      log.notice(
        `Dry run: ${doomed.length} of ${candidates.length} candidate branches would be deleted. Nothing was changed.`,
      )
      for (const b of doomed) run.changed(`would delete '${b.name}' (${b.id})`)
    }

    const { verdicts, failures } = verdictsOfSweep(candidates, outcomes, index, inputs.dryRun)
    return {
      mode: 'cleanup',
      // A later step reads deleted_branches as what is gone: a dry run deleted nothing.
      deletedBranches: inputs.dryRun ? [] : deleted.map((b) => b.name),
      staleBranches: doomed.map((b) => b.name),
      // The figures of the listing that judged them; in a dry run, what the sweep would free.
      freed: freedReport(inputs.dryRun ? doomed : freed),
      ...(recoverable ? { recoverable } : {}),
      verdicts,
      ...(failures.length ? { failures } : {}),
      changes: run.changes,
      timings: run.timings(),
    }
  } catch (e) {
    throw run.fail(`cleanup of project ${run.project}`, e)
  }
}

/** The verdict on each candidate, with what its delete came to, and the deletes that failed. */
function verdictsOfSweep(
  candidates: Candidate[],
  outcomes: Map<string, DeleteOutcome>,
  index: BranchIndex,
  dryRun: boolean,
): { verdicts: CleanupVerdict[]; failures: string[] } {
  const failures: string[] = []
  const verdicts = candidates.map((c) => {
    const v = verdictOf(c, c.remove ? (dryRun ? 'would delete' : 'deleted') : 'kept')
    if (!c.remove || dryRun) return v
    const error = outcomes.get(c.branch.id)
    if (error === 'gone') {
      v.reason += '; it was already gone (204)'
    } else if (error !== undefined) {
      v.verdict = 'failed'
      v.reason += `; delete failed: ${error}`
    }
    return v
  })
  // Failures in the order the deletes ended, as before.
  for (const [id, error] of outcomes) {
    if (error === undefined || error === 'gone') continue
    const b = index.get(id)!
    failures.push(`'${shown(b.name)}' (${b.id}): ${shown(error)}`)
  }
  return { verdicts, failures }
}

/**
 * The cleanup rules, in one place: every branch of `index` that `mode: cleanup` considers (under
 * `cleanup_prefix`, neither default nor protected), with whether the rules delete it now and why.
 * cleanupMode deletes what they choose; create's `on_branch_limit: make-room` (branch-limit.ts)
 * deletes the oldest of the same choice, so the two can never disagree. Ages are taken at `now`.
 *
 * `doomed`, when given, is told each candidate the moment its delete is certain (Finality): its own
 * rule says delete and nothing still being looked up can change that. Children come before their
 * parents; everything told ends with `remove` true in the returned list, and by the time it returns
 * every candidate with `remove` true has been told (a lookup that does not stream its answers tells
 * them all at its end).
 */
export async function judgeBranches(
  run: ModeRun,
  index: BranchIndex,
  now: number,
  doomed?: (c: Candidate) => void,
): Promise<Candidate[]> {
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
  warnAboutPrefix(run, index)
  for (const c of candidates) {
    const o = ownership(index.annotations[c.branch.id], run.deps.context)
    if (o.kind === 'foreign') {
      c.foreign = o.repo
      c.reason = `annotated for another repository (${o.repo}, ${o.key}): not ours`
    } else {
      c.tie = tieOf(c.branch, index.annotations[c.branch.id], inputs.cleanupPrefix, o.kind === 'ours')
    }
  }
  // Ephemeral CI branches, whatever their prefix, judged by their workflow run.
  const ephemeral = ephemeralCandidates(run, index, now)
  const all = [...candidates, ...ephemeral]
  const finality = new Finality(all, index, doomed ?? (() => {}))
  // Every verdict passes here on its way to Finality: a delete Neon restricts is never sent.
  const judged = (c: Candidate): void => {
    keepIfRestricted(c)
    finality.judgedOwn(c)
  }

  // What needs no look-up first, so those deletes can start before any answer is in: another
  // repository's branches (kept), the age rule, and a tie by name that the age rule keeps anyway.
  const maxDays = inputs.cleanupMaxAgeMs / DAY_MS
  const old = (c: Candidate): boolean => c.ageDays * DAY_MS > inputs.cleanupMaxAgeMs
  for (const c of candidates) {
    if (c.foreign !== undefined) {
      judged(c)
    } else if (!c.tie) {
      c.remove = old(c)
      c.reason = c.remove
        ? `tied to no pull request; not updated for ${fmtDays(c.ageDays)} (> ${fmtDays(maxDays)})`
        : `tied to no pull request; updated ${fmtDays(c.ageDays)} ago (≤ ${fmtDays(maxDays)})`
      judged(c)
    } else if (c.tie.by === 'name' && !old(c)) {
      // Whatever its pull request's state, the name alone never dooms it before cleanup_max_age.
      c.youngNameTie = true
      c.reason =
        `PR #${c.tie.pr} only ${weakly(c.tie)}; updated ${fmtDays(c.ageDays)} ago (≤ ${fmtDays(maxDays)}), ` +
        `so kept whatever that pull request's state`
      judged(c)
    }
  }
  const toLookUp = candidates.filter((c) => c.tie && (c.tie.by === 'annotation' || old(c)))
  await judgeByPullRequest(run, toLookUp, maxDays, judged)
  await judgeByRun(run, ephemeral, judged)
  warnUnverified(run, all)
  keepParentsOfKeptChildren(run, index, all)
  return all
}

/**
 * A branch whose delete Neon restricts (`restricted_actions`, guards.ts) stays, whatever its own
 * rule says, with Neon's reason in the verdict; its parent then stays too (keepParentsOfKeptChildren).
 */
function keepIfRestricted(c: Candidate): void {
  const restriction = restrictionOf(c.branch, 'delete')
  if (!c.remove || !restriction) return
  c.remove = false
  c.reason += `; kept: Neon restricts '${restriction.name}' on it (${restriction.reason || 'no reason given'})`
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

/**
 * Annotation first (it survives renames); else a `pr-<n>` in the name under the prefix. For a
 * branch that is not another repository's (judgeBranches asks ownership.ts first). A
 * `github-pr-number` annotation ties the branch to this repository's pull request only when its
 * repository annotations make it this repository's (`ours`, ownership.ts): without them the number
 * may be another repository's or another tool's, and it ties no more than a name does (kept while
 * that pull request is open, otherwise judged by `cleanup_max_age`).
 */
export function tieOf(
  branch: Branch,
  annotation: Annotation | undefined,
  prefix: string,
  ours: boolean,
): Tie | undefined {
  const a = annotation?.value ?? {}
  const n = Number(a['github-pr-number'])
  if (Number.isInteger(n) && n > 0)
    return ours ? { pr: n, by: 'annotation' } : { pr: n, by: 'name', unowned: true }
  const m = branch.name.slice(prefix.length).match(/(?:^|[^a-z0-9])pr-(\d+)(?![0-9])/i)
  if (m?.[1]) return { pr: Number(m[1]), by: 'name' }
  return undefined
}

/**
 * Judges the candidates tied to a pull request of this repository (`ours`: none is another
 * repository's); `judged` hears each as its verdict is set. A tie by annotation goes with its pull
 * request; a tie by name only is kept while that pull request is open, and otherwise judged by
 * age, like a branch tied to none (only old ones are handed in: a young one is kept whatever).
 */
async function judgeByPullRequest(
  run: ModeRun,
  ours: Candidate[],
  maxDays: number,
  judged: (c: Candidate) => void,
): Promise<void> {
  if (ours.length === 0) return
  const lookup = run.deps.pulls
  if (!lookup) {
    for (const c of ours) {
      c.reason = `tied to PR #${c.tie!.pr}, but no GitHub token to look it up: kept`
      judged(c)
    }
    run.deps.log.warning(`No GitHub token: ${ours.length} branches tied to pull requests were kept unchecked`)
    return
  }
  const byPr = new Map<number, Candidate[]>()
  for (const c of ours) byPr.set(c.tie!.pr, [...(byPr.get(c.tie!.pr) ?? []), c])
  const done = new Set<Candidate>()
  const settle = (c: Candidate, s: PullState | Error | undefined): void => {
    if (done.has(c)) return
    done.add(c)
    const pr = `PR #${c.tie!.pr}${c.tie!.by === 'name' ? ` (${c.tie!.unowned ? 'from an annotation without this repository' : 'from the name'})` : ''}`
    if (s instanceof UnverifiedNotFound) {
      c.prState = 'unknown'
      c.unverified = s.permission
      c.reason = `${pr}: ${s.message}; kept`
    } else if (s instanceof Error || s === undefined) {
      c.prState = 'unknown'
      c.reason = `${pr} could not be looked up (${s instanceof Error ? s.message : 'no answer'}): kept`
      run.deps.log.warning(`Keeping '${c.branch.name}': ${c.reason}`)
    } else {
      c.prState = s
      c.remove = s !== 'open'
      c.reason = s === 'open' ? `${pr} is open` : s === 'missing' ? `${pr} does not exist` : `${pr} is ${s}`
      if (c.remove && c.tie!.by === 'name') {
        // Only old ones were looked up (judgeBranches): the age rule, as for a branch tied to none.
        c.reason += `; tied only ${weakly(c.tie!)}, so judged by age: not updated for ${fmtDays(c.ageDays)} (> ${fmtDays(maxDays)})`
      }
    }
    judged(c)
  }
  const states = await lookup.states([...byPr.keys()], (n, s) => {
    for (const c of byPr.get(n) ?? []) settle(c, s)
  })
  // A lookup that does not stream answers only here; one that did has settled all of these already.
  for (const c of ours) settle(c, states.get(c.tie!.pr))
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
 * Deletes `doomed` leaves first, each delete waited for (its operations) before its parent's turn,
 * at most `concurrency` at once (ChildrenFirstDeleter). A failure is reported through `done` and
 * does not stop the sweep; a branch whose child failed to go is not attempted (Neon would refuse it).
 */
export async function deleteChildrenFirst(
  run: ModeRun,
  doomed: Branch[],
  concurrency: number,
  done: (b: Branch, error?: string) => void,
): Promise<void> {
  const deleter = new ChildrenFirstDeleter(run, Math.max(1, concurrency), done)
  deleter.add(...doomed)
  deleter.close()
  await deleter.finished
}

/**
 * A prefix that does not end in `/` also matches names it was perhaps not meant for: `preview`
 * takes `preview-prod` and `previewer/x` as well as `preview/…`. Said, with those of the project.
 */
function warnAboutPrefix(run: ModeRun, index: BranchIndex): void {
  const prefix = run.inputs.cleanupPrefix
  if (prefix.endsWith('/')) return
  const also = index.branches
    .filter((b) => b.name.startsWith(prefix) && !b.name.startsWith(`${prefix}/`))
    .map((b) => b.name)
    .sort()
  const listed = also.slice(0, 10).map((n) => `'${n}'`)
  run.deps.log.warning(
    `cleanup_prefix '${prefix}' does not end in '/': it matches every name that starts with it, such as ` +
      `'${prefix}-anything' or '${prefix}x/…', not only '${prefix}/…'. ` +
      (also.length === 0
        ? `No branch of this project is such a name now.`
        : `In this project it also matches ${also.length} branch(es) outside '${prefix}/': ` +
          `${listed.join(', ')}${also.length > listed.length ? ', …' : ''}.`) +
      ` End it with '/' unless that is meant.`,
  )
}

/**
 * One warning per permission the token was not shown to have: a 404 from it cannot be believed
 * (github/pulls.ts, readProof), so every branch depending on one was kept; the warning names the
 * permission and those branches. A warning, not a failure: nothing was deleted on that answer, the
 * rest of the sweep stands, and the next sweep with the permission judges them.
 */
function warnUnverified(run: ModeRun, all: Candidate[]): void {
  const byPermission = new Map<string, Candidate[]>()
  for (const c of all) {
    if (c.unverified) byPermission.set(c.unverified, [...(byPermission.get(c.unverified) ?? []), c])
  }
  for (const [permission, kept] of byPermission) {
    const names = kept.slice(0, 20).map((c) => `'${shown(c.branch.name)}' (${c.branch.id})`)
    const what = permission === 'actions: read' ? 'workflow runs' : 'pull requests'
    run.deps.log.warning(
      `The GitHub token was not shown to read this repository's ${what}, so GitHub's 404 for one cannot be ` +
        `told from "this token may not see it": kept ${kept.length} branch(es) that depend on such an answer: ` +
        `${names.join(', ')}${kept.length > names.length ? ', …' : ''}. Give the workflow ` +
        `'permissions: ${permission}' (a fine-grained token: the same permission) so that cleanup can judge them.`,
    )
  }
}

/** How a tie of name strength came about, for a verdict's reason. */
function weakly(tie: Tie): string {
  return tie.unowned
    ? 'by a github-pr-number annotation, without any repository annotation of this repository'
    : 'by its name'
}

function fmtDays(days: number): string {
  return days >= 1 ? `${Math.round(days * 10) / 10} d` : `${Math.round(days * 24 * 10) / 10} h`
}
