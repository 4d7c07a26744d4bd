import { describe, expect, it } from 'vitest'
import { CancelledError, cancellable } from '../../src/util/cancel.js'
import { systemClock } from '../../src/util/clock.js'
import { FakeClock } from '../helpers/fake-clock.js'

describe('cancellable clock', () => {
  it('passes sleeps through until cancelled', async () => {
    const base = new FakeClock()
    const c = cancellable(base)
    await c.clock.sleep(500)
    expect(base.sleeps).toEqual([500])
    expect(c.clock.now()).toBe(base.now())
    expect(c.reason).toBeUndefined()
  })

  it('ends a sleep in progress with a CancelledError naming the signal, and every later one at once', async () => {
    const c = cancellable(systemClock)
    const sleeping = c.clock.sleep(60_000)
    c.cancel('SIGINT')
    await expect(sleeping).rejects.toBeInstanceOf(CancelledError)
    await expect(sleeping).rejects.toThrow('the step was cancelled (SIGINT); stopped waiting')
    await expect(c.clock.sleep(1)).rejects.toThrow('(SIGINT)')
    // A second cancel keeps the first reason.
    c.cancel('SIGTERM')
    expect(c.reason).toBe('SIGINT')
  })

  it('races a clock that is not the real one', async () => {
    let wake: () => void = () => {}
    const c = cancellable({ now: () => 0, sleep: () => new Promise<void>((r) => (wake = r)) })
    const sleeping = c.clock.sleep(10)
    c.cancel('SIGTERM')
    await expect(sleeping).rejects.toThrow('(SIGTERM)')
    wake()
  })
})
