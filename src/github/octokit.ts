/**
 * The GitHub REST client: @octokit/rest with the retry and throttling plugins, against the run's
 * GITHUB_API_URL (so GitHub Enterprise Server and the tests' fake API work the same way).
 */
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import { Octokit } from '@octokit/rest'

/** The Octokit class this action uses. */
export const ActionOctokit = Octokit.plugin(retry, throttling)
export type GitHubClient = InstanceType<typeof ActionOctokit>

/** Where the client reports; main.ts wires it to @actions/core. */
export interface GitHubLog {
  debug(message: string): void
  warning(message: string): void
}

export interface GitHubClientOptions {
  token: string
  /** GITHUB_API_URL, without a trailing slash. */
  baseUrl: string
  userAgent: string
  log: GitHubLog
  /**
   * How many times a request is retried: by the retry plugin on 5xx and other retryable statuses,
   * and by the throttling handlers on a (secondary) rate limit. Default 2.
   */
  retries?: number
  /**
   * Milliseconds per unit of the plugins' delays (seconds by default). Tests lower it to 1 so a
   * retry waits 1 ms instead of 1 s, the seam octokit's own tests use.
   */
  retryAfterBaseValue?: number
  /** Give up on one request after this long (default 30 s), so a hung connection cannot hang the job. */
  requestTimeoutMs?: number
  /** Rate-limit waits longer than this are not waited for (default 60 s): a comment is not worth it. */
  maxRateLimitWaitSeconds?: number
  /** Tests may turn the throttling plugin's pacing of writes (one a second) off. Default true. */
  throttle?: boolean
}

/** Requests sent through one client, for the job summary. */
export interface GitHubStats {
  requests: number
}

const DEFAULT_RETRIES = 2
const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_MAX_WAIT_S = 60

/**
 * Builds the client. The throttling handlers retry a bounded number of times (never forever: a
 * comment is not worth a job stuck on a rate limit) and only when the wait is short.
 */
export function createGitHubClient(o: GitHubClientOptions): { octokit: GitHubClient; stats: GitHubStats } {
  const retries = o.retries ?? DEFAULT_RETRIES
  const maxWait = o.maxRateLimitWaitSeconds ?? DEFAULT_MAX_WAIT_S
  const timeoutMs = o.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS
  const base = o.retryAfterBaseValue
  const onLimit =
    (kind: string) =>
    (
      retryAfter: number,
      options: { method?: string; url?: string },
      _octokit: unknown,
      retryCount: number,
    ) => {
      const what = `${options.method ?? 'GET'} ${options.url ?? ''}`
      if (retryCount < retries && retryAfter <= maxWait) {
        o.log.debug(`GitHub ${kind} on ${what}; retrying in ${retryAfter} s (retry ${retryCount + 1})`)
        return true
      }
      o.log.warning(`GitHub ${kind} on ${what}; not retrying (retry-after ${retryAfter} s)`)
      return false
    }
  const timedFetch: typeof fetch = (input, init) =>
    fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) })

  const octokit = new ActionOctokit({
    auth: o.token,
    baseUrl: o.baseUrl.replace(/\/+$/, ''),
    userAgent: o.userAgent,
    request: { fetch: timedFetch },
    retry: { retries, ...(base !== undefined ? { retryAfterBaseValue: base } : {}) },
    throttle: {
      enabled: o.throttle ?? true,
      onRateLimit: onLimit('rate limit'),
      onSecondaryRateLimit: onLimit('secondary rate limit'),
      ...(base !== undefined ? { retryAfterBaseValue: base } : {}),
    },
    log: {
      debug: (m: string) => o.log.debug(m),
      info: (m: string) => o.log.debug(m),
      warn: (m: string) => o.log.debug(`octokit: ${m}`),
      error: (m: string) => o.log.debug(`octokit: ${m}`),
    },
  })
  const stats: GitHubStats = { requests: 0 }
  octokit.hook.before('request', (options) => {
    stats.requests++
    o.log.debug(`GitHub API: ${options.method} ${options.url}`)
  })
  return { octokit, stats }
}
