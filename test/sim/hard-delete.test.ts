// `hard_delete` in the simulator (routes/branches.ts, deleteBranch): Neon's API description,
// deleteProjectBranch: "If true, the branch is permanently deleted immediately without a recovery
// window. If false (default), the branch can be recovered within 7 days via the recover endpoint."
// Issue 29: the action deletes a branch holding unmasked data this way.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startNeonSimulator, type NeonSimulator, type SimProject } from './index.js'
import { api, manualClock } from './helpers.js'

const clock = manualClock()
let sim: NeonSimulator
let project: SimProject
const P = (): string => `/projects/${project.id}`

beforeAll(async () => {
  sim = await startNeonSimulator({ clock })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(() => {
  sim.reset()
  clock.set(Date.parse('2025-09-10T12:00:00Z'))
  project = sim.createProject()
})

const recoverable = async (): Promise<string[]> =>
  (
    (await api(sim, 'GET', `${P()}/branches?include_deleted=true`)).body.branches as {
      id: string
      recovery?: unknown
    }[]
  )
    .filter((b) => b.recovery)
    .map((b) => b.id)

describe('DELETE …/branches/{id}?hard_delete=true', () => {
  it('deletes for good: the branch is neither listed as recoverable nor recoverable', async () => {
    const soft = sim.addBranch(project.id, { name: 'soft' })
    const hard = sim.addBranch(project.id, { name: 'hard' })
    expect((await api(sim, 'DELETE', `${P()}/branches/${soft.id}`)).status).toBe(200)
    // One operation at a time per project (the lock): the next delete after the first is done.
    clock.advance(60_000)
    expect((await api(sim, 'DELETE', `${P()}/branches/${hard.id}?hard_delete=true`)).status).toBe(200)
    clock.advance(60_000)
    expect(await recoverable()).toEqual([soft.id])
    expect((await api(sim, 'POST', `${P()}/branches/${hard.id}/recover`)).status).toBe(404)
    expect((await api(sim, 'POST', `${P()}/branches/${soft.id}/recover`)).status).toBe(200)
  })

  it('hard_delete=false is the default: recoverable for 7 days', async () => {
    const b = sim.addBranch(project.id, { name: 'b' })
    expect((await api(sim, 'DELETE', `${P()}/branches/${b.id}?hard_delete=false`)).status).toBe(200)
    clock.advance(60_000)
    expect(await recoverable()).toEqual([b.id])
  })
})
