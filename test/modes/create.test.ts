import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMode } from '../../src/modes/create.js'
import { ModeError } from '../../src/modes/types.js'
import { LOCKED_MESSAGE, startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor, prContext, REPO } from '../helpers/mode-harness.js'

let sim: NeonSimulator
let projectId: string

beforeEach(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 40, start_compute: 60 },
    clock: new FakeClock(),
  })
  projectId = sim.createProject({ id: 'hidden-river-50598307' }).id
})
afterEach(async () => {
  await sim.close()
})

const NAME = 'preview/pr-12-feature/login'

function liveBranches() {
  return Object.values(sim.state.branches).filter((b) => b.project_id === projectId && !b.deleted)
}

// A push to the pull request: create looks the branch up first (createsFirst; harness's
// prContext() is an `opened` event, which creates first).
const PUSH = prContext(12, 'feature/login', { action: 'synchronize' })

function mutations() {
  return sim.log.filter((l) => l.method !== 'GET')
}

describe('create: a new branch', () => {
  it('creates the PR branch from the default branch, waits for every operation, and returns working URLs', async () => {
    const h = harness(sim)
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey))
    expect(r.created).toBe(true)
    expect(r.branch?.name).toBe(NAME)
    const b = sim.state.branches[r.branch!.id]!
    expect(b.current_state).toBe('ready')
    expect(b.parent_id).toBe(liveBranches().find((x) => x.default)!.id)
    expect(sim.state.annotations[b.id]).toMatchObject({
      'github-pr-number': '12',
      'github-repo': REPO,
      'github-head-ref': 'feature/login',
      'github-sha': 'a'.repeat(40),
    })
    // Every operation it started has finished.
    const ops = Object.values(sim.state.operations).filter((o) => o.branch_id === b.id)
    expect(ops.length).toBeGreaterThanOrEqual(2)
    for (const op of ops) expect(sim.operationStatus(op.id)).toBe('finished')
    const ep = Object.values(sim.state.endpoints).find((e) => e.branch_id === b.id)!
    expect(r.connection?.endpointId).toBe(ep.id)
    expect(r.connection?.urls.host).toBe(ep.host)
    const pw = sim.rolePassword(projectId, b.id, 'neondb_owner')
    expect(r.connection?.password).toBe(pw)
    expect(r.connection?.urls.dbUrl).toBe(`postgresql://neondb_owner:${pw}@${ep.host}/neondb?sslmode=require`)
    expect(r.connection?.urls.dbUrlPooled).toContain(ep.host.replace(/^([^.]+)/, '$1-pooler'))
    // The expiry defaults to 14 days.
    const ttl = Date.parse(r.branch!.expiresAt!) - sim.clock.now()
    expect(ttl).toBeGreaterThan(14 * 86400_000 - 60_000)
    expect(ttl).toBeLessThanOrEqual(14 * 86400_000)
    // The password and both URLs were handed to the masker.
    expect(h.secrets).toEqual(
      expect.arrayContaining([pw, r.connection!.urls.dbUrl, r.connection!.urls.dbUrlPooled]),
    )
  })

  it('makes a modest number of requests: one lookup, one create, one history read, polls, nothing asked twice', async () => {
    const h = harness(sim, PUSH)
    await createMode(h.deps, inputsFor(projectId, sim.apiKey))
    const routes = h.neon.stats.byRoute
    expect(routes['GET /projects/{project_id}/branches']).toBe(1)
    expect(routes['POST /projects/{project_id}/branches']).toBe(1)
    expect(
      routes['GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password'],
    ).toBeUndefined()
    expect(routes['GET /projects/{project_id}/branches/{branch_id}/databases']).toBeUndefined()
    // The project's recent operations, read once to tell when this run's operations should end.
    expect(routes['GET /projects/{project_id}/operations']).toBe(1)
    expect(Object.keys(routes).filter((k) => !k.includes('/operations'))).toHaveLength(2)
  })

  it('applies branch_type, suspend_timeout, parent_branch by name, expires_in', async () => {
    sim.addBranch(projectId, { name: 'staging' })
    const h = harness(sim)
    const r = await createMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, {
        parent_branch: 'staging',
        suspend_timeout: '600',
        expires_in: '2h',
      }),
    )
    const staging = liveBranches().find((b) => b.name === 'staging')!
    expect(sim.state.branches[r.branch!.id]!.parent_id).toBe(staging.id)
    const ep = Object.values(sim.state.endpoints).find((e) => e.branch_id === r.branch!.id)!
    expect(ep.suspend_timeout_seconds).toBe(600)
    const ttl = Date.parse(r.branch!.expiresAt!) - sim.clock.now()
    expect(ttl).toBeGreaterThan(2 * 3600_000 - 60_000)
    expect(ttl).toBeLessThanOrEqual(2 * 3600_000)
  })

  it('creates a schema-only branch with init_source', async () => {
    const h = harness(sim)
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey, { branch_type: 'schema-only' }))
    const post = sim.log.find((l) => l.route === 'POST /projects/{project_id}/branches')!
    expect((post.body as { branch: { init_source?: string } }).branch.init_source).toBe('schema-only')
    expect(sim.state.branches[r.branch!.id]!.init_source).toBe('schema-only')
  })

  it('creates a missing role and database, and encodes names and passwords in the URL', async () => {
    const h = harness(sim)
    const r = await createMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, { role: 'app user', database: 'my db/ä' }),
    )
    const id = r.branch!.id
    const pw = sim.rolePassword(projectId, id, 'app user')
    expect(pw).toBeTruthy()
    expect(
      Object.values(sim.state.databases).some(
        (d) => d.branch_id === id && d.name === 'my db/ä' && d.owner_name === 'app user',
      ),
    ).toBe(true)
    const u = new URL(r.connection!.urls.dbUrl)
    expect(decodeURIComponent(u.username)).toBe('app user')
    expect(decodeURIComponent(u.password)).toBe(pw)
    expect(decodeURIComponent(u.pathname.slice(1))).toBe('my db/ä')
    expect(r.changes).toEqual([
      expect.stringMatching(/^created branch/),
      "created role 'app user'",
      "created database 'my db/ä'",
    ])
  })

  it('a role the new branch lacks is created, with a notice naming the roles it has (issue 32)', async () => {
    const h = harness(sim)
    await createMode(h.deps, inputsFor(projectId, sim.apiKey, { role: 'neondb_ownr' }))
    expect(h.logs.filter((l) => l.startsWith('notice: Role'))).toEqual([
      "notice: Role 'neondb_ownr' does not exist on branch 'preview/pr-12-feature/login'; creating it. " +
        "The branch's roles are 'neondb_owner': if 'role' is a typo of one of them, correct it (the new " +
        'role owns nothing the others made).',
    ])
    // The create's answer listed the roles: nothing more was asked.
    expect(h.neon.stats.byRoute['GET /projects/{project_id}/branches/{branch_id}/roles']).toBeUndefined()
  })

  it('a role an adopted branch lacks is created, with a notice naming the roles it has (issue 32)', async () => {
    await createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey, { role: 'app_user' }))
    const h = harness(sim, PUSH)
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey, { role: 'app_usr' }))
    expect(r.changes).toContain("created role 'app_usr'")
    const notice = h.logs.find((l) => l.startsWith('notice: Role'))
    expect(notice).toContain(
      "Role 'app_usr' does not exist on branch 'preview/pr-12-feature/login'; creating it.",
    )
    expect(notice).toContain("The branch's roles are 'neondb_owner', 'app_user':")
    expect(h.neon.stats.byRoute['GET /projects/{project_id}/branches/{branch_id}/roles']).toBe(1)
    // A role that exists: no notice, no listing.
    const again = harness(sim, PUSH)
    await createMode(again.deps, inputsFor(projectId, sim.apiKey, { role: 'app_usr' }))
    expect(again.logs.filter((l) => l.startsWith('notice: Role'))).toEqual([])
    expect(again.neon.stats.byRoute['GET /projects/{project_id}/branches/{branch_id}/roles']).toBeUndefined()
  })

  it('encodes a password full of URL syntax so that a parser gets it back', async () => {
    const h = harness(sim)
    const first = await createMode(h.deps, inputsFor(projectId, sim.apiKey))
    const nasty = 'p@ss:w/rd?#%&=+ é'
    sim.setRolePassword(projectId, first.branch!.id, 'neondb_owner', nasty)
    const again = await createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey))
    expect(again.connection!.password).toBe(nasty)
    const u = new URL(again.connection!.urls.dbUrl)
    expect(decodeURIComponent(u.password)).toBe(nasty)
    expect(u.hostname).toBe(again.connection!.urls.host)
  })
})

