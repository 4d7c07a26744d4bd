// Neon's documented rate limits: 700 requests a minute per account, and bursts of at most 40 a
// second per route. Off unless asked for, so that tests stay deterministic; the benchmark turns it
// on with Neon's own numbers.

export interface RateLimitOptions {
  /** Requests per rolling minute per API key (Neon: 700). */
  perMinute?: number
  /** Requests per rolling second per API key and route (Neon: 40). */
  perSecondPerRoute?: number
}

export const NEON_RATE_LIMITS: Required<RateLimitOptions> = { perMinute: 700, perSecondPerRoute: 40 }

/** Sliding windows of request times; `take` answers how long to wait, or 0 to go ahead. */
export class RateLimiter {
  private readonly minute = new Map<string, number[]>()
  private readonly second = new Map<string, number[]>()

  constructor(private readonly o: RateLimitOptions) {}

  /** Records the request when allowed; otherwise returns the milliseconds until it would be. */
  take(key: string, route: string, now: number): number {
    const wait = Math.max(
      this.check(this.minute, key, now, 60_000, this.o.perMinute),
      this.check(this.second, `${key} ${route}`, now, 1_000, this.o.perSecondPerRoute),
    )
    if (wait > 0) return wait
    if (this.o.perMinute !== undefined) this.push(this.minute, key, now)
    if (this.o.perSecondPerRoute !== undefined) this.push(this.second, `${key} ${route}`, now)
    return 0
  }

  reset(): void {
    this.minute.clear()
    this.second.clear()
  }

  private check(
    m: Map<string, number[]>,
    key: string,
    now: number,
    windowMs: number,
    limit?: number,
  ): number {
    if (limit === undefined) return 0
    const times = (m.get(key) ?? []).filter((t) => t > now - windowMs)
    m.set(key, times)
    if (times.length < limit) return 0
    return times[times.length - limit]! + windowMs - now
  }

  private push(m: Map<string, number[]>, key: string, now: number): void {
    const times = m.get(key)
    if (times) times.push(now)
    else m.set(key, [now])
  }
}
