// Every delete says how to undo it (src/modes/undo.ts): delete, cleanup and the ephemeral post step
// report until when each deleted branch can be recovered; and cleanup never counts a deleted branch.
// In-process on the virtual clock; through dist/index.js in test/e2e/recover.e2e.test.ts.
import { Octokit } from '@octokit/rest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { restPullLookup } from '../../src/github/pulls.js'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import { deleteMode } from '../../src/modes/delete.js'
import { ephemeralPost } from '../../src/modes/ephemeral-post.js'
import { recoverableUntilOutput, undoLine } from '../../src/modes/undo.js'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor, REPO } from '../helpers/mode-harness.js'
import { api } from '../sim/helpers.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')
const LIST = 'GET /projects/{project_id}/branches'

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
    operationMs: { delete_timeline: 3, suspend_compute: 2 },
    schedulingMs: 1,
    clock: new FakeClock(NOW),
  })
  projectId = sim.createProject({ id: 'undo-proj-12345678' }).id
  gh.pulls.clear()
})
afterEach(async () => {
  await sim.close()
})

const dispatch = () => ({
  ...harness(sim).deps.context,
  eventName: 'workflow_dispatch',
  pullRequest: undefined,
})

describe('delete says until when the branch can be recovered', () => {
  it("from the listing's recovery.recoverable_until: 7 days after the delete", async () => {
    const b = sim.addBranch(projectId, { name: 'preview/pr-4-x' })
    const h = harness(sim, dispatch())
    const r = await deleteMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, { mode: 'delete', branch_name: b.name }),
    )
    const deletedAt = sim.world.branches.get(b.id)!.deletedAt!
    expect(r.recoverable).toEqual([{ name: b.name, id: b.id, recoverableUntil: iso(deletedAt + 7 * DAY) }])
    expect(h.logs).toContain(
      `info: Branch 'preview/pr-4-x' (${b.id}) can be recovered until ${iso(deletedAt + 7 * DAY)}: run the ` +
        `action with mode: recover and branch_name: ${b.id} (a pull request's branch also comes back when ` +
        `the pull request is reopened).`,
    )
    // The listing after the delete: by the name, with include_deleted.
    expect(sim.log.filter((l) => l.route === LIST).map((l) => l.query)).toEqual([
      { limit: '100' },
      { search: b.name, limit: '100', include_deleted: 'true' },
    ])
    expect(recoverableUntilOutput(r.recoverable!)).toBe(
      JSON.stringify({ [b.name]: iso(deletedAt + 7 * DAY) }),
    )
  })

  it('where Neon does not list it (no recovery offered, or the listing failed): "up to 7 days, where Neon offers recovery"', async () => {
    sim.setBranchRecovery(projectId, false)
    const a = sim.addBranch(projectId, { name: 'a' })
    const h = harness(sim, dispatch())
    const r = await deleteMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'delete', branch_name: 'a' }))
    expect(r.recoverable).toEqual([{ name: 'a', id: a.id }])
    expect(h.logs.join('\n')).toContain(`can be recovered for up to 7 days, where Neon offers recovery`)
    expect(recoverableUntilOutput(r.recoverable!)).toBe('{"a":null}')
  })

  it('a listing that fails after the delete costs only the date: the delete succeeded, a debug line says why', async () => {
    const c = sim.addBranch(projectId, { name: 'c' })
    const h = harness(sim, dispatch())
    // The delete's own listing goes through; every listing after it answers 500.
    sim.faults.add({
      route: LIST,
      before: () => sim.faults.add({ route: LIST, status: 500, times: Infinity }),
    })
    const r = await deleteMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'delete', branch_name: 'c' }))
    expect(r.deleted).toBe(true)
    expect(r.recoverable).toEqual([{ name: 'c', id: c.id }])
    expect(h.logs.join('\n')).toMatch(/debug: Could not list the deleted branches .*HTTP 500/)
    expect(h.logs.join('\n')).toContain('can be recovered for up to 7 days, where Neon offers recovery')
  })

  it('a hostile name is one log line: control characters escaped as in every log line', () => {
    expect(undoLine({ name: 'x\n::warning::pwned', id: 'br-a-1' })).toMatch(
      /^Branch 'x\\u000a::warning::pwned' \(br-a-1\)/,
    )
    expect(undoLine({ name: 'x\u2028y', id: 'br-a-1' })).toContain("'x\\u2028y'")
    expect(undoLine({ name: 'x\n', id: 'br-a-1' }).includes('\n')).toBe(false)
  })
})

