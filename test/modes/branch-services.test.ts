// get_auth_url and get_data_api_url: Neon Auth's base_url and the Data API's url of the branch, read
// beside the other reads that make the branch usable (issue 24; BEHAVIOUR.md, "Neon Auth and the
// Data API"); a 404 is "not enabled" (null, with a notice), any other failure fails the run.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMode } from '../../src/modes/create.js'
import { resetMode } from '../../src/modes/reset.js'
import { harness, inputsFor, prContext } from '../helpers/mode-harness.js'
import { startNeonSimulator, type NeonSimulator, type RequestLogEntry } from '../sim/index.js'

const AUTH = 'GET /projects/{project_id}/branches/{branch_id}/auth'
const DATA_API = 'GET /projects/{project_id}/branches/{branch_id}/data-api/{database_name}'
const READS = [
  'GET /projects/{project_id}/branches/{branch_id}/endpoints',
  'GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password',
  'GET /projects/{project_id}/branches/{branch_id}/databases',
]
const NAME = 'preview/pr-12-feature/login'
const BOTH = { get_auth_url: 'true', get_data_api_url: 'true' }

let sim: NeonSimulator
let projectId: string

beforeEach(async () => {
  // Real time and 40 ms per answer: requests in flight together overlap in the log, requests made
  // one after another never can, however fast or slow the machine is (as connect.test.ts).
  sim = await startNeonSimulator({
    latencyMs: 40,
    operationMs: { create_branch: 5, start_compute: 5, create_timeline: 5 },
  })
  projectId = sim.createProject({ id: 'services-proj-1' }).id
})
afterEach(async () => {
  await sim.close()
})

const synchronize = () => prContext(12, 'feature/login', { action: 'synchronize' })
const overlap = (a: RequestLogEntry, b: RequestLogEntry): boolean => a.at < b.at + b.ms && b.at < a.at + a.ms
const entry = (log: RequestLogEntry[], route: string): RequestLogEntry => {
  const e = log.find((l) => l.route === route)
  expect(e, route).toBeDefined()
  return e!
}
const adopt = (over: Record<string, string> = {}) => {
  const h = harness(sim, synchronize())
  return { h, result: createMode(h.deps, inputsFor(projectId, sim.apiKey, over)) }
}

