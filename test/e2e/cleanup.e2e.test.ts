import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub } from '../fake-github/server.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { runAction, secretLeaks, startAction, type ActionRun } from '../helpers/run-action.js'
import { waitFor } from '../helpers/wait-for.js'

let sim: NeonSimulator
let gh: Awaited<ReturnType<typeof startFakeGitHub>>
let projectId: string
const REPO = 'octo-org/octo-repo'
const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z')

beforeAll(async () => {
  sim = await startNeonSimulator({ operationMs: { delete_timeline: 20, suspend_compute: 5 } })
  gh = await startFakeGitHub()
  projectId = sim.createProject({ id: 'sweep-e2e-1' }).id
  gh.addPull(REPO, { number: 1, state: 'open' })
  gh.addPull(REPO, { number: 2, state: 'closed', merged: true })
  const annotate = (n: number) => ({ 'github-pr-number': String(n), 'github-repo': REPO })
  sim.addBranch(projectId, { name: 'preview/pr-1-open', annotations: annotate(1) })
  sim.addBranch(projectId, { name: 'preview/pr-2-merged', annotations: annotate(2) })
  sim.addBranch(projectId, { name: 'preview/pr-3-gone', annotations: annotate(3) })
  sim.addBranch(projectId, { name: 'preview/old', updatedAt: ago(9) })
  sim.addBranch(projectId, { name: 'preview/young', updatedAt: ago(1) })
  sim.addBranch(projectId, { name: 'release/old', updatedAt: ago(90) })
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

function sweep(extra: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    eventName: 'schedule',
    payload: { schedule: '17 3 * * *' },
    repository: REPO,
    githubApiUrl: gh.url,
    inputs: {
      mode: 'auto',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: 'ghs_sweeptoken123',
      ...extra,
    },
  })
}

const live = () =>
  Object.values(sim.state.branches)
    .filter((b) => !b.deleted)
    .map((b) => b.name)
    .sort()

describe('dist/index.js: the scheduled sweep (mode auto on schedule → cleanup)', () => {
  it('dry run lists the verdicts in the job summary and changes nothing', async () => {
    const before = sim.snapshot()
    const run = await sweep({ dry_run: 'true' })
    expect(run.code).toBe(0)
    expect(sim.snapshot()).toEqual(before)
    // deleted_branches is what was deleted: nothing. stale_branches is what would be.
    expect(JSON.parse(run.outputs.deleted_branches!)).toEqual([])
    expect(JSON.parse(run.outputs.stale_branches!).sort()).toEqual([
      'preview/old',
      'preview/pr-2-merged',
      'preview/pr-3-gone',
    ])
    expect(run.summary).toContain('would delete')
  })

  it('deletes the stale branches, keeps the rest, and writes the verdict table', async () => {
    const run = await sweep()
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/Mode: cleanup/)
    expect(JSON.parse(run.outputs.deleted_branches!).sort()).toEqual([
      'preview/old',
      'preview/pr-2-merged',
      'preview/pr-3-gone',
    ])
    expect(JSON.parse(run.outputs.stale_branches!).sort()).toEqual(
      JSON.parse(run.outputs.deleted_branches!).sort(),
    )
    expect(live()).toEqual(['main', 'preview/pr-1-open', 'preview/young', 'release/old'])
    for (const text of ['preview/pr-1-open', 'PR #1 is open', 'PR #2 is merged', 'deleted', 'kept']) {
      expect(run.summary).toContain(text)
    }
    expect(secretLeaks(run, [sim.apiKey, 'ghs_sweeptoken123'])).toEqual([])
    // No pull request comment from a sweep.
    expect(gh.requests.filter((r) => r.method !== 'GET')).toEqual([])
  })

  it('fails the step at the end when a delete failed, after deleting the others and setting the outputs', async () => {
    sim.addBranch(projectId, { name: 'preview/stale-a', updatedAt: ago(9) })
    const b = sim.addBranch(projectId, { name: 'preview/stale-b', updatedAt: ago(9) })
    sim.faults.add({
      method: 'DELETE',
      route: new RegExp(`/branches/${b.id}$`),
      status: 400,
      body: { code: '', message: 'nope', request_id: 'rid-b' },
    })
    const run = await sweep()
    expect(run.code).toBe(1)
    expect(JSON.parse(run.outputs.deleted_branches!)).toEqual(['preview/stale-a'])
    // The rules chose both; one failed.
    expect(JSON.parse(run.outputs.stale_branches!).sort()).toEqual(['preview/stale-a', 'preview/stale-b'])
    expect(run.stdout).toMatch(
      /::error::cleanup finished, but 1 of its steps failed:%0A- 'preview\/stale-b' .*HTTP 400 Bad Request: nope \(request id rid-b\)/,
    )
    expect(live()).toContain('preview/stale-b')
  })
})

describe('dist/index.js: the sweep deletes while GitHub is still being asked (issue 17)', () => {
  it('deletes the untied stale branch before the pull request look-up answers, then the closed PR’s', async () => {
    const project = sim.createProject({ id: 'sweep-e2e-overlap' }).id
    gh.addPull(REPO, { number: 21, state: 'closed' })
    const old = sim.addBranch(project, { name: 'preview/old-untied', updatedAt: ago(9) })
    const closed = sim.addBranch(project, {
      name: 'preview/pr-21-closed',
      annotations: { 'github-pr-number': '21', 'github-repo': REPO },
    })
    const release = gh.hold(/\/pulls\/21$/)
    const lookup = () => gh.requests.find((r) => r.path.endsWith('/pulls/21'))
    const started = startAction({
      eventName: 'schedule',
      payload: { schedule: '17 3 * * *' },
      repository: REPO,
      githubApiUrl: gh.url,
      inputs: {
        mode: 'cleanup',
        api_key: sim.apiKey,
        project_id: project,
        api_host: sim.apiUrl,
        github_token: 'ghs_sweeptoken123',
      },
    })
    try {
      await waitFor(() => sim.state.branches[old.id]?.deleted === true, 'the untied stale branch to go')
      await waitFor(() => lookup() !== undefined, 'the look-up of PR #21')
      // Deleted (the step may even ask GitHub after it), while GitHub has not answered about PR #21.
      expect(lookup()?.status).toBe(0)
      expect(sim.state.branches[closed.id]?.deleted).toBe(false)
    } finally {
      release()
    }
    const run = await started.result
    expect(run.code).toBe(0)
    expect(JSON.parse(run.outputs.deleted_branches!)).toEqual(['preview/old-untied', 'preview/pr-21-closed'])
    expect(lookup()?.status).toBe(200)
    expect(run.summary).toContain('PR #21 is closed')
  })
})