describe('create: adopting', () => {
  it('adopts the existing branch on the next push: same id and URL, expiry refreshed, nothing re-created', async () => {
    const first = await createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey, { expires_in: '1d' }))
    const before = sim.log.length
    const h = harness(sim, PUSH)
    const second = await createMode(h.deps, inputsFor(projectId, sim.apiKey, { expires_in: '3d' }))
    expect(second.created).toBe(false)
    expect(second.branch!.id).toBe(first.branch!.id)
    expect(second.connection!.urls.dbUrl).toBe(first.connection!.urls.dbUrl)
    expect(liveBranches().filter((b) => b.name === NAME)).toHaveLength(1)
    expect(Date.parse(second.branch!.expiresAt!)).toBeGreaterThan(
      Date.parse(first.branch!.expiresAt!) + 86400_000,
    )
    const newMutations = sim.log.slice(before).filter((l) => l.method !== 'GET')
    expect(newMutations.map((l) => l.route)).toEqual(['PATCH /projects/{project_id}/branches/{branch_id}'])
    expect(h.neon.stats.requests).toBeLessThanOrEqual(6)
  })

  it('adopts a branch with no compute by creating a read_write endpoint', async () => {
    const b = sim.addBranch(projectId, { name: NAME, withEndpoint: false })
    const r = await createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey))
    expect(r.created).toBe(false)
    const eps = Object.values(sim.state.endpoints).filter((e) => e.branch_id === b.id)
    expect(eps).toHaveLength(1)
    expect(eps[0]!.type).toBe('read_write')
    expect(r.connection!.endpointId).toBe(eps[0]!.id)
    // The expiry moves beside the reads, so it may come first.
    expect(r.changes).toHaveLength(2)
    expect(r.changes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^created read_write compute ep-/),
        expect.stringMatching(/^expiry moved to/),
      ]),
    )
  })

  it('accepts a branch id in branch_name', async () => {
    const b = sim.addBranch(projectId, { name: 'hand-made' })
    const r = await createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey, { branch_name: b.id }))
    expect(r.branch!.id).toBe(b.id)
    expect(r.created).toBe(false)
  })

  it('never adopts the default or a protected branch', async () => {
    sim.addBranch(projectId, { name: 'prod-copy', protected: true })
    await expect(
      createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey, { branch_name: 'main' })),
    ).rejects.toThrow(/'main' \(br-[a-z0-9-]+\) is the project's default branch; refusing/)
    await expect(
      createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey, { branch_name: 'prod-copy' })),
    ).rejects.toThrow(/is a protected branch; refusing/)
  })

  it('matches names exactly: preview/pr-1 is not preview/pr-12', async () => {
    sim.addBranch(projectId, { name: 'preview/pr-12-x' })
    const r = await createMode(
      harness(sim).deps,
      inputsFor(projectId, sim.apiKey, { branch_name: 'preview/pr-1' }),
    )
    expect(r.created).toBe(true)
    expect(r.branch!.name).toBe('preview/pr-1')
  })

  it('pages through a project with many similar branches to find the exact one', async () => {
    for (let i = 0; i < 1200; i++) sim.addBranch(projectId, { name: `${NAME}-${i}`, withEndpoint: false })
    const target = sim.addBranch(projectId, { name: NAME, updatedAt: '2020-01-01T00:00:00Z' })
    const r = await createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey))
    expect(r.branch!.id).toBe(target.id)
    expect(r.created).toBe(false)
  })
})

