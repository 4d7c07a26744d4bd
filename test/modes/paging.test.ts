// Projects larger than Neon's 100-branch page: every mode sees the whole tree (in-process, virtual time).

import { Octokit } from '@octokit/rest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { restPullLookup } from '../../src/github/pulls.js'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import { createMode } from '../../src/modes/create.js'
import { deleteMode } from '../../src/modes/delete.js'
import { resetMode } from '../../src/modes/reset.js'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { seedCrowdedNames, seedLargeSweep, SWEEP_REPO } from '../helpers/large-project.js'
import { harness, inputsFor } from '../helpers/mode-harness.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await gh.close()
})
beforeEach(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 30, start_compute: 30, create_timeline: 30, delete_timeline: 20 },
    clock: new FakeClock(NOW),
  })
  projectId = sim.createProject({ id: 'big-proj-1' }).id
  gh.pulls.clear()
})
afterEach(async () => {
  await sim.close()
})

const live = () =>
  Object.values(sim.state.branches)
    .filter((b) => !b.deleted)
    .map((b) => b.name)
const listRequests = () => sim.log.filter((l) => l.route === 'GET /projects/{project_id}/branches')
const workflowDispatch = () => ({
  ...harness(sim).deps.context,
  eventName: 'workflow_dispatch',
  pullRequest: undefined,
})

describe('a sweep of 350 branches, the stale ones past the first page', () => {
  it('deletes every stale branch (a stale child before its stale parent) and keeps the rest', async () => {
    const seeded = seedLargeSweep(sim, projectId, gh, NOW)
    expect(live()).toHaveLength(seeded.total)
    // In Neon's default order, none of the stale branches is on the first page.
    const first = sim.log.length
    const page1 = await fetch(`${sim.apiUrl}/projects/${projectId}/branches?limit=100`, {
      headers: { Authorization: `Bearer ${sim.apiKey}` },
    }).then((r) => r.json() as Promise<{ branches: { name: string }[] }>)
    expect(page1.branches).toHaveLength(100)
    for (const name of [...seeded.stale, 'preview/pr-4-open-child', 'preview/pr-1-kept-child'])
      expect(page1.branches.map((b) => b.name)).not.toContain(name)
    expect(page1.branches.map((b) => b.name)).toContain('preview/pr-3-closed')
    sim.log.splice(first)

    const h = harness(sim, { ...workflowDispatch(), eventName: 'schedule' })
    h.deps.pulls = restPullLookup(new Octokit({ baseUrl: gh.url, auth: 'ghs_test' }), SWEEP_REPO)
    const r = await cleanupMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'cleanup' }))
    expect(r.failures).toBeUndefined()
    expect([...r.deletedBranches!].sort()).toEqual([...seeded.stale].sort())
    expect([...r.staleBranches!].sort()).toEqual([...seeded.stale].sort())
    expect(r.deletedBranches!.indexOf('preview/stale-child-0')).toBeLessThan(
      r.deletedBranches!.indexOf('preview/stale-parent-0'),
    )
    const left = live()
    expect(left).toHaveLength(seeded.total - seeded.stale.length)
    for (const name of seeded.keptCandidates) expect(left).toContain(name)
    const verdict = (b: string) => r.verdicts!.find((v) => v.branch === b)!
    expect(verdict('preview/pr-3-closed').reason).toMatch(/kept because its child 'preview\/pr-4-open-child'/)
    expect(verdict('preview/stale-parent-1').reason).toMatch(
      /kept because its child 'preview\/pr-1-kept-child'/,
    )
    // Neon was never asked to delete a branch with children.
    expect(sim.log.filter((l) => l.method === 'DELETE' && l.status >= 400)).toEqual([])
    // 351 listed at 100 a page: four pages, the last one short; never with the deleted branches.
    const sweepLists = listRequests().filter((l) => l.query['include_deleted'] === undefined)
    expect(sweepLists).toHaveLength(4)
    expect(sweepLists.map((l) => l.query['limit'])).toEqual(['100', '100', '100', '100'])
    // After the deletes, the deleted ones (they share 'preview/') are listed once more, for until
    // when each can be recovered: every one of them is.
    expect(r.recoverable?.map((x) => x.name).sort()).toEqual([...seeded.stale].sort())
    expect(r.recoverable?.every((x) => x.recoverableUntil !== undefined)).toBe(true)
  })
})

describe("create, reset and delete when the name's partial search matches more than 100 branches", () => {
  it('create adopts preview/pr-1 from the second page of its search, without a create request', async () => {
    const { pr1 } = seedCrowdedNames(sim, projectId, NOW)
    const h = harness(sim, workflowDispatch())
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey, { branch_name: 'preview/pr-1' }))
    expect(r.created).toBe(false)
    expect(r.branch?.id).toBe(pr1)
    expect(
      sim.log.filter((l) => l.method === 'POST' && l.route === 'POST /projects/{project_id}/branches'),
    ).toEqual([])
    const searches = listRequests().map((l) => l.query['search'])
    expect(searches).toEqual(['preview/pr-1', 'preview/pr-1'])
  })

  it('create finds the parent branch by name past the first page of its search', async () => {
    const { dev } = seedCrowdedNames(sim, projectId, NOW)
    const h = harness(sim, workflowDispatch())
    const r = await createMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, { branch_name: 'preview/new-from-dev', parent_branch: 'dev' }),
    )
    expect(r.created).toBe(true)
    expect(sim.state.branches[r.branch!.id]!.parent_id).toBe(dev)
  })

  it('reset restores preview/pr-1 from its parent, both found past the first page', async () => {
    const { pr1, dev } = seedCrowdedNames(sim, projectId, NOW)
    const h = harness(sim, workflowDispatch())
    const r = await resetMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, { mode: 'reset', branch_name: 'preview/pr-1' }),
    )
    expect(r.branch?.id).toBe(pr1)
    const restore = sim.log.find(
      (l) => l.route === 'POST /projects/{project_id}/branches/{branch_id}/restore',
    )
    expect(restore?.path).toContain(pr1)
    expect(restore?.body).toMatchObject({ source_branch_id: dev })
  })

  it('delete removes preview/pr-1 from past the first page, and refuses while a child hides there too', async () => {
    const { pr1 } = seedCrowdedNames(sim, projectId, NOW)
    const child = sim.addBranch(projectId, {
      name: 'preview/pr-1-child',
      parentId: pr1,
      updatedAt: new Date(NOW - 4 * 86_400_000).toISOString(),
      withEndpoint: false,
    })
    const h = harness(sim, workflowDispatch())
    const refused = await deleteMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, { mode: 'delete', branch_name: 'preview/pr-1' }),
    ).catch((e: unknown) => e as Error)
    expect(refused).toBeInstanceOf(Error)
    expect((refused as Error).message).toMatch(/has child branches: 'preview\/pr-1-child'/)
    expect(sim.log.filter((l) => l.method === 'DELETE')).toEqual([])

    await deleteMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'delete', branch_name: child.name }))
    const r = await deleteMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, { mode: 'delete', branch_name: 'preview/pr-1' }),
    )
    expect(r.deleted).toBe(true)
    expect(live()).not.toContain('preview/pr-1')
    expect(live()).toContain('preview/pr-10')
  })
})
