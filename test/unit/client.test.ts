import { afterEach, describe, expect, it } from 'vitest'
import { NeonClient } from '../../src/neon/client.js'
import { NeonApiError } from '../../src/neon/errors.js'
import { DEFAULT_RETRY_POLICY } from '../../src/neon/retry.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { json, scriptedServer, type Handler } from '../helpers/scripted-server.js'

let server: Awaited<ReturnType<typeof scriptedServer>> | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function client(handlers: Handler[], extra: Partial<ConstructorParameters<typeof NeonClient>[0]> = {}) {
  await server?.close() // one scripted server at a time: a test that builds a second closes the first
  server = await scriptedServer(handlers)
  const clock = new FakeClock()
  const secrets: string[] = []
  const debug: string[] = []
  const c = new NeonClient({
    apiKey: 'key-abc',
    apiHost: `${server.url}/api/v2`,
    userAgent: 'neon-preview-branch/test',
    clock,
    random: () => 0.5,
    onSecret: (s) => secrets.push(s),
    debug: (l) => debug.push(l),
    ...extra,
  })
  return { c, clock, secrets, debug, seen: server.seen }
}

const branch = {
  id: 'br-a-1',
  project_id: 'p-1',
  name: 'x',
  current_state: 'ready',
  default: false,
  protected: false,
  created_at: '',
  updated_at: '',
}

