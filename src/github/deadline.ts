/**
 * Every GitHub request inside the step's deadline (the `timeout` input), as the Neon client's are
 * (neon/client.ts): an Octokit plugin, installed before the retry and throttling plugins so that
 * its hook runs around each try (their retries and rate-limit waits included):
 * - no try starts once the deadline has passed: it fails at once, saying so;
 * - a retry whose wait (the retry plugin's 1 s, 4 s, …) would end past the deadline is not made;
 * - a try cut short by the deadline fails saying so, and is not retried.
 * Each try's own timeout is cut to what is left of the deadline by the client's fetch (octokit.ts).
 */
import type { Octokit } from '@octokit/core'

/**
 * The one grace past the deadline: the final pull request comment (and the job summary written
 * after it) of a run that used its whole `timeout` on the work, so that the run still reports on
 * the pull request, a failure above all. Five seconds covers the comment's two or three requests
 * on a GitHub that answers (each well under a second); against a GitHub that never answers it is
 * all the comment can add to the step.
 */
export const REPORT_GRACE_MS = 5_000

/** The deadline the plugin keeps: read at each try, so main.ts can add the grace for the report. */
export interface GitHubDeadline {
  now(): number
  /** Epoch ms after which no request starts. */
  at(): number
}

/** A GitHub request not sent, or cut short, because the step's deadline passed. */
export class GitHubDeadlineError extends Error {
  /** Octokit's plugins read `request` (options) and `status` off an error; no status: never retried. */
  readonly request: unknown
  constructor(what: string, sent: boolean, options: unknown, cause?: unknown) {
    super(
      sent
        ? `${what}: no answer before the step's deadline (the 'timeout' input) passed`
        : `${what}: not sent: the step's deadline (the 'timeout' input) has passed`,
      cause !== undefined ? { cause } : undefined,
    )
    this.name = 'GitHubDeadlineError'
    this.request = options
  }
}

interface TryOptions {
  method?: string
  url?: string
  request?: { retries?: number; retryCount?: number }
}

/** The plugin; the deadline comes in the constructor's `githubDeadline` option (none: no bound). */
export function deadlinePlugin(
  octokit: Octokit,
  options: { githubDeadline?: GitHubDeadline; retry?: { retryAfterBaseValue?: number } },
): void {
  const deadline = options.githubDeadline
  if (!deadline) return
  const retryBase = options.retry?.retryAfterBaseValue ?? 1000
  octokit.hook.wrap('request', async (request, o) => {
    const opts = o as unknown as TryOptions
    const what = `${opts.method ?? 'GET'} ${opts.url ?? ''}`
    const stop = (sent: boolean, cause?: unknown): GitHubDeadlineError => {
      if (opts.request) opts.request.retries = 0
      return new GitHubDeadlineError(what, sent, o, cause)
    }
    if (deadline.now() >= deadline.at()) throw stop(false)
    try {
      return await request(o)
    } catch (e) {
      // No answer (octokit reports a failed fetch, a timeout included, as a 500 with no response).
      const unanswered =
        (e as { status?: number; response?: unknown }).status === 500 &&
        !(e as { response?: unknown }).response
      if (unanswered && deadline.now() >= deadline.at()) throw stop(true, e)
      // The retry plugin waits (retryCount + 1)² of its base before the next try (plugin-retry
      // 8.1.1, error-request.js): no retry whose wait ends past the deadline.
      const wait = retryBase * ((opts.request?.retryCount ?? 0) + 1) ** 2
      if (opts.request && deadline.now() + wait >= deadline.at()) opts.request.retries = 0
      throw e
    }
  })
}