describe('cleanup', () => {
  const sweep = () => {
    const h = harness(sim, { ...dispatch(), eventName: 'schedule' })
    const octokit = new Octokit({
      baseUrl: gh.url,
      auth: 'ghs_test',
      log: { debug() {}, info() {}, warn() {}, error() {} },
    })
    h.deps.pulls = restPullLookup(octokit, REPO)
    return { h, run: cleanupMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'cleanup' })) }
  }
  const ago = (days: number) => iso(NOW - days * DAY)

  it('reports each deleted branch with until when it can be recovered, and the output maps name → time', async () => {
    gh.addPull(REPO, { number: 2, state: 'closed' })
    const a = sim.addBranch(projectId, { name: 'preview/old', updatedAt: ago(10) })
    const b = sim.addBranch(projectId, {
      name: 'preview/pr-2-x',
      annotations: { 'github-repo': REPO, 'github-pr-number': '2' },
    })
    const { h, run } = sweep()
    const r = await run
    const until = (id: string) => iso(sim.world.branches.get(id)!.deletedAt! + 7 * DAY)
    expect([...r.recoverable!].sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: 'preview/old', id: a.id, recoverableUntil: until(a.id) },
      { name: 'preview/pr-2-x', id: b.id, recoverableUntil: until(b.id) },
    ])
    expect(JSON.parse(recoverableUntilOutput(r.recoverable!))).toEqual({
      'preview/old': until(a.id),
      'preview/pr-2-x': until(b.id),
    })
    expect(h.logs.filter((l) => l.includes('can be recovered until'))).toHaveLength(2)
    // One listing after the sweep, narrowed by the prefix the deleted names share.
    expect(sim.log.filter((l) => l.query['include_deleted']).map((l) => l.query['search'])).toEqual([
      'preview/',
    ])
  })

  it('never counts a soft-deleted branch: not judged, not deleted twice, not reported; include_deleted never sent by the sweep', async () => {
    gh.addPull(REPO, { number: 3, state: 'closed' })
    const gone = [
      sim.addBranch(projectId, { name: 'preview/old-deleted', updatedAt: ago(30) }),
      sim.addBranch(projectId, {
        name: 'preview/pr-3-deleted',
        annotations: { 'github-repo': REPO, 'github-pr-number': '3' },
      }),
    ]
    for (const b of gone) sim.world.softDelete(b, NOW - DAY, 'user')
    const kept = sim.addBranch(projectId, { name: 'preview/fresh', updatedAt: ago(1) })
    const { run } = sweep()
    const r = await run
    expect(r.verdicts!.map((v) => v.branch)).toEqual([kept.name])
    expect(r.deletedBranches).toEqual([])
    expect(r.staleBranches).toEqual([])
    expect(r.recoverable).toEqual([])
    expect(sim.log.filter((l) => l.method === 'DELETE')).toEqual([])
    expect(
      sim.log.filter((l) => l.route === LIST).every((l) => l.query['include_deleted'] === undefined),
    ).toBe(true)
  })

  it('drops deleted entries even from a listing that carries them unasked', async () => {
    const deleted = sim.addBranch(projectId, { name: 'preview/old-deleted', updatedAt: ago(30) })
    sim.world.softDelete(deleted, NOW - DAY, 'user')
    // A server that ignored the parameter's absence: the sweep's listing answered as if it was sent.
    const withDeleted = await api(
      sim,
      'GET',
      `/projects/${projectId}/branches?include_deleted=true&limit=100`,
    )
    expect(withDeleted.body.branches.some((b: { recovery?: unknown }) => b.recovery)).toBe(true)
    sim.log.length = 0
    sim.faults.add({ route: LIST, status: 200, body: withDeleted.body, times: 1 })
    const { run } = sweep()
    const r = await run
    expect(r.verdicts).toEqual([])
    expect(sim.log.filter((l) => l.method === 'DELETE')).toEqual([])
  })
})

describe('the ephemeral post step', () => {
  it('says until when the branch it deleted can be recovered', async () => {
    // The post step deletes only a branch carrying the job's key (issue 22).
    const key = '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b'
    const b = sim.addBranch(projectId, {
      name: 'ci/run-1-1-test',
      annotations: { 'github-ephemeral': 'true', 'github-ephemeral-key': key },
    })
    const h = harness(sim, dispatch())
    const r = await ephemeralPost(h.deps, {
      projectId,
      apiHost: sim.apiUrl,
      name: b.name,
      key,
      timeoutMs: 60_000,
      branchId: b.id,
      operationIds: [],
    })
    expect(r.deleted).toBe(true)
    expect(r.recoverable).toEqual({
      name: b.name,
      id: b.id,
      recoverableUntil: iso(sim.world.branches.get(b.id)!.deletedAt! + 7 * DAY),
    })
    expect(h.logs.join('\n')).toContain(`Branch 'ci/run-1-1-test' (${b.id}) can be recovered until`)
  })
})
