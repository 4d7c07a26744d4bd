import { afterEach, describe, expect, it } from 'vitest'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import { NeonClient } from '../../src/neon/client.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor } from '../helpers/mode-harness.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const DAY = 86_400_000

let sim: NeonSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

describe("cleanup's deletes share the step's deadline (issue 22, item 10)", () => {
  it('stops deleting when `timeout` has passed, instead of giving every delete a timeout of its own', async () => {
    const clock = new FakeClock(NOW)
    // Each delete holds the project for 40 s; `timeout` is 60 s: the sweep cannot finish three.
    sim = await startNeonSimulator({ clock, operationMs: { delete_timeline: 40_000, suspend_compute: 0 } })
    const project = sim.createProject({ id: 'sweep-deadline-1' }).id
    for (const name of ['preview/old-a', 'preview/old-b', 'preview/old-c']) {
      sim.addBranch(project, {
        name,
        updatedAt: new Date(NOW - 30 * DAY).toISOString(),
        withEndpoint: false,
      })
    }
    const h = harness(sim, { ...harness(sim).deps.context, eventName: 'schedule', pullRequest: undefined })
    // As main.ts builds them: one deadline, shared by the client and the mode.
    const deadline = clock.now() + 60_000
    h.deps.neon = new NeonClient({
      apiKey: sim.apiKey,
      apiHost: sim.apiUrl,
      userAgent: 'neon-preview-branch/test',
      clock,
      deadline,
    })
    h.deps.deadline = deadline
    const r = await cleanupMode(h.deps, inputsFor(project, sim.apiKey, { mode: 'cleanup', timeout: '60' }))
    expect(r.staleBranches).toHaveLength(3)
    expect(r.deletedBranches!.length).toBeLessThan(3)
    expect(r.failures?.length).toBe(3 - r.deletedBranches!.length)
    expect(r.failures!.join('\n')).toMatch(/Timed out|deadline/)
    // Nothing was sent after the deadline, and the sweep ended with it.
    expect(Math.max(...sim.log.map((l) => l.at))).toBeLessThan(deadline)
    expect(clock.now()).toBeLessThanOrEqual(deadline + 1000)
  })
})
