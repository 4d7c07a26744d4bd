// Issue 17: the sweep deletes each branch as soon as its verdict is final, while the pull request
// look-ups for the others are still out. The look-ups here are held back until the test releases
// them, so what the sweep does meanwhile is seen directly (virtual time; no wall-clock assertion).

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { restPullLookup } from '../../src/github/pulls.js'
import { restRunLookup } from '../../src/github/runs.js'
import { cleanupMode, deleteChildrenFirst, type CleanupOptions } from '../../src/modes/cleanup/index.js'
import { ModeRun } from '../../src/modes/run.js'
import { BranchIndex } from '../../src/neon/lookup.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { heldPulls, type FakePullAnswer } from '../helpers/held-pulls.js'
import { seedLargeSweep, SWEEP_REPO } from '../helpers/large-project.js'
import { harness, inputsFor, REPO } from '../helpers/mode-harness.js'
import { waitFor } from '../helpers/wait-for.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const ago = (days: number) => new Date(NOW - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')
const annotated = (n: number) => ({ 'github-pr-number': String(n), 'github-repo': REPO })

let sim: NeonSimulator
let projectId: string

async function newSim(): Promise<NeonSimulator> {
  return startNeonSimulator({
    operationMs: { delete_timeline: 30, suspend_compute: 2 },
    schedulingMs: 1,
    clock: new FakeClock(NOW),
  })
}

beforeEach(async () => {
  sim = await newSim()
  projectId = sim.createProject({ id: 'overlap-proj-1' }).id
})
afterEach(async () => {
  await sim.close()
})

function start(
  answers: Map<number, FakePullAnswer>,
  opts: CleanupOptions = {},
  s = sim,
  project = projectId,
) {
  const h = harness(s, { ...harness(s).deps.context, eventName: 'schedule', pullRequest: undefined })
  const gh = heldPulls(answers)
  h.deps.pulls = restPullLookup(gh.api, REPO)
  const result = cleanupMode(h.deps, inputsFor(project, s.apiKey, { mode: 'cleanup' }), opts)
  // Surface a failure at once instead of as an unhandled rejection while the test waits.
  result.catch(() => {})
  return { h, gh, result }
}

const idOf = (name: string) => Object.values(sim.state.branches).find((b) => b.name === name)!.id
const deletes = () => sim.log.filter((l) => l.method === 'DELETE')
const deletedIds = () => deletes().map((l) => l.path.split('/').pop())
const isDeleted = (name: string) => sim.state.branches[idOf(name)]?.deleted === true

