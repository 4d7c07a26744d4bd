import type { Clock } from '../../src/util/clock.js'

/** A clock whose sleep returns at once and moves time forward: retry and poll tests run instantly. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = []
  constructor(private t = Date.UTC(2026, 10, 23, 12, 0, 0)) {}
  now(): number {
    return this.t
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms)
    this.t += Math.max(0, ms)
  }
  advance(ms: number): void {
    this.t += ms
  }
}

/**
 * A clock that tells the real time but sleeps for only a fraction of what is asked, for tests that
 * talk to a real server whose operations take real (short) time.
 */
export function acceleratedClock(factor = 0.1): Clock & { sleeps: number[] } {
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => Date.now(),
    sleep: (ms) => {
      sleeps.push(ms)
      return new Promise((r) => setTimeout(r, Math.max(0, ms * factor)))
    },
  }
}
