// dist/index.js on projects larger than Neon's 100-branch page, run as the runner runs it.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { seedCrowdedNames, seedLargeSweep, SWEEP_REPO } from '../helpers/large-project.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

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
    operationMs: { create_branch: 20, start_compute: 20, create_timeline: 20, delete_timeline: 10 },
  })
  projectId = sim.createProject({ id: 'big-e2e-1' }).id
  gh.pulls.clear()
  gh.requests.length = 0
})
afterEach(async () => {
  await sim.close()
})

function action(
  eventName: string,
  inputs: Record<string, string>,
  payload: unknown = {},
): Promise<ActionRun> {
  return runAction({
    eventName,
    payload,
    repository: SWEEP_REPO,
    githubApiUrl: gh.url,
    inputs: { api_key: sim.apiKey, project_id: projectId, api_host: sim.apiUrl, comment: 'false', ...inputs },
  })
}

const live = () =>
  Object.values(sim.state.branches)
    .filter((b) => !b.deleted)
    .map((b) => b.name)
const byRoute = () => {
  const counts: Record<string, number> = {}
  for (const l of sim.log) counts[l.route ?? l.path] = (counts[l.route ?? l.path] ?? 0) + 1
  return counts
}

describe('dist/index.js: a scheduled sweep of 350 branches', () => {
  it('deletes exactly the stale ones, wherever they sit in the listing, children first', async () => {
    const seeded = seedLargeSweep(sim, projectId, gh, Date.now())
    const run = await action(
      'schedule',
      { mode: 'auto', github_token: 'ghs_sweeptoken123' },
      { schedule: '17 3 * * *' },
    )
    expect(run.code, run.stdout).toBe(0)
    const deleted = JSON.parse(run.outputs.deleted_branches!) as string[]
    expect([...deleted].sort()).toEqual([...seeded.stale].sort())
    expect(deleted.indexOf('preview/stale-child-0')).toBeLessThan(deleted.indexOf('preview/stale-parent-0'))
    const left = live()
    expect(left).toHaveLength(seeded.total - seeded.stale.length)
    for (const name of seeded.keptCandidates) expect(left).toContain(name)
    expect(sim.log.filter((l) => l.status >= 400 && l.status !== 423)).toEqual([])
    const routes = byRoute()
    // Four pages for the sweep (never with the deleted branches), then one listing with them, for
    // until when each deleted branch can be recovered.
    const lists = sim.log.filter((l) => l.route === 'GET /projects/{project_id}/branches')
    expect(lists.map((l) => l.query['include_deleted'] ?? null)).toEqual([null, null, null, null, 'true'])
    expect(Object.keys(JSON.parse(run.outputs.recoverable_until!) as object).sort()).toEqual(
      [...seeded.stale].sort(),
    )
    expect(routes['DELETE /projects/{project_id}/branches/{branch_id}']).toBe(seeded.stale.length)
    // One look-up per pull request the candidates are tied to (1, 3 and 4).
    expect(gh.requests.filter((r) => r.method === 'GET').length).toBe(3)
    expect(secretLeaks(run, [sim.apiKey, 'ghs_sweeptoken123'])).toEqual([])
    // The figures for the note: printed, never asserted as time.
    console.log(
      `350-branch sweep: deleted ${deleted.length}, kept ${left.length}; requests ${JSON.stringify(routes)}`,
    )
  })

  it('a dry run reports the same branches as stale and deletes none', async () => {
    const seeded = seedLargeSweep(sim, projectId, gh, Date.now())
    const before = sim.snapshot()
    const run = await action('workflow_dispatch', {
      mode: 'cleanup',
      dry_run: 'true',
      github_token: 'ghs_t0ken',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(JSON.parse(run.outputs.deleted_branches!)).toEqual([])
    expect((JSON.parse(run.outputs.stale_branches!) as string[]).sort()).toEqual([...seeded.stale].sort())
    expect(sim.snapshot()).toEqual(before)
  })
})

describe("dist/index.js: create, reset and delete when the name's search matches more than 100 branches", () => {
  it('create adopts, reset restores from the parent, delete deletes: preview/pr-1 past the first page', async () => {
    const { pr1, dev } = seedCrowdedNames(sim, projectId, Date.now())
    const created = await action('workflow_dispatch', { mode: 'create', branch_name: 'preview/pr-1' })
    expect(created.code, created.stdout).toBe(0)
    expect(created.outputs).toMatchObject({ branch_id: pr1, created: 'false' })
    expect(sim.log.filter((l) => l.route === 'POST /projects/{project_id}/branches')).toEqual([])

    const reset = await action('workflow_dispatch', { mode: 'reset', branch_name: 'preview/pr-1' })
    expect(reset.code, reset.stdout).toBe(0)
    const restore = sim.log.find(
      (l) => l.route === 'POST /projects/{project_id}/branches/{branch_id}/restore',
    )
    expect(restore?.path).toContain(pr1)
    expect(restore?.body).toMatchObject({ source_branch_id: dev })

    const deleted = await action('workflow_dispatch', { mode: 'delete', branch_name: 'preview/pr-1' })
    expect(deleted.code, deleted.stdout).toBe(0)
    expect(deleted.outputs.deleted).toBe('true')
    expect(live()).not.toContain('preview/pr-1')
    expect(live().filter((n) => n.startsWith('preview/pr-1'))).toHaveLength(110)
  })

  it('create makes a branch from a parent found by name past the first page', async () => {
    const { dev } = seedCrowdedNames(sim, projectId, Date.now())
    const run = await action('workflow_dispatch', {
      mode: 'create',
      branch_name: 'preview/from-dev',
      parent_branch: 'dev',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs.created).toBe('true')
    expect(sim.state.branches[run.outputs.branch_id!]!.parent_id).toBe(dev)
  })
})
