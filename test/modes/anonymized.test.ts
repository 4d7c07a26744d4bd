// create and reset with masking rules, in-process against the simulator on a virtual clock.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMode } from '../../src/modes/create.js'
import { resetMode } from '../../src/modes/reset.js'
import { ModeError } from '../../src/modes/types.js'
import { AnonymizationFailedError } from '../../src/neon/anonymization.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor, prContext } from '../helpers/mode-harness.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { api } from '../sim/helpers.js'
import { startRun } from '../sim/routes/anonymization.js'

let sim: NeonSimulator
let projectId: string
const NAME = 'preview/pr-12-feature/login'
const PUSH = prContext(12, 'feature/login', { action: 'synchronize' })

const RULES_YAML = `
- table: users
  column: email
  function: anon.dummy_free_email()
- table: billing.cards
  column: number
  function: anon.partial(number, 2, 'XXXX', 2)
- table: users
  column: phone
  value: CONFIDENTIAL
`
const NEON_RULES = [
  {
    database_name: 'neondb',
    schema_name: 'public',
    table_name: 'users',
    column_name: 'email',
    masking_function: 'anon.dummy_free_email()',
  },
  {
    database_name: 'neondb',
    schema_name: 'billing',
    table_name: 'cards',
    column_name: 'number',
    masking_function: "anon.partial(number, 2, 'XXXX', 2)",
  },
  {
    database_name: 'neondb',
    schema_name: 'public',
    table_name: 'users',
    column_name: 'phone',
    masking_value: 'CONFIDENTIAL',
  },
]

beforeEach(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 40, start_compute: 60, delete_timeline: 30 },
    anonymizationMs: { initializeMs: 500, baseMs: 2000, perRuleMs: 500 },
    clock: new FakeClock(),
  })
  projectId = sim.createProject({ id: 'hidden-river-50598307' }).id
})
afterEach(async () => {
  await sim.close()
})

const withRules = (over: Record<string, string> = {}) =>
  inputsFor(projectId, sim.apiKey, { masking_rules: RULES_YAML, ...over })
const routes = (from = 0) => sim.log.slice(from).map((l) => `${l.route} ${l.status}`)
const statusOf = async (id: string) =>
  (await api(sim, 'GET', `/projects/${projectId}/branches/${id}/anonymized_status`)).body
const live = () => Object.values(sim.state.branches).filter((b) => b.project_id === projectId && !b.deleted)

async function createAnonymizedBranch(): Promise<string> {
  const r = await createMode(harness(sim).deps, withRules())
  return r.branch!.id
}

