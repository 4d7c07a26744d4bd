import { describe, expect, it } from 'vitest'
import type { NeonClient } from '../../src/neon/client.js'
import { OperationFailedError, WaitTimeoutError } from '../../src/neon/errors.js'
import { OperationDurations } from '../../src/neon/durations.js'
import {
  DENSE_MAX_MS,
  DENSE_MIN_MS,
  POLL_BUDGET,
  PollBudget,
  waitForOperations,
  waitUntil,
  type WaitStats,
} from '../../src/neon/operations.js'
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

/**
 * A fake client whose operations run on the clock: each runs from `from` to `to` (epoch ms) and
 * reports what Neon reports, total_duration_ms included (the time it has been running).
 */
function timed(clock: FakeClock, ops: Record<string, { action: string; from: number; to: number }>) {
  const checks: Array<{ id: string; at: number }> = []
  let historyReads = 0
  const state = (id: string): Operation => {
    const o = ops[id]!
    const now = clock.now()
    const status: OperationStatus = now < o.from ? 'scheduling' : now < o.to ? 'running' : 'finished'
    return op(id, status, {
      action: o.action as Operation['action'],
      total_duration_ms: status === 'scheduling' ? 0 : Math.min(now, o.to) - o.from,
    })
  }
  const client = {
    async getOperation(_p: string, id: string): Promise<Operation> {
      checks.push({ id, at: clock.now() })
      return state(id)
    },
  } as unknown as NeonClient
  return {
    client,
    checks,
    state,
    history: (samples: Record<string, number[]>) => async (): Promise<Operation[]> => {
      historyReads++
      return Object.entries(samples).flatMap(([action, ms]) =>
        ms.map((d, i) =>
          op(`h-${action}-${i}`, 'finished', { action: action as Operation['action'], total_duration_ms: d }),
        ),
      )
    },
    historyReads: () => historyReads,
  }
}

const perMinute = (ts: number[]): number =>
  Math.max(0, ...ts.map((t) => ts.filter((u) => u >= t && u < t + 60_000).length))

describe('OperationDurations', () => {
  it('has no window for an action it has not seen', () => {
    expect(new OperationDurations().window('start_compute')).toBeUndefined()
  })

  it('widens a window of few samples: 0.8 × the shortest to 1.25 × the longest + 50 ms', () => {
    const d = new OperationDurations()
    for (const ms of [1000, 1200])
      d.add(op('x', 'finished', { action: 'start_compute', total_duration_ms: ms }))
    expect(d.window('start_compute')).toEqual({ lo: 800, hi: 1550 })
  })

  it('takes the 5th to 95th percentile of many, so one outlier does not widen it', () => {
    const d = new OperationDurations()
    const ms = [...Array.from({ length: 19 }, (_, i) => 1000 + i * 10), 30_000]
    for (const m of ms) d.add(op('x', 'finished', { action: 'start_compute', total_duration_ms: m }))
    const w = d.window('start_compute')!
    expect(w.lo).toBe(Math.round(1010 * 0.95))
    expect(w.hi).toBe(Math.round(1180 * 1.05 + 50))
  })

  it('learns only from finished operations that ran for some time, and keeps the newest 20', () => {
    const d = new OperationDurations()
    d.add(op('x', 'failed', { action: 'start_compute', total_duration_ms: 99 }))
    d.add(op('x', 'running', { action: 'start_compute', total_duration_ms: 99 }))
    d.add(op('x', 'finished', { action: 'start_compute', total_duration_ms: 0 }))
    expect(d.has('start_compute')).toBe(false)
    for (let i = 0; i < 25; i++)
      d.add(op('x', 'finished', { action: 'start_compute', total_duration_ms: i < 5 ? 1 : 2000 }))
    expect(d.window('start_compute')).toEqual({ lo: 1900, hi: 2150 })
  })

  it('reads the history once, newest kept, and a failed read only means no window', async () => {
    let reads = 0
    const newestFirst = Array.from({ length: 30 }, (_, i) =>
      op(`h${i}`, 'finished', { action: 'start_compute', total_duration_ms: i < 20 ? 500 : 9000 }),
    )
    const d = new OperationDurations(async () => {
      reads++
      return newestFirst
    })
    await Promise.all([d.load(), d.load()])
    await d.load()
    expect(reads).toBe(1)
    expect(d.window('start_compute')).toEqual({ lo: 475, hi: 575 })
    const broken = new OperationDurations(async () => {
      throw new Error('HTTP 500')
    })
    await expect(broken.load()).resolves.toBeUndefined()
    expect(broken.window('start_compute')).toBeUndefined()
  })
})

