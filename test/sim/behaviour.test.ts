import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startNeonSimulator, LOCKED_MESSAGE, type NeonSimulator, type SimProject } from './index.js'
import { api, manualClock } from './helpers.js'

const clock = manualClock()
let sim: NeonSimulator
let project: SimProject
const P = (): string => `/projects/${project.id}`

beforeAll(async () => {
  sim = await startNeonSimulator({ clock })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(() => {
  sim.reset()
  clock.set(Date.parse('2025-09-10T12:00:00Z'))
  project = sim.createProject()
})

const settle = (): void => clock.advance(60_000)

async function createBranch(body: unknown) {
  return api(sim, 'POST', `${P()}/branches`, body)
}

describe('auth, routing and errors', () => {
  it('answers 401 for a missing or unknown key, with request id in header and body', async () => {
    const res = await fetch(`${sim.apiUrl}${P()}`)
    expect(res.status).toBe(401)
    const body = (await res.json()) as { code: string; message: string; request_id: string }
    expect(body.code).toBe('')
    expect(body.message).toMatch(/authentication failed/)
    expect(body.request_id).toBe(res.headers.get('x-neon-ret-request-id'))
    const wrong = await api(sim, 'GET', P(), undefined, 'nope')
    expect(wrong.status).toBe(401)
  })

  it('accepts any configured key', async () => {
    const other = await startNeonSimulator({ apiKeys: ['k1', 'k2'] })
    try {
      expect(other.apiKey).toBe('k1')
      const p = other.createProject()
      expect((await api(other, 'GET', `/projects/${p.id}`, undefined, 'k2')).status).toBe(200)
      expect((await api(other, 'GET', `/projects/${p.id}`, undefined, 'test-api-key')).status).toBe(401)
    } finally {
      await other.close()
    }
  })

  it('answers 404 for unknown routes and projects, 400 for bad JSON', async () => {
    const r1 = await api(sim, 'GET', '/nothing/here')
    expect(r1.status).toBe(404)
    expect(r1.body).toMatchObject({ code: '', request_id: r1.headers.get('x-neon-ret-request-id') })
    expect((await api(sim, 'GET', '/projects/no-such-project-1')).status).toBe(404)
    expect((await api(sim, 'GET', '/projects/no-such-project-1/branches')).status).toBe(404)
    const bad = await api(sim, 'POST', `${P()}/branches`, '{"branch": {')
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/JSON/)
  })

  it('gives every response a distinct request id', async () => {
    const a = await api(sim, 'GET', P())
    const b = await api(sim, 'GET', P())
    const ida = a.headers.get('x-neon-ret-request-id')
    expect(ida).toMatch(/^[0-9a-f-]{36}$/)
    expect(ida).not.toBe(b.headers.get('x-neon-ret-request-id'))
  })
})

describe('projects and connection URIs', () => {
  it('returns the seeded project with its settings', async () => {
    const r = await api(sim, 'GET', P())
    expect(r.status).toBe(200)
    expect(r.body.project).toMatchObject({
      id: project.id,
      region_id: 'aws-us-east-2',
      store_passwords: true,
    })
    expect(r.body.project.default_endpoint_settings).toBeDefined()
    const list = await api(sim, 'GET', '/projects')
    expect(list.body.projects.map((p: { id: string }) => p.id)).toEqual([project.id])
    expect(project.id).toMatch(/^[a-z]+-[a-z]+-\d{8}$/)
  })

  it('builds pooled (default) and direct connection URIs; database_name and role_name are required', async () => {
    const br = sim.world.branches.get(project.defaultBranchId)
    expect(br).toBeDefined()
    const ep = sim.world.readWriteEndpoint(project.defaultBranchId)
    expect(ep?.host).toMatch(/^ep-[a-z]+-[a-z]+-[a-z0-9]{8}\.c-2\.us-east-2\.aws\.neon\.tech$/)
    sim.setRolePassword(project.id, project.defaultBranchId, 'neondb_owner', 'p@ss/word')
    expect((await api(sim, 'GET', `${P()}/connection_uri?role_name=neondb_owner`)).status).toBe(400)
    expect((await api(sim, 'GET', `${P()}/connection_uri?database_name=neondb`)).status).toBe(400)
    const pooled = await api(sim, 'GET', `${P()}/connection_uri?database_name=neondb&role_name=neondb_owner`)
    expect(pooled.status).toBe(200)
    const host = ep?.host ?? ''
    const pooler = host.replace(/^([^.]+)/, '$1-pooler')
    expect(pooled.body.uri).toBe(
      `postgresql://neondb_owner:p%40ss%2Fword@${pooler}/neondb?channel_binding=require&sslmode=require`,
    )
    const direct = await api(
      sim,
      'GET',
      `${P()}/connection_uri?database_name=neondb&role_name=neondb_owner&pooled=false&branch_id=${project.defaultBranchId}&endpoint_id=${ep?.id}`,
    )
    expect(direct.body.uri).toContain(`@${host}/neondb`)
    expect(
      (await api(sim, 'GET', `${P()}/connection_uri?database_name=nope&role_name=neondb_owner`)).status,
    ).toBe(404)
  })
})

describe('branch creation and operations', () => {
  it('creates a branch in init with create_branch then start_compute, and progresses with the clock', async () => {
    const r = await createBranch({
      branch: { name: 'preview/pr-1' },
      endpoints: [{ type: 'read_write' }],
      annotation_value: { 'github-pr-number': '1' },
    })
    expect(r.status).toBe(201)
    expect(r.body.branch).toMatchObject({
      name: 'preview/pr-1',
      current_state: 'init',
      pending_state: 'ready',
      parent_id: project.defaultBranchId,
    })
    expect(r.body.branch.id).toMatch(/^br-[a-z]+-[a-z]+-[a-z0-9]{8}$/)
    expect(r.body.endpoints[0]).toMatchObject({
      current_state: 'init',
      pending_state: 'active',
      type: 'read_write',
    })
    expect(r.body.operations.map((o: { action: string }) => o.action)).toEqual([
      'create_branch',
      'start_compute',
    ])
    expect(r.body.operations.map((o: { status: string }) => o.status)).toEqual(['scheduling', 'scheduling'])
    expect(r.body.roles).toHaveLength(1)
    expect(r.body.databases).toHaveLength(1)
    const cu = r.body.connection_uris[0]
    expect(cu.connection_parameters.host).toBe(r.body.endpoints[0].host)
    expect(cu.connection_parameters.pooler_host).toBe(
      r.body.endpoints[0].host.replace(/^([^.]+)/, '$1-pooler'),
    )
    expect(cu.connection_parameters.password).toMatch(/^npg_[A-Za-z0-9]{12}$/)

    const [op1, op2] = r.body.operations as { id: string }[]
    const get = async (id: string | undefined) =>
      (await api(sim, 'GET', `${P()}/operations/${id}`)).body.operation
    clock.advance(5) // scheduling → running
    expect((await get(op1?.id)).status).toBe('running')
    expect((await get(op2?.id)).status).toBe('scheduling')
    clock.advance(30) // create_branch done
    expect((await get(op1?.id)).status).toBe('finished')
    expect((await get(op2?.id)).status).toBe('running')
    const mid = await api(sim, 'GET', `${P()}/branches/${r.body.branch.id}`)
    expect(mid.body.branch.current_state).toBe('ready')
    expect(mid.body.annotation.value).toEqual({ 'github-pr-number': '1' })
    const ep = await api(sim, 'GET', `${P()}/endpoints/${r.body.endpoints[0].id}`)
    expect(ep.body.endpoint).toMatchObject({ current_state: 'init', pending_state: 'active' })
    clock.advance(30)
    const op2done = await get(op2?.id)
    expect(op2done).toMatchObject({ status: 'finished', total_duration_ms: 30, failures_count: 0 })
    const ep2 = await api(sim, 'GET', `${P()}/endpoints/${r.body.endpoints[0].id}`)
    expect(ep2.body.endpoint.current_state).toBe('active')
    expect(ep2.body.endpoint.pending_state).toBeUndefined()
  })

  it('spreads durations by operationJitter, the same for the same seed, and reports them in total_duration_ms', async () => {
    const durations = async (seed: number): Promise<number[]> => {
      const c = manualClock(0)
      const s = await startNeonSimulator({
        clock: c,
        seed,
        operationMs: { start_compute: 1000 },
        operationJitter: 0.1,
      })
      try {
        const p = s.createProject()
        for (let i = 0; i < 8; i++) {
          c.set(i * 10_000) // each after the last one's operations (the project is locked while they run)
          await api(s, 'POST', `/projects/${p.id}/branches`, {
            branch: { name: `j${i}` },
            endpoints: [{ type: 'read_write' }],
          })
        }
        c.set(3_600_000)
        const list = await api(s, 'GET', `/projects/${p.id}/operations?limit=100`)
        return (list.body.operations as { action: string; status: string; total_duration_ms: number }[])
          .filter((o) => o.action === 'start_compute')
          .map((o) => o.total_duration_ms)
      } finally {
        await s.close()
      }
    }
    const a = await durations(3)
    expect(a).toHaveLength(8)
    for (const d of a) {
      expect(d).toBeGreaterThanOrEqual(900)
      expect(d).toBeLessThanOrEqual(1100)
    }
    expect(new Set(a).size).toBeGreaterThan(1)
    expect(await durations(3)).toEqual(a)
  })

  it('honours operationMs and schedulingMs per action', async () => {
    const c = manualClock(0)
    const s = await startNeonSimulator({
      clock: c,
      operationMs: { create_branch: 1000, start_compute: 10 },
      schedulingMs: 100,
    })
    try {
      const p = s.createProject()
      const r = await api(s, 'POST', `/projects/${p.id}/branches`, { endpoints: [{ type: 'read_write' }] })
      const ids = (r.body.operations as { id: string }[]).map((o) => o.id)
      const st = async () =>
        Promise.all(
          ids.map(
            async (id) =>
              (await api(s, 'GET', `/projects/${p.id}/operations/${id}`)).body.operation.status as string,
          ),
        )
      c.set(99)
      expect(await st()).toEqual(['scheduling', 'scheduling'])
      c.set(100)
      expect(await st()).toEqual(['running', 'scheduling'])
      c.set(1100)
      expect(await st()).toEqual(['finished', 'running'])
      c.set(1110)
      expect(await st()).toEqual(['finished', 'finished'])
    } finally {
      await s.close()
    }
  })

  it('answers 423 while an operation runs, never locks GETs, then accepts', async () => {
    const r = await createBranch({ branch: { name: 'a' }, endpoints: [{ type: 'read_write' }] })
    expect(r.status).toBe(201)
    const locked = await createBranch({ branch: { name: 'b' } })
    expect(locked.status).toBe(423)
    expect(locked.body).toEqual({
      code: '',
      message: LOCKED_MESSAGE,
      request_id: locked.headers.get('x-neon-ret-request-id'),
    })
    expect((await api(sim, 'DELETE', `${P()}/branches/${r.body.branch.id}`)).status).toBe(423)
    expect(
      (
        await api(sim, 'POST', `${P()}/endpoints`, {
          endpoint: { branch_id: r.body.branch.id, type: 'read_only' },
        })
      ).status,
    ).toBe(423)
    expect((await api(sim, 'GET', `${P()}/branches`)).status).toBe(200)
    expect((await api(sim, 'GET', `${P()}/branches/${r.body.branch.id}`)).status).toBe(200)
    // Renames start no operation: not locked.
    expect(
      (await api(sim, 'PATCH', `${P()}/branches/${r.body.branch.id}`, { branch: { name: 'a2' } })).status,
    ).toBe(200)
    settle()
    expect((await createBranch({ branch: { name: 'b' } })).status).toBe(201)
  })

  it('runs the operations of a project one after another', async () => {
    const a = await createBranch({ branch: { name: 'a' }, endpoints: [{ type: 'read_write' }] })
    settle()
    const d = await api(sim, 'DELETE', `${P()}/branches/${a.body.branch.id}`)
    expect(d.body.operations.map((o: { action: string }) => o.action)).toEqual([
      'suspend_compute',
      'delete_timeline',
    ])
    const ops = [...sim.world.operations.values()].filter(
      (o) => o.action !== 'create_branch' && o.action !== 'start_compute',
    )
    expect(ops[1]?.runAt).toBe(ops[0]?.endAt)
  })

  it('rejects a duplicate name with 409, too-long names with 400, a missing parent with 404', async () => {
    expect((await createBranch({ branch: { name: 'dup' } })).status).toBe(201)
    settle()
    const again = await createBranch({ branch: { name: 'dup' } })
    expect(again.status).toBe(409)
    expect(again.body.message).toBe('branch already exists; branch_name:"dup"')
    expect((await createBranch({ branch: { name: 'x'.repeat(257) } })).status).toBe(400)
    expect((await createBranch({ branch: { name: 'x'.repeat(256) } })).status).toBe(201)
    settle()
    expect(
      (await createBranch({ branch: { name: 'orphan', parent_id: 'br-no-such-aaaaaaaa' } })).status,
    ).toBe(404)
    expect(
      (
        await createBranch({
          branch: { name: 'two-rw' },
          endpoints: [{ type: 'read_write' }, { type: 'read_write' }],
        })
      ).status,
    ).toBe(400)
  })

  it('fails an injected operation; its branch and endpoint stay in init; later ops of the batch are cancelled', async () => {
    sim.failNextOperation({ action: 'create_branch' }, 'pageserver unavailable')
    const r = await createBranch({ branch: { name: 'doomed' }, endpoints: [{ type: 'read_write' }] })
    settle()
    const ops = await api(sim, 'GET', `${P()}/operations`)
    const byAction = Object.fromEntries(
      (ops.body.operations as { action: string }[]).map((o) => [o.action, o]),
    )
    expect(byAction['create_branch']).toMatchObject({
      status: 'failed',
      error: 'pageserver unavailable',
      failures_count: 1,
    })
    expect(byAction['start_compute']).toMatchObject({ status: 'cancelled' })
    const b = await api(sim, 'GET', `${P()}/branches/${r.body.branch.id}`)
    expect(b.body.branch).toMatchObject({ current_state: 'init', pending_state: 'ready' })
    expect(
      (await api(sim, 'GET', `${P()}/endpoints/${r.body.endpoints[0].id}`)).body.endpoint.current_state,
    ).toBe('init')
    // Not locked any more, but sub-resources of a branch in init cannot be created.
    const role = await api(sim, 'POST', `${P()}/branches/${r.body.branch.id}/roles`, {
      role: { name: 'app' },
    })
    expect(role.status).toBe(422)
    expect(role.body.message).toBe('branch not ready yet')
    const db = await api(sim, 'POST', `${P()}/branches/${r.body.branch.id}/databases`, {
      database: { name: 'x', owner_name: 'neondb_owner' },
    })
    expect(db.status).toBe(422)
    // The rule was consumed.
    const next = await createBranch({ branch: { name: 'fine' } })
    settle()
    expect(
      (await api(sim, 'GET', `${P()}/operations/${next.body.operations[0].id}`)).body.operation.status,
    ).toBe('finished')
  })

  it('copies roles with passwords, except from a protected parent', async () => {
    const parentPw = sim.world.branchRoles(project.defaultBranchId)[0]?.password
    const child = await createBranch({ branch: { name: 'child' } })
    expect(sim.world.branchRoles(child.body.branch.id)[0]?.password).toBe(parentPw)
    settle()
    const prot = sim.addBranch(project.id, { name: 'prod', protected: true })
    const fromProt = await createBranch({ branch: { name: 'from-prot', parent_id: prot.id } })
    const pw = sim.world.branchRoles(fromProt.body.branch.id)[0]?.password
    expect(pw).toMatch(/^npg_/)
    expect(pw).not.toBe(sim.world.branchRoles(prot.id)[0]?.password)
  })

  it('creates schema-only branches as roots', async () => {
    const r = await createBranch({
      branch: { name: 'schema', parent_id: project.defaultBranchId, init_source: 'schema-only' },
      endpoints: [{ type: 'read_write' }],
    })
    expect(r.status).toBe(201)
    expect(r.body.branch.parent_id).toBeUndefined()
    expect(r.body.branch.init_source).toBe('schema-only')
    settle()
    const reset = await api(sim, 'POST', `${P()}/branches/${r.body.branch.id}/restore`, {
      source_branch_id: project.defaultBranchId,
    })
    expect(reset.status).toBe(400)
  })
})

describe('operations that Neon retries internally', () => {
  it('shows failures_count and retry_at while retrying, keeps the project locked, then finishes', async () => {
    sim.retryNextOperation(
      { action: 'start_compute' },
      { failures: 2, retryAfterMs: 1000, error: 'compute node unavailable' },
    )
    const r = await createBranch({ branch: { name: 'flaky' }, endpoints: [{ type: 'read_write' }] })
    const op = (r.body.operations as { id: string; action: string }[]).find(
      (o) => o.action === 'start_compute',
    )
    const get = async () => (await api(sim, 'GET', `${P()}/operations/${op?.id}`)).body.operation
    clock.advance(5 + 30 + 10) // create_branch done, start_compute running and failed once
    const first = await get()
    expect(first).toMatchObject({ status: 'running', failures_count: 1, error: 'compute node unavailable' })
    // Timestamps have whole seconds, as Neon's do.
    expect(Math.abs(Date.parse(first.retry_at) - (clock.now() - 10 + 1000))).toBeLessThan(1000)
    clock.advance(1000)
    expect(await get()).toMatchObject({ status: 'running', failures_count: 2 })
    expect((await createBranch({ branch: { name: 'other' } })).status).toBe(423)
    clock.advance(1000 + 30)
    const done = await get()
    expect(done).toMatchObject({ status: 'finished', failures_count: 2 })
    expect(done.retry_at).toBeUndefined()
  })
})

describe('expiry by Neon', () => {
  it('deletes a branch once its expires_at has passed; a parent with children is kept', async () => {
    const at = new Date(clock.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    const r = await createBranch({ branch: { name: 'short-lived', expires_at: at } })
    settle()
    expect((await api(sim, 'GET', `${P()}/branches/${r.body.branch.id}`)).status).toBe(200)
    clock.advance(3600_000)
    expect((await api(sim, 'GET', `${P()}/branches/${r.body.branch.id}`)).status).toBe(404)
    const names = (await api(sim, 'GET', `${P()}/branches`)).body.branches.map(
      (b: { name: string }) => b.name,
    )
    expect(names).not.toContain('short-lived')
    expect((await api(sim, 'DELETE', `${P()}/branches/${r.body.branch.id}`)).status).toBe(204)
  })
})

describe('expiry', () => {
  const inDays = (d: number): string => new Date(clock.now() + d * 86400_000).toISOString()

  it('accepts RFC 3339 within 30 days and reports ttl_interval_seconds', async () => {
    const r = await createBranch({
      branch: {
        name: 'ttl',
        expires_at: new Date(clock.now() + 3600_000).toISOString().replace('.000Z', 'Z'),
      },
    })
    expect(r.status).toBe(201)
    expect(r.body.branch.expires_at).toBe(
      new Date(clock.now() + 3600_000).toISOString().replace('.000Z', 'Z'),
    )
    expect(r.body.branch.ttl_interval_seconds).toBe(3600)
    const offset = await createBranch({ branch: { name: 'ttl2', expires_at: '2025-09-10T14:00:00+02:00' } })
    expect(offset.status).toBe(400) // that is 12:00Z: not in the future
    settle()
    expect(
      (await createBranch({ branch: { name: 'ttl3', expires_at: '2025-09-11T14:00:00+02:00' } })).status,
    ).toBe(201)
  })

  it('refuses bad formats, the past, more than 30 days, and protected branches', async () => {
    expect((await createBranch({ branch: { name: 'a', expires_at: '2025-09-11T12:00:00' } })).status).toBe(
      400,
    )
    expect((await createBranch({ branch: { name: 'a', expires_at: 'tomorrow' } })).status).toBe(400)
    expect((await createBranch({ branch: { name: 'a', expires_at: inDays(-1) } })).status).toBe(400)
    expect((await createBranch({ branch: { name: 'a', expires_at: inDays(31) } })).status).toBe(400)
    expect(
      (await createBranch({ branch: { name: 'a', expires_at: inDays(1), protected: true } })).status,
    ).toBe(400)
    expect((await createBranch({ branch: { name: 'a', expires_at: inDays(30) } })).status).toBe(201)
  })

  it('refuses children of an expiring parent, and expiry on default branches or branches with children', async () => {
    const parent = await createBranch({ branch: { name: 'p', expires_at: inDays(1) } })
    settle()
    const child = await createBranch({ branch: { name: 'c', parent_id: parent.body.branch.id } })
    expect(child.status).toBe(400)
    expect(child.body.message).toMatch(/expiration/)
    expect(
      (
        await api(sim, 'PATCH', `${P()}/branches/${project.defaultBranchId}`, {
          branch: { expires_at: inDays(1) },
        })
      ).status,
    ).toBe(400)
    const withKids = sim.addBranch(project.id, { name: 'has-kids' })
    sim.addBranch(project.id, { name: 'kid', parentId: withKids.id })
    expect(
      (await api(sim, 'PATCH', `${P()}/branches/${withKids.id}`, { branch: { expires_at: inDays(1) } }))
        .status,
    ).toBe(400)
    const removed = await api(sim, 'PATCH', `${P()}/branches/${parent.body.branch.id}`, {
      branch: { expires_at: null },
    })
    expect(removed.status).toBe(200)
    expect(removed.body.branch.expires_at).toBeUndefined()
    expect(removed.body.branch.ttl_interval_seconds).toBeUndefined()
    expect(removed.body.operations).toEqual([])
    expect((await createBranch({ branch: { name: 'c', parent_id: parent.body.branch.id } })).status).toBe(201)
  })
})

describe('delete', () => {
  it('answers 204 with no body for a missing or already deleted branch', async () => {
    const missing = await api(sim, 'DELETE', `${P()}/branches/br-no-such-aaaaaaaa`)
    expect(missing.status).toBe(204)
    expect(missing.text).toBe('')
    const b = sim.addBranch(project.id, { name: 'gone' })
    const first = await api(sim, 'DELETE', `${P()}/branches/${b.id}`)
    expect(first.status).toBe(200)
    expect(first.body.branch.id).toBe(b.id)
    settle()
    expect((await api(sim, 'DELETE', `${P()}/branches/${b.id}`)).status).toBe(204)
    expect((await api(sim, 'GET', `${P()}/branches/${b.id}`)).status).toBe(404)
    const list = await api(sim, 'GET', `${P()}/branches`)
    expect(list.body.branches.map((x: { id: string }) => x.id)).not.toContain(b.id)
    expect(sim.world.branches.get(b.id)?.deletedAt).toBeDefined() // soft-deleted
  })

  it('refuses to delete the default branch, a protected branch, or a branch with children', async () => {
    const d = await api(sim, 'DELETE', `${P()}/branches/${project.defaultBranchId}`)
    expect(d.status).toBe(400)
    expect(d.body.message).toMatch(/default/)
    const prot = sim.addBranch(project.id, { name: 'prot', protected: true })
    const p = await api(sim, 'DELETE', `${P()}/branches/${prot.id}`)
    expect(p.status).toBe(400)
    expect(p.body.message).toMatch(/protected/)
    const parent = sim.addBranch(project.id, { name: 'parent' })
    sim.addBranch(project.id, { name: 'child', parentId: parent.id })
    const c = await api(sim, 'DELETE', `${P()}/branches/${parent.id}`)
    expect(c.status).toBe(400)
    expect(c.body.message).toMatch(/child/)
    // The root stays undeletable even when another branch becomes the default.
    const rootId = project.defaultBranchId
    const other = sim.addBranch(project.id, { name: 'other', default: true })
    expect(project.defaultBranchId).toBe(other.id)
    const root = await api(sim, 'DELETE', `${P()}/branches/${rootId}`)
    expect(root.status).toBe(400)
    expect(root.body.message).toMatch(/root/)
  })
})

describe('listing', () => {
  it('pages through 250 branches with limit 100: 3 pages, no duplicates, nothing lost', async () => {
    for (let i = 0; i < 250; i++) sim.addBranch(project.id, { name: `b-${String(i).padStart(3, '0')}` })
    const seen: string[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const r = await api(
        sim,
        'GET',
        `${P()}/branches?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      )
      expect(r.status).toBe(200)
      pages++
      seen.push(...r.body.branches.map((b: { id: string }) => b.id))
      cursor = r.body.pagination.next
      expect(r.body.pagination).toMatchObject({ sort_by: 'updated_at', sort_order: 'DESC' })
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen).toHaveLength(251)
    expect(new Set(seen).size).toBe(251)
    // Neon caps a page at 100 whatever `limit` asks, or when none is asked (BEHAVIOUR.md, Branches).
    const all = await api(sim, 'GET', `${P()}/branches`)
    expect(all.body.branches).toHaveLength(100)
    expect(all.body.pagination.next).toEqual(expect.any(String))
    const asked = await api(sim, 'GET', `${P()}/branches?limit=251`)
    expect(asked.body.branches).toHaveLength(100)
    expect(asked.body.pagination.next).toEqual(expect.any(String))
    expect((await api(sim, 'GET', `${P()}/branches/count`)).body.count).toBe(251)
  })

  it('a full last page carries a cursor to an empty page; a short page carries none', async () => {
    for (let i = 0; i < 199; i++) sim.addBranch(project.id, { name: `b-${i}` }) // 200 with main
    const first = await api(sim, 'GET', `${P()}/branches?limit=100`)
    const second = await api(sim, 'GET', `${P()}/branches?limit=100&cursor=${first.body.pagination.next}`)
    expect(second.body.branches).toHaveLength(100)
    const third = await api(sim, 'GET', `${P()}/branches?limit=100&cursor=${second.body.pagination.next}`)
    expect(third.body.branches).toEqual([])
    expect(third.body.pagination.next).toBeUndefined()
    const short = await api(sim, 'GET', `${P()}/branches?limit=100&search=b-19`)
    expect(short.body.branches).toHaveLength(10) // b-19, b-190 … b-198
    expect(short.body.pagination.next).toBeUndefined()
  })

  it('the page cap is an option', async () => {
    const s = await startNeonSimulator({ branchPageCap: 7, clock: manualClock() })
    try {
      const p = s.createProject()
      for (let i = 0; i < 10; i++) s.addBranch(p.id, { name: `b-${i}` })
      const r = await api(s, 'GET', `/projects/${p.id}/branches?limit=50`)
      expect(r.body.branches).toHaveLength(7)
      expect(r.body.pagination.next).toEqual(expect.any(String))
    } finally {
      await s.close()
    }
  })

  it('validates limit, sort_by and sort_order', async () => {
    expect((await api(sim, 'GET', `${P()}/branches?limit=0`)).status).toBe(400)
    expect((await api(sim, 'GET', `${P()}/branches?limit=10001`)).status).toBe(400)
    expect((await api(sim, 'GET', `${P()}/branches?limit=abc`)).status).toBe(400)
    expect((await api(sim, 'GET', `${P()}/branches?limit=10000`)).status).toBe(200)
    expect((await api(sim, 'GET', `${P()}/branches?sort_by=size`)).status).toBe(400)
    expect((await api(sim, 'GET', `${P()}/branches?sort_order=up`)).status).toBe(400)
    expect((await api(sim, 'GET', `${P()}/branches?cursor=garbage`)).status).toBe(400)
  })

  it('sorts by name, created_at and updated_at (default updated_at desc)', async () => {
    sim.addBranch(project.id, {
      name: 'c',
      createdAt: '2025-01-01T00:00:00Z',
      updatedAt: '2025-01-05T00:00:00Z',
    })
    sim.addBranch(project.id, {
      name: 'a',
      createdAt: '2025-01-02T00:00:00Z',
      updatedAt: '2025-01-04T00:00:00Z',
    })
    sim.addBranch(project.id, {
      name: 'b',
      createdAt: '2025-01-03T00:00:00Z',
      updatedAt: '2025-01-03T00:00:00Z',
    })
    const names = async (q: string) =>
      ((await api(sim, 'GET', `${P()}/branches?${q}`)).body.branches as { name: string }[]).map((b) => b.name)
    expect(await names('search=')).toEqual(['main', 'c', 'a', 'b'])
    expect(await names('sort_by=name&sort_order=asc')).toEqual(['a', 'b', 'c', 'main'])
    expect(await names('sort_by=created_at&sort_order=asc')).toEqual(['c', 'a', 'b', 'main'])
    expect(await names('sort_by=updated_at&sort_order=asc')).toEqual(['b', 'a', 'c', 'main'])
    const page1 = await api(sim, 'GET', `${P()}/branches?sort_by=name&sort_order=asc&limit=2`)
    expect(page1.body.pagination.sort_order).toBe('ASC')
    const page2 = await api(
      sim,
      'GET',
      `${P()}/branches?sort_by=name&sort_order=asc&limit=2&cursor=${page1.body.pagination.next}`,
    )
    expect(page2.body.branches.map((b: { name: string }) => b.name)).toEqual(['c', 'main'])
  })

  it('searches by partial name or id and returns annotations keyed by branch id', async () => {
    const b1 = sim.addBranch(project.id, { name: 'preview/pr-12', annotations: { 'github-pr-number': '12' } })
    sim.addBranch(project.id, { name: 'preview/pr-13' })
    sim.addBranch(project.id, { name: 'feature' })
    const r = await api(sim, 'GET', `${P()}/branches?search=PR-1`)
    expect(r.body.branches.map((b: { name: string }) => b.name).sort()).toEqual([
      'preview/pr-12',
      'preview/pr-13',
    ])
    expect(r.body.annotations[b1.id]).toMatchObject({
      object: { type: 'console/branch', id: b1.id },
      value: { 'github-pr-number': '12' },
    })
    const byId = await api(sim, 'GET', `${P()}/branches?search=${b1.id.slice(3, 12)}`)
    expect(byId.body.branches.map((b: { id: string }) => b.id)).toContain(b1.id)
  })
})

describe('restore (reset to parent)', () => {
  it('keeps id, endpoint host and passwords; requires preserve_under_name with children, which move under the copy', async () => {
    const parent = sim.addBranch(project.id, { name: 'parent' })
    const target = sim.addBranch(project.id, { name: 'target', parentId: parent.id })
    const grandchild = sim.addBranch(project.id, { name: 'gc', parentId: target.id })
    sim.setRolePassword(project.id, target.id, 'neondb_owner', 'npg_targetPassw0')
    const host = sim.world.readWriteEndpoint(target.id)?.host
    const missing = await api(sim, 'POST', `${P()}/branches/${target.id}/restore`, {
      source_branch_id: parent.id,
    })
    expect(missing.status).toBe(400)
    expect(missing.body.message).toMatch(/preserve_under_name/)
    const r = await api(sim, 'POST', `${P()}/branches/${target.id}/restore`, {
      source_branch_id: parent.id,
      preserve_under_name: 'target-old',
    })
    expect(r.status).toBe(200)
    expect(r.body.branch.id).toBe(target.id)
    expect(r.body.branch.last_reset_at).toBeDefined()
    expect(r.body.operations.length).toBeGreaterThan(0)
    expect(sim.world.readWriteEndpoint(target.id)?.host).toBe(host)
    const pw = await api(sim, 'GET', `${P()}/branches/${target.id}/roles/neondb_owner/reveal_password`)
    expect(pw.body.password).toBe('npg_targetPassw0')
    const preserved = sim.world.branchByName(project.id, 'target-old')
    expect(preserved).toBeDefined()
    expect(preserved?.parentId).toBe(parent.id)
    expect(sim.world.branches.get(grandchild.id)?.parentId).toBe(preserved?.id)
    expect(sim.world.children(target.id)).toHaveLength(0)
    settle()
    // Without children no preserve_under_name is needed.
    expect(
      (await api(sim, 'POST', `${P()}/branches/${target.id}/restore`, { source_branch_id: parent.id }))
        .status,
    ).toBe(200)
  })

  it('refuses protected and root branches, needs source_branch_id, and restarts the TTL', async () => {
    const prot = sim.addBranch(project.id, { name: 'prot', protected: true })
    expect(
      (
        await api(sim, 'POST', `${P()}/branches/${prot.id}/restore`, {
          source_branch_id: project.defaultBranchId,
        })
      ).status,
    ).toBe(400)
    const other = sim.addBranch(project.id, { name: 'other' })
    expect(
      (
        await api(sim, 'POST', `${P()}/branches/${project.defaultBranchId}/restore`, {
          source_branch_id: other.id,
        })
      ).status,
    ).toBe(400)
    expect((await api(sim, 'POST', `${P()}/branches/${other.id}/restore`, {})).status).toBe(400)
    const t0 = clock.now()
    const ttl = await createBranch({
      branch: { name: 'ttl', expires_at: new Date(t0 + 7200_000).toISOString() },
    })
    settle()
    const r = await api(sim, 'POST', `${P()}/branches/${ttl.body.branch.id}/restore`, {
      source_branch_id: project.defaultBranchId,
    })
    expect(r.status).toBe(200)
    expect(r.body.branch.ttl_interval_seconds).toBe(7200)
    expect(Date.parse(r.body.branch.expires_at)).toBe(clock.now() + 7200_000)
    expect(
      (
        await api(sim, 'POST', `${P()}/branches/${other.id}/restore`, {
          source_branch_id: project.defaultBranchId,
        })
      ).status,
    ).toBe(423)
  })
})

describe('endpoints, roles, databases', () => {
  it('allows one read_write endpoint per branch and refuses to suspend an endpoint in transition', async () => {
    const b = sim.addBranch(project.id, { name: 'b' })
    const rw = await api(sim, 'POST', `${P()}/endpoints`, {
      endpoint: { branch_id: b.id, type: 'read_write' },
    })
    expect(rw.status).toBe(409)
    const ro = await api(sim, 'POST', `${P()}/endpoints`, {
      endpoint: { branch_id: b.id, type: 'read_only', suspend_timeout_seconds: 300 },
    })
    expect(ro.status).toBe(201)
    expect(ro.body.endpoint).toMatchObject({
      type: 'read_only',
      current_state: 'init',
      pending_state: 'active',
      suspend_timeout_seconds: 300,
    })
    expect(ro.body.operations[0].action).toBe('start_compute')
    const s = await api(sim, 'POST', `${P()}/endpoints/${ro.body.endpoint.id}/suspend`)
    expect(s.status).toBe(423)
    expect(s.body.message).toBe('endpoint is in some transitive state, could not suspend')
    settle()
    const s2 = await api(sim, 'POST', `${P()}/endpoints/${ro.body.endpoint.id}/suspend`)
    expect(s2.status).toBe(200)
    settle()
    expect(
      (await api(sim, 'GET', `${P()}/endpoints/${ro.body.endpoint.id}`)).body.endpoint.current_state,
    ).toBe('idle')
    const st = await api(sim, 'POST', `${P()}/endpoints/${ro.body.endpoint.id}/start`)
    expect(st.body.endpoint).toMatchObject({ current_state: 'idle', pending_state: 'active' })
    settle()
    const upd = await api(sim, 'PATCH', `${P()}/endpoints/${ro.body.endpoint.id}`, {
      endpoint: { suspend_timeout_seconds: 600 },
    })
    expect(upd.body.endpoint.suspend_timeout_seconds).toBe(600)
    expect(upd.body.operations.map((o: { action: string }) => o.action)).toEqual(['apply_config'])
    const list = await api(sim, 'GET', `${P()}/branches/${b.id}/endpoints`)
    expect(list.body.endpoints).toHaveLength(2)
  })

  it('manages roles: create, 63-byte limit, 409, reveal, reset, delete', async () => {
    const b = project.defaultBranchId
    const long = await api(sim, 'POST', `${P()}/branches/${b}/roles`, { role: { name: 'é'.repeat(32) } })
    expect(long.status).toBe(400)
    const c = await api(sim, 'POST', `${P()}/branches/${b}/roles`, { role: { name: 'app' } })
    expect(c.status).toBe(201)
    expect(c.body.role.password).toMatch(/^npg_/)
    expect(c.body.operations[0].action).toBe('apply_config')
    settle()
    expect((await api(sim, 'POST', `${P()}/branches/${b}/roles`, { role: { name: 'app' } })).status).toBe(409)
    const reveal = await api(sim, 'GET', `${P()}/branches/${b}/roles/app/reveal_password`)
    expect(reveal.body.password).toBe(c.body.role.password)
    const reset = await api(sim, 'POST', `${P()}/branches/${b}/roles/app/reset_password`)
    expect(reset.status).toBe(200)
    expect(reset.body.role.password).not.toBe(c.body.role.password)
    expect((await api(sim, 'POST', `${P()}/branches/${b}/roles/app/reset_password`)).status).toBe(423)
    settle()
    const list = await api(sim, 'GET', `${P()}/branches/${b}/roles`)
    expect(list.body.roles.map((r: { name: string }) => r.name)).toEqual(['neondb_owner', 'app'])
    expect(list.body.roles[0].password).toBeUndefined()
    expect((await api(sim, 'DELETE', `${P()}/branches/${b}/roles/app`)).status).toBe(200)
    expect((await api(sim, 'GET', `${P()}/branches/${b}/roles/app`)).status).toBe(404)
    expect((await api(sim, 'GET', `${P()}/branches/${b}/roles/app/reveal_password`)).status).toBe(404)
  })

  it('manages databases: create, owner must exist, 409, delete', async () => {
    const b = project.defaultBranchId
    expect(
      (
        await api(sim, 'POST', `${P()}/branches/${b}/databases`, {
          database: { name: 'app', owner_name: 'nobody' },
        })
      ).status,
    ).toBe(400)
    expect(
      (await api(sim, 'POST', `${P()}/branches/${b}/databases`, { database: { name: 'app' } })).status,
    ).toBe(400)
    const c = await api(sim, 'POST', `${P()}/branches/${b}/databases`, {
      database: { name: 'app', owner_name: 'neondb_owner' },
    })
    expect(c.status).toBe(201)
    expect(c.body.database).toMatchObject({ name: 'app', owner_name: 'neondb_owner', branch_id: b })
    settle()
    expect(
      (
        await api(sim, 'POST', `${P()}/branches/${b}/databases`, {
          database: { name: 'app', owner_name: 'neondb_owner' },
        })
      ).status,
    ).toBe(409)
    expect((await api(sim, 'GET', `${P()}/branches/${b}/databases/app`)).status).toBe(200)
    expect((await api(sim, 'DELETE', `${P()}/branches/${b}/databases/app`)).status).toBe(200)
    settle()
    expect((await api(sim, 'DELETE', `${P()}/branches/${b}/databases/app`)).status).toBe(204)
  })

  it('lists operations newest first with cursor pagination', async () => {
    for (let i = 0; i < 5; i++) {
      await createBranch({ branch: { name: `o${i}` } })
      settle()
    }
    const first = await api(sim, 'GET', `${P()}/operations?limit=3`)
    expect(first.body.operations).toHaveLength(3)
    const second = await api(sim, 'GET', `${P()}/operations?limit=3&cursor=${first.body.pagination.cursor}`)
    expect(second.body.operations).toHaveLength(2)
    const ids = [...first.body.operations, ...second.body.operations].map(
      (o: { branch_id: string }) => o.branch_id,
    )
    expect(new Set(ids).size).toBe(5)
    expect((await api(sim, 'GET', `${P()}/operations?limit=0`)).status).toBe(400)
    expect((await api(sim, 'GET', `${P()}/operations/00000000-0000-4000-8000-000000000000`)).status).toBe(404)
  })
})

describe('faults', () => {
  afterEach(() => sim.faults.clear())

  it('injects a status with body and headers, `times` times, on a route template', async () => {
    sim.faults.add({
      route: 'GET /projects/{project_id}',
      status: 429,
      headers: { 'Retry-After': '1' },
      times: 2,
    })
    const a = await api(sim, 'GET', P())
    expect(a.status).toBe(429)
    expect(a.headers.get('retry-after')).toBe('1')
    expect(a.body).toMatchObject({ code: '', request_id: a.headers.get('x-neon-ret-request-id') })
    expect((await api(sim, 'GET', P())).status).toBe(429)
    expect((await api(sim, 'GET', P())).status).toBe(200)
    sim.faults.add({ method: 'POST', route: /\/branches$/, status: 503, body: { message: 'upstream' } })
    expect((await api(sim, 'GET', `${P()}/branches`)).status).toBe(200)
    const f = await api(sim, 'POST', `${P()}/branches`, {})
    expect(f.status).toBe(503)
    expect(f.body).toEqual({ message: 'upstream' })
    expect(sim.log.at(-1)).toMatchObject({
      status: 503,
      fault: 'status:503',
      route: 'POST /projects/{project_id}/branches',
    })
    expect(sim.world.liveBranches(project.id)).toHaveLength(1) // the request never reached the handler
  })

  it('delays, answers malformed JSON, resets connections and hangs', async () => {
    sim.faults.add({ route: 'GET /projects/{project_id}', delayMs: 80 })
    const t0 = Date.now()
    expect((await api(sim, 'GET', P())).status).toBe(200)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(70)

    sim.faults.add({ route: 'GET /projects/{project_id}', malformedJson: true })
    const m = await fetch(`${sim.apiUrl}${P()}`, { headers: { Authorization: `Bearer ${sim.apiKey}` } })
    expect(m.status).toBe(200)
    await expect(m.json()).rejects.toThrow()

    sim.faults.add({ route: 'GET /projects/{project_id}', resetConnection: true })
    await expect(
      fetch(`${sim.apiUrl}${P()}`, { headers: { Authorization: `Bearer ${sim.apiKey}` } }),
    ).rejects.toThrow()

    sim.faults.add({ route: 'GET /projects/{project_id}', hang: true })
    await expect(
      fetch(`${sim.apiUrl}${P()}`, {
        headers: { Authorization: `Bearer ${sim.apiKey}` },
        signal: AbortSignal.timeout(150),
      }),
    ).rejects.toThrow()
    expect(sim.log.slice(-3).map((e) => e.fault)).toEqual(['malformedJson', 'resetConnection', 'hang'])
    expect((await api(sim, 'GET', P())).status).toBe(200)
  })

  it('applies probability with a seeded generator', async () => {
    const run = async (): Promise<number[]> => {
      const s = await startNeonSimulator({ seed: 7 })
      try {
        const p = s.createProject()
        s.faults.add({ route: 'GET /projects/{project_id}', status: 500, probability: 0.5, times: Infinity })
        const out: number[] = []
        for (let i = 0; i < 20; i++) out.push((await api(s, 'GET', `/projects/${p.id}`)).status)
        return out
      } finally {
        await s.close()
      }
    }
    const a = await run()
    expect(a).toEqual(await run())
    expect(a).toContain(500)
    expect(a).toContain(200)
  })
})

describe('request log, snapshot, reset, seeding', () => {
  it('records every request', async () => {
    sim.log.length = 0
    await api(sim, 'GET', `${P()}/branches?limit=5&search=ma`)
    await createBranch({ branch: { name: 'logged' } })
    const [a, b] = sim.log
    expect(a).toMatchObject({
      method: 'GET',
      path: `/api/v2${P()}/branches`,
      query: { limit: '5', search: 'ma' },
      route: 'GET /projects/{project_id}/branches',
      status: 200,
      at: clock.now(),
    })
    expect(a?.requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(typeof a?.ms).toBe('number')
    expect(b).toMatchObject({ method: 'POST', status: 201, body: { branch: { name: 'logged' } } })
    await api(sim, 'GET', '/nope')
    expect(sim.log.at(-1)?.route).toBeNull()
  })

  it('keeps snapshots equal across reads and over time, and differs after a write', async () => {
    await createBranch({ branch: { name: 's' }, endpoints: [{ type: 'read_write' }] })
    const before = sim.snapshot()
    await api(sim, 'GET', `${P()}/branches`)
    clock.advance(3600_000)
    await api(sim, 'GET', `${P()}/operations`)
    expect(sim.snapshot()).toEqual(before)
    await api(sim, 'PATCH', `${P()}/branches/${project.defaultBranchId}`, { branch: { name: 'main2' } })
    expect(sim.snapshot()).not.toEqual(before)
  })

  it('exposes an API-shaped state view, operationStatus and rolePassword', async () => {
    const r = await createBranch({
      branch: { name: 'v' },
      endpoints: [{ type: 'read_write' }],
      annotation_value: { k: 'v' },
    })
    const id = r.body.branch.id as string
    const view = sim.state
    expect(view.branches[id]).toMatchObject({
      id,
      project_id: project.id,
      parent_id: project.defaultBranchId,
      current_state: 'init',
      deleted: false,
    })
    expect(view.annotations[id]).toEqual({ k: 'v' })
    const ops = Object.values(view.operations).filter((o) => o.branch_id === id)
    expect(ops.map((o) => o.action)).toEqual(['create_branch', 'start_compute'])
    expect(sim.operationStatus(ops[0]?.id ?? '')).toBe('scheduling')
    settle()
    expect(sim.operationStatus(ops[0]?.id ?? '')).toBe('finished')
    expect(sim.operationStatus('nope')).toBeUndefined()
    expect(sim.state.branches[id]?.current_state).toBe('ready')
    const ep = Object.values(sim.state.endpoints).find((e) => e.branch_id === id)
    expect(ep?.current_state).toBe('active')
    expect(sim.rolePassword(project.id, id, 'neondb_owner')).toBe(
      sim.state.roles[`${id}/neondb_owner`]?.password,
    )
    expect(sim.rolePassword(project.id, id, 'nobody')).toBeUndefined()
    expect(Object.values(sim.state.databases).some((d) => d.branch_id === id && d.name === 'neondb')).toBe(
      true,
    )
    await api(sim, 'DELETE', `${P()}/branches/${id}`)
    expect(sim.state.branches[id]?.deleted).toBe(true)
  })

  it('is deterministic for a seed and resets to the same ids', async () => {
    const p1 = sim.createProject()
    sim.reset()
    const again = sim.createProject()
    const p2 = sim.createProject()
    expect(again.id).toBe(project.id)
    expect(p2.id).toBe(p1.id)
    expect(sim.log).toHaveLength(0)
  })

  it('seeds projects with custom names and ready branches', async () => {
    const p = sim.createProject({
      id: 'my-proj-123',
      defaultBranchName: 'production',
      role: 'owner',
      database: 'app',
      regionId: 'aws-eu-central-1',
    })
    expect(p.id).toBe('my-proj-123')
    const b = sim.addBranch(p.id, { name: 'x', withEndpoint: false, annotations: { k: 'v' } })
    const r = await api(sim, 'GET', `/projects/${p.id}/branches/${b.id}`)
    expect(r.body.branch.current_state).toBe('ready')
    expect((await api(sim, 'GET', `/projects/${p.id}/branches/${b.id}/endpoints`)).body.endpoints).toEqual([])
    const main = await api(sim, 'GET', `/projects/${p.id}/branches/${p.defaultBranchId}/endpoints`)
    expect(main.body.endpoints[0].host).toMatch(/\.c-2\.eu-central-1\.aws\.neon\.tech$/)
    expect(sim.world.branchRoles(b.id).map((x) => x.name)).toEqual(['owner'])
    expect(sim.world.isLocked(p.id)).toBe(false)
  })
})
