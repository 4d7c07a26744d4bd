import { Octokit } from '@octokit/rest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { restPullLookup } from '../../src/github/pulls.js'
import { createMode } from '../../src/modes/create.js'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import { ModeError, type ModeResult } from '../../src/modes/types.js'
import { startFakeGitHub } from '../fake-github/server.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor, prContext, REPO } from '../helpers/mode-harness.js'
import { LOCKED_MESSAGE, startNeonSimulator, type NeonSimulator } from '../sim/index.js'

let sim: NeonSimulator
let gh: Awaited<ReturnType<typeof startFakeGitHub>>
let projectId: string

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const ago = (days: number) => new Date(NOW - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')
const tie = (n: number, repo = REPO) => ({ 'github-pr-number': String(n), 'github-repo': repo })

beforeAll(async () => {
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await gh.close()
})
beforeEach(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 20, start_compute: 30, delete_timeline: 15, suspend_compute: 5 },
    schedulingMs: 1,
    clock: new FakeClock(NOW),
  })
  // The free plan: 10 branches, the default one included.
  projectId = sim.createProject({ id: 'full-pond-10101010', branchLimit: 'free' }).id
  gh.pulls.clear()
  gh.requests.length = 0
})
afterEach(async () => {
  await sim.close()
})

/** create for pull request `n`, as the action runs it: PR look-ups through the fake GitHub. */
function create(n: number, over: Record<string, string> = {}, token = true) {
  const h = harness(sim, prContext(n, `feature-${n}`))
  if (token) {
    const quiet = { debug() {}, info() {}, warn() {}, error() {} }
    h.deps.pulls = restPullLookup(new Octokit({ baseUrl: gh.url, auth: 'ghs_test', log: quiet }), REPO)
  }
  return { h, result: createMode(h.deps, inputsFor(projectId, sim.apiKey, over)) }
}

/** Nine seeded branches: with main, the project is at its limit of 10. */
function fill(kinds: ('open' | 'closed' | 'young')[]): void {
  let k = 0
  for (const kind of kinds) {
    const n = 100 + k++
    if (kind === 'young') {
      sim.addBranch(projectId, { name: `preview/scratch-${n}`, updatedAt: ago(1) })
      continue
    }
    gh.addPull(REPO, { number: n, state: kind })
    sim.addBranch(projectId, { name: `preview/pr-${n}`, annotations: tie(n), updatedAt: ago(20 - k) })
  }
}

const live = () =>
  Object.values(sim.state.branches)
    .filter((b) => b.project_id === projectId && !b.deleted)
    .map((b) => b.name)
const deletes = () => sim.log.filter((l) => l.method === 'DELETE' && l.status === 200)
const deletedNames = () =>
  Object.values(sim.state.branches)
    .filter((b) => b.deleted)
    .map((b) => b.name)

async function failure(p: Promise<ModeResult>): Promise<ModeError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(ModeError)
  return e as ModeError
}

describe('create at the branch limit, on_branch_limit: fail (the default)', () => {
  it('fails with the limit, the count and what cleanup would delete, oldest first, and deletes nothing', async () => {
    fill(['closed', 'open', 'closed', 'open', 'young', 'open', 'open', 'open', 'open'])
    const before = sim.snapshot()
    const e = await failure(create(12).result)
    expect(e.message).toContain(
      "create of branch 'preview/pr-12-feature-12' failed: the project is at its branch limit: 10 of 10 branches",
    )
    expect(e.message).toMatch(
      /HTTP 422 Unprocessable Entity \[BRANCHES_LIMIT_EXCEEDED\]: branches limit of 10 exceeded, got 10 \(request id [0-9a-f-]{36}\)/,
    )
    expect(e.message).toContain(
      'mode: cleanup with these inputs would delete 2 branch(es) now, oldest first:',
    )
    // preview/pr-100 was last updated 19 days ago, preview/pr-102 17 days ago.
    expect(e.message).toMatch(
      /- 'preview\/pr-100' \(br-[^)]+\): PR #100 is closed; 19 days since its last update\n- 'preview\/pr-102'/,
    )
    expect(e.message).toContain(
      'What holds the quota: 10 branches listed: 1 default branch, 9 under it: 2 stale, 6 of open pull requests, 1 updated within cleanup_max_age.',
    )
    expect(e.message).toContain('Set on_branch_limit: make-room')
    expect(e.changes).toEqual([])
    expect(sim.snapshot()).toEqual(before)
  })

  it('lists the same branches mode: cleanup would delete (the same rules)', async () => {
    fill(['closed', 'open', 'closed', 'young', 'open', 'closed', 'open', 'open', 'open'])
    const e = await failure(create(12).result)
    const listed = [...e.message.matchAll(/^- '([^']+)'/gm)].map((m) => m[1]).sort()
    const h = harness(sim, { ...prContext(), eventName: 'schedule', pullRequest: undefined })
    const quiet = { debug() {}, info() {}, warn() {}, error() {} }
    h.deps.pulls = restPullLookup(new Octokit({ baseUrl: gh.url, auth: 'ghs_test', log: quiet }), REPO)
    const sweep = await cleanupMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, { mode: 'cleanup', dry_run: 'true' }),
    )
    expect(listed).toEqual([...sweep.staleBranches!].sort())
    expect(listed).toHaveLength(3)
  })
})

