// The simulator refuses what Neon's OpenAPI description does not allow, with Neon's error shape.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startNeonSimulator, type NeonSimulator } from './index.js'
import { api, manualClock } from './helpers.js'
import { createRequire } from 'node:module'
import { openApi, requestProblems, SPEC_PATH } from './openapi.js'

let sim: NeonSimulator
let P: string
let branchId: string

beforeAll(async () => {
  sim = await startNeonSimulator({ clock: manualClock() })
  const project = sim.createProject({ id: 'valid-proj-1' })
  P = `/projects/${project.id}`
  branchId = project.defaultBranchId
})
afterAll(async () => {
  await sim.close()
})

async function refused(method: string, path: string, body?: unknown): Promise<string> {
  const before = sim.snapshot()
  const r = await api(sim, method, path, body)
  expect(r.status, `${method} ${path}`).toBe(400)
  expect(r.body).toEqual({ code: '', message: expect.any(String), request_id: expect.any(String) })
  expect(r.body.message).toMatch(/^request does not match the API description: /)
  expect(sim.log.at(-1)?.invalid?.length).toBeGreaterThan(0)
  expect(sim.snapshot()).toEqual(before) // nothing was done
  return r.body.message as string
}

describe('requests are checked against the OpenAPI description', () => {
  it('path parameters: a branch name where an id belongs, an upper-case project id, a non-uuid operation', async () => {
    expect(await refused('GET', `${P}/branches/${encodeURIComponent('preview/pr-1')}`)).toMatch(
      /path parameter branch_id must match pattern "\^\[a-z0-9-\]\{1,60\}\$"/,
    )
    expect(await refused('GET', '/projects/Valid-Proj-1/branches')).toMatch(/path parameter project_id/)
    expect(await refused('GET', `${P}/branches/${'b'.repeat(61)}`)).toMatch(/branch_id/)
    expect(await refused('GET', `${P}/operations/not-a-uuid`)).toMatch(
      /path parameter operation_id must match format "uuid"/,
    )
  })

  it('query parameters: types, enums, bounds and required ones', async () => {
    expect(await refused('GET', `${P}/branches?limit=0`)).toMatch(/query parameter limit must be >= 1/)
    expect(await refused('GET', `${P}/branches?limit=10001`)).toMatch(/limit must be <= 10000/)
    expect(await refused('GET', `${P}/branches?limit=ten`)).toMatch(/limit must be integer/)
    expect(await refused('GET', `${P}/branches?sort_order=sideways`)).toMatch(
      /sort_order must be equal to one of the allowed values/,
    )
    expect(await refused('GET', `${P}/branches?sort_by=size`)).toMatch(/sort_by/)
    expect(await refused('GET', `${P}/connection_uri?role_name=neondb_owner`)).toMatch(
      /query parameter database_name is required/,
    )
    expect(await refused('GET', `${P}/connection_uri?role_name=r&database_name=d&pooled=perhaps`)).toMatch(
      /pooled must be boolean/,
    )
    // Allowed: the bounds themselves, and parameters the description does not name (ignored).
    expect((await api(sim, 'GET', `${P}/branches?limit=10000&sort_order=asc&unknown=1`)).status).toBe(200)
  })

  it('bodies: required, required fields, types, patterns and formats', async () => {
    expect(await refused('POST', `${P}/branches/${branchId}/restore`)).toMatch(/a request body is required/)
    expect(await refused('POST', `${P}/branches/${branchId}/restore`, {})).toMatch(
      /request body must have required property 'source_branch_id'/,
    )
    expect(
      await refused('POST', `${P}/branches/${branchId}/restore`, { source_branch_id: 'Main Branch' }),
    ).toMatch(/source_branch_id must match pattern/)
    expect(await refused('POST', `${P}/branches`, { branch: { parent_id: 'preview/pr-1' } })).toMatch(
      /\/branch\/parent_id must match pattern/,
    )
    expect(await refused('POST', `${P}/branches`, { branch: { name: 42 } })).toMatch(
      /\/branch\/name must be string/,
    )
    expect(await refused('POST', `${P}/branches`, { endpoints: [{ type: 'read_mostly' }] })).toMatch(
      /\/endpoints\/0\/type/,
    )
    expect(await refused('POST', `${P}/branches/${branchId}/roles`, { role: {} })).toMatch(
      /\/role must have required property 'name'/,
    )
    expect(await refused('POST', `${P}/branches/${branchId}/databases`, { database: { name: 'd' } })).toMatch(
      /owner_name/,
    )
    expect(await refused('POST', `${P}/endpoints`, { endpoint: { type: 'read_write' } })).toMatch(
      /\/endpoint must have required property 'branch_id'/,
    )
    expect(await refused('PATCH', `${P}/branches/${branchId}`, { name: 'x' })).toMatch(
      /must have required property 'branch'/,
    )
  })

  it('a valid request goes through, and the check can be switched off', async () => {
    expect((await api(sim, 'POST', `${P}/branches`, { branch: { name: 'ok' } })).status).toBe(201)
    const loose = await startNeonSimulator({ clock: manualClock(), validateRequests: false })
    try {
      const p = loose.createProject()
      // Now the handler's own check answers instead.
      const r = await api(loose, 'GET', `/projects/${p.id}/branches?limit=0`)
      expect(r.status).toBe(400)
      expect(r.body.message).not.toMatch(/API description/)
      expect(loose.log.at(-1)?.invalid).toBeUndefined()
    } finally {
      await loose.close()
    }
  })

  it("the description is Neon's current one, the file its SDK ships (npm @neondatabase/api-client)", () => {
    const sdk = createRequire(import.meta.url)('@neondatabase/api-client/package.json') as { version: string }
    const pinned = (
      createRequire(import.meta.url)('../../package.json') as { devDependencies: Record<string, string> }
    ).devDependencies['@neondatabase/api-client']
    // Pinned to an exact version, so a Neon release arrives as a pull request that changes it.
    expect(pinned).toBe(sdk.version)
    expect(SPEC_PATH).toMatch(/node_modules\/@neondatabase\/api-client\/public-v2-for-users\.gen\.yaml$/)
    const paths = Object.keys(openApi().paths)
    // BEHAVIOUR.md, "Neon's current API description": 111 paths in 2.7.3 (the older copy had 47), among
    // them the routes of anonymized branches, recovery, Neon Auth and the Data API.
    expect(paths.length).toBeGreaterThanOrEqual(111)
    for (const p of [
      '/projects/{project_id}/branch_anonymized',
      '/projects/{project_id}/branches/{branch_id}/masking_rules',
      '/projects/{project_id}/branches/{branch_id}/recover',
      '/projects/{project_id}/branches/{branch_id}/auth',
      '/projects/{project_id}/branches/{branch_id}/data-api/{database_name}',
    ])
      expect(paths).toContain(p)
  })

  it('refuses what only the newer description forbids (the older copy let these through)', async () => {
    // BranchCreateRequest and BranchUpdateRequest bound a name to 1..256 characters.
    expect(await refused('POST', `${P}/branches`, { branch: { name: '' } })).toMatch(
      /\/branch\/name must NOT have fewer than 1 characters/,
    )
    expect(await refused('POST', `${P}/branches`, { branch: { name: 'n'.repeat(257) } })).toMatch(
      /\/branch\/name must NOT have more than 256 characters/,
    )
    expect(await refused('PATCH', `${P}/branches/${branchId}`, { branch: { name: '' } })).toMatch(
      /\/branch\/name/,
    )
    // expires_at on an update is a date-time or null (the older copy had no expires_at at all).
    expect(
      await refused('PATCH', `${P}/branches/${branchId}`, { branch: { expires_at: 'next tuesday' } }),
    ).toMatch(/\/branch\/expires_at must match format "date-time"/)
    // include_deleted on the branch list is a boolean (branch recovery, in preview).
    expect(await refused('GET', `${P}/branches?include_deleted=perhaps`)).toMatch(
      /query parameter include_deleted must be boolean/,
    )
  })

  it('a route the description lacks is not checked; unknown body fields pass (nothing forbids them)', () => {
    expect(
      requestProblems({ method: 'GET', template: '/nowhere', params: {}, query: {}, body: undefined }),
    ).toEqual([])
    expect(
      requestProblems({
        method: 'POST',
        template: '/projects/{project_id}/branches',
        params: { project_id: 'p-1' },
        query: {},
        body: { branch: { name: 'x', colour: 'blue' } },
      }),
    ).toEqual([])
  })
})
