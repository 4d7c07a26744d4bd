/**
 * A burst of pull requests through the committed dist/index.js (issue 21): twenty opened at once
 * against one project, whose lock admits one create at a time; the same twenty pushed again; half
 * of them closed while the nightly sweep runs. GitHub's secondary limit on content creation is on,
 * tighter than github.com's, so that the comments of the burst meet it. Nothing here measures time:
 * `npm run bench:burst` does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { runAction, type ActionRun } from '../helpers/run-action.js'
import { NEON_RATE_LIMITS, startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const REPO = 'octo-org/burst-repo'
const N = 20
let sim: NeonSimulator
let gh: FakeGitHub
let project: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 150, start_compute: 250, delete_timeline: 100, suspend_compute: 0 },
    operationJitter: 0.1,
    rateLimit: NEON_RATE_LIMITS,
  })
  // Two writes a second, whoever sends them: twenty runs commenting as their branches get ready
  // (one every ~0.4 s) are refused now and then, and told to come back in a second.
  gh = await startFakeGitHub({ secondaryLimit: { writes: 2, windowMs: 1000, retryAfterS: 1 } })
  project = sim.createProject({ id: 'burst-e2e-1' }).id
  for (let pr = 1; pr <= N; pr++) gh.addPull(REPO, { number: pr })
}, 60_000)
afterAll(async () => {
  await sim.close()
  await gh.close()
})

const branchName = (pr: number) => `preview/pr-${pr}-renovate/dep-${pr}`

function run(pr: number, action: string, inputs: Record<string, string>, eventName = 'pull_request') {
  return runAction({
    eventName,
    payload:
      eventName === 'schedule'
        ? {}
        : {
            action,
            number: pr,
            pull_request: {
              number: pr,
              title: `Update dep ${pr}`,
              head: { ref: `renovate/dep-${pr}`, sha: 'b'.repeat(40), repo: { full_name: REPO } },
              base: { ref: 'main', repo: { full_name: REPO } },
            },
          },
    repository: REPO,
    githubApiUrl: gh.url,
    inputs: {
      api_key: sim.apiKey,
      project_id: project,
      api_host: sim.apiUrl,
      github_token: 'ghs_burst',
      ...inputs,
    },
  })
}

const errors = (r: ActionRun) => r.stdout.split('\n').filter((l) => l.startsWith('::error'))
const prs = Array.from({ length: N }, (_, i) => i + 1)
let opened: ActionRun[] = []

describe('a burst of pull requests against one project', () => {
  it('twenty opened at once all succeed, each with its own branch and one comment', async () => {
    opened = await Promise.all(prs.map((pr) => run(pr, 'opened', { mode: 'create' })))
    expect(opened.flatMap(errors)).toEqual([])
    expect(opened.map((r) => r.code)).toEqual(prs.map(() => 0))
    expect(opened.map((r) => r.outputs.branch_name)).toEqual(prs.map(branchName))
    expect(opened.map((r) => r.outputs.created)).toEqual(prs.map(() => 'true'))
    expect(new Set(opened.map((r) => r.outputs.branch_id)).size).toBe(N)
    // The project lock made them wait: each waiting run said so, in the log and in its summary.
    expect(sim.log.filter((l) => l.status === 423).length).toBeGreaterThan(0)
    const waited = opened.filter((r) => /Waited \d+\.\d s for the project lock before POST/.test(r.stdout))
    expect(waited.length).toBeGreaterThan(0)
    for (const r of waited) expect(r.summary).toContain('<td>Waited for the project lock</td>')
    expect(sim.log.filter((l) => l.status === 429)).toEqual([])
    // GitHub's secondary limit refused some of the comments' writes; each was waited out.
    expect(gh.secondaryLimited.length).toBeGreaterThan(0)
    for (const pr of prs) expect(gh.commentBodies(REPO, pr)).toHaveLength(1)
  }, 240_000)

  it('the same twenty pushed again at once adopt their branches', async () => {
    const pushed = await Promise.all(prs.map((pr) => run(pr, 'synchronize', { mode: 'create' })))
    expect(pushed.flatMap(errors)).toEqual([])
    expect(pushed.map((r) => r.outputs.created)).toEqual(prs.map(() => 'false'))
    expect(pushed.map((r) => r.outputs.branch_id)).toEqual(opened.map((r) => r.outputs.branch_id))
    for (const pr of prs) expect(gh.commentBodies(REPO, pr)).toHaveLength(1)
  }, 240_000)

  it('half of them closed while the sweep runs: exactly the closed ones are deleted', async () => {
    const closed = prs.filter((pr) => pr % 2 === 0)
    for (const pr of closed) gh.addPull(REPO, { number: pr, state: 'closed' })
    const runs = await Promise.all([
      ...closed.map((pr) => run(pr, 'closed', { mode: 'delete' })),
      run(0, '', { mode: 'cleanup' }, 'schedule'),
    ])
    expect(runs.flatMap(errors)).toEqual([])
    const live = new Set(sim.world.liveBranches(project).map((b) => b.name))
    for (const pr of prs) expect(live.has(branchName(pr))).toBe(!closed.includes(pr))
    // Each closed branch was deleted by its own close or by the sweep (the other then found it gone).
    const sweep = runs.at(-1)!
    const bySweep = new Set(JSON.parse(sweep.outputs.deleted_branches ?? '[]') as string[])
    closed.forEach((pr, i) => {
      expect(runs[i]!.outputs.deleted === 'true' || bySweep.has(branchName(pr))).toBe(true)
    })
    expect([...bySweep].every((name) => closed.map(branchName).includes(name))).toBe(true)
  }, 240_000)
})