describe('auth_url and data_api_url', () => {
  it('are read beside the other reads of an adopted branch: no round trip of their own', async () => {
    const b = sim.addBranch(projectId, { name: NAME })
    sim.enableNeonAuth(projectId, b.id)
    sim.enableDataApi(projectId, b.id, 'neondb')
    // A first run compiles the simulator's validators for these routes (once per process); what it
    // costs the event loop would blur the timing of the run measured.
    await adopt(BOTH).result
    const before = sim.log.length
    const r = await adopt(BOTH).result
    const log = sim.log.slice(before)
    const auth = entry(log, AUTH)
    const data = entry(log, DATA_API)
    for (const route of READS) {
      expect(overlap(auth, entry(log, route)), route).toBe(true)
      expect(overlap(data, entry(log, route)), route).toBe(true)
    }
    expect(data.path).toMatch(/\/data-api\/neondb$/)
    const host = sim.world.readWriteEndpoint(b.id)!.host
    const [label, ...rest] = host.split('.')
    expect(r.authUrl).toBe(`https://${label}.neonauth.${rest.join('.')}/neondb/auth`)
    expect(r.dataApiUrl).toBe(`https://${label}.apirest.${rest.join('.')}/neondb/rest/v1`)
  })

  it('the Data API is read for `database`', async () => {
    const b = sim.addBranch(projectId, { name: NAME })
    const { result } = adopt({ get_data_api_url: 'true', database: 'app' })
    // The run creates 'app' (it was missing); its Data API is not enabled.
    expect((await result).dataApiUrl).toBeNull()
    expect(sim.log.find((l) => l.route === DATA_API)?.path).toBe(
      `/api/v2/projects/${projectId}/branches/${b.id}/data-api/app`,
    )
  })

  it('are not asked for, and absent from the result, unless the inputs say so', async () => {
    sim.addBranch(projectId, { name: NAME })
    const r = await adopt().result
    expect('authUrl' in r).toBe(false)
    expect('dataApiUrl' in r).toBe(false)
    expect(sim.log.some((l) => l.route === AUTH || l.route === DATA_API)).toBe(false)
  })

  it('a 404 is "not enabled on the branch": null and a notice, and the run succeeds', async () => {
    sim.addBranch(projectId, { name: NAME })
    const { h, result } = adopt(BOTH)
    const r = await result
    expect(r.authUrl).toBeNull()
    expect(r.dataApiUrl).toBeNull()
    expect(r.connection?.urls.dbUrl).toMatch(/^postgresql:/)
    expect(h.logs).toContainEqual(
      expect.stringMatching(/^notice: Neon Auth is not enabled on branch 'preview\/pr-12/),
    )
    expect(h.logs).toContainEqual(
      expect.stringMatching(
        /^notice: The Data API is not enabled for database 'neondb' on branch 'preview\/pr-12/,
      ),
    )
  })

  it('Neon Auth without a base_url is reported as such', async () => {
    const b = sim.addBranch(projectId, { name: NAME })
    sim.enableNeonAuth(projectId, b.id)
    sim.faults.add({
      route: AUTH,
      status: 200,
      body: {
        auth_provider: 'better_auth',
        auth_provider_project_id: 'x',
        branch_id: b.id,
        db_name: 'neondb',
        created_at: '2026-01-01T00:00:00Z',
        owned_by: 'neon',
        jwks_url: 'https://example.invalid/jwks.json',
      },
    })
    const { h, result } = adopt({ get_auth_url: 'true' })
    expect((await result).authUrl).toBeNull()
    expect(h.logs).toContainEqual(expect.stringMatching(/Neon reported no base_url: auth_url is empty/))
  })

  it.each([
    [AUTH, 403, 'auth'],
    [DATA_API, 500, 'data-api/neondb'],
  ])(
    'any other failure of %s (%i) fails the run, naming the request and the status',
    async (route, status, path) => {
      sim.addBranch(projectId, { name: NAME })
      sim.faults.add({
        route,
        status,
        times: Infinity,
        headers: { 'Retry-After': '0' },
        body: { code: '', message: 'not today' },
      })
      const err = await adopt(BOTH).result.then(
        () => new Error('the run succeeded'),
        (e: unknown) => e as Error,
      )
      expect(err).toBeInstanceOf(Error)
      expect(err.message).toMatch(new RegExp(`GET /projects/${projectId}/branches/br-[a-z0-9-]+/${path}`))
      expect(err.message).toContain(`HTTP ${status}`)
      expect(err.message).toContain('not today')
    },
  )

  it('a branch this run creates inherits Neon Auth from its parent (its own URL); the Data API it does not', async () => {
    sim.enableNeonAuth(projectId, defaultBranch())
    const h = harness(sim)
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey, BOTH))
    expect(r.created).toBe(true)
    expect(r.authUrl).toContain(r.connection!.endpointId)
    expect(r.dataApiUrl).toBeNull()
  })

  it('reset reads them beside the reads and the expiry PATCH', async () => {
    const b = sim.addBranch(projectId, { name: NAME })
    sim.enableNeonAuth(projectId, b.id)
    const before = sim.log.length
    const r = await resetMode(
      harness(sim, synchronize()).deps,
      inputsFor(projectId, sim.apiKey, { mode: 'reset', ...BOTH }),
    )
    const log = sim.log.slice(before)
    const auth = entry(log, AUTH)
    expect(overlap(auth, entry(log, 'PATCH /projects/{project_id}/branches/{branch_id}'))).toBe(true)
    expect(overlap(auth, entry(log, READS[0]!))).toBe(true)
    expect(r.authUrl).toMatch(/\.neonauth\./)
    expect(r.dataApiUrl).toBeNull()
  })
})

describe('init_source', () => {
  it('a schema-only branch is marked so in the result, created or adopted', async () => {
    const created = await createMode(
      harness(sim).deps,
      inputsFor(projectId, sim.apiKey, { branch_type: 'schema-only' }),
    )
    expect(created.branch?.schemaOnly).toBe(true)
    const adopted = await adopt().result
    expect(adopted.created).toBe(false)
    expect(adopted.branch?.schemaOnly).toBe(true)
    sim.addBranch(projectId, { name: 'preview/pr-13-x' })
    const plain = await createMode(
      harness(sim, prContext(13, 'x', { action: 'synchronize' })).deps,
      inputsFor(projectId, sim.apiKey),
    )
    expect('schemaOnly' in plain.branch!).toBe(false)
  })
})

function defaultBranch(): string {
  return sim.world.project(projectId)!.defaultBranchId
}
