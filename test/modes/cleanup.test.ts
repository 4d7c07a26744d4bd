import { Octokit } from '@octokit/rest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { restPullLookup } from '../../src/github/pulls.js'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import type { ModeResult } from '../../src/modes/types.js'
import { startFakeGitHub } from '../fake-github/server.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { LOCKED_MESSAGE, startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { harness, inputsFor, REPO } from '../helpers/mode-harness.js'

let sim: NeonSimulator
let gh: Awaited<ReturnType<typeof startFakeGitHub>>
let projectId: string

const DAY = 86_400_000
/** The start of virtual time in these tests; ages are measured from it. */
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const ago = (days: number) => new Date(NOW - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')

beforeAll(async () => {
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await gh.close()
})
beforeEach(async () => {
  sim = await startNeonSimulator({
    operationMs: { delete_timeline: 3, suspend_compute: 2 },
    schedulingMs: 1,
    clock: new FakeClock(NOW),
  })
  projectId = sim.createProject({ id: 'sweep-proj-1' }).id
  gh.pulls.clear()
  gh.faults.length = 0
  gh.requests.length = 0
})
afterEach(async () => {
  await sim.close()
})

function sweep(over: Record<string, string> = {}, deleteConcurrency = 1) {
  const h = harness(sim, { ...harness(sim).deps.context, eventName: 'schedule', pullRequest: undefined })
  const quiet = { debug() {}, info() {}, warn() {}, error() {} }
  const octokit = new Octokit({ baseUrl: gh.url, auth: 'ghs_test', log: quiet })
  h.deps.pulls = restPullLookup(octokit, REPO)
  return {
    h,
    result: cleanupMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'cleanup', ...over }), {
      deleteConcurrency,
    }),
  }
}

const liveNames = () =>
  Object.values(sim.state.branches)
    .filter((b) => !b.deleted)
    .map((b) => b.name)
    .sort()

const pr = (n: number, state: 'open' | 'closed', merged = false) =>
  gh.addPull(REPO, { number: n, state, merged })
const annotated = (n: number, repo = REPO) => ({ 'github-pr-number': String(n), 'github-repo': repo })

