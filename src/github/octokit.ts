/**
 * The GitHub REST client: @octokit/rest with the retry and throttling plugins, against the run's
 * GITHUB_API_URL (so GitHub Enterprise Server and the tests' fake API work the same way).
 */
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import { Octokit } from '@octokit/rest'
import Bottleneck from 'bottleneck/light.js'
import { deadlinePlugin, type GitHubDeadline } from './deadline.js'

/** The Octokit class this action uses. The deadline's plugin comes first: its hook runs around each try. */
export const ActionOctokit = Octokit.plugin(deadlinePlugin, retry, throttling)
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
   * and by the throttling handlers on a primary rate limit. Default 2.
   */
  retries?: number
  /**
   * How many times a request refused by a secondary rate limit is retried, each after the
   * `retry-after` GitHub asks for. Default 5: a burst of jobs commenting at once is exactly what
   * trips that limit, and GitHub's answer to it is to wait and try again.
   */
  secondaryRetries?: number
  /**
   * The step's deadline, epoch ms (from the `timeout` input), or a function reading it (main.ts
   * adds the report's grace, deadline.ts): no request starts after it, no retry or rate-limit wait
   * is begun that would end after it, and a request's own timeout ends at it.
   */
  deadline?: number | (() => number)
  /** The clock of `deadline`; default Date.now (the plugins' timers are real ones). */
  now?: () => number
  /**
   * Milliseconds per unit of the plugins' delays (seconds by default). Tests lower it to 1 so a
   * retry waits 1 ms instead of 1 s, the seam octokit's own tests use; the throttling plugin's pacing
   * of writes then runs in the same unit (pacing() below).
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
const DEFAULT_SECONDARY_RETRIES = 5
const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_MAX_WAIT_S = 60
/**
 * Statuses the retry plugin does not retry: its own list (plugin-retry 8.1.1: 400, 401, 403, 404,
 * 410, 422, 451) and 429. GitHub answers a rate limit with a 403 or a 429 ("Rate limits for the
 * REST API", "Exceeding the rate limit") and says when to try again; the throttling plugin reads
 * that, while the retry plugin would retry a 429 after its own 1 s and 4 s, before GitHub's
 * `retry-after`, which GitHub warns may get an integration banned.
 */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451]

/**
 * The throttling plugin's pacing groups as plugin-throttling 11.0.5 makes them (one write a second,
 * 3 s between writes that notify, 2 s between searches), with its seconds in `unitMs` units: a client
 * made with retryAfterBaseValue paces on that scale, in groups of its own (the plugin's defaults are
 * shared by every client in the process).
 */
function pacing(unitMs: number): Record<'write' | 'notifications' | 'search', Bottleneck.Group> {
  const group = (id: string, seconds: number): Bottleneck.Group =>
    new Bottleneck.Group({ id, maxConcurrent: 1, minTime: seconds * unitMs })
  return {
    write: group('octokit-write', 1),
    notifications: group('octokit-notifications', 3),
    search: group('octokit-search', 2),
  }
}

/**
 * Builds the client. The throttling handlers retry a bounded number of times (never forever: a
 * comment is not worth a job stuck on a rate limit) and only when the wait is short.
 */
export function createGitHubClient(o: GitHubClientOptions): { octokit: GitHubClient; stats: GitHubStats } {
  const retries = o.retries ?? DEFAULT_RETRIES
  const secondaryRetries = o.secondaryRetries ?? DEFAULT_SECONDARY_RETRIES
  const maxWait = o.maxRateLimitWaitSeconds ?? DEFAULT_MAX_WAIT_S
  const timeoutMs = o.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS
  const base = o.retryAfterBaseValue
  const now = o.now ?? Date.now
  const at =
    typeof o.deadline === 'function' ? o.deadline : () => (o.deadline as number | undefined) ?? Infinity
  const githubDeadline: GitHubDeadline = { now, at }
  const onLimit =
    (kind: string, tries: number) =>
    (
      retryAfter: number,
      options: { method?: string; url?: string },
      _octokit: unknown,
      retryCount: number,
    ) => {
      const what = `${options.method ?? 'GET'} ${options.url ?? ''}`
      // The plugins wait retryAfter units of retryAfterBaseValue ms (seconds, but for tests).
      const endsAt = now() + retryAfter * (base ?? 1000)
      if (retryCount < tries && retryAfter <= maxWait && endsAt < at()) {
        o.log.debug(`GitHub ${kind} on ${what}; retrying in ${retryAfter} s (retry ${retryCount + 1})`)
        return true
      }
      const why =
        retryCount >= tries
          ? `after ${retryCount} retries`
          : retryAfter > maxWait
            ? `GitHub asks to wait ${retryAfter} s`
            : `waiting ${retryAfter} s would pass the step's deadline (the 'timeout' input)`
      o.log.warning(`GitHub ${kind} on ${what}; not retrying: ${why}`)
      return false
    }
  // A try's timeout: the client's, cut to what is left of the deadline (deadlinePlugin refuses a
  // try once nothing is left).
  const timedFetch: typeof fetch = (input, init) =>
    fetch(input, {
      ...init,
      signal: init?.signal ?? AbortSignal.timeout(Math.max(1, Math.ceil(Math.min(timeoutMs, at() - now())))),
    })

  const octokit = new ActionOctokit({
    auth: o.token,
    baseUrl: o.baseUrl.replace(/\/+$/, ''),
    userAgent: o.userAgent,
    request: { fetch: timedFetch },
    githubDeadline,
    retry: {
      retries,
      doNotRetry: DO_NOT_RETRY,
      ...(base !== undefined ? { retryAfterBaseValue: base } : {}),
    },
    throttle: {
      enabled: o.throttle ?? true,
      onRateLimit: onLimit('rate limit', retries),
      onSecondaryRateLimit: onLimit('secondary rate limit', secondaryRetries),
      ...(base !== undefined ? { retryAfterBaseValue: base, ...pacing(base) } : {}),
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
