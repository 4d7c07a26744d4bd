// The usage figures of a preview's life, in-process on the virtual clock against the simulator
// (test/sim/usage.ts): they grow while its compute is active, delete reports them as read just
// before the delete, recover and reset report them too, and none costs a request of its own.
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import { createMode } from '../../src/modes/create.js'
import { deleteMode } from '../../src/modes/delete.js'
import { recoverMode } from '../../src/modes/recover.js'
import { resetMode } from '../../src/modes/reset.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor, prContext } from '../helpers/mode-harness.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const HOUR = 3_600_000
let sim: NeonSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function start(): Promise<{ s: NeonSimulator; projectId: string; clock: FakeClock }> {
  const clock = new FakeClock()
  sim = await startNeonSimulator({
    clock,
    schedulingMs: 0,
    operationMs: { create_branch: 40, start_compute: 60, delete_timeline: 30, restore_branch: 30 },
  })
  return { s: sim, projectId: sim.createProject({ id: 'usage-modes-12345678' }).id, clock }
}

const NAME = 'preview/pr-12-feature/login'

describe('usage through a preview’s life', () => {
  it('grows with the active compute; delete reports it as read before the delete; no extra request', async () => {
    const { s, projectId, clock } = await start()
    const inputs = inputsFor(projectId, s.apiKey, { compute_units: '1' })
    const made = await createMode(
      harness(s, prContext(12, 'feature/login', { action: 'opened' })).deps,
      inputs,
    )
    expect(made.created).toBe(true)
    expect(made.usage).toEqual({
      written_data_bytes: 0,
      data_transfer_bytes: 0,
      compute_time_seconds: 0,
      active_time_seconds: 0,
    })

    clock.advance(2 * HOUR)
    const push = harness(s, prContext(12, 'feature/login', { action: 'synchronize' })).deps
    const adopted = await createMode(push, inputs)
    expect(adopted.created).toBe(false)
    const parent = s.world.liveBranches(projectId).find((b) => b.default)!
    // A compute of 1 CU active for about two hours (since its start_compute ended).
    expect(adopted.usage?.logical_size_bytes).toBe(parent.logicalSize)
    expect(adopted.usage?.active_time_seconds).toBeGreaterThanOrEqual(2 * 3600 - 1)
    expect(adopted.usage?.active_time_seconds).toBeLessThanOrEqual(2 * 3600)
    expect(adopted.usage?.compute_time_seconds).toBe(adopted.usage?.active_time_seconds)

    clock.advance(HOUR)
    const from = s.log.length
    const closed = harness(s, prContext(12, 'feature/login', { action: 'closed' })).deps
    const gone = await deleteMode(closed, inputsFor(projectId, s.apiKey))
    expect(gone.deleted).toBe(true)
    const grown = Number(adopted.usage?.active_time_seconds) + 3600
    expect(gone.usage?.active_time_seconds).toBeGreaterThanOrEqual(grown - 1)
    expect(gone.usage?.active_time_seconds).toBeLessThanOrEqual(grown + 1)
    // The figures came with the listing that found the branch: no GET of the branch of its own.
    const routes = s.log.slice(from).map((l) => `${l.method} ${l.route}`)
    expect(routes).not.toContain('GET /projects/{project_id}/branches/{branch_id}')

    // Recovered: the figures of the recovered branch, which kept its time (its compute was idle since).
    clock.advance(HOUR)
    const back = await recoverMode(closed, inputsFor(projectId, s.apiKey, { branch_name: NAME }))
    expect(back.recovered).toBe(true)
    expect(back.usage?.active_time_seconds).toBe(gone.usage?.active_time_seconds)
  })

  it('reset reports the figures of the restored branch', async () => {
    const { s, projectId } = await start()
    const b = s.addBranch(projectId, { name: NAME })
    s.setUsage(projectId, b.id, { writtenDataBytes: 4096, dataTransferBytes: 10 })
    const r = await resetMode(
      harness(s, prContext(12, 'feature/login', { action: 'labeled' })).deps,
      inputsFor(projectId, s.apiKey),
    )
    expect(r.usage).toMatchObject({ written_data_bytes: 4096, data_transfer_bytes: 10 })
    expect(r.usage?.logical_size_bytes).toBe(
      s.world.liveBranches(projectId).find((x) => x.default)!.logicalSize,
    )
  })

  it('cleanup: freed counts what this sweep deleted, not what was found already gone', async () => {
    const { s, projectId, clock } = await start()
    const old = new Date(clock.now() - 30 * 24 * HOUR).toISOString()
    for (const [name, size] of [
      ['preview/a', 100],
      ['preview/b', 200],
    ] as const) {
      const b = s.addBranch(projectId, { name, withEndpoint: false, createdAt: old, updatedAt: old })
      s.setUsage(projectId, b.id, { logicalSize: size, writtenDataBytes: 1 })
    }
    const gone = s.world.branchByName(projectId, 'preview/b')!
    // Deleted by someone else between the sweep's listing and its delete: Neon answers 404.
    s.faults.add({
      route: 'DELETE /projects/{project_id}/branches/{branch_id}',
      before: () => s.world.softDelete(gone, s.world.now(), 'user'),
      times: 1,
    })
    const r = await cleanupMode(
      harness(s, { eventName: 'schedule', repository: 'octo-org/octo-repo', serverUrl: '', apiUrl: '' }).deps,
      inputsFor(projectId, s.apiKey, { mode: 'cleanup', cleanup_max_age: '7d' }),
    )
    expect(r.deletedBranches?.sort()).toEqual(['preview/a', 'preview/b'])
    expect(r.freed?.total).toEqual({
      branches: 1,
      logical_size_bytes: 100,
      written_data_bytes: 1,
      data_transfer_bytes: 0,
      compute_time_seconds: 0,
      active_time_seconds: 0,
    })
    expect(r.freed?.largest.map((x) => x.name)).toEqual(['preview/a'])
  })
})