describe('cleanup over a project with every kind of branch', () => {
  let result: ModeResult

  beforeEach(async () => {
    pr(1, 'open')
    pr(2, 'closed')
    pr(3, 'closed', true)
    // 4 does not exist on GitHub.
    pr(5, 'closed')
    pr(77, 'closed')
    pr(78, 'closed')
    pr(79, 'open')
    pr(88, 'closed')
    pr(89, 'closed')
    const add = (
      name: string,
      o: Parameters<NeonSimulator['addBranch']>[1] extends infer T ? Partial<T> : never = {},
    ) => sim.addBranch(projectId, { name, updatedAt: ago(1), ...o })
    add('preview/pr-1-open', { annotations: annotated(1) })
    add('preview/pr-2-closed', { annotations: annotated(2) })
    add('preview/pr-3-merged', { annotations: annotated(3) })
    add('preview/pr-4-missing', { annotations: annotated(4) })
    add('preview/pr-5-other-repo', { annotations: annotated(5, 'someone/else') })
    add('preview/nightly-old', { updatedAt: ago(30) })
    add('preview/nightly-young', { updatedAt: ago(2) })
    add('preview/guarded-old', { protected: true, updatedAt: ago(90) })
    add('feature/outside-prefix-old', { updatedAt: ago(90) })
    const parent = add('preview/parent-old', { updatedAt: ago(20) })
    add('preview/pr-2-child-of-stale', { parentId: parent.id, annotations: annotated(2) })
    const keptParent = add('preview/stale-with-kept-child', { updatedAt: ago(20) })
    add('preview/young-child', { parentId: keptParent.id, updatedAt: ago(1) })
    const gone = add('preview/pr-2-deleted-meanwhile', { annotations: annotated(2) })
    // Another run deletes it after our listing and just before our delete: Neon then answers 204.
    sim.faults.add({
      method: 'DELETE',
      route: new RegExp(`/branches/${gone.id}$`),
      before: () => {
        sim.world.branches.get(gone.id)!.deletedAt = sim.clock.now()
      },
    })
    // Issue 22: a tie by name alone keeps an open pull request's branch, and dooms none early.
    add('preview/pr-77-from-name-only', { updatedAt: ago(1) })
    add('preview/pr-78-name-only-old', { updatedAt: ago(30) })
    add('preview/pr-79-name-only-open-old', { updatedAt: ago(30) })
    add('preview/my-pr-80-scratch', { updatedAt: ago(2) }) // PR 80 does not exist
    // Issue 22: another repository's branches are kept, tied to a pull request or not, old or not.
    add('preview/theirs-untied-old', {
      updatedAt: ago(30),
      annotations: { 'github-commit-repo': 'someone/else' },
    })
    add('preview/pr-89-theirs-by-name', {
      updatedAt: ago(30),
      annotations: { 'github-repo': 'someone/else' },
    })
    add('preview/pr-88-github-fails', { annotations: annotated(88) })
    gh.faults.push({ method: 'GET', path: /\/pulls\/88$/, status: 500, times: 1000 })
    result = await sweep().result
  })

  it('deletes exactly the stale branches and keeps everything else', () => {
    expect(liveNames()).toEqual(
      [
        'feature/outside-prefix-old',
        'main',
        'preview/guarded-old',
        'preview/nightly-young',
        'preview/pr-1-open',
        'preview/pr-5-other-repo',
        'preview/pr-88-github-fails',
        'preview/stale-with-kept-child',
        'preview/young-child',
        'preview/pr-77-from-name-only',
        'preview/pr-79-name-only-open-old',
        'preview/my-pr-80-scratch',
        'preview/theirs-untied-old',
        'preview/pr-89-theirs-by-name',
      ].sort(),
    )
    expect([...result.deletedBranches!].sort()).toEqual(
      [
        'preview/nightly-old',
        'preview/parent-old',
        'preview/pr-2-child-of-stale',
        'preview/pr-2-closed',
        'preview/pr-2-deleted-meanwhile',
        'preview/pr-3-merged',
        'preview/pr-4-missing',
        'preview/pr-78-name-only-old',
      ].sort(),
    )
    expect(result.failures).toBeUndefined()
  })

  it('deletes children before their parents', () => {
    const order = sim.log
      .filter((l) => l.method === 'DELETE' && l.status === 200)
      .map((l) => l.path.split('/').pop())
    const id = (name: string) => Object.values(sim.state.branches).find((b) => b.name === name)!.id
    expect(order.indexOf(id('preview/pr-2-child-of-stale'))).toBeLessThan(
      order.indexOf(id('preview/parent-old')),
    )
  })

  it('gives every candidate a verdict with its reason', () => {
    const v = Object.fromEntries(result.verdicts!.map((x) => [x.branch, x]))
    expect(v['preview/pr-1-open']).toMatchObject({
      verdict: 'kept',
      pr: 1,
      prState: 'open',
      reason: 'PR #1 is open',
    })
    expect(v['preview/pr-3-merged']).toMatchObject({ verdict: 'deleted', prState: 'merged' })
    expect(v['preview/pr-4-missing']?.reason).toBe('PR #4 does not exist')
    expect(v['preview/pr-5-other-repo']?.reason).toMatch(
      /another repository \(someone\/else, github-repo\): not ours/,
    )
    expect(v['preview/pr-77-from-name-only']).toMatchObject({
      verdict: 'kept',
      pr: 77,
      reason: "PR #77 only by its name; updated 1 d ago (≤ 7 d), so kept whatever that pull request's state",
    })
    expect(v['preview/pr-78-name-only-old']).toMatchObject({
      verdict: 'deleted',
      prState: 'closed',
      reason:
        'PR #78 (from the name) is closed; tied only by its name, so judged by age: not updated for 30 d (> 7 d)',
    })
    expect(v['preview/pr-79-name-only-open-old']).toMatchObject({
      verdict: 'kept',
      reason: 'PR #79 (from the name) is open',
    })
    expect(v['preview/my-pr-80-scratch']?.verdict).toBe('kept')
    expect(v['preview/theirs-untied-old']).toMatchObject({
      verdict: 'kept',
      reason: 'annotated for another repository (someone/else, github-commit-repo): not ours',
    })
    expect(v['preview/pr-89-theirs-by-name']?.verdict).toBe('kept')
    expect(v['preview/pr-89-theirs-by-name']?.pr).toBeUndefined()
    expect(v['preview/pr-88-github-fails']).toMatchObject({ verdict: 'kept', prState: 'unknown' })
    expect(v['preview/nightly-old']?.reason).toMatch(
      /tied to no pull request; not updated for 30 d \(> 7 d\)/,
    )
    expect(v['preview/stale-with-kept-child']?.reason).toMatch(
      /kept because its child 'preview\/young-child'/,
    )
    expect(v['preview/pr-2-deleted-meanwhile']?.reason).toMatch(/already gone \(204\)/)
    // Not candidates at all: never judged.
    expect(v['preview/guarded-old']).toBeUndefined()
    expect(v['feature/outside-prefix-old']).toBeUndefined()
    expect(v['main']).toBeUndefined()
  })

  it('looks each pull request up once, and none that could not change a verdict', () => {
    const lookups = gh.requests.filter((r) => r.path.includes('/pulls/')).map((r) => r.path)
    // 77 and 80 are tied by name only and young: kept whatever; 5 and 89 are another repository's.
    for (const n of [5, 77, 80, 89]) expect(lookups.filter((p) => p.endsWith(`/pulls/${n}`))).toEqual([])
    expect(new Set(lookups.filter((p) => !p.endsWith('/88'))).size).toBe(
      lookups.filter((p) => !p.endsWith('/88')).length,
    )
  })
})

