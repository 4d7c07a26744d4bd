import type { Clock } from '../../src/util/clock.js'

/**
 * Discrete-event virtual time. `sleep` queues a wake-up; `drive` wakes the earliest one each time
 * the process is idle: no request in flight (fetch is wrapped to count them, bodies read inside the
 * count) for a few event-loop turns.
 */
export class EventClock implements Clock {
  private readonly timers: { wake: number; seq: number; resolve: () => void }[] = []
  private seq = 0
  private inflight = 0
  constructor(private t: number) {}
  now = (): number => this.t
  sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => this.timers.push({ wake: this.t + Math.max(0, ms), seq: this.seq++, resolve }))

  /** Counts every fetch of the process as in flight until its body is read. */
  wrapFetch(): () => void {
    const real = globalThis.fetch
    globalThis.fetch = async (input, init) => {
      this.inflight++
      try {
        const res = await real(input, init)
        const body = await res.arrayBuffer()
        return new Response(body.byteLength > 0 ? body : null, {
          status: res.status,
          statusText: res.statusText,
          headers: res.headers,
        })
      } finally {
        this.inflight--
      }
    }
    return () => (globalThis.fetch = real)
  }

  async drive<T>(work: Promise<T>): Promise<T> {
    let finished = false
    void work.then(
      () => (finished = true),
      () => (finished = true),
    )
    while (!finished) {
      for (let quiet = 0; quiet < 5 && !finished;) {
        await new Promise<void>((r) => setImmediate(r))
        quiet = this.inflight === 0 ? quiet + 1 : 0
      }
      if (finished || this.timers.length === 0) continue
      this.timers.sort((a, b) => a.wake - b.wake || a.seq - b.seq)
      const next = this.timers.shift()!
      this.t = Math.max(this.t, next.wake)
      next.resolve()
    }
    return work
  }
}
