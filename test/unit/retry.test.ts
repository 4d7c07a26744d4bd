import { describe, expect, it } from 'vitest'
import { DEFAULT_RETRY_POLICY, isRetryable, parseRetryAfter, retryDelayMs } from '../../src/neon/retry.js'

describe('retry policy', () => {
  it.each([423, 429, 502, 503, 504, 524])('retries %i for every method', (status) => {
    for (const m of ['GET', 'POST', 'PATCH', 'DELETE'])
      expect(isRetryable(DEFAULT_RETRY_POLICY, m, status)).toBe(true)
  })
  it('retries 500 only on GET', () => {
    expect(isRetryable(DEFAULT_RETRY_POLICY, 'GET', 500)).toBe(true)
    expect(isRetryable(DEFAULT_RETRY_POLICY, 'POST', 500)).toBe(false)
    expect(isRetryable(DEFAULT_RETRY_POLICY, 'DELETE', 500)).toBe(false)
  })
  it.each([400, 401, 403, 404, 409, 422])('never retries %i', (status) => {
    expect(isRetryable(DEFAULT_RETRY_POLICY, 'GET', status)).toBe(false)
  })
  it('retries a request that got no response', () => {
    expect(isRetryable(DEFAULT_RETRY_POLICY, 'POST', 0)).toBe(true)
  })
})

describe('full-jitter backoff', () => {
  it('stays within [0, min(cap, base·2^n)]', () => {
    const p = { ...DEFAULT_RETRY_POLICY, baseMs: 100, capMs: 1000 }
    expect(retryDelayMs(p, 0, () => 0.999)).toBe(99)
    expect(retryDelayMs(p, 3, () => 0.999)).toBe(799)
    expect(retryDelayMs(p, 10, () => 0.999)).toBe(999)
    expect(retryDelayMs(p, 10, () => 0)).toBe(0)
  })
  it('is spread out, not constant', () => {
    let seed = 7
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647
    const d = new Set(Array.from({ length: 20 }, () => retryDelayMs(DEFAULT_RETRY_POLICY, 4, rnd)))
    expect(d.size).toBeGreaterThan(15)
  })
  it('obeys Retry-After, capped', () => {
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 0, () => 0, 2000)).toBe(2000)
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 0, () => 0, 10 * 60_000)).toBe(
      DEFAULT_RETRY_POLICY.maxRetryAfterMs,
    )
  })
})

describe('Retry-After parsing', () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 0)
  it('reads seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000)
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1500)
  })
  it('reads an HTTP date', () => {
    expect(parseRetryAfter(new Date(now + 4000).toUTCString(), now)).toBe(4000)
    expect(parseRetryAfter(new Date(now - 4000).toUTCString(), now)).toBe(0)
  })
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
  })
})