describe('NeonClient.request', () => {
  it('sends auth, user agent, JSON body, and builds the path from the route', async () => {
    const { c, seen } = await client([
      json(201, { branch, endpoints: [], operations: [], roles: [], databases: [] }),
    ])
    await c.createBranch('p-1', { branch: { name: 'x' }, endpoints: [{ type: 'read_write' }] })
    expect(seen[0]?.method).toBe('POST')
    expect(seen[0]?.url).toBe('/api/v2/projects/p-1/branches')
    expect(seen[0]?.headers.authorization).toBe('Bearer key-abc')
    expect(seen[0]?.headers['user-agent']).toBe('neon-preview-branch/test')
    expect(seen[0]?.headers['content-type']).toBe('application/json')
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      branch: { name: 'x' },
      endpoints: [{ type: 'read_write' }],
    })
    expect(c.stats).toEqual({
      requests: 1,
      retries: 0,
      byRoute: { 'POST /projects/{project_id}/branches': 1 },
      lock: { waits: 0, tries: 0, waitedMs: 0, longestMs: 0 },
    })
  })

  it('percent-encodes path parameters (role names may hold anything)', async () => {
    const { c, seen } = await client([json(200, { password: 'pw' })])
    await c.revealPassword('p-1', 'br-a-1', 'we/ird role?')
    expect(seen[0]?.url).toBe('/api/v2/projects/p-1/branches/br-a-1/roles/we%2Fird%20role%3F/reveal_password')
  })

  it('retries a read answered 423 and 429 by the backoff policy, honouring Retry-After, then succeeds', async () => {
    // A mutating request answered 423 waits for the project lock instead (lock-wait.test.ts).
    const locked = {
      code: '',
      message: 'project already has running conflicting operations, scheduling of new ones is prohibited',
    }
    const { c, clock, seen } = await client([
      json(423, locked),
      json(429, { code: '', message: 'rate limit' }, { 'Retry-After': '2' }),
      json(200, { endpoints: [] }),
    ])
    await expect(c.listBranchEndpoints('p-1', 'br-a-1')).resolves.toEqual([])
    expect(seen).toHaveLength(3)
    // first retry: full jitter with random 0.5 of base 500 → 250; second: Retry-After 2 s.
    expect(clock.sleeps).toEqual([250, 2000])
    expect(c.stats.retries).toBe(2)
    expect(c.stats.lock.waits).toBe(0)
  })

  it('retries 500 on GET but not on POST', async () => {
    const { c, seen } = await client([json(500, { code: '', message: 'boom' }), json(200, { endpoints: [] })])
    await expect(c.listBranchEndpoints('p-1', 'br-a-1')).resolves.toEqual([])
    expect(seen).toHaveLength(2)
    const second = await client([json(500, { code: '', message: 'boom' })])
    await expect(second.c.createRole('p-1', 'br-a-1', 'r')).rejects.toThrow(/HTTP 500/)
    expect(second.seen).toHaveLength(1)
  })

  it('fails at once on other 4xx with method, path, status, code, message and request id', async () => {
    const { c, seen } = await client([
      json(404, { code: 'NOT_FOUND', message: 'branch not found', request_id: 'rid-42' }),
    ])
    const err = await c.getBranch('p-1', 'br-x').catch((e: unknown) => e)
    expect(seen).toHaveLength(1)
    expect(err).toBeInstanceOf(NeonApiError)
    const e = err as NeonApiError
    expect(e.status).toBe(404)
    expect(e.requestId).toBe('rid-42')
    expect(e.message).toBe(
      'GET /projects/p-1/branches/br-x: HTTP 404 Not Found [NOT_FOUND]: branch not found (request id rid-42)',
    )
  })

  it('takes the request id from the header when the body has none', async () => {
    const { c } = await client([
      json(401, { code: '', message: 'authentication failed' }, { 'X-Neon-Ret-Request-Id': 'hdr-7' }),
    ])
    await expect(c.getBranch('p-1', 'br-x')).rejects.toThrow(
      'HTTP 401 Unauthorized: authentication failed (request id hdr-7)',
    )
  })

  it('falls back to x-request-id when Neon sends no X-Neon-Ret-Request-Id', async () => {
    const { c } = await client([
      (_q, res) => {
        res.writeHead(403, { 'Content-Type': 'application/json', 'x-request-id': 'fallback-9' })
        res.end(JSON.stringify({ code: '', message: 'forbidden' }))
      },
    ])
    await expect(c.getBranch('p-1', 'br-x')).rejects.toThrow('(request id fallback-9)')
  })

  it('deleteBranch: 204 and 404 both mean already gone (null); 200 gives the operations', async () => {
    const gone204 = await client([json(204, undefined)])
    await expect(gone204.c.deleteBranch('p-1', 'br-a-1')).resolves.toBeNull()
    const gone404 = await client([json(404, { code: '', message: 'branch not found' })])
    await expect(gone404.c.deleteBranch('p-1', 'br-a-1')).resolves.toBeNull()
    const ok = await client([json(200, { branch, operations: [{ id: 'op-1' }] })])
    await expect(ok.c.deleteBranch('p-1', 'br-a-1')).resolves.toMatchObject({ operations: [{ id: 'op-1' }] })
    const refused = await client([json(400, { code: '', message: 'cannot delete the default branch' })])
    await expect(refused.c.deleteBranch('p-1', 'br-a-1')).rejects.toThrow(/HTTP 400/)
  })

  it('gives up after maxAttempts and says how many', async () => {
    const { c, seen } = await client([json(503, { code: '', message: 'unavailable' })], {
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 },
    })
    await expect(c.getBranch('p-1', 'br-x')).rejects.toThrow(
      /HTTP 503 Service Unavailable: unavailable .* after 3 attempts/,
    )
    expect(seen).toHaveLength(3)
  })

  it('treats 204 as an answer without a body', async () => {
    const { c } = await client([json(204, undefined)])
    const r = await c.listBranchEndpoints('p-1', 'br-gone')
    expect(r).toEqual([])
  })

  it('retries a malformed JSON answer on GET and reports it on POST', async () => {
    const broken: Handler = (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end('{"branch": {')
    }
    const { c, seen } = await client([broken, json(200, { branch })])
    await expect(c.getBranch('p-1', 'br-a-1')).resolves.toMatchObject({ id: 'br-a-1' })
    expect(seen).toHaveLength(2)
    const second = await client([broken])
    await expect(second.c.createRole('p-1', 'br-a-1', 'r')).rejects.toThrow(/not valid JSON/)
  })

  it('times out a hung request and retries it', async () => {
    const hang: Handler = () => undefined
    const { c, seen } = await client([hang, json(200, { branch })], { requestTimeoutMs: 100 })
    await expect(c.getBranch('p-1', 'br-a-1')).resolves.toMatchObject({ id: 'br-a-1' })
    expect(seen).toHaveLength(2)
  })

  it('reports a network error with its cause', async () => {
    const clock = new FakeClock()
    const closed = await scriptedServer([])
    await closed.close()
    const c = new NeonClient({
      apiKey: 'k',
      apiHost: `${closed.url}/api/v2`,
      userAgent: 'ua',
      clock,
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 2 },
    })
    await expect(c.getBranch('p', 'br-x')).rejects.toThrow(
      /no response: network error: ECONNREFUSED .*after 2 attempts/,
    )
  })

  it('hands every password and URI to onSecret before returning', async () => {
    const { c, secrets } = await client([
      json(201, {
        branch,
        endpoints: [],
        operations: [],
        roles: [{ name: 'r', password: 'pw-1' }],
        databases: [],
        connection_uris: [
          { connection_uri: 'postgresql://r:pw-1@h/db', connection_parameters: { password: 'pw-1' } },
        ],
      }),
    ])
    await c.createBranch('p-1', { branch: { name: 'x' }, endpoints: [] })
    expect(secrets).toEqual(['pw-1', 'postgresql://r:pw-1@h/db', 'pw-1'])
  })

  it('never writes a body or the api key in debug lines', async () => {
    const { c, debug } = await client([json(200, { password: 'hunter2' })])
    await c.revealPassword('p-1', 'br-a-1', 'r')
    expect(debug.join('\n')).not.toMatch(/hunter2|key-abc/)
    expect(debug[0]).toMatch(
      /^GET \/projects\/p-1\/branches\/br-a-1\/roles\/r\/reveal_password -> 200 \(\d+ ms, request id req-200\)$/,
    )
  })

  it('follows pagination cursors until the last page, merging annotations', async () => {
    const page = (ids: string[], next?: string): Handler =>
      json(200, {
        branches: ids.map((id) => ({ ...branch, id, name: id })),
        annotations: Object.fromEntries(
          ids.map((id) => [id, { object: { type: 'console/branch', id }, value: { k: id } }]),
        ),
        pagination: next ? { next } : {},
      })
    const { c, seen } = await client([
      page(['br-1', 'br-2'], 'c1'),
      page(['br-3', 'br-4'], 'c2'),
      page(['br-5']),
    ])
    const r = await c.listBranches('p-1', 'x', 2)
    expect(r.branches.map((b) => b.id)).toEqual(['br-1', 'br-2', 'br-3', 'br-4', 'br-5'])
    expect(Object.keys(r.annotations)).toHaveLength(5)
    expect(seen.map((s) => s.url)).toEqual([
      '/api/v2/projects/p-1/branches?search=x&limit=2',
      '/api/v2/projects/p-1/branches?search=x&limit=2&cursor=c1',
      '/api/v2/projects/p-1/branches?search=x&limit=2&cursor=c2',
    ])
  })

  it('a page shorter than the limit is not the end: Neon caps pages at 100 and gives a cursor', async () => {
    const page = (ids: string[], next?: string): Handler =>
      json(200, {
        branches: ids.map((id) => ({ ...branch, id, name: id })),
        pagination: next ? { next } : {},
      })
    // Neon answers at most 100 a page whatever `limit` asks; this server answers fewer still.
    const { c, seen } = await client([page(['br-1'], 'c1'), page(['br-2'], 'c2'), page([], 'c3')])
    const r = await c.listBranches('p-1')
    expect(r.branches.map((b) => b.id)).toEqual(['br-1', 'br-2'])
    // Page size 100, as Neon's CLI asks; the empty third page ends the walk although it has a cursor.
    expect(seen.map((s) => s.url)).toEqual([
      '/api/v2/projects/p-1/branches?limit=100',
      '/api/v2/projects/p-1/branches?limit=100&cursor=c1',
      '/api/v2/projects/p-1/branches?limit=100&cursor=c2',
    ])
  })

  it('stops when a server repeats a cursor', async () => {
    const full = json(200, {
      branches: [
        { ...branch, id: 'br-1' },
        { ...branch, id: 'br-2' },
      ],
      pagination: { next: 'same' },
    })
    const { c, seen } = await client([full])
    await c.listBranches('p-1', undefined, 2)
    expect(seen).toHaveLength(2)
  })
})
