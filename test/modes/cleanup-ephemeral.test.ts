import { Octokit } from '@octokit/rest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { restPullLookup } from '../../src/github/pulls.js'
import { restRunLookup } from '../../src/github/runs.js'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { harness, inputsFor, REPO } from '../helpers/mode-harness.js'

let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string
const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
const eph = (runId?: string, repo = REPO): Record<string, string> => ({
  'github-ephemeral': 'true',
  ...(runId !== undefined ? { 'github-run-id': runId } : {}),
  'github-repo': repo,
})

beforeAll(async () => {
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await gh.close()
})
beforeEach(async () => {
  sim = await startNeonSimulator({ operationMs: { delete_timeline: 3, suspend_compute: 2 }, schedulingMs: 1 })
  projectId = sim.createProject({ id: 'sweep-eph-1' }).id
  gh.runs.clear()
  gh.pulls.clear()
  gh.requests.length = 0
})
afterEach(async () => {
  await sim.close()
})

function sweep(over: Record<string, string> = {}, withToken = true) {
  const h = harness(sim, { ...harness(sim).deps.context, eventName: 'schedule', pullRequest: undefined })
  if (withToken) {
    const quiet = { debug() {}, info() {}, warn() {}, error() {} }
    const octokit = new Octokit({ baseUrl: gh.url, auth: 'ghs_test', log: quiet })
    h.deps.pulls = restPullLookup(octokit, REPO)
    h.deps.runs = restRunLookup(octokit, REPO)
  }
  return { h, result: cleanupMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'cleanup', ...over })) }
}
const liveNames = () =>
  Object.values(sim.state.branches)
    .filter((b) => !b.deleted)
    .map((b) => b.name)
    .sort()

describe('cleanup: ephemeral branches', () => {
  it('are judged by their run, not by the prefix, a pull request or their age', async () => {
    gh.addRun(REPO, { id: 1, status: 'in_progress' })
    gh.addRun(REPO, { id: 2, status: 'completed', conclusion: 'cancelled' })
    gh.addPull(REPO, { number: 5, state: 'closed' })
    // Under the preview prefix, named like PR 5's and stale: still kept, its run is going.
    sim.addBranch(projectId, {
      name: 'preview/pr-5-x',
      annotations: { ...eph('1'), 'github-pr-number': '5' },
      updatedAt: ago(30),
    })
    // Brand new, but its run is over.
    sim.addBranch(projectId, { name: 'ci/a', annotations: eph('2') })
    sim.addBranch(projectId, { name: 'ci/b', annotations: eph('2') })
    const r = await sweep().result
    expect(r.deletedBranches?.sort()).toEqual(['ci/a', 'ci/b'])
    expect(liveNames()).toEqual(['main', 'preview/pr-5-x'])
    const kept = r.verdicts?.find((v) => v.branch === 'preview/pr-5-x')
    expect(kept?.verdict).toBe('kept')
    expect(kept?.reason).toBe('ephemeral CI branch (run 1): the run is still in progress, kept')
    // One look-up per run, however many branches share it; no pull request asked about.
    const paths = gh.requests.map((q) => q.path).sort()
    expect(paths).toEqual([`/repos/${REPO}/actions/runs/1`, `/repos/${REPO}/actions/runs/2`])
  })

  it('without a GitHub token, or without a run id, keeps them and says why', async () => {
    sim.addBranch(projectId, { name: 'ci/no-token', annotations: eph('7') })
    sim.addBranch(projectId, { name: 'ci/no-run-id', annotations: eph() })
    const { h, result } = sweep({}, false)
    const r = await result
    expect(r.deletedBranches).toEqual([])
    expect(r.verdicts?.map((v) => v.reason).sort()).toEqual([
      'ephemeral CI branch (no run id): no valid github-run-id annotation to look up, kept',
      'ephemeral CI branch (run 7): no GitHub token to look its run up, kept',
    ])
    expect(h.logs).toContain('warning: No GitHub token: 1 ephemeral branches were kept unchecked')
  })

  it('a dry run lists what would go and deletes nothing', async () => {
    gh.addRun(REPO, { id: 3, status: 'completed' })
    sim.addBranch(projectId, { name: 'ci/done', annotations: eph('3') })
    const r = await sweep({ dry_run: 'true' }).result
    expect(r.deletedBranches).toEqual([])
    expect(r.staleBranches).toEqual(['ci/done'])
    expect(r.verdicts?.[0]?.verdict).toBe('would delete')
    expect(liveNames()).toEqual(['ci/done', 'main'])
  })

  it("never considers another repository's", async () => {
    sim.addBranch(projectId, { name: 'ci/theirs', annotations: eph('3', 'other/repo') })
    const r = await sweep().result
    expect(r.verdicts).toEqual([])
    expect(gh.requests).toEqual([])
    expect(liveNames()).toEqual(['ci/theirs', 'main'])
  })
})
