import { describe, expect, it } from 'vitest'
import type { NeonClient } from '../../src/neon/client.js'
import { OperationFailedError, WaitTimeoutError } from '../../src/neon/errors.js'
import { waitForOperations, waitUntil, type WaitStats } from '../../src/neon/operations.js'
import type { Operation, OperationStatus } from '../../src/neon/types.js'
import { FakeClock } from '../helpers/fake-clock.js'

function op(id: string, status: OperationStatus, extra: Partial<Operation> = {}): Operation {
  return {
    id,
    project_id: 'p',
    action: 'create_branch',
    status,
    failures_count: 0,
    created_at: '',
    updated_at: '',
    total_duration_ms: 0,
    ...extra,
  }
}

/** A fake client whose operations follow a script of statuses, one per poll. */
function scripted(scripts: Record<string, Array<Partial<Operation> & { status: OperationStatus }>>) {
  const calls: string[] = []
  const client = {
    async getOperation(_p: string, id: string): Promise<Operation> {
      calls.push(id)
      const s = scripts[id]
      if (!s) throw new Error(`unknown op ${id}`)
      const next = s.length > 1 ? s.shift()! : s[0]!
      return op(id, next.status, next)
    },
  } as unknown as NeonClient
  return { client, calls }
}

describe('waitForOperations', () => {
  it('polls each unsettled operation in order until it finishes, backing off', async () => {
    const clock = new FakeClock()
    const { client, calls } = scripted({
      a: [{ status: 'running' }, { status: 'running' }, { status: 'finished' }],
      b: [{ status: 'scheduling' }, { status: 'skipped' }],
    })
    const stats: WaitStats = { polls: 0, waitedMs: 0 }
    await waitForOperations(
      client,
      'p',
      [op('a', 'running'), op('b', 'scheduling')],
      { clock, deadline: clock.now() + 60_000 },
      stats,
    )
    expect(calls).toEqual(['a', 'a', 'a', 'b', 'b'])
    // The fast phase: every 150 ms, for each operation.
    expect(clock.sleeps).toEqual([150, 150, 150, 150, 150])
    expect(stats.polls).toBe(5)
    expect(stats.waitedMs).toBe(750)
  })

  it('does not poll operations that are already settled', async () => {
    const clock = new FakeClock()
    const { client, calls } = scripted({})
    await waitForOperations(client, 'p', [op('a', 'finished'), op('b', 'skipped')], {
      clock,
      deadline: clock.now() + 1,
    })
    expect(calls).toEqual([])
  })

  it.each(['failed', 'error', 'cancelled', 'cancelling'] as const)(
    'fails on %s, naming the action and error',
    async (status) => {
      const clock = new FakeClock()
      const { client } = scripted({
        a: [{ status: 'running' }, { status, error: 'compute quota exceeded', action: 'start_compute' }],
      })
      const err = await waitForOperations(client, 'p', [op('a', 'running')], {
        clock,
        deadline: clock.now() + 60_000,
      }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OperationFailedError)
      expect((err as Error).message).toBe(
        `Neon operation start_compute (a) ended '${status}': compute quota exceeded`,
      )
    },
  )

  it('caps the delay so a long operation costs a bounded number of polls per minute', async () => {
    const clock = new FakeClock()
    const running = Array.from({ length: 1000 }, () => ({ status: 'running' as const }))
    const { client } = scripted({ a: running })
    const stats: WaitStats = { polls: 0, waitedMs: 0 }
    await expect(
      waitForOperations(client, 'p', [op('a', 'running')], { clock, deadline: clock.now() + 60_000 }, stats),
    ).rejects.toBeInstanceOf(WaitTimeoutError)
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(3500)
    expect(stats.polls).toBeLessThanOrEqual(40)
    // Brisk at first, then backing off.
    expect(clock.sleeps.slice(0, 5)).toEqual([150, 150, 150, 150, 150])
    expect(clock.sleeps.at(-2)).toBe(3500)
  })

  it('honours retry_at from an operation that Neon is retrying', async () => {
    const clock = new FakeClock()
    const later = new Date(clock.now() + 5_000).toISOString()
    const { client } = scripted({
      a: [{ status: 'running', failures_count: 1, retry_at: later }, { status: 'finished' }],
    })
    await waitForOperations(client, 'p', [op('a', 'running')], { clock, deadline: clock.now() + 60_000 })
    // 150 ms first sleep, then the wait reaches retry_at (5 s after the start) instead of 150 ms.
    expect(clock.sleeps).toEqual([150, 4850])
  })

  it('times out with a message naming what it waited for and its last state', async () => {
    const clock = new FakeClock()
    const { client } = scripted({ a: [{ status: 'running', action: 'start_compute' }] })
    const err = await waitForOperations(client, 'p', [op('a', 'running', { action: 'start_compute' })], {
      clock,
      deadline: clock.now() + 10_000,
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WaitTimeoutError)
    expect((err as Error).message).toMatch(
      /^Timed out after 10 s waiting for operation start_compute \(a\) \(last seen: running\)/,
    )
  })
})

describe('waitUntil', () => {
  it('checks at once unless told the thing just started, and reports progress every ~10 s', async () => {
    const clock = new FakeClock()
    const progress: string[] = []
    let n = 0
    const value = await waitUntil(
      'the thing',
      async () => ({ done: ++n === 30, state: `step ${n}`, value: n }),
      { clock, deadline: clock.now() + 120_000, progress: (l) => progress.push(l) },
    )
    expect(value).toBe(30)
    expect(clock.sleeps[0]).toBe(150)
    expect(progress.length).toBeGreaterThanOrEqual(1)
    expect(progress[0]).toMatch(/^Still waiting for the thing \(step \d+, \d+ s so far\)$/)
  })
  it('never sleeps past the deadline', async () => {
    const clock = new FakeClock()
    const start = clock.now()
    await expect(
      waitUntil('x', async () => ({ done: false, state: 's' }), { clock, deadline: start + 1000 }),
    ).rejects.toBeInstanceOf(WaitTimeoutError)
    expect(clock.now() - start).toBe(1000)
  })
})

describe('learned durations', () => {
  it('waits about as long as the same action took before, then polls once', async () => {
    const clock = new FakeClock()
    const learned = new Map<string, number>()
    const { client, calls } = scripted({
      a: [
        { status: 'running' },
        { status: 'running' },
        { status: 'running' },
        { status: 'finished', total_duration_ms: 400 },
      ],
      b: [{ status: 'finished', total_duration_ms: 400 }],
    })
    const o = { clock, deadline: clock.now() + 60_000, learned }
    await waitForOperations(client, 'p', [op('a', 'running')], o)
    expect(learned.get('create_branch')).toBe(400)
    clock.sleeps.length = 0
    await waitForOperations(client, 'p', [op('b', 'running')], o)
    expect(clock.sleeps).toEqual([465]) // 400 × 1.1 + 25
    expect(calls.filter((c) => c === 'b')).toHaveLength(1)
  })
})