describe('cleanup deletes while the pull request look-ups are still out', () => {
  it('(a) the first DELETE happens before any look-up answers; at most 8 look-ups are out at once', async () => {
    const answers = new Map<number, FakePullAnswer>()
    for (let n = 1; n <= 20; n++) {
      answers.set(n, n % 2 ? 'closed' : 'open')
      sim.addBranch(projectId, { name: `preview/pr-${n}`, annotations: annotated(n), withEndpoint: false })
    }
    for (let i = 0; i < 3; i++)
      sim.addBranch(projectId, { name: `preview/old-${i}`, updatedAt: ago(10), withEndpoint: false })
    const { gh, result } = start(answers)

    // The three untied stale branches go, each waited for, with every look-up still held.
    await waitFor(() => [0, 1, 2].every((i) => isDeleted(`preview/old-${i}`)), 'the untied deletes')
    expect(gh.answered).toEqual([])
    expect(gh.inFlight()).toBe(8)
    expect(deletes()).toHaveLength(3)

    gh.releaseAll()
    const r = await result
    expect(r.failures).toBeUndefined()
    const closed = [...answers].filter(([, s]) => s === 'closed').map(([n]) => `preview/pr-${n}`)
    expect([...r.deletedBranches!].sort()).toEqual(
      ['preview/old-0', 'preview/old-1', 'preview/old-2', ...closed].sort(),
    )
    // Each pull request looked up once: the request count is the sequential sweep's.
    expect(gh.asked.sort((a, b) => a - b)).toEqual([...answers.keys()])
  })

  it('(b) a stale parent waits for its child’s pull request, and stays when that PR is open', async () => {
    const answers = new Map<number, FakePullAnswer>([
      [5, 'open'],
      [6, 'closed'],
    ])
    const parentKept = sim.addBranch(projectId, { name: 'preview/parent-a', updatedAt: ago(20) })
    sim.addBranch(projectId, {
      name: 'preview/pr-5-child',
      parentId: parentKept.id,
      annotations: annotated(5),
    })
    const parentGoes = sim.addBranch(projectId, { name: 'preview/parent-b', updatedAt: ago(20) })
    sim.addBranch(projectId, {
      name: 'preview/pr-6-child',
      parentId: parentGoes.id,
      annotations: annotated(6),
    })
    // An untied stale leaf: final at once.
    sim.addBranch(projectId, { name: 'preview/leaf', updatedAt: ago(20) })
    const { gh, result } = start(answers)

    await waitFor(() => isDeleted('preview/leaf'), 'the leaf to be deleted')
    // Whatever the look-ups will say, neither parent may go before its child's answer is in.
    expect(deletedIds()).toEqual([idOf('preview/leaf')])
    gh.release(6)
    await waitFor(() => isDeleted('preview/parent-b'), 'parent-b to be deleted')
    // parent-b went after its child, while PR #5's answer was still held back.
    expect(gh.answered).toEqual([6])
    expect(deletedIds()).toEqual([idOf('preview/leaf'), idOf('preview/pr-6-child'), idOf('preview/parent-b')])

    gh.release(5)
    const r = await result
    expect(r.failures).toBeUndefined()
    expect(isDeleted('preview/parent-a')).toBe(false)
    expect(isDeleted('preview/pr-5-child')).toBe(false)
    const v = Object.fromEntries(r.verdicts!.map((x) => [x.branch, x]))
    expect(v['preview/parent-a']).toMatchObject({ verdict: 'kept' })
    expect(v['preview/parent-a']!.reason).toMatch(/kept because its child 'preview\/pr-5-child'/)
    expect(v['preview/pr-5-child']).toMatchObject({ verdict: 'kept', prState: 'open' })
    // Never a DELETE of parent-a, and Neon never refused a DELETE (a branch with children).
    expect(deletedIds()).not.toContain(parentKept.id)
    expect(deletes().filter((l) => l.status >= 400)).toEqual([])
  })

  it('(b) no DELETE of a branch with children, over a deep stale tree judged as answers land', async () => {
    // root ← a ← b ← c, all stale; c and a tied to closed PRs answered in reverse order.
    const answers = new Map<number, FakePullAnswer>([
      [1, 'closed'],
      [2, 'closed'],
    ])
    const root = sim.addBranch(projectId, { name: 'preview/root', updatedAt: ago(30) })
    const a = sim.addBranch(projectId, {
      name: 'preview/pr-1-a',
      parentId: root.id,
      annotations: annotated(1),
    })
    const b = sim.addBranch(projectId, { name: 'preview/b', parentId: a.id, updatedAt: ago(30) })
    sim.addBranch(projectId, { name: 'preview/pr-2-c', parentId: b.id, annotations: annotated(2) })
    const { gh, result } = start(answers)
    // Nothing is final yet: c's PR is out, and everything above c hangs on it.
    await waitFor(() => gh.inFlight() === 2, 'both look-ups to be out')
    await sim.clock.sleep(1000)
    expect(deletes()).toEqual([])
    gh.release(2)
    // c, then b, go; a waits for its own PR.
    await waitFor(() => isDeleted('preview/b'), 'b to be deleted')
    expect(isDeleted('preview/pr-1-a')).toBe(false)
    gh.release(1)
    const r = await result
    expect(r.failures).toBeUndefined()
    expect(r.deletedBranches).toEqual(['preview/pr-2-c', 'preview/b', 'preview/pr-1-a', 'preview/root'])
    expect(deletes().filter((l) => l.status >= 400)).toEqual([])
  })

  it('(c) a look-up that fails keeps its branch, and the stale parent above it', async () => {
    const answers = new Map<number, FakePullAnswer>([
      [7, 'error'],
      [8, 'merged'],
    ])
    const parent = sim.addBranch(projectId, { name: 'preview/parent', updatedAt: ago(20) })
    sim.addBranch(projectId, { name: 'preview/pr-7-child', parentId: parent.id, annotations: annotated(7) })
    sim.addBranch(projectId, { name: 'preview/pr-8', annotations: annotated(8) })
    const { gh, h, result } = start(answers)
    gh.releaseAll()
    const r = await result
    expect(r.deletedBranches).toEqual(['preview/pr-8'])
    const v = Object.fromEntries(r.verdicts!.map((x) => [x.branch, x]))
    expect(v['preview/pr-7-child']).toMatchObject({ verdict: 'kept', prState: 'unknown' })
    expect(v['preview/pr-7-child']!.reason).toMatch(/PR #7 could not be looked up \(.*HTTP 502/)
    expect(v['preview/parent']).toMatchObject({ verdict: 'kept' })
    expect(deletedIds()).toEqual([idOf('preview/pr-8')])
    expect(h.logs.join('\n')).toMatch(/warning: Keeping 'preview\/pr-7-child'/)
  })

  it('a failure while judging starts no more deletes, waits for the one under way, and lists it', async () => {
    sim.addBranch(projectId, { name: 'preview/old', updatedAt: ago(20), withEndpoint: false })
    sim.addBranch(projectId, { name: 'preview/pr-3', annotations: annotated(3) })
    const h = harness(sim, { ...harness(sim).deps.context, eventName: 'schedule', pullRequest: undefined })
    let fail!: (e: Error) => void
    h.deps.pulls = {
      requests: 0,
      states: () => new Promise((_, reject) => (fail = reject)),
    }
    const result = cleanupMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'cleanup' }))
    result.catch(() => {})
    await waitFor(() => deletes().length === 1, 'the untied delete to start')
    fail(new Error('lookup exploded'))
    const e = (await result.catch((x: unknown) => x)) as Error & { changes: string[] }
    expect(e.message).toMatch(/cleanup of project overlap-proj-1 failed: lookup exploded/)
    expect(e.changes).toEqual([`deleted 'preview/old' (${idOf('preview/old')})`])
    expect(isDeleted('preview/old')).toBe(true)
  })
})