describe('create at the branch limit, on_branch_limit: make-room', () => {
  it('deletes exactly one branch, the oldest stale one, waits for it, and creates', async () => {
    fill(['closed', 'open', 'closed', 'open', 'young', 'open', 'open', 'open', 'open'])
    const { h, result } = create(12, { on_branch_limit: 'make-room' })
    const r = await result
    expect(r.created).toBe(true)
    expect(deletedNames()).toEqual(['preview/pr-100'])
    expect(live()).toContain('preview/pr-12-feature-12')
    expect(live()).toContain('preview/pr-102')
    expect(live()).toHaveLength(10)
    expect(r.deletedBranches).toEqual(['preview/pr-100'])
    expect(r.branchLimit).toMatchObject({ limit: 10, count: 10 })
    expect(r.branchLimit!.madeRoom).toEqual([
      expect.objectContaining({ branch: 'preview/pr-100', pr: 100, prState: 'closed', verdict: 'deleted' }),
    ])
    expect(r.changes[0]).toMatch(
      /^deleted stale branch 'preview\/pr-100' \(br-[^)]+\) to make room: PR #100 is closed$/,
    )
    expect(h.logs.some((l) => /Deleted stale branch 'preview\/pr-100'/.test(l))).toBe(true)
    // The delete was waited for before the create was tried again; two creates in all.
    const posts = sim.log.filter(
      (l) => l.method === 'POST' && l.route === 'POST /projects/{project_id}/branches',
    )
    expect(posts.map((p) => p.status)).toEqual([422, 201])
    const del = deletes()[0]!
    const delOps = Object.values(sim.state.operations).filter(
      (o) => o.branch_id === del.path.split('/').at(-1),
    )
    for (const op of delOps) expect(Date.parse(op.updated_at)).toBeLessThanOrEqual(posts[1]!.at)
  })

  it('deletes a stale parent only after its stale child, and both count', async () => {
    gh.addPull(REPO, { number: 5, state: 'closed' })
    gh.addPull(REPO, { number: 6, state: 'closed', merged: true })
    const parent = sim.addBranch(projectId, { name: 'preview/pr-5', annotations: tie(5), updatedAt: ago(30) })
    sim.addBranch(projectId, {
      name: 'preview/pr-6',
      annotations: tie(6),
      parentId: parent.id,
      updatedAt: ago(2),
    })
    fill(['open', 'open', 'open', 'open', 'open', 'open', 'open'])
    const r = await create(12, { on_branch_limit: 'make-room' }).result
    expect(r.created).toBe(true)
    expect(r.deletedBranches).toEqual(['preview/pr-6', 'preview/pr-5'])
    const order = deletes().map((d) => sim.state.branches[d.path.split('/').at(-1)!]!.name)
    expect(order).toEqual(['preview/pr-6', 'preview/pr-5'])
  })

  it('frees as many places as a project past its limit needs, and no more', async () => {
    // A plan lowered under a full project: 12 branches for a limit of 10 → 3 must go for one more.
    fill(['closed', 'closed', 'closed', 'closed', 'closed', 'open', 'open', 'open', 'open'])
    gh.addPull(REPO, { number: 300, state: 'open' })
    gh.addPull(REPO, { number: 301, state: 'open' })
    sim.addBranch(projectId, { name: 'preview/pr-300', annotations: tie(300) })
    sim.addBranch(projectId, { name: 'preview/pr-301', annotations: tie(301) })
    const r = await create(12, { on_branch_limit: 'make-room' }).result
    expect(r.created).toBe(true)
    expect(r.branchLimit).toMatchObject({ limit: 10, count: 12 })
    expect(r.deletedBranches).toEqual(['preview/pr-100', 'preview/pr-101', 'preview/pr-102'])
    expect(live()).toHaveLength(10)
  })

  it('with only open pull requests and branches it may not touch: fails like fail, nothing deleted, says why', async () => {
    gh.addPull(REPO, { number: 7, state: 'closed' })
    sim.addBranch(projectId, { name: 'preview/protected-old', protected: true, updatedAt: ago(90) })
    sim.addBranch(projectId, { name: 'staging', updatedAt: ago(90) })
    sim.addBranch(projectId, {
      name: 'preview/pr-7-theirs',
      annotations: tie(7, 'someone/else'),
      updatedAt: ago(90),
    })
    fill(['open', 'open', 'open', 'open', 'young', 'open'])
    for (const mode of ['fail', 'make-room']) {
      const e = await failure(create(12, { on_branch_limit: mode }).result)
      expect(e.message).toContain('the project is at its branch limit: 10 of 10 branches')
      expect(e.message).toContain('mode: cleanup with these inputs would delete none of them now.')
      expect(e.message).toContain(
        "What holds the quota: 10 branches listed: 1 default branch, 1 protected, 1 outside cleanup_prefix 'preview/', 7 under it: 5 of open pull requests, 1 of another repository, 1 updated within cleanup_max_age.",
      )
      if (mode === 'make-room')
        expect(e.message).toContain('make-room found nothing the cleanup rules allow it to delete')
      expect(e.changes).toEqual([])
    }
    expect(sim.log.filter((l) => l.method === 'DELETE')).toEqual([])
    expect(live()).toHaveLength(10)
  })

  it('without a GitHub token keeps every branch tied to a pull request, as cleanup does', async () => {
    fill(['closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed'])
    const e = await failure(create(12, { on_branch_limit: 'make-room' }, false).result)
    expect(e.message).toContain('9 under it: 9 whose pull request could not be looked up')
    expect(sim.log.filter((l) => l.method === 'DELETE')).toEqual([])
  })

  it('dry_run says what it would delete and changes nothing', async () => {
    fill(['closed', 'open', 'closed', 'open', 'young', 'open', 'open', 'open', 'open'])
    const before = sim.snapshot()
    const r = await create(12, { on_branch_limit: 'make-room', dry_run: 'true' }).result
    expect(sim.snapshot()).toEqual(before)
    expect(sim.log.filter((l) => l.method !== 'GET')).toEqual([])
    expect(r.changes[0]).toMatch(
      /^would delete stale branch 'preview\/pr-100' \(br-[^)]+\) to make room \(the project is at its branch limit \(10 of 10 branches\)\): PR #100 is closed$/,
    )
    expect(r.changes[1]).toMatch(/^would create branch 'preview\/pr-12-feature-12'/)
    expect(r.deletedBranches).toEqual([])
    expect(r.staleBranches).toEqual(['preview/pr-100'])
    expect(r.branchLimit!.madeRoom.map((v) => v.verdict)).toEqual(['would delete'])
  })

  it('dry_run below the limit: two look-ups, nothing about room', async () => {
    const r = await create(12, { on_branch_limit: 'make-room', dry_run: 'true' }).result
    expect(r.branchLimit).toBeUndefined()
    expect(r.changes).toHaveLength(1)
  })

  it('two runs racing at the limit: one branch each, exactly two deleted', async () => {
    fill(['closed', 'closed', 'closed', 'open', 'open', 'open', 'open', 'open', 'open'])
    const a = create(20, { on_branch_limit: 'make-room' })
    const b = create(21, { on_branch_limit: 'make-room' })
    const [ra, rb] = await Promise.all([a.result, b.result])
    expect(ra.created && rb.created).toBe(true)
    expect(live()).toEqual(expect.arrayContaining(['preview/pr-20-feature-20', 'preview/pr-21-feature-21']))
    expect(live()).toHaveLength(10)
    expect(deletedNames().sort()).toEqual(['preview/pr-100', 'preview/pr-101'])
    // Each run counts only the deletes that were its own.
    expect([...ra.deletedBranches!, ...rb.deletedBranches!].sort()).toEqual([
      'preview/pr-100',
      'preview/pr-101',
    ])
    // They really raced: both were refused, and one found the oldest branch already gone.
    const posts = sim.log.filter((l) => l.route === 'POST /projects/{project_id}/branches')
    expect(posts.filter((p) => p.status === 422)).toHaveLength(2)
    expect(
      [...a.h.logs, ...b.h.logs].some((l) => /was already gone \(another run made room with it/.test(l)),
    ).toBe(true)
  })

  it('rides out a 423 storm on its deletes and on the retried create', async () => {
    fill(['closed', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open'])
    const locked = { code: '', message: LOCKED_MESSAGE, request_id: 'rid-storm' }
    let first = true
    sim.faults.add({
      method: 'DELETE',
      route: /\/branches\/br-/,
      status: 423,
      body: locked,
      times: 5,
      before: () => {
        // The create that follows the deletes is locked four times too.
        if (first)
          sim.faults.add({
            route: 'POST /projects/{project_id}/branches',
            status: 423,
            body: locked,
            times: 4,
          })
        first = false
      },
    })
    const { h, result } = create(12, { on_branch_limit: 'make-room' })
    const r = await result
    expect(r.created).toBe(true)
    expect(r.deletedBranches).toEqual(['preview/pr-100'])
    expect(deletedNames()).toEqual(['preview/pr-100'])
    expect(h.neon.stats.retries).toBeGreaterThanOrEqual(9)
    expect(sim.log.filter((l) => l.status === 423)).toHaveLength(9)
  })

  it('fails, saying so, when another run takes the place before the retried create', async () => {
    fill(['closed', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open'])
    let posts = 0
    sim.faults.add({
      route: 'POST /projects/{project_id}/branches',
      times: 2,
      before: () => {
        if (++posts === 2) sim.addBranch(projectId, { name: 'preview/someone-else' })
      },
    })
    const e = await failure(create(12, { on_branch_limit: 'make-room' }).result)
    expect(e.message).toMatch(
      /make-room deleted 'preview\/pr-100', but Neon refused the create again \(.*422.*\): another run took the place first/,
    )
    expect(e.changes).toEqual([expect.stringMatching(/^deleted stale branch 'preview\/pr-100'/)])
  })
})