describe('create: races and faults', () => {
  it('two concurrent runs for one PR: exactly one branch, both succeed with the same id', async () => {
    const [a, b] = await Promise.all([
      createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey)),
      createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey)),
    ])
    expect(a.branch!.id).toBe(b.branch!.id)
    expect([a.created, b.created].sort()).toEqual([false, true])
    expect(liveBranches().filter((x) => x.name === NAME)).toHaveLength(1)
    expect(a.connection!.urls.dbUrl).toBe(b.connection!.urls.dbUrl)
  })

  it('a 409 on create (another run got there between our lookup and our create) adopts the branch', async () => {
    const existing = sim.addBranch(projectId, { name: NAME })
    // The lookup misses it, as it would if the other run created it a moment later.
    sim.faults.add({
      route: 'GET /projects/{project_id}/branches',
      status: 200,
      body: { branches: [], annotations: {}, pagination: {} },
    })
    const h = harness(sim, PUSH)
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey))
    expect(sim.log.some((l) => l.route === 'POST /projects/{project_id}/branches' && l.status === 409)).toBe(
      true,
    )
    expect(r.created).toBe(false)
    expect(r.branch!.id).toBe(existing.id)
    expect(h.logs.join('\n')).toMatch(/created concurrently by another run; adopting it/)
  })

  it('rides out a 423 storm and a 429 storm on create', async () => {
    sim.faults.add({
      route: 'POST /projects/{project_id}/branches',
      status: 423,
      times: 4,
      body: {
        code: '',
        message: LOCKED_MESSAGE,
      },
    })
    sim.faults.add({
      route: 'GET /projects/{project_id}/operations/{operation_id}',
      status: 429,
      times: 3,
      headers: { 'Retry-After': '0' },
      body: { code: '', message: 'rate limit exceeded' },
    })
    const h = harness(sim)
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey))
    expect(r.created).toBe(true)
    expect(h.neon.stats.retries).toBe(7)
    expect(liveBranches().filter((x) => x.name === NAME)).toHaveLength(1)
  })

  it('retries 5xx on GET, and a 502 on POST', async () => {
    sim.faults.add({ route: 'GET /projects/{project_id}/branches', status: 500, times: 2 })
    sim.faults.add({ route: 'POST /projects/{project_id}/branches', status: 502, times: 1 })
    const h = harness(sim, PUSH)
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey))
    expect(r.created).toBe(true)
    expect(h.neon.stats.retries).toBe(3)
  })

  it('fails on a 500 on POST without retrying it, saying nothing was created', async () => {
    sim.faults.add({
      route: 'POST /projects/{project_id}/branches',
      status: 500,
      times: 1,
      body: { code: 'INTERNAL', message: 'boom', request_id: 'rid-500' },
    })
    const err = (await createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey)).catch(
      (e: unknown) => e,
    )) as ModeError
    expect(err).toBeInstanceOf(ModeError)
    expect(err.message).toMatch(
      /POST \/projects\/hidden-river-50598307\/branches: HTTP 500 Internal Server Error \[INTERNAL\]: boom \(request id rid-500\)/,
    )
    expect(err.changes).toEqual([])
  })

  it('a failed operation fails the run, names the operation and its error, and lists what was created', async () => {
    sim.failNextOperation({ action: 'start_compute' }, 'compute quota exceeded')
    const err = (await createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey)).catch(
      (e: unknown) => e,
    )) as ModeError
    expect(err).toBeInstanceOf(ModeError)
    expect(err.message).toMatch(
      /Neon operation start_compute \([0-9a-f-]+\) ended 'failed': compute quota exceeded/,
    )
    expect(err.changes).toEqual([
      expect.stringMatching(/^created branch 'preview\/pr-12-feature\/login' \(br-/),
    ])
  })

  it('keeps waiting through an operation that Neon retries, sleeping until its retry_at', async () => {
    sim.retryNextOperation({ action: 'start_compute' }, { failures: 2, retryAfterMs: 1500 })
    const h = harness(sim)
    const clock = sim.clock as FakeClock
    h.deps.poll = { initialMs: 50, fastPhaseMs: 0, maxMs: 100 }
    const before = clock.sleeps.length
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey))
    const asked = clock.sleeps.slice(before)
    expect(r.created).toBe(true)
    // Without retry_at the poller would never sleep more than maxMs (100 ms).
    expect(Math.max(...asked)).toBeGreaterThan(300)
    expect(r.timings.wait.polls).toBeLessThan(20)
  })

  it('an operation that outlives timeout fails with a timeout naming it', async () => {
    await sim.close()
    sim = await startNeonSimulator({
      operationMs: { create_branch: 20, start_compute: 5000 },
      clock: new FakeClock(),
    })
    projectId = sim.createProject().id
    const err = await createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey, { timeout: '1' })).catch(
      (e: unknown) => e,
    )
    expect((err as Error).message).toMatch(/Timed out after 1 s waiting for operation start_compute/)
  })

  it('a parent that does not exist is an error, and nothing is created', async () => {
    const err = await createMode(
      harness(sim).deps,
      inputsFor(projectId, sim.apiKey, { parent_branch: 'no-such' }),
    ).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(
      /parent_branch 'no-such' does not exist in project hidden-river-50598307/,
    )
    expect(mutations()).toEqual([])
    const err2 = await createMode(
      harness(sim).deps,
      inputsFor(projectId, sim.apiKey, { parent_branch: 'br-missing-1' }),
    ).catch((e: unknown) => e)
    expect((err2 as Error).message).toMatch(/parent_branch 'br-missing-1' does not exist/)
    expect(mutations()).toEqual([])
  })

  it('a bad api key fails with 401 and the request id', async () => {
    const err = await createMode(
      harness(sim, PUSH, 'wrong-key').deps,
      inputsFor(projectId, 'wrong-key'),
    ).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(/HTTP 401 Unauthorized: .* \(request id [^)]+\)/)
    expect(mutations()).toEqual([])
    // On `opened` the create is the first request: refused the same way (and not followed by a
    // look-up, which would only be refused too), and nothing exists.
    const from = sim.log.length
    const opened = await createMode(
      harness(sim, prContext(), 'wrong-key').deps,
      inputsFor(projectId, 'wrong-key'),
    ).catch((e: unknown) => e)
    expect((opened as Error).message).toMatch(/POST .*: HTTP 401 Unauthorized: .* \(request id [^)]+\)/)
    expect(sim.log.slice(from).map((l) => `${l.method} ${l.status}`)).toEqual(['POST 401'])
    expect(liveBranches().filter((b) => b.name === NAME)).toEqual([])
  })

  it('outside a pull request event, branch_name is required and nothing is called', async () => {
    const ctx = prContext(1, 'x', { eventName: 'workflow_dispatch', pullRequest: undefined })
    await expect(createMode(harness(sim, ctx).deps, inputsFor(projectId, sim.apiKey))).rejects.toThrow(
      /Input 'branch_name' is required on 'workflow_dispatch' events/,
    )
    expect(sim.log).toEqual([])
  })
})

