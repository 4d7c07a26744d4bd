import type { Clock } from '../../src/util/clock.js'

/**
 * Virtual time: the one clock that the simulator (`startNeonSimulator({ clock })`) and the action's
 * code (`ModeDeps.clock`, `NeonClient`'s clock) share in tests. `sleep` moves time forward and
 * returns at once (after yielding to the event loop, so requests in flight make progress), so
 * polling, retry, lock and expiry tests run instantly and never depend on how busy the machine is.
 *
 * Several sleepers at once (two runs racing) each wake no earlier than they asked: time jumps to
 * the latest deadline asked so far and never goes back.
 */
export class FakeClock implements Clock {
  readonly sleeps: number[] = []
  constructor(private t = Date.UTC(2026, 10, 23, 12, 0, 0)) {}
  // Arrow properties, so `clock.now` can be handed around unbound.
  now = (): number => this.t
  sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms)
    const wake = this.t + Math.max(0, ms)
    await new Promise<void>((r) => setImmediate(r))
    if (wake > this.t) this.t = wake
  }
  advance = (ms: number): void => {
    this.t += ms
  }
  set = (t: number): void => {
    this.t = t
  }
}
