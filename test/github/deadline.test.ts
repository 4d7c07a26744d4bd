/**
 * Issue 30, item 2: GitHub requests inside the step's deadline (src/github/deadline.ts): none
 * starts after it, a try is cut at it and not retried, and no retry is made whose wait would end
 * past it. Clocks are injected where the test needs time to have passed; against the server that
 * never answers, the bound is the client's own deadline (the test's timeout is generous).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createGitHubClient } from '../../src/github/octokit.js'
import { json, scriptedServer } from '../helpers/scripted-server.js'

type Server = Awaited<ReturnType<typeof scriptedServer>>
let servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()))
  servers = []
})
async function server(...handlers: Parameters<typeof scriptedServer>[0]): Promise<Server> {
  const s = await scriptedServer(handlers)
  servers.push(s)
  return s
}

function client(
  url: string,
  o: { deadline: number | (() => number); now?: () => number; retryAfterBaseValue?: number },
) {
  const logs: string[] = []
  const { octokit } = createGitHubClient({
    token: 'ghs_test',
    baseUrl: url,
    userAgent: 'neon-preview-branch/test',
    log: { debug: (m) => logs.push(m), warning: (m) => logs.push(m) },
    throttle: false,
    ...o,
  })
  return { octokit, logs }
}
const getPull = (octokit: ReturnType<typeof client>['octokit']) =>
  octokit.rest.pulls.get({ owner: 'o', repo: 'r', pull_number: 7 })

const T = Date.parse('2030-01-01T00:00:00Z')

describe('GitHub requests and the step deadline', () => {
  it('starts no request once the deadline has passed', async () => {
    const s = await server(json(200, { state: 'open' }))
    const { octokit } = client(s.url, { deadline: T, now: () => T + 1 })
    await expect(getPull(octokit)).rejects.toThrow(
      "GET /repos/{owner}/{repo}/pulls/{pull_number}: not sent: the step's deadline (the 'timeout' input) has passed",
    )
    expect(s.seen).toHaveLength(0)
  })

  it('cuts a try at the deadline against a GitHub that never answers, and does not retry it', async () => {
    const s = await server(() => {})
    // The real clock: the try's own timeout is what is left, 300 ms, not the client's 30 s.
    const { octokit } = client(s.url, { deadline: Date.now() + 300 })
    await expect(getPull(octokit)).rejects.toThrow(
      /no answer before the step's deadline \(the 'timeout' input\) passed/,
    )
    expect(s.seen).toHaveLength(1)
  }, 20_000)

  it('makes no retry whose wait would end past the deadline', async () => {
    const s = await server(json(502, { message: 'Bad gateway' }))
    // The retry plugin would wait 1 s (its base) before the second try; 500 ms are left.
    const { octokit } = client(s.url, { deadline: T + 500, now: () => T })
    await expect(getPull(octokit)).rejects.toMatchObject({ status: 502 })
    expect(s.seen).toHaveLength(1)
  })

  it('retries as before when the deadline leaves room', async () => {
    const s = await server(json(502, { message: 'Bad gateway' }), json(200, { state: 'open' }))
    const { octokit } = client(s.url, { deadline: T + 60_000, now: () => T, retryAfterBaseValue: 1 })
    await expect(getPull(octokit)).resolves.toMatchObject({ data: { state: 'open' } })
    expect(s.seen).toHaveLength(2)
  })

  it('reads a deadline given as a function at each request (the report grace)', async () => {
    const s = await server(json(200, { state: 'open' }))
    let deadline = T
    const { octokit } = client(s.url, { deadline: () => deadline, now: () => T + 1 })
    await expect(getPull(octokit)).rejects.toThrow(/not sent/)
    deadline = T + 5_000
    await expect(getPull(octokit)).resolves.toMatchObject({ data: { state: 'open' } })
    expect(s.seen).toHaveLength(1)
  })
})