describe('cleanup safety and faults', () => {
  it('dry run lists every verdict and leaves the simulator exactly as it was', async () => {
    pr(2, 'closed')
    sim.addBranch(projectId, { name: 'preview/pr-2-x', annotations: annotated(2) })
    sim.addBranch(projectId, { name: 'preview/old', updatedAt: ago(10) })
    sim.addBranch(projectId, { name: 'preview/young', updatedAt: ago(1) })
    const before = sim.snapshot()
    const r = await sweep({ dry_run: 'true' }).result
    expect(sim.snapshot()).toEqual(before)
    expect(sim.log.filter((l) => l.method !== 'GET')).toEqual([])
    // Nothing was deleted, so deleted_branches says so; stale_branches says what would go.
    expect(r.deletedBranches).toEqual([])
    expect(r.staleBranches?.sort()).toEqual(['preview/old', 'preview/pr-2-x'])
    expect(r.verdicts?.map((v) => `${v.branch}: ${v.verdict}`).sort()).toEqual([
      'preview/old: would delete',
      'preview/pr-2-x: would delete',
      'preview/young: kept',
    ])
  })

  it('survives a 423/429/500 storm and still deletes exactly the stale branches', async () => {
    for (let i = 0; i < 12; i++) sim.addBranch(projectId, { name: `preview/old-${i}`, updatedAt: ago(10) })
    for (let i = 0; i < 4; i++) sim.addBranch(projectId, { name: `preview/new-${i}`, updatedAt: ago(1) })
    const locked = {
      code: '',
      message: LOCKED_MESSAGE,
    }
    sim.faults.add({
      method: 'DELETE',
      route: 'DELETE /projects/{project_id}/branches/{branch_id}',
      status: 423,
      probability: 0.3,
      times: Infinity,
      body: locked,
    })
    sim.faults.add({
      route: 'GET /projects/{project_id}/operations/{operation_id}',
      status: 429,
      probability: 0.2,
      times: Infinity,
      headers: { 'Retry-After': '0' },
      body: { code: '', message: 'rate limited' },
    })
    sim.faults.add({ route: 'GET /projects/{project_id}/branches', status: 500, times: 2 })
    const { h, result } = sweep()
    const r = await result
    expect(r.failures).toBeUndefined()
    expect(r.deletedBranches).toHaveLength(12)
    expect(liveNames()).toEqual(['main', 'preview/new-0', 'preview/new-1', 'preview/new-2', 'preview/new-3'])
    expect(h.neon.stats.retries).toBeGreaterThan(2)
  })

  it('one failing delete does not stop the sweep; it is reported, and its parent is not attempted', async () => {
    const parent = sim.addBranch(projectId, { name: 'preview/p-old', updatedAt: ago(10) })
    const child = sim.addBranch(projectId, { name: 'preview/c-old', parentId: parent.id, updatedAt: ago(10) })
    for (let i = 0; i < 3; i++) sim.addBranch(projectId, { name: `preview/other-${i}`, updatedAt: ago(10) })
    sim.faults.add({
      method: 'DELETE',
      route: new RegExp(`/branches/${child.id}$`),
      status: 500,
      body: { code: '', message: 'internal error', request_id: 'rid-c' },
    })
    const r = await sweep().result
    expect(r.failures).toHaveLength(2)
    expect(r.failures?.[0]).toMatch(
      /'preview\/c-old' .*HTTP 500 Internal Server Error: internal error \(request id rid-c\)/,
    )
    expect(r.failures?.[1]).toMatch(
      /'preview\/p-old' .*not attempted: one of its children could not be deleted/,
    )
    expect(
      r
        .verdicts!.filter((v) => v.verdict === 'failed')
        .map((v) => v.branch)
        .sort(),
    ).toEqual(['preview/c-old', 'preview/p-old'])
    expect(r.deletedBranches?.sort()).toEqual(['preview/other-0', 'preview/other-1', 'preview/other-2'])
    expect(liveNames()).toEqual(['main', 'preview/c-old', 'preview/p-old'])
  })

  it("a delete whose operation fails is reported with Neon's error; the rest are deleted", async () => {
    for (let i = 0; i < 4; i++) sim.addBranch(projectId, { name: `preview/old-${i}`, updatedAt: ago(10) })
    sim.failNextOperation({ action: 'delete_timeline' }, 'storage controller unavailable')
    const r = await sweep().result
    expect(r.failures).toHaveLength(1)
    expect(r.failures?.[0]).toMatch(
      /Neon operation delete_timeline \(.*\) ended 'failed': storage controller unavailable/,
    )
    expect(r.deletedBranches).toHaveLength(3)
  })

  it('with several deletes in flight the result is the same (the lock serialises them)', async () => {
    for (let i = 0; i < 8; i++) sim.addBranch(projectId, { name: `preview/old-${i}`, updatedAt: ago(10) })
    const r = await sweep({}, 3).result
    expect(r.deletedBranches).toHaveLength(8)
    expect(liveNames()).toEqual(['main'])
  })

  it('pages through a project larger than one page', async () => {
    for (let i = 0; i < 1100; i++) sim.addBranch(projectId, { name: `keep/${i}`, withEndpoint: false })
    sim.addBranch(projectId, { name: 'preview/stale', updatedAt: ago(10), withEndpoint: false })
    const r = await sweep().result
    expect(r.deletedBranches).toEqual(['preview/stale'])
    // 1,102 branches at Neon's 100 a page: 12 pages, the last one short; the sweep never asks for
    // deleted branches. Then one listing of the deleted one (by its name), for until when it can
    // be recovered.
    const lists = sim.log.filter((l) => l.route === 'GET /projects/{project_id}/branches')
    expect(lists.filter((l) => l.query['include_deleted'] === undefined).length).toBe(12)
    expect(lists.filter((l) => l.query['include_deleted'] !== undefined).map((l) => l.query)).toEqual([
      { search: 'preview/stale', limit: '100', include_deleted: 'true' },
    ])
    expect(r.recoverable).toEqual([
      { name: 'preview/stale', id: expect.stringMatching(/^br-/), recoverableUntil: expect.any(String) },
    ])
  })

  it('without a GitHub token, branches tied to pull requests are kept and untied stale ones still go', async () => {
    sim.addBranch(projectId, { name: 'preview/pr-9-x', annotations: annotated(9), updatedAt: ago(40) })
    sim.addBranch(projectId, { name: 'preview/old', updatedAt: ago(10) })
    const { h } = sweep()
    delete h.deps.pulls
    const r = await cleanupMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'cleanup' }))
    expect(r.deletedBranches).toEqual(['preview/old'])
    expect(h.logs.join('\n')).toMatch(/No GitHub token: 1 branches tied to pull requests were kept unchecked/)
  })
})

describe('cleanup_prefix without a trailing / (issue 22, finding 4)', () => {
  it('warns, naming the branches it also matches; with a / it says nothing', async () => {
    sim.addBranch(projectId, { name: 'preview/pr-1-x', updatedAt: ago(1) })
    sim.addBranch(projectId, { name: 'preview-prod', updatedAt: ago(1) })
    sim.addBranch(projectId, { name: 'previewer/tool', updatedAt: ago(1) })
    const loose = sweep({ cleanup_prefix: 'preview' })
    await loose.result
    const warning = loose.h.logs.find((l) => l.startsWith('warning: cleanup_prefix'))
    expect(warning).toBe(
      "warning: cleanup_prefix 'preview' does not end in '/': it matches every name that starts with it, " +
        "such as 'preview-anything' or 'previewx/…', not only 'preview/…'. In this project it also matches 2 " +
        "branch(es) outside 'preview/': 'preview-prod', 'previewer/tool'. End it with '/' unless that is meant.",
    )
    const strict = sweep({ cleanup_prefix: 'preview/' })
    await strict.result
    expect(strict.h.logs.filter((l) => l.includes('cleanup_prefix'))).toEqual([])
  })
})
