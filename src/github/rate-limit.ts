// Kept out of octokit.ts, which main.ts loads only when GitHub is first asked (start-up time).

/**
 * Whether GitHub refused a request for a rate limit rather than for what the token may do: a 429,
 * or a 403 whose message says "secondary rate" (the test Octokit's throttling plugin makes,
 * plugin-throttling 11.0.5) or whose `x-ratelimit-remaining` is 0 (a primary limit, "Rate limits for
 * the REST API").
 */
export function isRateLimited(e: unknown): boolean {
  const r = e as { status?: unknown; message?: unknown; response?: { headers?: Record<string, unknown> } }
  if (r.status === 429) return true
  if (r.status !== 403) return false
  return (
    /\bsecondary rate\b/i.test(String(r.message)) ||
    String(r.response?.headers?.['x-ratelimit-remaining']) === '0'
  )
}
