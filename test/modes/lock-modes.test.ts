import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import { createMode } from '../../src/modes/create.js'
import { deleteMode } from '../../src/modes/delete.js'
import { ephemeralPost } from '../../src/modes/ephemeral-post.js'
import { resetMode } from '../../src/modes/reset.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor } from '../helpers/mode-harness.js'
import { LOCKED_MESSAGE, startNeonSimulator, type NeonSimulator } from '../sim/index.js'

// Every mode takes a 423 storm as a wait for the project lock (issue 21): twelve refusals in a row,
// more than the eight tries any other failure gets, and each mode still does its work.

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const DAY = 86_400_000
let sim: NeonSimulator
let project: string

beforeEach(async () => {
  sim = await startNeonSimulator({
    clock: new FakeClock(NOW),
    operationMs: { create_branch: 30, start_compute: 40, create_timeline: 30, delete_timeline: 30 },
  })
  project = sim.createProject({ id: 'lock-modes-1' }).id
})
afterEach(async () => {
  await sim.close()
})

const storm = (route: string) =>
  sim.faults.add({ route, status: 423, times: 12, body: { code: '', message: LOCKED_MESSAGE } })
const refused = (route: string) => sim.log.filter((l) => l.route === route && l.status === 423).length

describe('a 423 storm in every mode', () => {
  it('create (opened and synchronize)', async () => {
    storm('POST /projects/{project_id}/branches')
    const opened = await createMode(harness(sim).deps, inputsFor(project, sim.apiKey))
    expect(opened.created).toBe(true)
    expect(refused('POST /projects/{project_id}/branches')).toBe(12)
    const h = harness(sim, { ...harness(sim).deps.context, action: 'synchronize' })
    const pushed = await createMode(h.deps, inputsFor(project, sim.apiKey))
    expect(pushed.created).toBe(false)
    expect(pushed.branch?.id).toBe(opened.branch?.id)
  })

  it('reset', async () => {
    await createMode(harness(sim).deps, inputsFor(project, sim.apiKey))
    await sim.clock.sleep(60_000)
    const route = 'POST /projects/{project_id}/branches/{branch_id}/restore'
    storm(route)
    const r = await resetMode(harness(sim).deps, inputsFor(project, sim.apiKey, { mode: 'reset' }))
    expect(r.changes[0]).toMatch(/^reset /)
    expect(refused(route)).toBe(12)
  })

  it('delete', async () => {
    await createMode(harness(sim).deps, inputsFor(project, sim.apiKey))
    const route = 'DELETE /projects/{project_id}/branches/{branch_id}'
    storm(route)
    const r = await deleteMode(harness(sim).deps, inputsFor(project, sim.apiKey, { mode: 'delete' }))
    expect(r.deleted).toBe(true)
    expect(refused(route)).toBe(12)
  })

  it('cleanup', async () => {
    for (const name of ['preview/old-a', 'preview/old-b']) {
      sim.addBranch(project, { name, updatedAt: new Date(NOW - 30 * DAY).toISOString(), withEndpoint: false })
    }
    const route = 'DELETE /projects/{project_id}/branches/{branch_id}'
    storm(route)
    const h = harness(sim, { ...harness(sim).deps.context, eventName: 'schedule', pullRequest: undefined })
    const r = await cleanupMode(h.deps, inputsFor(project, sim.apiKey, { mode: 'cleanup' }))
    expect(r.failures).toBeUndefined()
    expect(r.deletedBranches?.sort()).toEqual(['preview/old-a', 'preview/old-b'])
    expect(refused(route)).toBe(12)
  })

  it('the ephemeral post step', async () => {
    // Annotated with the job's key, as main's create writes it: the post step deletes nothing else.
    const b = sim.addBranch(project, {
      name: 'ci/run-1-1-test',
      withEndpoint: false,
      annotations: { 'github-ephemeral-key': 'k' },
    })
    const route = 'DELETE /projects/{project_id}/branches/{branch_id}'
    storm(route)
    const { deps } = harness(sim)
    const r = await ephemeralPost(deps, {
      projectId: project,
      apiHost: sim.apiUrl,
      name: b.name,
      key: 'k',
      timeoutMs: 300_000,
      branchId: b.id,
      operationIds: [],
    })
    expect(r.deleted).toBe(true)
    expect(refused(route)).toBe(12)
  })
})
