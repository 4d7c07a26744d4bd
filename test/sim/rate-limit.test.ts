import { afterEach, describe, expect, it } from 'vitest'
import { createMode } from '../../src/modes/create.js'
import { NeonClient } from '../../src/neon/client.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor } from '../helpers/mode-harness.js'
import { api } from './helpers.js'
import { startNeonSimulator, type NeonSimulator } from './index.js'
import { RateLimiter } from './rate-limit.js'

let sim: NeonSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

describe('rate limits', () => {
  it('counts per key per minute, and per key and route per second, in rolling windows', () => {
    const r = new RateLimiter({ perMinute: 5, perSecondPerRoute: 2 })
    const t = 1_000_000
    expect(r.take('k', 'GET /a', t)).toBe(0)
    expect(r.take('k', 'GET /a', t + 10)).toBe(0)
    expect(r.take('k', 'GET /a', t + 20)).toBe(980) // the third in one second waits for the first to age out
    expect(r.take('k', 'GET /b', t + 20)).toBe(0) // another route has its own burst budget
    expect(r.take('other', 'GET /a', t + 20)).toBe(0) // another key has its own budget
    expect(r.take('k', 'GET /a', t + 1_001)).toBe(0)
    expect(r.take('k', 'GET /c', t + 1_002)).toBe(0)
    expect(r.take('k', 'GET /d', t + 1_003)).toBe(60_000 - 1_003) // 5 in the minute: wait for the oldest
  })

  it('answers 429 with Retry-After past the limit, and 200 again once the window has moved', async () => {
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'))
    sim = await startNeonSimulator({ rateLimit: { perSecondPerRoute: 3 }, clock })
    const p = sim.createProject()
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await api(sim, 'GET', `/projects/${p.id}/branches`)).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    const limited = await api(sim, 'GET', `/projects/${p.id}/branches`)
    expect(limited.headers.get('retry-after')).toBe('1')
    expect(limited.body).toMatchObject({ code: '', message: 'Too many requests' })
    expect((await api(sim, 'GET', `/projects/${p.id}`)).status).toBe(200)
    clock.advance(1_001)
    expect((await api(sim, 'GET', `/projects/${p.id}/branches`)).status).toBe(200)
  })

  it('the action rides out a tight rate limit, honouring Retry-After (virtual time)', async () => {
    const clock = new FakeClock()
    sim = await startNeonSimulator({
      rateLimit: { perSecondPerRoute: 2 },
      operationMs: { create_branch: 600, start_compute: 600 },
      clock,
    })
    const projectId = sim.createProject().id
    const h = harness(sim)
    // The client with the action's own retry policy and poll schedule: Retry-After is slept in
    // virtual time, on the clock the simulator's rate limiter reads.
    const neon = new NeonClient({ apiKey: sim.apiKey, apiHost: sim.apiUrl, userAgent: 'test', clock })
    const r = await createMode({ ...h.deps, neon, clock, poll: undefined }, inputsFor(projectId, sim.apiKey))
    expect(r.created).toBe(true)
    const limited = sim.log.filter((l) => l.status === 429)
    expect(limited.length).toBeGreaterThan(0)
    expect(neon.stats.retries).toBe(limited.length)
    // Every retry waited at least what Retry-After said (whole seconds).
    expect(clock.sleeps.filter((ms) => ms >= 1000).length).toBeGreaterThanOrEqual(limited.length)
  })
})
