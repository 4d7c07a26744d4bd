// Validates every response of a full scenario against Neon's current OpenAPI 3.0 description (the one
// its SDK ships, npm @neondatabase/api-client: see openapi.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startNeonSimulator, type NeonSimulator } from './index.js'
import { api, manualClock, type ApiResult } from './helpers.js'
import { ajvErrors, responseValidator as validatorFor } from './openapi.js'

const clock = manualClock()
let sim: NeonSimulator
const failures: string[] = []
const validated = new Set<string>()

async function call(method: string, path: string, body?: unknown): Promise<ApiResult> {
  const res = await api(sim, method, path, body)
  const entry = sim.log.at(-1)
  const route = entry?.route
  if (!route) throw new Error(`no route matched ${method} ${path}`)
  const template = route.slice(route.indexOf(' ') + 1)
  const v = validatorFor(method, template, res.status)
  if (res.status === 204) {
    if (res.text !== '') failures.push(`${route} 204 has a body`)
  } else if (!v) {
    failures.push(`${route} ${res.status}: no schema in the spec`)
  } else if (!v(res.body)) {
    failures.push(
      `${route} ${res.status}: ${ajvErrors(v, 'response')}\n${JSON.stringify(res.body).slice(0, 500)}`,
    )
  }
  validated.add(`${route} ${res.status}`)
  return res
}

beforeAll(async () => {
  sim = await startNeonSimulator({ clock })
})
afterAll(async () => {
  await sim.close()
})

