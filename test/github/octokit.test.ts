import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createGitHubClient } from '../../src/github/octokit.js'
import { isRateLimited } from '../../src/github/rate-limit.js'
import { SECONDARY_LIMIT_MESSAGE, startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'

// GitHub's side of a burst: twenty jobs writing their comments at once is what trips GitHub's
// secondary rate limits ("Rate limits for the REST API": a 403 or a 429 saying so, with
// `retry-after`). The throttling plugin must wait them out; the fake's answers are its own
// (fake-github/server.ts, SecondaryLimit).

const REPO = 'octo-org/octo-repo'
let gh: FakeGitHub
let logs: string[]
let pr = 0

beforeAll(async () => {
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await gh.close()
})
beforeEach(() => {
  logs = []
  gh.faults.length = 0
  gh.requests.length = 0
  pr++
})

/**
 * Delays are `retry-after` × 1 ms here instead of × 1 s (the plugins' own test seam), and the
 * throttling plugin's pacing of writes (1 s, 3 s for a comment, which notifies) runs in the same unit.
 */
function client(o: { deadline?: number; now?: () => number; maxRateLimitWaitSeconds?: number } = {}) {
  return createGitHubClient({
    token: 'ghs_test',
    baseUrl: gh.url,
    userAgent: 'neon-preview-branch/test',
    log: { debug: (m) => logs.push(`debug: ${m}`), warning: (m) => logs.push(`warning: ${m}`) },
    retryAfterBaseValue: 1,
    ...o,
  }).octokit
}

const comment = (octokit: ReturnType<typeof client>) =>
  octokit.rest.issues.createComment({ owner: 'octo-org', repo: 'octo-repo', issue_number: pr, body: 'hi' })
const posts = () => gh.requests.filter((r) => r.method === 'POST')

describe('isRateLimited', () => {
  it('tells a rate limit from a permission refusal', () => {
    const err = (status: number, message: string, headers: Record<string, string> = {}) =>
      Object.assign(new Error(message), { status, response: { headers } })
    expect(isRateLimited(err(403, SECONDARY_LIMIT_MESSAGE))).toBe(true)
    expect(isRateLimited(err(429, 'Too many requests'))).toBe(true)
    expect(isRateLimited(err(403, 'API rate limit exceeded', { 'x-ratelimit-remaining': '0' }))).toBe(true)
    expect(isRateLimited(err(403, 'Resource not accessible by integration'))).toBe(false)
    expect(isRateLimited(err(404, 'secondary rate'))).toBe(false)
    expect(isRateLimited(new Error('no status'))).toBe(false)
  })
})

describe('secondary rate limits', () => {
  it('waits out more than two refusals in a row (a burst keeps refusing for a while)', async () => {
    gh.faults.push({
      method: 'POST',
      status: 403,
      message: SECONDARY_LIMIT_MESSAGE,
      headers: { 'retry-after': '3' },
      times: 3,
    })
    const { data } = await comment(client())
    expect(data.body).toBe('hi')
    expect(posts().map((r) => r.status)).toEqual([403, 403, 403, 201])
    expect(logs.filter((l) => /secondary rate limit on POST .* retrying in 3 s/.test(l))).toHaveLength(3)
  })

  it('leaves a 429 to the throttling plugin, which honours retry-after (the retry plugin would not)', async () => {
    gh.faults.push({
      method: 'POST',
      status: 429,
      message: SECONDARY_LIMIT_MESSAGE,
      headers: { 'retry-after': '7' },
      times: 1,
    })
    await comment(client())
    expect(posts().map((r) => r.status)).toEqual([429, 201])
    expect(logs.some((l) => /secondary rate limit on POST .* retrying in 7 s/.test(l))).toBe(true)
  })

  it('does not wait past the step deadline: the comment is given up, with a warning saying why', async () => {
    gh.faults.push({
      method: 'POST',
      status: 403,
      message: SECONDARY_LIMIT_MESSAGE,
      headers: { 'retry-after': '20000' },
      times: 1,
    })
    // 20,000 × 1 ms would end after a deadline 5 s away, on a clock that does not move (5 s leaves
    // time for the write to be sent: no request starts after the deadline, and a try's timeout is
    // what is left of it).
    const now = () => 1_700_000_000_000
    const c = client({ deadline: now() + 5_000, now, maxRateLimitWaitSeconds: 100_000 })
    await expect(comment(c)).rejects.toThrow(/secondary rate limit/)
    expect(posts()).toHaveLength(1)
    expect(logs).toContainEqual(
      expect.stringMatching(/not retrying: waiting 20000 s would pass the step's deadline/),
    )
  })

  it("the fake's own secondary limit refuses writes past its rate, with retry-after", async () => {
    const limited = await startFakeGitHub({ secondaryLimit: { writes: 2, windowMs: 60_000, retryAfterS: 1 } })
    try {
      const send = () =>
        fetch(`${limited.url}/repos/${REPO}/issues/1/comments`, { method: 'POST', body: '{"body":"x"}' })
      const answers = [await send(), await send(), await send()]
      expect(answers.map((a) => a.status)).toEqual([201, 201, 403])
      expect(answers[2]!.headers.get('retry-after')).toBe('1')
      expect(((await answers[2]!.json()) as { message: string }).message).toMatch(/secondary rate limit/)
      // Reads are not content creation.
      expect((await fetch(`${limited.url}/repos/${REPO}/issues/1/comments`)).status).toBe(200)
      expect(limited.secondaryLimited).toHaveLength(1)
    } finally {
      await limited.close()
    }
  })
})
