import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startNeonSimulator, type NeonSimulator, type SimProject } from './index.js'
import { NO_BACKEND, type Backend } from './backend.js'
import { api, manualClock } from './helpers.js'
import { parseLsn } from './state.js'

// The simulator's point in time (BEHAVIOUR.md "Point in time", "Limits of a project") and compute
// sizes ("Compute sizes"), on a manual clock.

const clock = manualClock()
const START = Date.parse('2025-09-10T12:00:00Z')
const HOUR = 3600_000
let sim: NeonSimulator
let project: SimProject
/** What the fake backend refuses, when set. */
let refusal: string | undefined
const backend: Backend = { ...NO_BACKEND, refusePoint: () => refusal }
const P = (): string => `/projects/${project.id}`
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z')

beforeAll(async () => {
  sim = await startNeonSimulator({ clock, backend })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(() => {
  sim.reset()
  refusal = undefined
  clock.set(START)
  project = sim.createProject({ createdAt: iso(START - 2 * 24 * HOUR) })
  clock.advance(60_000)
})

const create = (branch: Record<string, unknown>, endpoints?: unknown[]) =>
  api(sim, 'POST', `${P()}/branches`, { branch, ...(endpoints ? { endpoints } : {}) })

describe('points in time', () => {
  it('hands out growing LSNs', async () => {
    const lsns: bigint[] = []
    for (let i = 0; i < 5; i++) {
      const r = await create({ name: `b${i}` })
      expect(r.status).toBe(201)
      lsns.push(parseLsn(r.body.branch.parent_lsn as string)!)
      clock.advance(60_000)
    }
    expect([...lsns].sort((a, b) => (a < b ? -1 : 1))).toEqual(lsns)
    expect(new Set(lsns).size).toBe(5)
  })

  it('records parent_timestamp and the LSN the parent had then', async () => {
    const at = iso(START - HOUR)
    const r = await create({ name: 'past', parent_id: project.defaultBranchId, parent_timestamp: at })
    expect(r.status).toBe(201)
    expect(r.body.branch.parent_timestamp).toBe(at)
    expect(r.body.branch.parent_lsn).toBe(sim.world.lsnAt(project.defaultBranchId, START - HOUR))
  })

  it('records parent_lsn and when the parent reached it', async () => {
    const head = (await create({ name: 'head' })).body.branch
    clock.advance(HOUR)
    const r = await create({ name: 'at-lsn', parent_lsn: head.parent_lsn })
    expect(r.status).toBe(201)
    expect(r.body.branch.parent_lsn).toBe(head.parent_lsn)
    expect(r.body.branch.parent_timestamp).toBe(head.parent_timestamp)
  })

  it('refuses a timestamp outside history_retention_seconds, in the future, or with an LSN too', async () => {
    const old = await create({ name: 'x', parent_timestamp: iso(START - 25 * HOUR) })
    expect(old.status).toBe(400)
    expect(old.body).toEqual({
      code: '',
      message: expect.stringContaining(
        "outside of the project's history retention window (history_retention_seconds: 86400)",
      ),
      request_id: expect.any(String),
    })
    const future = await create({ name: 'x', parent_timestamp: iso(START + HOUR) })
    expect(future.status).toBe(400)
    expect(future.body.message).toContain('must not be in the future')
    const both = await create({ name: 'x', parent_timestamp: iso(START - HOUR), parent_lsn: '0/1' })
    expect(both.status).toBe(400)
    const unknown = await create({ name: 'x', parent_lsn: 'FFFFFFFF/0' })
    expect(unknown.status).toBe(400)
    expect(unknown.body.message).toContain('is not in the history of branch')
    expect(sim.world.liveBranches(project.id)).toHaveLength(1)
  })

  it('refuses an LSN that has left the retention window', async () => {
    const head = (await create({ name: 'head' })).body.branch
    clock.advance(25 * HOUR)
    const r = await create({ name: 'late', parent_lsn: head.parent_lsn })
    expect(r.status).toBe(400)
    expect(r.body.message).toContain('history retention window')
  })

  it('restores to a point: source_timestamp checked the same way, recorded on the branch', async () => {
    const b = (await create({ name: 'child' })).body.branch
    clock.advance(60_000)
    const out = await api(sim, 'POST', `${P()}/branches/${b.id}/restore`, {
      source_branch_id: project.defaultBranchId,
      source_timestamp: iso(START - 30 * HOUR),
    })
    expect(out.status).toBe(400)
    const at = iso(START - HOUR)
    const ok = await api(sim, 'POST', `${P()}/branches/${b.id}/restore`, {
      source_branch_id: project.defaultBranchId,
      source_timestamp: at,
    })
    expect(ok.status).toBe(200)
    expect(ok.body.branch.parent_timestamp).toBe(at)
  })

  it('restores a branch from its own past only with preserve_under_name, and not before it existed', async () => {
    const b = (await create({ name: 'self' })).body.branch
    clock.advance(HOUR)
    const body = { source_branch_id: b.id, source_timestamp: iso(START + 30 * 60_000) }
    const bare = await api(sim, 'POST', `${P()}/branches/${b.id}/restore`, body)
    expect(bare.status).toBe(400)
    expect(bare.body.message).toContain('preserve_under_name is required')
    const early = await api(sim, 'POST', `${P()}/branches/${b.id}/restore`, {
      ...body,
      source_timestamp: iso(START - HOUR),
      preserve_under_name: 'self-old',
    })
    expect(early.status).toBe(400)
    expect(early.body.message).toContain('before the branch')
    const ok = await api(sim, 'POST', `${P()}/branches/${b.id}/restore`, {
      ...body,
      preserve_under_name: 'self-old',
    })
    expect(ok.status).toBe(200)
  })

  it('answers 501 when the backend cannot give the data as of the point', async () => {
    refusal = 'the backend keeps no history'
    const r = await create({ name: 'x', parent_timestamp: iso(START - HOUR) })
    expect(r.status).toBe(501)
    expect(r.body.message).toBe('the backend keeps no history')
    // The head needs no history.
    expect((await create({ name: 'y' })).status).toBe(201)
  })
})

describe('compute sizes', () => {
  const rw = (min?: number, max?: number) => [
    {
      type: 'read_write',
      ...(min !== undefined ? { autoscaling_limit_min_cu: min } : {}),
      ...(max !== undefined ? { autoscaling_limit_max_cu: max } : {}),
    },
  ]
  it.each([
    [0.25, 2, 201],
    [1, 1, 201],
    [56, 56, 201],
    [0.75, 1, 400],
    [1, 10, 400],
    [8, 20, 400],
    [57, 57, 400],
    [2, 1, 400],
    [0.1, 1, 400],
  ])('min %s max %s → %s', async (min, max, status) => {
    const r = await create({ name: `cu-${min}-${max}` }, rw(min, max))
    expect(r.status).toBe(status)
    if (status === 201) {
      expect(r.body.endpoints[0]).toMatchObject({
        autoscaling_limit_min_cu: min,
        autoscaling_limit_max_cu: max,
      })
    }
  })

  it("applies PATCHed limits, and a plan's limit refuses larger ones", async () => {
    const free = sim.createProject({ planMaxCu: 2 })
    const ep = sim.world.readWriteEndpoint(free.defaultBranchId)!
    const patch = (min: number, max: number) =>
      api(sim, 'PATCH', `/projects/${free.id}/endpoints/${ep.id}`, {
        endpoint: { autoscaling_limit_min_cu: min, autoscaling_limit_max_cu: max },
      })
    const ok = await patch(1, 2)
    expect(ok.status).toBe(200)
    expect(ok.body.endpoint).toMatchObject({ autoscaling_limit_min_cu: 1, autoscaling_limit_max_cu: 2 })
    expect(ok.body.operations.map((o: { action: string }) => o.action)).toEqual(['apply_config'])
    clock.advance(60_000)
    const big = await patch(4, 4)
    expect(big.status).toBe(400)
    expect(big.body.message).toContain('your plan allows computes of at most 2')
    expect(sim.world.readWriteEndpoint(free.defaultBranchId)?.maxCu).toBe(2)
  })
})