describe('create with masking rules: a new branch', () => {
  it('POSTs /branch_anonymized with the plain create body, the rules in Neon form, and start_anonymization', async () => {
    const r = await createMode(harness(sim).deps, withRules())
    const post = sim.log.find((l) => l.route === 'POST /projects/{project_id}/branch_anonymized')!
    const body = post.body as Record<string, unknown>
    expect(body['masking_rules']).toEqual(NEON_RULES)
    expect(body['start_anonymization']).toBe(true)
    expect(body['branch_create']).toMatchObject({
      branch: { name: NAME, expires_at: expect.any(String) },
      endpoints: [{ type: 'read_write' }],
    })
    expect(body['annotation_value']).toMatchObject({ 'github-pr-number': '12', anonymized: 'true' })
    // The same body a plain create sends (but its annotations, which go beside it).
    const plain = await startNeonSimulator({ clock: sim.clock })
    try {
      const pid = plain.createProject({ id: 'hidden-river-50598307' }).id
      await createMode(harness(plain).deps, inputsFor(pid, plain.apiKey))
      const plainBody = plain.log.find((l) => l.route === 'POST /projects/{project_id}/branches')!
        .body as Record<string, unknown>
      const { annotation_value: _a, ...branchCreate } = plainBody
      // The expiry is 14 days from the moment of each create: the two runs are apart on the clock.
      const noExpiry = (b: unknown) =>
        JSON.parse(JSON.stringify(b).replace(/"expires_at":"[^"]+"/, '"expires_at":"…"'))
      expect(noExpiry(body['branch_create'])).toEqual(noExpiry(branchCreate))
    } finally {
      await plain.close()
    }
    expect(r.created).toBe(true)
    expect(r.anonymization).toEqual({ maskedColumns: 3, rules: 3, remasked: false })
  })

  it('returns only once Neon says anonymized, polling the status within the poll budget', async () => {
    const h = harness(sim)
    const r = await createMode(h.deps, withRules())
    const s = await statusOf(r.branch!.id)
    expect(s.state).toBe('anonymized')
    // The result came after the status said so: the last status read is the 'anonymized' one.
    const reads = sim.log.filter((l) => l.route?.endsWith('/anonymized_status'))
    expect(reads.length).toBeGreaterThan(1)
    expect(r.connection?.urls.host).toBeDefined()
    // Neon's status_message goes to the log as progress, once per message.
    expect(h.logs.filter((l) => l.includes('Masking'))).toEqual([
      `info: Masking '${NAME}': created: Creating the anonymized branch`,
      `info: Masking '${NAME}': anonymized: Anonymization completed`,
    ])
    // Nothing in the log names a host or a password.
    for (const l of h.logs) {
      expect(l).not.toContain(r.connection!.urls.host)
      expect(l).not.toContain(r.connection!.password)
    }
  })

  it("on 'error' fails with Neon's status message, deletes the branch and says so; the public message leaves it out", async () => {
    sim.failNextAnonymization('anonymization', 'ERROR: column "number" is of type integer')
    const h = harness(sim)
    const err = await createMode(h.deps, withRules()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ModeError)
    const e = err as ModeError
    expect(e.message).toContain(`ended in 'error': ERROR: column "number" is of type integer`)
    expect(e.message).toContain('The branch was deleted')
    const cause = e.cause as AnonymizationFailedError
    expect(cause).toBeInstanceOf(AnonymizationFailedError)
    expect(cause.publicMessage).not.toContain('is of type integer')
    expect(cause.publicMessage).toContain('The branch was deleted')
    expect(e.changes.some((c) => c.startsWith('deleted branch'))).toBe(true)
    expect(live().some((b) => b.name === NAME)).toBe(false)
  })

  it('on initialization_error the same', async () => {
    sim.failNextAnonymization('initialization', 'column "phone" of relation "public.users" does not exist')
    const e = (await createMode(harness(sim).deps, withRules()).catch((x: unknown) => x)) as ModeError
    expect(e.message).toContain(`ended in 'initialization_error'`)
    expect(live().some((b) => b.name === NAME)).toBe(false)
  })

  it('a masking longer than the timeout fails naming what it waited for, and keeps the branch (it refuses connections)', async () => {
    const e = (await createMode(harness(sim).deps, withRules({ timeout: '2' })).catch(
      (x: unknown) => x,
    )) as Error
    expect(e.message).toMatch(/Timed out after \d+ s waiting for Neon to mask branch/)
    expect(live().some((b) => b.name === NAME)).toBe(true)
  })

  it('a 409 from a concurrent run is adopted as for a plain create', async () => {
    await createAnonymizedBranch()
    const from = sim.log.length
    // opened: create first, meet the 409, look up, adopt; the same rules: nothing more.
    const r = await createMode(harness(sim).deps, withRules())
    expect(r.created).toBe(false)
    expect(routes(from)).toContain('POST /projects/{project_id}/branch_anonymized 409')
    expect(
      routes(from).some((x) =>
        x.startsWith('PATCH /projects/{project_id}/branches/{branch_id}/masking_rules'),
      ),
    ).toBe(false)
    expect(r.anonymization?.maskedColumns).toBe(3)
  })

  it('ephemeral: the anonymized branch is recorded for the post step before the masking is waited for', async () => {
    const h = harness(
      sim,
      prContext(12, 'feature/login', { eventName: 'push', runId: '99', runAttempt: '1', job: 'test' }),
    )
    const recorded: string[] = []
    h.deps.ephemeral = {
      creating: (name) => recorded.push(`creating ${name}`),
      created: (b, ops) => recorded.push(`created ${b.id} ${ops.length}`),
      nothing: () => recorded.push('nothing'),
    }
    const r = await createMode(h.deps, withRules({ ephemeral: 'true' }))
    expect(r.anonymization?.maskedColumns).toBe(3)
    expect(recorded[0]).toMatch(/^creating ci\/run-99-1-test/)
    expect(recorded.at(-1)).toBe(`created ${r.branch!.id} 0`)
  })
})

describe('create with masking rules: adopting (a push, a re-run)', () => {
  it('the same rules in another order: no PATCH, no new run, two reads more than a plain adoption', async () => {
    await createAnonymizedBranch()
    const from = sim.log.length
    const r = await createMode(
      harness(sim, PUSH).deps,
      withRules({ masking_rules: JSON.stringify([...NEON_RULES].reverse()) }),
    )
    expect(r.created).toBe(false)
    const seen = routes(from)
    expect(
      seen.filter((x) => x.startsWith('PATCH /projects/{project_id}/branches/{branch_id}/masking_rules')),
    ).toEqual([])
    expect(seen.filter((x) => x.includes('/anonymize '))).toEqual([])
    expect(seen.filter((x) => x.includes('masking_rules') || x.includes('anonymized_status'))).toEqual([
      'GET /projects/{project_id}/branches/{branch_id}/anonymized_status 200',
      'GET /projects/{project_id}/branches/{branch_id}/masking_rules 200',
    ])
    expect(r.anonymization).toEqual({ maskedColumns: 3, rules: 3, remasked: false })
  })

  it('other rules: PATCH (all of them), a new run, waited for; the warning says masked data is masked again', async () => {
    const id = await createAnonymizedBranch()
    const before = (await statusOf(id)).last_run.started_at
    const h = harness(sim, PUSH)
    const from = sim.log.length
    const r = await createMode(h.deps, withRules({ masking_rules: JSON.stringify(NEON_RULES.slice(0, 2)) }))
    const patch = sim.log.slice(from).find((l) => l.method === 'PATCH' && l.route?.endsWith('/masking_rules'))
    expect(patch?.body).toEqual({ masking_rules: NEON_RULES.slice(0, 2) })
    expect(routes(from)).toContain('POST /projects/{project_id}/branches/{branch_id}/anonymize 200')
    const after = await statusOf(id)
    expect(after.state).toBe('anonymized')
    expect(after.last_run.started_at).not.toBe(before)
    expect(r.anonymization).toEqual({ maskedColumns: 2, rules: 2, remasked: true })
    expect(h.logs.some((l) => l.startsWith('warning:') && l.includes('no original value comes back'))).toBe(
      true,
    )
    expect(r.changes).toContain(`replaced the branch's masking rules (3 → 2)`)
  })

  it('a new masking run refused because another run started one meanwhile: that one is waited for', async () => {
    const id = await createAnonymizedBranch()
    const h = harness(sim, PUSH)
    // Another run starts a masking run at the moment ours asks for one, and Neon refuses ours.
    sim.faults.add({
      method: 'POST',
      route: 'POST /projects/{project_id}/branches/{branch_id}/anonymize',
      before: () => startRun(sim.world, sim.world.branches.get(id)!),
      status: 400,
      body: { code: '', message: 'anonymization is already in progress' },
    })
    const r = await createMode(h.deps, withRules({ masking_rules: JSON.stringify(NEON_RULES.slice(0, 2)) }))
    expect(r.anonymization?.maskedColumns).toBe(2)
    expect(
      h.logs.some((l) => l.includes('Neon refused a new masking run') && l.includes('waiting for it')),
    ).toBe(true)
    expect((await statusOf(id)).state).toBe('anonymized')
  })

  it('a branch that is not anonymized is an error naming it, before any change', async () => {
    sim.addBranch(projectId, { name: NAME })
    const from = sim.log.length
    const e = (await createMode(harness(sim, PUSH).deps, withRules()).catch((x: unknown) => x)) as Error
    expect(e.message).toContain(`branch '${NAME}'`)
    expect(e.message).toContain('is not an anonymized branch')
    expect(sim.log.slice(from).filter((l) => l.method !== 'GET')).toEqual([])
  })

  it('a branch still being masked by another run is waited for first', async () => {
    const h = harness(sim)
    // Another run's create, seen while it masks.
    await api(sim, 'POST', `/projects/${projectId}/branch_anonymized`, {
      branch_create: { branch: { name: NAME }, endpoints: [{ type: 'read_write' }] },
      masking_rules: NEON_RULES,
      start_anonymization: true,
    })
    const r = await createMode({ ...h.deps, context: PUSH }, withRules())
    expect(r.created).toBe(false)
    expect(r.anonymization?.maskedColumns).toBe(3)
    expect(h.logs.some((l) => l.includes('is being masked already'))).toBe(true)
  })

  it('a branch whose masking failed is masked again, and deleted when that fails too', async () => {
    sim.failNextAnonymization('anonymization', 'ERROR: boom')
    await api(sim, 'POST', `/projects/${projectId}/branch_anonymized`, {
      branch_create: { branch: { name: NAME }, endpoints: [{ type: 'read_write' }] },
      masking_rules: NEON_RULES,
      start_anonymization: true,
    })
    await sim.clock.sleep(60_000)
    const r = await createMode(harness(sim, PUSH).deps, withRules())
    expect(r.anonymization).toMatchObject({ maskedColumns: 3, remasked: true })
    sim.failNextAnonymization('anonymization', 'ERROR: boom again')
    // The rules differ now: masked again, which fails: the branch goes.
    const e = (await createMode(
      harness(sim, PUSH).deps,
      withRules({ masking_rules: JSON.stringify(NEON_RULES.slice(1)) }),
    ).catch((x: unknown) => x)) as Error
    expect(e.message).toContain('ERROR: boom again')
    expect(live().some((b) => b.name === NAME)).toBe(false)
  })

  it('without masking_rules, an anonymized branch is reported as one (its annotation), its rules left alone', async () => {
    await createAnonymizedBranch()
    const h = harness(sim, PUSH)
    const from = sim.log.length
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey))
    expect(r.anonymization).toEqual({ maskedColumns: 3, remasked: false })
    expect(routes(from).some((x) => x.includes('masking_rules'))).toBe(false)
    expect(h.logs.some((l) => l.startsWith('notice:') && l.includes('masking_rules is not set'))).toBe(true)
  })

  it('a plain branch without rules costs no anonymization request', async () => {
    sim.addBranch(projectId, { name: NAME })
    const from = sim.log.length
    const r = await createMode(harness(sim, PUSH).deps, inputsFor(projectId, sim.apiKey))
    expect(r.anonymization).toBeUndefined()
    expect(routes(from).some((x) => x.includes('anonymiz') || x.includes('masking'))).toBe(false)
  })
})