describe('ephemeral branches and the delete order', () => {
  it('an ephemeral branch goes when its run’s answer lands, while a pull request look-up is still out', async () => {
    const eph = (runId: string) => ({
      'github-ephemeral': 'true',
      'github-run-id': runId,
      'github-repo': REPO,
    })
    sim.addBranch(projectId, { name: 'ci/run-41', annotations: eph('41') })
    sim.addBranch(projectId, { name: 'ci/run-42', annotations: eph('42') })
    sim.addBranch(projectId, { name: 'preview/pr-9', annotations: annotated(9) })
    const runGates = new Map<number, () => void>()
    const { h, gh, result } = start(new Map([[9, 'closed']]))
    h.deps.runs = restRunLookup(
      {
        rest: {
          actions: {
            listWorkflowRunsForRepo: async () => ({ data: { workflow_runs: [] } }),
            getWorkflowRun: async ({ run_id }) => {
              await new Promise<void>((r) => runGates.set(run_id, r))
              return { data: { status: run_id === 41 ? 'completed' : 'in_progress' } }
            },
          },
        },
      },
      REPO,
    )
    // Run look-ups follow the pull request ones, as before: release PR 9, hold the runs.
    gh.release(9)
    await waitFor(() => runGates.size === 2, 'both run look-ups')
    runGates.get(41)!()
    await waitFor(() => isDeleted('ci/run-41'), 'the completed run’s branch to be deleted')
    expect(isDeleted('ci/run-42')).toBe(false)
    runGates.get(42)!()
    const r = await result
    expect([...r.deletedBranches!].sort()).toEqual(['ci/run-41', 'preview/pr-9'])
    expect(r.verdicts!.find((v) => v.branch === 'ci/run-42')?.reason).toMatch(/still in progress, kept/)
  })

  it('deleteChildrenFirst deletes a child before its parent whatever order the list is in', async () => {
    const parent = sim.addBranch(projectId, { name: 'preview/p', withEndpoint: false })
    const child = sim.addBranch(projectId, { name: 'preview/c', parentId: parent.id, withEndpoint: false })
    const other = sim.addBranch(projectId, { name: 'preview/o', withEndpoint: false })
    const h = harness(sim)
    const run = new ModeRun(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'cleanup' }))
    const done: string[] = []
    const index = await BranchIndex.load(h.neon, projectId)
    const branch = (id: string) => index.get(id)!
    await deleteChildrenFirst(run, [branch(parent.id), branch(child.id), branch(other.id)], 1, (b, e) =>
      done.push(`${b.name}${e ? `: ${e}` : ''}`),
    )
    expect(done).toEqual(['preview/c', 'preview/o', 'preview/p'])
    expect(deletes().filter((l) => l.status >= 400)).toEqual([])
  })
})

