import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { LOCKED_MESSAGE, startNeonSimulator, type NeonSimulator, type SimProject } from './index.js'
import { api, manualClock } from './helpers.js'

// The project lock under concurrent requests (BEHAVIOUR.md, "Locks, limits and errors": 423
// "while earlier operations on the project are still running", with Neon's message): of requests
// arriving together, one gets the project and the others are refused; the operations of accepted
// requests queue on the project, one after another, never two at once.

const clock = manualClock()
let sim: NeonSimulator
let project: SimProject
const P = (): string => `/projects/${project.id}`

beforeAll(async () => {
  sim = await startNeonSimulator({
    clock,
    operationMs: { create_branch: 800, start_compute: 1500, delete_timeline: 400, suspend_compute: 50 },
    operationJitter: 0.1,
  })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(() => {
  sim.reset()
  clock.set(Date.parse('2025-09-10T12:00:00Z'))
  project = sim.createProject()
})

const create = (name: string) =>
  api(sim, 'POST', `${P()}/branches`, { branch: { name }, endpoints: [{ type: 'read_write' }] })

/** No two operations of the project are in progress at the same time. */
function expectSerialised(): void {
  const ops = [...sim.world.operations.values()]
    .filter((o) => o.projectId === project.id)
    .sort((a, b) => a.runAt - b.runAt)
  for (let i = 1; i < ops.length; i++) expect(ops[i]!.runAt).toBeGreaterThanOrEqual(ops[i - 1]!.endAt)
}

describe('the project lock under concurrent requests', () => {
  it('of five creates arriving together, one gets the project and four get 423 with Neon’s message', async () => {
    const answers = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(create))
    expect(answers.map((r) => r.status).sort()).toEqual([201, 423, 423, 423, 423])
    for (const r of answers.filter((x) => x.status === 423)) {
      expect(r.body).toEqual({
        code: '',
        message: LOCKED_MESSAGE,
        request_id: r.headers.get('x-neon-ret-request-id'),
      })
    }
    expect(sim.world.liveBranches(project.id)).toHaveLength(2) // the default branch and the winner
  })

  it('lists the holder’s unfinished operations, and accepts the next request once they end', async () => {
    const held = await create('holder')
    clock.advance(300)
    const list = await api(sim, 'GET', `${P()}/operations`)
    const unfinished = (list.body.operations as { status: string; total_duration_ms: number }[]).filter(
      (o) => o.status === 'running' || o.status === 'scheduling',
    )
    expect(unfinished.map((o) => o.status)).toEqual(['scheduling', 'running'])
    expect(unfinished[1]!.total_duration_ms).toBeGreaterThan(0)
    const end = Math.max(
      ...(held.body.operations as { id: string }[]).map((o) => sim.world.operations.get(o.id)!.endAt),
    )
    clock.set(end - 1)
    expect((await create('early')).status).toBe(423)
    clock.set(end)
    const next = await create('next')
    expect(next.status).toBe(201)
    // Its operations run after the holder's, one after another.
    const first = sim.world.operations.get((next.body.operations as { id: string }[])[0]!.id)!
    expect(first.runAt).toBeGreaterThanOrEqual(end)
    expectSerialised()
  })

  it('runs every accepted request’s operations one after another, whatever mix of requests comes', async () => {
    // Creates, deletes and a restore, each sent the moment the project is free, several at once.
    const names: string[] = []
    for (let round = 0; round < 12; round++) {
      const live = sim.world.liveBranches(project.id).filter((b) => !b.default)
      const sends = [
        create(`r${round}-a`),
        create(`r${round}-b`),
        ...(live[0] ? [api(sim, 'DELETE', `${P()}/branches/${live[0].id}`)] : []),
        ...(live[1]
          ? [
              api(sim, 'POST', `${P()}/branches/${live[1].id}/restore`, {
                source_branch_id: live[1].parentId,
              }),
            ]
          : []),
      ]
      const answers = await Promise.all(sends)
      // Exactly one of the requests sent together got the project.
      expect(answers.filter((r) => r.status === 200 || r.status === 201)).toHaveLength(1)
      expect(answers.filter((r) => r.status === 423)).toHaveLength(sends.length - 1)
      names.push(...answers.filter((r) => r.status === 201).map((r) => r.body.branch.name as string))
      // Until the project is free again.
      while (sim.world.isLocked(project.id)) clock.advance(50)
    }
    expect(names.length).toBeGreaterThan(0)
    expectSerialised()
  })
})