describe('waitForOperations with durations', () => {
  it('sleeps through a 60 s operation and sees its end within 100 ms, within 40 checks a minute', async () => {
    const clock = new FakeClock()
    const t0 = clock.now()
    const f = timed(clock, { a: { action: 'start_compute', from: t0, to: t0 + 60_000 } })
    const durations = new OperationDurations(
      f.history({ start_compute: Array.from({ length: 10 }, (_, i) => 57_000 + i * 600) }),
    )
    const stats: WaitStats = { polls: 0, waitedMs: 0 }
    await waitForOperations(
      f.client,
      'p',
      [f.state('a')],
      { clock, deadline: t0 + 600_000, durations },
      stats,
    )
    const lag = clock.now() - (t0 + 60_000)
    expect(lag).toBeGreaterThanOrEqual(0)
    expect(lag).toBeLessThanOrEqual(DENSE_MAX_MS)
    expect(perMinute(f.checks.map((c) => c.at))).toBeLessThanOrEqual(POLL_BUDGET)
    // Before the window only the rare checks (every 15 s) that would catch an early failure.
    const before = f.checks.filter((c) => c.at < t0 + 57_000 * 0.95)
    expect(before.length).toBeLessThanOrEqual(4)
    expect(f.historyReads()).toBe(1)
    expect(stats.polls).toBe(f.checks.length)
  })

  it('a 2 s operation whose history says 2 s: seen ended within 100 ms, after a handful of checks', async () => {
    const clock = new FakeClock()
    const t0 = clock.now()
    const f = timed(clock, { a: { action: 'start_compute', from: t0, to: t0 + 2000 } })
    const durations = new OperationDurations(f.history({ start_compute: [1900, 2000, 2100, 2000, 1950] }))
    await waitForOperations(f.client, 'p', [f.state('a')], { clock, deadline: t0 + 60_000, durations })
    expect(clock.now() - (t0 + 2000)).toBeLessThanOrEqual(DENSE_MIN_MS)
    expect(f.checks.length).toBeLessThanOrEqual(6)
    expect(f.checks[0]!.at - t0).toBeGreaterThanOrEqual(1700)
  })

  it('checks an earlier operation of a chain once, and the last one densely where it should end', async () => {
    const clock = new FakeClock()
    const t0 = clock.now()
    const f = timed(clock, {
      a: { action: 'create_timeline', from: t0, to: t0 + 800 },
      b: { action: 'start_compute', from: t0 + 800, to: t0 + 2300 },
    })
    const durations = new OperationDurations(
      f.history({
        create_timeline: [800, 790, 810, 800, 805],
        start_compute: [1500, 1490, 1510, 1500, 1495],
      }),
    )
    await waitForOperations(f.client, 'p', [f.state('a'), f.state('b')], {
      clock,
      deadline: t0 + 60_000,
      durations,
    })
    expect(f.checks.filter((c) => c.id === 'a')).toHaveLength(1)
    expect(clock.now() - (t0 + 2300)).toBeLessThanOrEqual(DENSE_MIN_MS)
    expect(f.checks.length).toBeLessThanOrEqual(5)
  })

  it('moves the window when a check says how long the operation has been running (it queued first)', async () => {
    const clock = new FakeClock()
    const t0 = clock.now()
    // Queued 20 s behind other work, then a 30 s run: the first sparse check sees it scheduling,
    // the next one running, and the dense checks come where it ends, not 20 s early.
    const f = timed(clock, { a: { action: 'start_compute', from: t0 + 20_000, to: t0 + 50_000 } })
    const durations = new OperationDurations(
      f.history({ start_compute: [30_000, 30_000, 30_000, 30_000, 30_000] }),
    )
    await waitForOperations(f.client, 'p', [f.state('a')], { clock, deadline: t0 + 600_000, durations })
    expect(clock.now() - (t0 + 50_000)).toBeLessThanOrEqual(DENSE_MIN_MS)
    const dense = f.checks.filter((c, i) => i > 0 && c.at - f.checks[i - 1]!.at <= DENSE_MIN_MS)
    expect(dense.every((c) => c.at >= t0 + 20_000 + 30_000 * 0.95)).toBe(true)
  })

  it('an operation later than its window is checked on a back-off, never past the budget', async () => {
    const clock = new FakeClock()
    const t0 = clock.now()
    const f = timed(clock, { a: { action: 'start_compute', from: t0, to: t0 + 120_000 } })
    const durations = new OperationDurations(f.history({ start_compute: [1000, 1000, 1000, 1000, 1000] }))
    await waitForOperations(f.client, 'p', [f.state('a')], { clock, deadline: t0 + 600_000, durations })
    const gaps = f.checks.slice(1).map((c, i) => c.at - f.checks[i]!.at)
    expect(Math.max(...gaps)).toBe(3500)
    expect(perMinute(f.checks.map((c) => c.at))).toBeLessThanOrEqual(POLL_BUDGET)
  })

  it('does not wait for a slow history: the fixed schedule until it arrives, the window after', async () => {
    const clock = new FakeClock()
    const t0 = clock.now()
    const f = timed(clock, { a: { action: 'start_compute', from: t0, to: t0 + 10_000 } })
    let arrive: (ops: Operation[]) => void = () => {}
    const durations = new OperationDurations(() => new Promise<Operation[]>((r) => (arrive = r)))
    const client = {
      async getOperation(p: string, id: string): Promise<Operation> {
        // The history answers about a second into the wait.
        if (clock.now() - t0 >= 1000)
          arrive(
            Array.from({ length: 5 }, (_, i) =>
              op(`h${i}`, 'finished', { action: 'start_compute', total_duration_ms: 10_000 }),
            ),
          )
        return f.client.getOperation(p, id)
      },
    } as unknown as NeonClient
    await waitForOperations(client, 'p', [f.state('a')], { clock, deadline: t0 + 60_000, durations })
    const early = f.checks.filter((c) => c.at - t0 <= 1000)
    expect(early.length).toBeGreaterThanOrEqual(6) // every 150 ms while nothing is known
    const middle = f.checks.filter((c) => c.at - t0 > 1200 && c.at - t0 < 8000)
    expect(middle).toHaveLength(0) // then asleep until the window opens
    expect(clock.now() - (t0 + 10_000)).toBeLessThanOrEqual(DENSE_MIN_MS)
  })

  it('without a history (or with a failed read) polls on the fixed schedule', async () => {
    const clock = new FakeClock()
    const { client, calls } = scripted({ a: [{ status: 'running' }, { status: 'finished' }] })
    const durations = new OperationDurations(async () => {
      throw new Error('HTTP 503')
    })
    await waitForOperations(client, 'p', [op('a', 'running')], {
      clock,
      deadline: clock.now() + 60_000,
      durations,
    })
    expect(calls).toEqual(['a', 'a'])
    expect(clock.sleeps).toEqual([150, 150])
  })

  it('learns within the run: a second operation of the same action needs no history', async () => {
    const clock = new FakeClock()
    let t0 = clock.now()
    const f = timed(clock, { a: { action: 'delete_timeline', from: t0, to: t0 + 400 } })
    let reads = 0
    const durations = new OperationDurations(async () => {
      reads++
      return []
    })
    await waitForOperations(f.client, 'p', [f.state('a')], { clock, deadline: t0 + 60_000, durations })
    expect(durations.has('delete_timeline')).toBe(true)
    t0 = clock.now()
    const g = timed(clock, { b: { action: 'delete_timeline', from: t0, to: t0 + 400 } })
    await waitForOperations(g.client, 'p', [g.state('b')], { clock, deadline: t0 + 60_000, durations })
    expect(reads).toBe(1)
    expect(g.checks.length).toBeLessThanOrEqual(2)
    expect(g.checks[0]!.at - t0).toBeGreaterThanOrEqual(300)
  })
})

describe('PollBudget', () => {
  it('allows 40 checks in any 60 s and says when the next one may go', () => {
    const b = new PollBudget()
    for (let i = 0; i < 40; i++) b.record(1000 + i * 10)
    expect(b.left(1400)).toBe(0)
    expect(b.earliest(1400)).toBe(61_000)
    expect(b.earliest(70_000)).toBe(70_000)
    expect(b.left(61_005)).toBe(1)
  })

  it('holds a wait whose window asks for more than the budget to 40 checks a minute', async () => {
    const clock = new FakeClock()
    const start = clock.now()
    const at: number[] = []
    await expect(
      waitUntil(
        'x',
        async () => {
          at.push(clock.now())
          return { done: false, state: 'running', notBefore: undefined }
        },
        { clock, deadline: start + 300_000 },
        undefined,
        { expect: () => ({ from: start, to: start + 1_000_000 }) },
      ),
    ).rejects.toBeInstanceOf(WaitTimeoutError)
    expect(perMinute(at)).toBeLessThanOrEqual(POLL_BUDGET)
    expect(at.length).toBeGreaterThan(150)
  })
})