describe('reset of an anonymized branch: re-created', () => {
  it('deletes it, waits, creates it anew from the parent with the rules, waits for the masking; id and host change', async () => {
    const first = await createMode(harness(sim).deps, withRules())
    const h = harness(sim, PUSH)
    const r = await resetMode(h.deps, withRules({ mode: 'reset' }))
    expect(r.recreated).toEqual({ previousId: first.branch!.id })
    expect(r.created).toBe(true)
    expect(r.branch!.id).not.toBe(first.branch!.id)
    expect(r.branch!.name).toBe(NAME)
    expect(r.connection!.urls.host).not.toBe(first.connection!.urls.host)
    expect(sim.state.branches[first.branch!.id]?.deleted).toBe(true)
    expect((await statusOf(r.branch!.id)).state).toBe('anonymized')
    expect(r.anonymization).toEqual({ maskedColumns: 3, rules: 3, remasked: false })
    // Never a restore: Neon refuses one (restricted_actions).
    expect(sim.log.some((l) => l.route?.endsWith('/restore'))).toBe(false)
    const order = sim.log
      .map((l) => l.route)
      .filter(
        (x) =>
          x === 'DELETE /projects/{project_id}/branches/{branch_id}' ||
          x === 'POST /projects/{project_id}/branch_anonymized',
      )
    expect(order.slice(-2)).toEqual([
      'DELETE /projects/{project_id}/branches/{branch_id}',
      'POST /projects/{project_id}/branch_anonymized',
    ])
  })

  it("without masking_rules, re-creates it with the branch's own rules", async () => {
    await createMode(harness(sim).deps, withRules({ masking_rules: JSON.stringify(NEON_RULES.slice(0, 1)) }))
    const r = await resetMode(harness(sim, PUSH).deps, inputsFor(projectId, sim.apiKey, { mode: 'reset' }))
    const post = sim.log.filter((l) => l.route === 'POST /projects/{project_id}/branch_anonymized').at(-1)!
    expect((post.body as { masking_rules: unknown }).masking_rules).toEqual(NEON_RULES.slice(0, 1))
    expect(r.anonymization?.maskedColumns).toBe(1)
  })

  it('with preserve_under_name, keeps the old branch under that name instead of deleting it', async () => {
    const first = await createMode(harness(sim).deps, withRules())
    const r = await resetMode(
      harness(sim, PUSH).deps,
      withRules({ mode: 'reset', preserve_under_name: 'preview/pr-12-old' }),
    )
    expect(sim.state.branches[first.branch!.id]).toMatchObject({ name: 'preview/pr-12-old', deleted: false })
    expect(r.recreated?.previousId).toBe(first.branch!.id)
  })

  it('a dry run says what it would do and changes nothing', async () => {
    await createAnonymizedBranch()
    const from = sim.log.length
    const r = await resetMode(harness(sim, PUSH).deps, withRules({ mode: 'reset', dry_run: 'true' }))
    expect(r.changes[0]).toMatch(
      /^would re-create anonymized branch .* with 3 masking rules \(masking_rules\)/,
    )
    expect(sim.log.slice(from).filter((l) => l.method !== 'GET')).toEqual([])
  })

  it('masking_rules on a plain branch is an error, before any change', async () => {
    sim.addBranch(projectId, { name: NAME })
    const from = sim.log.length
    const e = (await resetMode(harness(sim, PUSH).deps, withRules({ mode: 'reset' })).catch(
      (x: unknown) => x,
    )) as Error
    expect(e.message).toContain('is not an anonymized branch')
    expect(sim.log.slice(from).filter((l) => l.method !== 'GET')).toEqual([])
  })
})

describe('dry run of create with masking rules', () => {
  it('new: would create an anonymized branch with N rules; nothing is changed', async () => {
    const r = await createMode(harness(sim, PUSH).deps, withRules({ dry_run: 'true' }))
    expect(r.changes.at(-1)).toMatch(
      /^would create an anonymized branch 'preview\/pr-12-feature\/login' from the default branch with 3 masking rules \(masking_rules\), and wait for Neon to mask it/,
    )
    expect(sim.log.filter((l) => l.method !== 'GET')).toEqual([])
  })

  it('existing with other rules: would replace them and mask again', async () => {
    await createAnonymizedBranch()
    const from = sim.log.length
    const r = await createMode(
      harness(sim, PUSH).deps,
      withRules({ dry_run: 'true', masking_rules: JSON.stringify(NEON_RULES.slice(0, 1)) }),
    )
    expect(r.changes.at(-1)).toContain('would replace its masking rules (3 → 1) and mask it again')
    expect(sim.log.slice(from).filter((l) => l.method !== 'GET')).toEqual([])
  })
})
