/**
 * cleanup, the ephemeral part: branches that `ephemeral: true` made for one CI job and whose post
 * step never ran (the runner machine died). Each carries `github-ephemeral: true` and the run that
 * made it (`github-run-id`); it goes once GitHub says that run has completed (a run GitHub does
 * not know counts as completed) and stays while the run is in progress, or when the look-up fails.
 * The prefix does not apply: these are found by their annotation, wherever they are named. Only
 * this repository's are considered.
 */
import type { BranchIndex } from '../../neon/lookup.js'
import type { Annotation } from '../../neon/types.js'
import type { Candidate } from './candidate.js'
import type { ModeRun } from '../run.js'
import type { RunState } from '../../github/runs.js'
import { ownership } from '../ownership.js'
import { UnverifiedNotFound } from '../../github/pulls.js'

const DAY_MS = 86_400_000

/** True for a branch made with `ephemeral: true` (by any repository). */
export function isEphemeral(annotation: Annotation | undefined): boolean {
  return annotation?.value['github-ephemeral'] === 'true'
}

/** A candidate of this file: an ephemeral branch, with the run that made it when that is valid. */
export type EphemeralCandidate = Candidate & { runId?: string }

/** This repository's ephemeral branches as cleanup candidates, each judged by its run's state. */
export async function judgeEphemeral(run: ModeRun, index: BranchIndex, now: number): Promise<Candidate[]> {
  const candidates = ephemeralCandidates(run, index, now)
  await judgeByRun(run, candidates)
  return candidates
}

/** This repository's ephemeral branches, not yet judged (`remove` false until judgeByRun). */
export function ephemeralCandidates(run: ModeRun, index: BranchIndex, now: number): EphemeralCandidate[] {
  const candidates: EphemeralCandidate[] = []
  for (const b of index.branches) {
    const a = index.annotations[b.id]?.value
    if (!a || !isEphemeral(index.annotations[b.id]) || b.default || b.protected) continue
    // Only this repository's (annotated so: ownership.ts), never one whose repository is unknown.
    if (ownership(index.annotations[b.id], run.deps.context).kind !== 'ours') continue
    const runId = a['github-run-id']
    const job = [
      runId ? `run ${runId}` : 'no run id',
      a['github-run-attempt'] ? `attempt ${a['github-run-attempt']}` : undefined,
      a['github-job'] ? `job ${a['github-job']}` : undefined,
    ]
      .filter(Boolean)
      .join(', ')
    candidates.push({
      branch: b,
      ageDays: (now - Date.parse(b.updated_at)) / DAY_MS,
      remove: false,
      reason: `ephemeral CI branch (${job})`,
      ...(runId && /^\d+$/.test(runId) ? { runId } : {}),
    })
  }
  return candidates
}

/**
 * Judges ephemeral candidates by their runs' states. `judged` hears each candidate the moment its
 * verdict is set (at once for those with nothing to look up, else when its run's answer lands).
 */
export async function judgeByRun(
  run: ModeRun,
  candidates: EphemeralCandidate[],
  judged: (c: Candidate) => void = () => {},
): Promise<void> {
  if (candidates.length === 0) return

  const lookup = run.deps.runs
  const withRun = candidates.filter((c) => c.runId !== undefined)
  for (const c of candidates) {
    if (c.runId === undefined) {
      c.reason += ': no valid github-run-id annotation to look up, kept'
      judged(c)
    }
  }
  if (!lookup) {
    for (const c of withRun) c.reason += ': no GitHub token to look its run up, kept'
    if (withRun.length > 0) {
      run.deps.log.warning(`No GitHub token: ${withRun.length} ephemeral branches were kept unchecked`)
    }
    for (const c of withRun) judged(c)
    return
  }
  const byRun = new Map<string, EphemeralCandidate[]>()
  for (const c of withRun) byRun.set(c.runId!, [...(byRun.get(c.runId!) ?? []), c])
  const done = new Set<EphemeralCandidate>()
  const settle = (c: EphemeralCandidate, s: RunState | Error | undefined): void => {
    if (done.has(c)) return
    done.add(c)
    if (s instanceof UnverifiedNotFound) {
      c.unverified = s.permission
      c.reason += `: ${s.message}; kept`
    } else if (s instanceof Error || s === undefined) {
      c.reason += `: its run could not be looked up (${s instanceof Error ? s.message : 'no answer'}), kept`
      run.deps.log.warning(`Keeping '${c.branch.name}': ${c.reason}`)
    } else {
      c.remove = s !== 'in progress'
      c.reason +=
        s === 'completed'
          ? ': the run has completed'
          : s === 'missing'
            ? ': GitHub does not know the run (counted as completed)'
            : ': the run is still in progress, kept'
    }
    judged(c)
  }
  const states = await lookup.states([...byRun.keys()], (id, s) => {
    for (const c of byRun.get(id) ?? []) settle(c, s)
  })
  // A lookup that does not stream answers only here; one that did has settled all of these already.
  for (const c of withRun) settle(c, states.get(c.runId!))
}
