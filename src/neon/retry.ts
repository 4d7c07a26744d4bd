/**
 * The one retry policy of the Neon client, as data (octokit plugin-retry style), and the delay it
 * asks for (full-jitter exponential backoff, AWS style, honouring Retry-After).
 */
export interface RetryPolicy {
  /** Total tries of one request, the first included. */
  maxAttempts: number
  /** First backoff ceiling; the n-th retry waits up to baseMs·2^n. */
  baseMs: number
  /** Ceiling of any single backoff. */
  capMs: number
  /** Longest Retry-After we obey; a longer one is capped, not refused. */
  maxRetryAfterMs: number
  /** Statuses retried for every method. */
  statuses: ReadonlySet<number>
  /** Statuses retried only for idempotent reads (a 500 on POST may have done the work). */
  getOnlyStatuses: ReadonlySet<number>
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseMs: 500,
  capMs: 10_000,
  maxRetryAfterMs: 60_000,
  // 423: the project is locked by running operations (ours or another run's); 429: rate limit;
  // 502/503/504/524: the proxy in front of Neon.
  statuses: new Set([423, 429, 502, 503, 504, 524]),
  getOnlyStatuses: new Set([500]),
}

/** Whether a response status (0 = no response) is worth another try for this method. */
export function isRetryable(policy: RetryPolicy, method: string, status: number): boolean {
  if (status === 0) return true
  if (policy.statuses.has(status)) return true
  return method === 'GET' && policy.getOnlyStatuses.has(status)
}

/**
 * Delay before retry number `retry` (0 for the first retry): uniform in [0, min(cap, base·2^retry)],
 * or the server's Retry-After when it gave one.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs)
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** retry)
  return Math.floor(random() * ceiling)
}

/** Parses a Retry-After header: delta seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined
  const v = value.trim()
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000)
  const at = Date.parse(v)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - nowMs)
}
