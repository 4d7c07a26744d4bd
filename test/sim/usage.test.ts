// The usage figures the simulator reports on a Branch (usage.ts), on its injected clock, and that
// every answer carrying them still matches Neon's API description.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startNeonSimulator, type NeonSimulator } from './index.js'
import { api, manualClock, type ApiResult } from './helpers.js'
import { ajvErrors, responseValidator } from './openapi.js'

const HOUR = 3_600_000
const clock = manualClock()
let sim: NeonSimulator
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    clock,
    schedulingMs: 0,
    operationMs: { create_branch: 1000, start_compute: 2000 },
  })
  projectId = sim.createProject({ id: 'usage-model-1234' }).id
})
afterAll(async () => {
  await sim.close()
})

async function valid(
  method: string,
  path: string,
  template: string,
  status: number,
  body?: unknown,
): Promise<ApiResult['body']> {
  const res = await api(sim, method, `/projects/${projectId}${path}`, body)
  expect(res.status).toBe(status)
  const v = responseValidator(method, `/projects/{project_id}${template}`, status)
  expect(v, `${method} ${template} has a schema`).toBeTruthy()
  if (!v!(res.body)) throw new Error(ajvErrors(v!, 'response'))
  return res.body
}

const getBranch = async (id: string) =>
  (await valid('GET', `/branches/${id}`, '/branches/{branch_id}', 200)).branch as Record<string, unknown>

const figures = (b: Record<string, unknown>) => ({
  logical_size: b.logical_size,
  compute_time_seconds: b.compute_time_seconds,
  cpu_used_sec: b.cpu_used_sec,
  active_time_seconds: b.active_time_seconds,
  written_data_bytes: b.written_data_bytes,
  data_transfer_bytes: b.data_transfer_bytes,
})

describe('usage figures on the simulated branch', () => {
  let branchId: string
  let endpointId: string
  let parentSize: number

  it('a new branch: zeros, and no logical_size while it is init (Neon’s create example)', async () => {
    const root = sim.world.liveBranches(projectId)[0]!
    parentSize = root.logicalSize
    const made = await valid('POST', '/branches', '/branches', 201, {
      branch: { name: 'preview/usage' },
      endpoints: [{ type: 'read_write', autoscaling_limit_min_cu: 0.5, autoscaling_limit_max_cu: 2 }],
    })
    branchId = made.branch.id
    endpointId = made.endpoints[0].id
    expect(made.branch.current_state).toBe('init')
    expect('logical_size' in made.branch).toBe(false)
    expect(figures(made.branch)).toEqual({
      logical_size: undefined,
      compute_time_seconds: 0,
      cpu_used_sec: 0,
      active_time_seconds: 0,
      written_data_bytes: 0,
      data_transfer_bytes: 0,
    })
  })

  it('ready: a child’s logical size starts at its parent’s', async () => {
    clock.advance(1000)
    const b = await getBranch(branchId)
    expect(b.current_state).toBe('ready')
    expect(b.logical_size).toBe(parentSize)
  })

  it('compute seconds grow while the compute is active: minimum CU × active seconds', async () => {
    // start_compute ends 1 s (create_branch) + 2 s after the create: active from there.
    clock.set(clock.now() + 2000)
    expect(figures(await getBranch(branchId)).active_time_seconds).toBe(0)
    clock.advance(HOUR)
    const b = await getBranch(branchId)
    expect(b.active_time_seconds).toBe(3600)
    expect(b.compute_time_seconds).toBe(1800)
    expect(b.cpu_used_sec).toBe(1800)
  })

  it('a suspended compute adds nothing; started again, it adds again', async () => {
    await valid('POST', `/endpoints/${endpointId}/suspend`, '/endpoints/{endpoint_id}/suspend', 200)
    clock.advance(60_000) // the suspend's operation is done
    const at = await getBranch(branchId)
    clock.advance(5 * HOUR)
    expect(await getBranch(branchId)).toMatchObject({
      active_time_seconds: at.active_time_seconds,
      compute_time_seconds: at.compute_time_seconds,
    })
    await valid('POST', `/endpoints/${endpointId}/start`, '/endpoints/{endpoint_id}/start', 200)
    clock.advance(60_000)
    const started = await getBranch(branchId)
    clock.advance(HOUR)
    const later = await getBranch(branchId)
    expect(Number(later.active_time_seconds) - Number(started.active_time_seconds)).toBe(3600)
    expect(Number(later.compute_time_seconds) - Number(started.compute_time_seconds)).toBe(1800)
  })

  it('a deleted compute’s time still counts ("including deleted ones"), and grows no more', async () => {
    const before = await getBranch(branchId)
    await valid('DELETE', `/endpoints/${endpointId}`, '/endpoints/{endpoint_id}', 200)
    clock.advance(HOUR)
    const after = await getBranch(branchId)
    expect(after.active_time_seconds).toBe(before.active_time_seconds)
    expect(after.compute_time_seconds).toBe(before.compute_time_seconds)
    expect(Number(after.active_time_seconds)).toBeGreaterThan(0)
  })

  it('figures a test sets: bytes as given, time added, logical_size replaced or omitted', async () => {
    const before = await getBranch(branchId)
    sim.setUsage(projectId, branchId, {
      logicalSize: 1.5 * 2 ** 30,
      writtenDataBytes: 123,
      dataTransferBytes: 456,
      computeTimeSeconds: 10,
      activeTimeSeconds: 20,
    })
    const b = await getBranch(branchId)
    expect(figures(b)).toEqual({
      logical_size: 1.5 * 2 ** 30,
      compute_time_seconds: Number(before.compute_time_seconds) + 10,
      cpu_used_sec: Number(before.compute_time_seconds) + 10,
      active_time_seconds: Number(before.active_time_seconds) + 20,
      written_data_bytes: 123,
      data_transfer_bytes: 456,
    })
    sim.setUsage(projectId, branchId, { logicalSize: null })
    const listed = await valid('GET', '/branches', '/branches', 200)
    const mine = listed.branches.find((x: { id: string }) => x.id === branchId)
    expect('logical_size' in mine).toBe(false)
  })

  it('a branch made from it starts at its size; the answers of delete carry the figures too', async () => {
    sim.setUsage(projectId, branchId, { logicalSize: 7 * 2 ** 20 })
    const child = sim.addBranch(projectId, {
      name: 'preview/usage-child',
      parentId: branchId,
      withEndpoint: false,
    })
    // A seeded branch has no create operation: ready at once.
    expect((await getBranch(child.id)).logical_size).toBe(sim.world.branches.get(branchId)!.logicalSize)
    const gone = await valid('DELETE', `/branches/${child.id}`, '/branches/{branch_id}', 200)
    expect(gone.branch.compute_time_seconds).toBe(0)
  })

  it('a seeded compute dated back has been active since then', async () => {
    const t = new Date(clock.now() - 2 * HOUR).toISOString()
    const b = sim.addBranch(projectId, { name: 'preview/old', createdAt: t, updatedAt: t })
    const got = await getBranch(b.id)
    expect(got.active_time_seconds).toBe(7200)
    // The project's default minimum, 0.25 CU.
    expect(got.compute_time_seconds).toBe(1800)
  })
})