describe('(d) on the 350-branch layout the overlapped sweep ends exactly as the sequential one', () => {
  it('same verdicts, outputs, survivors and GitHub requests; the first delete before the last answer', async () => {
    const sweepOf = async (opts: CleanupOptions, releaseEarly: boolean) => {
      const s = await newSim()
      try {
        const project = s.createProject({ id: 'big-proj-1' }).id
        const answers = new Map<number, FakePullAnswer>()
        const seeded = seedLargeSweep(
          s,
          project,
          {
            addPull: (_repo, pr) => {
              answers.set(pr.number, pr.state === 'open' ? 'open' : pr.merged ? 'merged' : 'closed')
            },
          },
          NOW,
        )
        const run = start(answers, opts, s, project)
        const firstDelete = () => s.log.some((l) => l.method === 'DELETE')
        if (releaseEarly) run.gh.releaseAll()
        else {
          await waitFor(firstDelete, 'the first delete')
          // The sequential sweep would still be waiting for GitHub here.
          expect(run.gh.answered).toEqual([])
          run.gh.releaseAll()
        }
        const r = await run.result
        const live = Object.values(s.state.branches)
          .filter((b) => !b.deleted)
          .map((b) => b.name)
          .sort()
        const refused = s.log.filter((l) => l.method === 'DELETE' && l.status >= 400)
        return { r, live, seeded, refused, asked: [...run.gh.asked].sort((a, b) => a - b) }
      } finally {
        await s.close()
      }
    }
    const before = await sweepOf({ overlap: false }, true)
    const after = await sweepOf({}, false)
    expect(SWEEP_REPO).toBe(REPO)
    expect(after.r.verdicts).toEqual(before.r.verdicts)
    expect(after.r.staleBranches).toEqual(before.r.staleBranches)
    expect([...after.r.deletedBranches!].sort()).toEqual([...before.r.deletedBranches!].sort())
    expect([...after.r.deletedBranches!].sort()).toEqual([...after.seeded.stale].sort())
    expect(after.r.failures).toEqual(before.r.failures)
    expect(after.live).toEqual(before.live)
    expect(after.asked).toEqual(before.asked)
    expect(after.refused).toEqual([])
    const order = after.r.deletedBranches!
    expect(order.indexOf('preview/stale-child-0')).toBeLessThan(order.indexOf('preview/stale-parent-0'))
  })
})