describe('OpenAPI conformance', () => {
  it('has a validator that rejects wrong shapes', () => {
    const v = validatorFor('GET', '/projects/{project_id}/branches/{branch_id}', 200)
    expect(v?.({ branch: { id: 'br-a-b-c' } })).toBe(false)
    const op = validatorFor('GET', '/projects/{project_id}/operations/{operation_id}', 200)
    expect(
      op?.({
        operation: {
          id: 'not-a-uuid',
          project_id: 'p',
          action: 'create_branch',
          status: 'done',
          failures_count: 0,
          created_at: 'x',
          updated_at: 'y',
          total_duration_ms: 0,
        },
      }),
    ).toBe(false)
    expect(validatorFor('GET', '/projects/{project_id}', 404)?.({ message: 'm' })).toBe(false)
  })

  it('validates every response of a full scenario', async () => {
    const settle = () => clock.advance(60_000)
    const created = await call('POST', '/projects', { project: { name: 'spec-check' } })
    expect(created.status).toBe(201)
    const pid = created.body.project.id as string
    const P = `/projects/${pid}`
    const main = created.body.branch.id as string
    settle()
    await call('GET', '/projects')
    await call('GET', '/projects?limit=1')
    await call('GET', P)
    await call('PATCH', P, { project: { name: 'renamed' } })

    const br = await call('POST', `${P}/branches`, {
      branch: {
        name: 'preview/pr-1',
        parent_id: main,
        expires_at: new Date(clock.now() + 86400_000).toISOString(),
      },
      endpoints: [{ type: 'read_write', suspend_timeout_seconds: 300 }],
      annotation_value: { 'github-pr-number': '1', 'github-repo': 'o/r' },
    })
    expect(br.status).toBe(201)
    const bid = br.body.branch.id as string
    const epId = br.body.endpoints[0].id as string
    const locked = await call('POST', `${P}/branches`, { branch: { name: 'x' } })
    expect(locked.status).toBe(423)
    settle()
    expect((await call('POST', `${P}/branches`, { branch: { name: 'preview/pr-1' } })).status).toBe(409)
    const plain = await call('POST', `${P}/branches`, { branch: { name: 'plain' } })
    settle()
    await call('GET', `${P}/branches`)
    await call('GET', `${P}/branches?limit=1&sort_by=name&sort_order=asc`)
    await call('GET', `${P}/branches?search=preview`)
    await call('GET', `${P}/branches/count`)
    await call('GET', `${P}/branches/${bid}`)
    await call('PATCH', `${P}/branches/${bid}`, { branch: { name: 'preview/pr-1b', expires_at: null } })
    await call('POST', `${P}/branches/${plain.body.branch.id}/set_as_default`)
    await call('POST', `${P}/branches/${main}/set_as_default`)

    await call('GET', `${P}/endpoints`)
    await call('GET', `${P}/branches/${bid}/endpoints`)
    await call('GET', `${P}/endpoints/${epId}`)
    await call('PATCH', `${P}/endpoints/${epId}`, { endpoint: { suspend_timeout_seconds: 600 } })
    settle()
    await call('POST', `${P}/endpoints/${epId}/suspend`)
    settle()
    await call('POST', `${P}/endpoints/${epId}/start`)
    settle()
    await call('POST', `${P}/endpoints/${epId}/restart`)
    settle()
    const ro = await call('POST', `${P}/endpoints`, { endpoint: { branch_id: bid, type: 'read_only' } })
    settle()
    await call('DELETE', `${P}/endpoints/${ro.body.endpoint.id}`)
    settle()

    await call('GET', `${P}/branches/${bid}/roles`)
    await call('POST', `${P}/branches/${bid}/roles`, { role: { name: 'app' } })
    settle()
    await call('GET', `${P}/branches/${bid}/roles/app`)
    await call('GET', `${P}/branches/${bid}/roles/app/reveal_password`)
    await call('POST', `${P}/branches/${bid}/roles/app/reset_password`)
    settle()

    await call('GET', `${P}/branches/${bid}/databases`)
    await call('POST', `${P}/branches/${bid}/databases`, { database: { name: 'appdb', owner_name: 'app' } })
    settle()
    await call('GET', `${P}/branches/${bid}/databases/appdb`)
    await call('PATCH', `${P}/branches/${bid}/databases/appdb`, { database: { name: 'appdb2' } })
    settle()
    await call('DELETE', `${P}/branches/${bid}/databases/appdb2`)
    settle()
    await call('DELETE', `${P}/branches/${bid}/roles/app`)
    settle()

    await call('GET', `${P}/connection_uri?database_name=neondb&role_name=neondb_owner`)
    await call(
      'GET',
      `${P}/connection_uri?database_name=neondb&role_name=neondb_owner&branch_id=${bid}&pooled=false`,
    )
    await call('GET', `${P}/connection_uri?role_name=neondb_owner`)

    const ops = await call('GET', `${P}/operations`)
    await call('GET', `${P}/operations?limit=2`)
    await call('GET', `${P}/operations/${ops.body.operations[0].id}`)

    sim.setSchema(pid, main, 'neondb', 'CREATE TABLE public.a (id integer);\n')
    await call('GET', `${P}/branches/${bid}/schema?db_name=neondb`)
    await call(
      'GET',
      `${P}/branches/${main}/schema?db_name=neondb&timestamp=${new Date(clock.now()).toISOString()}`,
    )
    await call('GET', `${P}/branches/${main}/schema?db_name=neondb&lsn=0/1`)
    await call('GET', `${P}/branches/${bid}/schema?db_name=nope`)
    await call('GET', `${P}/branches/${bid}/compare_schema?db_name=neondb&base_branch_id=${main}`)
    await call('GET', `${P}/branches/${bid}/compare_schema?db_name=neondb`)

    const child = await call('POST', `${P}/branches`, { branch: { name: 'child', parent_id: bid } })
    settle()
    await call('POST', `${P}/branches/${bid}/restore`, { source_branch_id: main })
    await call('POST', `${P}/branches/${bid}/restore`, {
      source_branch_id: main,
      preserve_under_name: 'pr-1-old',
    })
    settle()
    await call('DELETE', `${P}/branches/${main}`)
    await call('DELETE', `${P}/branches/${child.body.branch.id}`)
    settle()
    await call('DELETE', `${P}/branches/${child.body.branch.id}`)
    await call('GET', `${P}/branches/${child.body.branch.id}`)

    // Anonymized branches (BEHAVIOUR.md, "Anonymized branches"): every route, in every state.
    const rules = [
      {
        database_name: 'neondb',
        schema_name: 'public',
        table_name: 'users',
        column_name: 'email',
        masking_function: 'anon.fake_email()',
      },
      {
        database_name: 'neondb',
        schema_name: 'public',
        table_name: 'users',
        column_name: 'phone',
        masking_value: 'CONFIDENTIAL',
      },
    ]
    const anon = await call('POST', `${P}/branch_anonymized`, {
      branch_create: {
        branch: { name: 'preview/anon', parent_id: main },
        endpoints: [{ type: 'read_write' }],
      },
      masking_rules: rules,
      start_anonymization: true,
      annotation_value: { 'github-pr-number': '2' },
    })
    expect(anon.status).toBe(201)
    expect(anon.body.branch.restricted_actions).toHaveLength(2)
    const aid = anon.body.branch.id as string
    const A = `${P}/branches/${aid}`
    expect((await call('GET', `${A}/anonymized_status`)).body.state).toBe('created')
    expect((await call('POST', `${A}/anonymize`)).status).toBe(400)
    settle()
    const masked = await call('GET', `${A}/anonymized_status`)
    expect(masked.body.state).toBe('anonymized')
    expect(masked.body.last_run.masked_columns).toBe(2)
    await call('GET', A)
    await call('GET', `${A}/masking_rules`)
    await call('PATCH', `${A}/masking_rules`, { masking_rules: rules.slice(0, 1) })
    expect((await call('POST', `${A}/anonymize`)).body.state).toBe('anonymizing')
    expect((await call('GET', `${A}/anonymized_status`)).body.state).toBe('anonymizing')
    settle()
    expect((await call('POST', `${A}/restore`, { source_branch_id: main })).status).toBe(400)
    expect((await call('DELETE', `${P}/endpoints/${anon.body.endpoints[0].id}`)).status).toBe(400)
    expect((await call('GET', `${P}/branches/${main}/anonymized_status`)).status).toBe(404)
    expect((await call('GET', `${P}/branches/${main}/masking_rules`)).status).toBe(400)
    sim.failNextAnonymization('anonymization', 'ERROR: simulated')
    const failing = await call('POST', `${P}/branch_anonymized`, {
      branch_create: {
        branch: { name: 'preview/anon-2', parent_id: main },
        endpoints: [{ type: 'read_write' }],
      },
      masking_rules: rules,
      start_anonymization: true,
    })
    settle()
    const failed = await call('GET', `${P}/branches/${failing.body.branch.id}/anonymized_status`)
    expect(failed.body).toMatchObject({
      state: 'error',
      status_message: 'ERROR: simulated',
      failed_at: expect.any(String),
    })
    const unstarted = await call('POST', `${P}/branch_anonymized`, {
      branch_create: { branch: { name: 'preview/anon-3', parent_id: main } },
      masking_rules: rules,
    })
    settle()
    expect(
      (await call('GET', `${P}/branches/${unstarted.body.branch.id}/anonymized_status`)).body.state,
    ).toBe('initialized')
    await call('DELETE', A)
    settle()
    // restricted_actions on a branch, Neon Auth and the Data API, each answered and refused.
    const restricted = sim.addBranch(pid, {
      name: 'restricted',
      restrictedActions: [
        { name: 'restore', reason: 'the branch is anonymized' },
        { name: 'delete-rw-endpoint', reason: 'the branch is anonymized' },
      ],
    })
    const got = await call('GET', `${P}/branches/${restricted.id}`)
    expect(got.body.branch.restricted_actions).toHaveLength(2)
    expect(
      (await call('POST', `${P}/branches/${restricted.id}/restore`, { source_branch_id: main })).status,
    ).toBe(400)
    expect((await call('GET', `${P}/branches/${bid}/auth`)).status).toBe(404)
    expect((await call('GET', `${P}/branches/${bid}/data-api/neondb`)).status).toBe(404)
    sim.enableNeonAuth(pid, bid)
    sim.enableDataApi(pid, bid, 'neondb')
    expect((await call('GET', `${P}/branches/${bid}/auth`)).body.base_url).toMatch(
      /^https:\/\/ep-[^/]+\.neonauth\./,
    )
    expect((await call('GET', `${P}/branches/${bid}/data-api/neondb`)).body.url).toMatch(
      /^https:\/\/ep-[^/]+\.apirest\./,
    )

    // Deleted branches: listed with `recovery`, recovered with {branch, endpoints}, and the refusals.
    const withDeleted = await call('GET', `${P}/branches?include_deleted=true`)
    expect(
      withDeleted.body.branches.find((b: { id: string }) => b.id === child.body.branch.id).recovery,
    ).toBeDefined()
    await call('GET', `${P}/branches?include_deleted=true&search=child&limit=1`)
    await call('GET', `${P}/branches?include_deleted=false`)
    expect((await call('POST', `${P}/branches/${child.body.branch.id}/recover`)).status).toBe(200)
    expect((await call('POST', `${P}/branches/${child.body.branch.id}/recover`)).status).toBe(400)
    expect((await call('POST', `${P}/branches/br-no-such-12345678/recover`)).status).toBe(404)
    settle()
    await call('DELETE', `${P}/branches/${child.body.branch.id}?hard_delete=true`)
    settle()
    expect((await call('POST', `${P}/branches/${child.body.branch.id}/recover`)).status).toBe(404)

    // A project seeded directly, and deletion.
    const seeded = sim.createProject()
    sim.addBranch(seeded.id, { name: 'seeded', annotations: { a: 'b' } })
    await call('GET', `/projects/${seeded.id}/branches`)
    await call('DELETE', `/projects/${seeded.id}`)

    expect(failures).toEqual([])
    // Every route the simulator serves was exercised with a success status.
    const served = new Set(
      [...validated].filter((k) => /\s2\d\d$/.test(k)).map((k) => k.replace(/\s\d+$/, '')),
    )
    const missing = [...new Set(sim.log.map((e) => e.route))].filter(
      (r): r is string => r !== null && !served.has(r),
    )
    expect(missing).toEqual([])
    expect(served.size).toBeGreaterThanOrEqual(35)
  })
})
