import { afterEach, describe, expect, it } from 'vitest'
import { NeonClient } from '../../src/neon/client.js'
import { DEFAULT_RETRY_POLICY } from '../../src/neon/retry.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { json, scriptedServer, type Handler } from '../helpers/scripted-server.js'

// One deadline for the step (issue 22, item 10): `timeout` bounds every try, every retry and every
// Retry-After; listings have a page cap, bodies a size cap, and a redirect is never followed.

const servers: Awaited<ReturnType<typeof scriptedServer>>[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function client(handlers: Handler[], extra: Partial<ConstructorParameters<typeof NeonClient>[0]> = {}) {
  const server = await scriptedServer(handlers)
  servers.push(server)
  const clock = new FakeClock()
  const c = new NeonClient({
    apiKey: 'key-abc',
    apiHost: `${server.url}/api/v2`,
    userAgent: 'neon-preview-branch/test',
    clock,
    random: () => 0.5,
    ...extra,
    ...(extra.deadline !== undefined ? { deadline: clock.now() + extra.deadline } : {}),
  })
  return { c, clock, seen: server.seen }
}

const branch = (id: string) => ({
  id,
  project_id: 'p-1',
  name: id,
  current_state: 'ready',
  default: false,
  protected: false,
  created_at: '',
  updated_at: '',
})

describe('the step deadline in the Neon client', () => {
  it('fails at once, saying so, when a Retry-After would pass the deadline', async () => {
    const { c, clock, seen } = await client(
      [
        json(429, { code: '', message: 'rate limit exceeded' }, { 'Retry-After': '60' }),
        json(200, { endpoints: [] }),
      ],
      { deadline: 10_000 },
    )
    const err = (await c.listBranchEndpoints('p-1', 'br-a-1').catch((e: unknown) => e)) as Error
    expect(err.message).toMatch(
      /^GET \/projects\/p-1\/branches\/br-a-1\/endpoints: HTTP 429 Too Many Requests: rate limit exceeded \(request id req-429\)\. /,
    )
    expect(err.message).toContain(
      "Neon asked to wait 60.0 s before trying again (Retry-After), which would pass the step's deadline (the 'timeout' input); not tried again",
    )
    expect(seen).toHaveLength(1)
    expect(clock.sleeps).toEqual([])
  })

  it('does not wait for a backoff that would end after the deadline', async () => {
    const { c, clock, seen } = await client(
      [json(503, { code: '', message: 'service unavailable' }), json(200, { endpoints: [] })],
      { deadline: 100 },
    )
    await expect(c.listBranchEndpoints('p-1', 'br-a-1')).rejects.toThrow(
      "HTTP 503 Service Unavailable: service unavailable (request id req-503). The next try, in 250 ms, would come after the step's deadline",
    )
    expect(seen).toHaveLength(1)
    expect(clock.sleeps).toEqual([])
  })

  it('sends nothing once the deadline has passed', async () => {
    const { c, seen } = await client([json(200, { endpoints: [] })], { deadline: -1 })
    await expect(c.listBranchEndpoints('p-1', 'br-a-1')).rejects.toThrow(
      "GET /projects/p-1/branches/br-a-1/endpoints: no response: not sent: the step's deadline (the 'timeout' input) has passed",
    )
    expect(seen).toHaveLength(0)
  })

  it("ends a try's own timeout at the deadline (a hung answer does not hold the step for 30 s)", async () => {
    const { c } = await client([() => {}], {
      requestTimeoutMs: 30_000,
      deadline: 1000,
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 },
    })
    await expect(c.getBranch('p-1', 'br-a-1')).rejects.toThrow(
      "no response within 1000 ms (what was left of the step's 'timeout')",
    )
  })
})

describe('what the Neon client refuses to follow or read', () => {
  it('refuses a redirect instead of following it with the key, and does not retry it', async () => {
    const elsewhere = await scriptedServer([json(200, { branch: branch('br-a-1') })])
    servers.push(elsewhere)
    const { c, seen } = await client([
      (_q, res) => {
        res.writeHead(307, { Location: `${elsewhere.url}/api/v2/projects/p-1/branches/br-a-1` })
        res.end()
      },
    ])
    await expect(c.getBranch('p-1', 'br-a-1')).rejects.toThrow(
      /^GET \/projects\/p-1\/branches\/br-a-1: no response: the answer was a redirect, which is refused: the API key goes to api_host and nowhere else/,
    )
    expect(seen).toHaveLength(1)
    expect(elsewhere.seen).toHaveLength(0)
  })

  it('stops reading a body larger than the cap, announced or not', async () => {
    const big = JSON.stringify({ endpoints: [], pad: 'x'.repeat(3 * 1024 * 1024) })
    const announced = await client([json(200, JSON.parse(big))], { maxResponseBytes: 1024 * 1024 })
    await expect(announced.c.listBranchEndpoints('p-1', 'br-a-1')).rejects.toThrow(
      /: HTTP 200: the response was larger than 1048576 bytes; not read/,
    )
    const chunked = await client(
      [
        (_q, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json' })
          for (let i = 0; i < big.length; i += 64 * 1024) res.write(big.slice(i, i + 64 * 1024))
          res.end()
        },
      ],
      { maxResponseBytes: 1024 * 1024 },
    )
    await expect(chunked.c.listBranchEndpoints('p-1', 'br-a-1')).rejects.toThrow(/larger than 1048576 bytes/)
    // A GET whose body is too big is not asked again: the next answer would be as big.
    expect(chunked.seen).toHaveLength(1)
  })

  it('stops a listing that never ends after the page cap, saying so', async () => {
    let page = 0
    const { c, seen } = await client(
      [
        (_q, res) => {
          page++
          json(200, {
            branches: [branch(`br-page-${page}`)],
            annotations: {},
            pagination: { next: `cursor-${page}` },
          })(_q, res)
        },
      ],
      { maxListPages: 5 },
    )
    await expect(c.listBranches('p-1')).rejects.toThrow(
      /^listing the branches of project p-1 stopped after 5 pages \(5 branches\) with more still announced/,
    )
    expect(seen).toHaveLength(5)
  })
})
