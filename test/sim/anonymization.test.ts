// The simulator's anonymized branches, through its API, on a virtual clock: the routes, the state
// machine and its durations, restricted_actions and what they refuse (sources: anonymization.ts).

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { api, manualClock } from './helpers.js'
import { startNeonSimulator, type NeonSimulator } from './index.js'

const clock = manualClock()
let sim: NeonSimulator
let P: string
let projectId: string

const RULES = [
  {
    database_name: 'neondb',
    schema_name: 'public',
    table_name: 'users',
    column_name: 'email',
    masking_function: 'anon.dummy_free_email()',
  },
  {
    database_name: 'neondb',
    schema_name: 'public',
    table_name: 'users',
    column_name: 'phone',
    masking_value: 'CONFIDENTIAL',
  },
]

beforeAll(async () => {
  // initialize 100 ms after ready; a run takes 200 ms + 50 ms per rule.
  sim = await startNeonSimulator({
    clock,
    operationMs: { create_branch: 100, start_compute: 100 },
    anonymizationMs: { initializeMs: 100, baseMs: 200, perRuleMs: 50 },
  })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(() => {
  sim.reset()
  projectId = sim.createProject({ id: 'anon-project-1' }).id
  P = `/projects/${projectId}`
})

async function createAnonymized(name: string, rules: unknown = RULES, start = true) {
  const res = await api(sim, 'POST', `${P}/branch_anonymized`, {
    branch_create: { branch: { name }, endpoints: [{ type: 'read_write' }] },
    masking_rules: rules,
    start_anonymization: start,
    annotation_value: { 'github-pr-number': '7' },
  })
  return res
}
const status = async (id: string) => (await api(sim, 'GET', `${P}/branches/${id}/anonymized_status`)).body

describe('POST /projects/{id}/branch_anonymized', () => {
  it('creates the branch as POST /branches does, marked anonymized, with restricted actions', async () => {
    const res = await createAnonymized('preview/pr-7')
    expect(res.status).toBe(201)
    expect(res.body.branch.name).toBe('preview/pr-7')
    expect(res.body.operations.map((o: { action: string }) => o.action)).toEqual([
      'create_branch',
      'start_compute',
    ])
    expect(res.body.branch.restricted_actions.map((a: { name: string }) => a.name)).toEqual([
      'restore',
      'delete-rw-endpoint',
    ])
    const list = await api(sim, 'GET', `${P}/branches`)
    const id = res.body.branch.id as string
    // Neon's CLI labels [anon] by this annotation (BEHAVIOUR.md); the request's own are kept.
    expect(list.body.annotations[id].value).toEqual({ 'github-pr-number': '7', anonymized: 'true' })
    const plain = await api(
      sim,
      'GET',
      `${P}/branches/${sim.state.projects[projectId]?.default_branch_id ?? ''}`,
    )
    expect(plain.body.branch?.restricted_actions).toBeUndefined()
  })

  it('goes created → initialized → anonymizing → anonymized, on the clock', async () => {
    const t0 = clock.now()
    const id = (await createAnonymized('preview/pr-7')).body.branch.id as string
    // The create operation runs 5 ms (scheduling) + 100 ms; then 100 ms to initialize; then 300 ms.
    expect((await status(id)).state).toBe('created')
    clock.set(t0 + 105 + 99)
    expect((await status(id)).state).toBe('created')
    clock.set(t0 + 105 + 100)
    const running = await status(id)
    expect(running.state).toBe('anonymizing')
    expect(running.status_message).toBe('Anonymizing table neondb.public.users (1/2)')
    clock.set(t0 + 105 + 100 + 299)
    expect((await status(id)).state).toBe('anonymizing')
    clock.set(t0 + 105 + 100 + 300)
    const done = await status(id)
    expect(done.state).toBe('anonymized')
    expect(done.last_run.masked_columns).toBe(2)
    // Neon's timestamps have whole seconds (serialize.ts).
    expect(Date.parse(done.last_run.completed_at)).toBeGreaterThanOrEqual(
      Date.parse(done.last_run.started_at),
    )
  })

  it('without start_anonymization stays initialized until POST …/anonymize', async () => {
    const id = (await createAnonymized('preview/pr-8', RULES, false)).body.branch.id as string
    clock.advance(10_000)
    expect((await status(id)).state).toBe('initialized')
    const started = await api(sim, 'POST', `${P}/branches/${id}/anonymize`)
    expect(started.status).toBe(200)
    expect(started.body.state).toBe('anonymizing')
    // A second start while one runs is refused.
    expect((await api(sim, 'POST', `${P}/branches/${id}/anonymize`)).status).toBe(400)
    clock.advance(300)
    expect((await status(id)).state).toBe('anonymized')
  })

  it('refuses a rule with both or neither of masking_function and masking_value, and creates nothing', async () => {
    const both = await createAnonymized('x', [{ ...RULES[0], masking_value: 'v' }])
    expect(both.status).toBe(400)
    const neither = await createAnonymized('x', [
      { database_name: 'neondb', schema_name: 'public', table_name: 'u', column_name: 'c' },
    ])
    expect(neither.status).toBe(400)
    // The API description requires the four names: the request is refused before the route.
    const missing = await createAnonymized('x', [{ database_name: 'neondb', masking_value: 'v' }])
    expect(missing.status).toBe(400)
    expect(missing.body.message).toMatch(/request does not match the API description/)
    expect(Object.values(sim.state.branches).some((b) => b.name === 'x')).toBe(false)
  })

  it('answers 409 for a name that exists, as POST /branches does', async () => {
    await createAnonymized('preview/pr-9')
    clock.advance(10_000)
    const again = await createAnonymized('preview/pr-9')
    expect(again.status).toBe(409)
  })
})

describe('masking runs that fail', () => {
  it("a function Anonymizer does not document ends in 'error' with PostgreSQL's words", async () => {
    const id = (
      await createAnonymized('preview/pr-10', [{ ...RULES[0], masking_function: 'anon.no_such_mask()' }])
    ).body.branch.id
    clock.advance(10_000)
    const s = await status(id)
    expect(s.state).toBe('error')
    expect(s.status_message).toBe('ERROR: function anon.no_such_mask() does not exist')
    expect(s.failed_at).toBeDefined()
    // From error, a rerun may start (API description, startAnonymization).
    await api(sim, 'PATCH', `${P}/branches/${id}/masking_rules`, { masking_rules: RULES })
    expect((await api(sim, 'POST', `${P}/branches/${id}/anonymize`)).status).toBe(200)
    clock.advance(10_000)
    expect((await status(id)).state).toBe('anonymized')
  })

  it('injected failures serve one run each, in order; sim.reset() forgets the rest', async () => {
    sim.failNextAnonymization('anonymization', 'ERROR: first')
    sim.failNextAnonymization('anonymization', 'ERROR: second')
    sim.failNextAnonymization('anonymization', 'ERROR: never')
    const a = (await createAnonymized('preview/f-1')).body.branch.id
    clock.advance(10_000) // the first create's operations hold the project's lock meanwhile
    const b = (await createAnonymized('preview/f-2')).body.branch.id
    clock.advance(10_000)
    expect((await status(a)).status_message).toBe('ERROR: first')
    expect((await status(b)).status_message).toBe('ERROR: second')
    sim.reset()
    projectId = sim.createProject({ id: 'anon-project-1' }).id
    const c = (await createAnonymized('preview/f-3')).body.branch.id
    clock.advance(10_000)
    expect((await status(c)).state).toBe('anonymized')
  })

  it('an injected initialization failure ends in initialization_error, from which no run starts', async () => {
    sim.failNextAnonymization('initialization', 'column "email" of relation "public.users" does not exist')
    const id = (await createAnonymized('preview/pr-11')).body.branch.id
    clock.advance(10_000)
    const s = await status(id)
    expect(s.state).toBe('initialization_error')
    expect(s.status_message).toMatch(/does not exist/)
    expect((await api(sim, 'POST', `${P}/branches/${id}/anonymize`)).status).toBe(400)
  })
})

describe('masking rules and restricted actions', () => {
  it('GET and PATCH masking_rules: PATCH replaces every rule', async () => {
    const id = (await createAnonymized('preview/pr-12')).body.branch.id
    expect((await api(sim, 'GET', `${P}/branches/${id}/masking_rules`)).body.masking_rules).toEqual(RULES)
    const one = [RULES[1]]
    const patched = await api(sim, 'PATCH', `${P}/branches/${id}/masking_rules`, { masking_rules: one })
    expect(patched.status).toBe(200)
    expect(patched.body.masking_rules).toEqual(one)
    expect((await api(sim, 'GET', `${P}/branches/${id}/masking_rules`)).body.masking_rules).toEqual(one)
  })

  it('a plain branch has no rules (400) and no status (404)', async () => {
    const b = sim.addBranch(projectId, { name: 'plain' })
    expect((await api(sim, 'GET', `${P}/branches/${b.id}/masking_rules`)).status).toBe(400)
    expect((await api(sim, 'POST', `${P}/branches/${b.id}/anonymize`)).status).toBe(400)
    expect((await api(sim, 'GET', `${P}/branches/${b.id}/anonymized_status`)).status).toBe(404)
  })

  it('refuses to restore an anonymized branch, and to delete its read-write compute, with the reason', async () => {
    const res = await createAnonymized('preview/pr-13')
    const id = res.body.branch.id as string
    clock.advance(10_000)
    const restore = await api(sim, 'POST', `${P}/branches/${id}/restore`, {
      source_branch_id: sim.state.projects[projectId]?.default_branch_id,
    })
    expect(restore.status).toBe(400)
    expect(restore.body.message).toContain(res.body.branch.restricted_actions[0].reason)
    const ep = await api(sim, 'DELETE', `${P}/endpoints/${res.body.endpoints[0].id}`)
    expect(ep.status).toBe(400)
    expect(ep.body.message).toContain(res.body.branch.restricted_actions[1].reason)
    // Deleting the branch itself is allowed.
    expect((await api(sim, 'DELETE', `${P}/branches/${id}`)).status).toBe(200)
  })
})