describe('create: ephemeral', () => {
  const recorder = () => {
    const calls: string[] = []
    return {
      calls,
      ephemeral: {
        creating: (name: string, key: string) => calls.push(`creating ${name} ${key.length > 0}`),
        created: (b: { id: string }, ops: string[]) => calls.push(`created ${b.id} ${ops.length}`),
        nothing: () => calls.push('nothing'),
      },
    }
  }

  it('records creating, then the branch with its operations, then that they are done', async () => {
    const h = harness(sim)
    const rec = recorder()
    h.deps.ephemeral = rec.ephemeral
    const r = await createMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, { ephemeral: 'true', branch_name: 'ci/x' }),
    )
    expect(rec.calls).toEqual([
      'creating ci/x true',
      `created ${r.branch!.id} 2`,
      `created ${r.branch!.id} 0`,
    ])
    const a = sim.state.annotations[r.branch!.id]!
    expect(a['github-ephemeral']).toBe('true')
    expect(a['github-ephemeral-key']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('a branch created concurrently (409) is refused, not adopted, and nothing is recorded', async () => {
    const h = harness(sim)
    const rec = recorder()
    h.deps.ephemeral = rec.ephemeral
    // Another job creates the same name between our look-up and our create.
    sim.faults.add({
      method: 'POST',
      route: 'POST /projects/{project_id}/branches',
      before: () => void sim.addBranch(projectId, { name: 'ci/race' }),
    })
    const err = await createMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, { ephemeral: 'true', branch_name: 'ci/race' }),
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ModeError)
    expect((err as Error).message).toContain('two jobs would share one database')
    expect(rec.calls).toEqual(['creating ci/race true', 'nothing'])
    expect(liveBranches().filter((b) => b.name === 'ci/race').length).toBe(1)
  })
})
