// The simulator's World mapped onto a real cluster.
//
// Databases: each branch's database is a real database named `<branch id>/<name>` (cut, with a hash,
// past 63 bytes), made with CREATE DATABASE … TEMPLATE <the parent's> so a branch starts with its
// parent's data; restore drops it and copies the source's again; delete ends its sessions and keeps
// it (a soft delete, which a recovery undoes); it is dropped when the branch is deleted for good.
//
// Roles: role names are global in a cluster, but each Neon branch has its own passwords. So a Neon role
// `r` is a real NOLOGIN role `r` (it owns the databases and everything its sessions create, and is the
// name SQL sees as current_user), and each branch has a LOGIN role `r@<branch id>` carrying that
// branch's password, a member of `r`, whose sessions start with `SET ROLE r`. Only the branch's login
// roles may connect to the branch's databases. The endpoint proxy (proxy.ts) rewrites the startup
// packet's user and database, so a client uses the Neon names and only the host and port change.
//
// Every change is queued and applied in order; until a branch's queue is empty its operations stay
// running (Backend.ticket), and the proxy waits for the queue before routing a connection.

import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import pg from 'pg'
import type { Backend } from '../backend.js'
import { roleKey, type SimBranch, type World } from '../state.js'
import type { MaskOutcome, SimMaskingRule } from '../masking-types.js'
import { maskBranch } from './anonymize.js'
import { ADMIN_USER, type Cluster } from './cluster.js'

interface RealBranch {
  /** Neon database name → real database name. */
  dbs: Map<string, string>
  /** Neon role name → real login role name. */
  roles: Map<string, string>
}

interface RoleSpec {
  name: string
  password: string
}
interface DbSpec {
  name: string
  owner: string
}

export const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`
export const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`

/** `<a><sep><b>`, or when longer than 63 bytes a prefix of it and a hash of the whole. */
export function realName(a: string, sep: string, b: string): string {
  const full = `${a}${sep}${b}`
  if (Buffer.byteLength(full, 'utf8') <= 63) return full
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8)
  let prefix = ''
  for (const ch of full) {
    if (Buffer.byteLength(prefix + ch, 'utf8') > 63 - 9) break
    prefix += ch
  }
  return `${prefix}~${hash}`
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export class PgBackend implements Backend {
  private world: World | undefined
  private chain: Promise<void> = Promise.resolve()
  /** Tasks are numbered; `applied` is the last one finished (they run one after another). */
  private enqueued = 0
  private applied = 0
  private readonly lastTask = new Map<string, number>()
  private readonly real = new Map<string, RealBranch>()
  private readonly groups = new Set<string>()
  private readonly usedDbs = new Set<string>()
  private failure: Error | undefined
  /** When each branch's real data may last have changed (World clock), and its open client sessions. */
  private readonly changedAt = new Map<string, number>()
  private readonly sessions = new Map<string, number>()
  /** Each branch's real size (pg_database_size over its databases), as last measured. */
  private readonly sizes = new Map<string, number>()

  constructor(
    private readonly cluster: Cluster,
    private readonly admin: pg.Client,
  ) {}

  bind(world: World): void {
    this.world = world
  }

  private get w(): World {
    if (!this.world) throw new Error('PgBackend: not bound to a World')
    return this.world
  }

  // ---------- queue ----------

  private enqueue(branchIds: string[], what: string, task: () => Promise<void>): void {
    const n = ++this.enqueued
    for (const id of branchIds) this.lastTask.set(id, n)
    this.touch(branchIds)
    this.chain = this.chain
      .then(task)
      .then(() => this.touch(branchIds))
      .then(() => this.measure(branchIds))
      .catch((err: unknown) => {
        const e = new Error(
          `simulator's PostgreSQL backend: ${what} failed: ${err instanceof Error ? err.message : String(err)}`,
        )
        this.failure ??= e
        console.error(e.message)
      })
      .finally(() => {
        this.applied = n
      })
  }

  /** Resolves once every change queued so far is applied; rejects when one of them failed. */
  async settled(): Promise<void> {
    let c: Promise<void>
    do {
      c = this.chain
      await c
    } while (c !== this.chain)
    if (this.failure) throw this.failure
  }

  ticket(branchId: string): number | undefined {
    const n = this.lastTask.get(branchId)
    return n !== undefined && n > this.applied ? n : undefined
  }

  done(ticket: number): boolean {
    return ticket <= this.applied
  }

  // ---------- history (point in time) ----------
  //
  // A PostgreSQL database has no history to branch from: CREATE DATABASE … TEMPLATE copies it as it
  // is now. So a branch (or a restore) at a past point gets real data only when that data cannot
  // have changed since the point: no client session (through the endpoint proxy), no superuser
  // query (sim.postgres.query) and no change of the backend's own on the source after it. Anything
  // else is refused (refusePoint), never answered with today's data under yesterday's name.

  private touch(branchIds: readonly string[]): void {
    if (!this.world) return
    const now = this.world.now()
    for (const id of branchIds) this.changedAt.set(id, now)
  }

  /** A client session reached the branch's database (it may write until sessionClosed). */
  sessionOpened(branchId: string): void {
    this.sessions.set(branchId, (this.sessions.get(branchId) ?? 0) + 1)
    this.touch([branchId])
  }

  sessionClosed(branchId: string): void {
    this.sessions.set(branchId, Math.max(0, (this.sessions.get(branchId) ?? 0) - 1))
    this.touch([branchId])
    // What the session wrote is in the branch's size from here on (no ticket: nothing waits for it).
    this.enqueue([], `measuring branch ${branchId}`, () => this.measure([branchId]))
  }

  // ---------- usage (test/sim/usage.ts) ----------

  /** The branch's logical size as last measured: the sum of pg_database_size over its databases. */
  logicalSize(branch: SimBranch): number | undefined {
    return this.sizes.get(branch.id)
  }

  /**
   * Measures the branches' real sizes. Neon's `logical_size` is "The logical size of the branch, in
   * bytes" (the API description's Branch); here it is what PostgreSQL reports for the branch's
   * databases (pg_database_size: their files on disk, catalogs included), measured after each
   * change the backend applies and each client session, never on a request. A failed measurement
   * keeps the last one: usage never fails a change.
   */
  private async measure(branchIds: readonly string[]): Promise<void> {
    for (const id of branchIds) {
      const dbs = [...(this.real.get(id)?.dbs.values() ?? [])]
      if (dbs.length === 0) continue
      try {
        const r = await this.admin.query<{ n: string }>(
          'SELECT coalesce(sum(pg_database_size(datname)), 0)::text AS n FROM pg_database WHERE datname = ANY($1)',
          [dbs],
        )
        this.sizes.set(id, Number(r.rows[0]?.n ?? 0))
      } catch {
        // Kept as last measured.
      }
    }
  }

  refusePoint(source: SimBranch, at: number): string | undefined {
    const open = this.sessions.get(source.id) ?? 0
    const last = this.changedAt.get(source.id)
    if (open === 0 && (last === undefined || at >= last)) return undefined
    const since =
      open > 0
        ? `${open} session(s) on it are open now`
        : `its data may have changed at ${new Date(last ?? 0).toISOString()}`
    return (
      `the simulator's PostgreSQL backend keeps no history: it can give branch ${source.id} as of ` +
      `${new Date(at).toISOString()} only when nothing could have changed it since, but ${since}`
    )
  }

  /** Real names of a branch's database and login role, as applied so far. */
  realDatabase(branchId: string, name: string): string | undefined {
    return this.real.get(branchId)?.dbs.get(name)
  }
  realRole(branchId: string, name: string): string | undefined {
    return this.real.get(branchId)?.roles.get(name)
  }

  // ---------- World hooks ----------

  private snapshotRoles(branchId: string): RoleSpec[] {
    return this.w.branchRoles(branchId).map((r) => ({ name: r.name, password: r.password }))
  }
  private snapshotDbs(branchId: string): DbSpec[] {
    return this.w.branchDatabases(branchId).map((d) => ({ name: d.name, owner: d.ownerName }))
  }

  branchCreated(branch: SimBranch, from: SimBranch | undefined): void {
    const roles = this.snapshotRoles(branch.id)
    const dbs = this.snapshotDbs(branch.id)
    const schemaOnly = branch.initSource === 'schema-only'
    const fromId = from?.id
    this.enqueue([branch.id], `creating branch ${branch.id}`, async () => {
      const rb: RealBranch = { dbs: new Map(), roles: new Map() }
      this.real.set(branch.id, rb)
      for (const r of roles) await this.ensureLogin(branch.id, rb, r)
      const source = fromId ? this.real.get(fromId) : undefined
      for (const d of dbs) await this.createDatabase(branch.id, rb, d, source?.dbs.get(d.name), schemaOnly)
    })
  }

  branchRestored(branch: SimBranch, source: SimBranch): void {
    // Called before the route has moved the source's roles and databases over: read them when applied.
    this.enqueue([branch.id], `resetting branch ${branch.id} from ${source.id}`, async () => {
      const roles = this.snapshotRoles(branch.id)
      const dbs = this.snapshotDbs(branch.id)
      let rb = this.real.get(branch.id)
      if (!rb) {
        rb = { dbs: new Map(), roles: new Map() }
        this.real.set(branch.id, rb)
      }
      for (const real of rb.dbs.values()) await this.dropDatabase(real)
      rb.dbs.clear()
      for (const [name, real] of [...rb.roles]) {
        if (roles.some((r) => r.name === name)) continue
        await this.dropLogin(real)
        rb.roles.delete(name)
      }
      for (const r of roles) await this.ensureLogin(branch.id, rb, r)
      const src = this.real.get(source.id)
      for (const d of dbs) await this.createDatabase(branch.id, rb, d, src?.dbs.get(d.name), false)
    })
  }

  /**
   * Soft delete: the branch's sessions end (Neon's API description, deleteProjectBranch: "places all
   * compute endpoints into an idle state, breaking existing client connections"), and the proxy
   * admits no new one while the branch is deleted (index.ts); the databases stay, so a recovery gives
   * the data back (branchPurged drops them).
   */
  branchDeleted(branch: SimBranch): void {
    this.enqueue([branch.id], `suspending deleted branch ${branch.id}`, async () => {
      const rb = this.real.get(branch.id)
      if (!rb) return
      for (const real of rb.dbs.values())
        await this.sql(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [real],
        )
    })
  }

  /** Nothing to apply: the databases and login roles were kept; the proxy admits sessions again. */
  branchRecovered(branch: SimBranch): void {
    this.enqueue([branch.id], `recovering branch ${branch.id}`, async () => {
      if (!this.real.has(branch.id))
        throw new Error(`branch ${branch.id} was recovered, but its databases are gone`)
    })
  }

  branchPurged(branch: SimBranch): void {
    this.enqueue([branch.id], `deleting branch ${branch.id} for good`, async () => {
      const rb = this.real.get(branch.id)
      if (!rb) return
      for (const real of rb.dbs.values()) await this.dropDatabase(real)
      for (const real of rb.roles.values()) await this.dropLogin(real)
      this.real.delete(branch.id)
    })
  }

  roleChanged(branch: SimBranch, name: string): void {
    const r = this.w.roles.get(roleKey(branch.id, name))
    const spec = r ? { name: r.name, password: r.password } : undefined
    this.enqueue([branch.id], `${spec ? 'updating' : 'dropping'} role ${name} on ${branch.id}`, async () => {
      const rb = this.real.get(branch.id)
      if (!rb) return
      if (spec) {
        const login = await this.ensureLogin(branch.id, rb, spec)
        for (const db of rb.dbs.values())
          await this.sql(`GRANT CONNECT ON DATABASE ${ident(db)} TO ${ident(login)}`)
      } else {
        const real = rb.roles.get(name)
        if (real) await this.dropLogin(real)
        rb.roles.delete(name)
      }
    })
  }

  databaseChanged(branch: SimBranch, name: string, renamedFrom?: string): void {
    const d = this.w.databases.get(roleKey(branch.id, name))
    const spec = d ? { name: d.name, owner: d.ownerName } : undefined
    this.enqueue([branch.id], `updating database ${name} on ${branch.id}`, async () => {
      const rb = this.real.get(branch.id)
      if (!rb) return
      if (renamedFrom !== undefined && renamedFrom !== name) {
        // The real name stays: only the mapping follows the new Neon name.
        const real = rb.dbs.get(renamedFrom)
        rb.dbs.delete(renamedFrom)
        if (real) rb.dbs.set(name, real)
      }
      const real = rb.dbs.get(name)
      if (spec && !real) await this.createDatabase(branch.id, rb, spec, undefined, false)
      else if (spec && real) {
        await this.ensureGroup(spec.owner)
        await this.sql(`ALTER DATABASE ${ident(real)} OWNER TO ${ident(spec.owner)}`)
      } else if (real) {
        await this.dropDatabase(real)
        rb.dbs.delete(name)
      }
    })
  }

  /**
   * Masks the branch's data for real (anonymize.ts), after every change queued before it (the
   * branch's databases exist by then). Its outcome, failures included, goes to `done`; nothing it
   * meets poisons the queue.
   */
  anonymize(branch: SimBranch, rules: readonly SimMaskingRule[], done: (outcome: MaskOutcome) => void): void {
    this.enqueue([branch.id], `masking branch ${branch.id}`, async () => {
      const rb = this.real.get(branch.id)
      const outcome = await maskBranch(
        async (real) => {
          const c = new pg.Client({
            host: this.cluster.socketDir,
            port: this.cluster.port,
            user: ADMIN_USER,
            database: real,
          })
          await c.connect()
          return c
        },
        (name) => rb?.dbs.get(name),
        rules,
      )
      done(outcome)
    })
  }

  reset(): void {
    this.enqueue([], 'resetting', async () => {
      for (const rb of this.real.values()) {
        for (const real of rb.dbs.values()) await this.dropDatabase(real)
        for (const real of rb.roles.values()) await this.dropLogin(real)
      }
      this.real.clear()
      for (const g of this.groups) await this.sql(`DROP ROLE IF EXISTS ${ident(g)}`).catch(() => undefined)
      this.groups.clear()
      this.usedDbs.clear()
      this.lastTask.clear()
    })
    this.failure = undefined
  }

  /**
   * `pg_dump --schema-only` of the branch's real database, after every queued change is applied
   * (BEHAVIOUR.md, Schemas: Neon's GET …/schema answers what pg_dump --schema-only prints). pg_dump
   * 15.14 and later wrap the dump in `\restrict <key>` / `\unrestrict <key>` lines with a random key
   * per run, which would make two dumps of one schema differ: those lines are dropped (no source
   * says whether Neon's answer carries them).
   */
  async dumpSchema(branch: SimBranch, database: string): Promise<string> {
    await this.settled()
    const real = this.realDatabase(branch.id, database)
    if (!real) throw new Error(`database ${database} of ${branch.id} is not in the cluster`)
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        this.cluster.clientTool('pg_dump'),
        [
          '--schema-only',
          '--no-password',
          '-h',
          this.cluster.socketDir,
          '-p',
          String(this.cluster.port),
          '-U',
          ADMIN_USER,
          '-d',
          real,
        ],
        {
          maxBuffer: 64 << 20,
          timeout: 60_000,
          env: { PATH: process.env['PATH'] ?? '', PGCONNECT_TIMEOUT: '10' },
        },
        (err, stdout, stderr) =>
          err ? reject(new Error(`pg_dump failed: ${err.message}\n${stderr}`)) : resolve(stdout),
      )
    })
    return out.replace(/^\\(un)?restrict .*\n/gm, '')
  }

  // ---------- SQL ----------

  async sql(text: string, params?: unknown[]): Promise<pg.QueryResult> {
    return this.admin.query(text, params)
  }

  /** Runs `text` as the superuser in another database of the cluster. */
  async sqlIn(database: string, text: string, params?: unknown[]): Promise<pg.QueryResult> {
    // A query in a branch's database may change its data (and its size: measured after it).
    const touched: string[] = []
    for (const [branchId, rb] of this.real) {
      if ([...rb.dbs.values()].includes(database)) touched.push(branchId)
    }
    this.touch(touched)
    const c = new pg.Client({
      host: this.cluster.socketDir,
      port: this.cluster.port,
      user: ADMIN_USER,
      database,
    })
    await c.connect()
    try {
      return await c.query(text, params)
    } finally {
      await c.end()
      await this.measure(touched)
    }
  }

  private async ensureGroup(name: string): Promise<void> {
    if (this.groups.has(name)) return
    const found = await this.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])
    if (found.rowCount === 0) await this.sql(`CREATE ROLE ${ident(name)} NOLOGIN`)
    this.groups.add(name)
  }

  /** The branch's login role for a Neon role, created or given the current password. */
  private async ensureLogin(branchId: string, rb: RealBranch, r: RoleSpec): Promise<string> {
    await this.ensureGroup(r.name)
    const login = rb.roles.get(r.name) ?? realName(r.name, '@', branchId)
    const exists = (await this.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [login])).rowCount !== 0
    await this.sql(
      [
        exists
          ? `ALTER ROLE ${ident(login)} WITH LOGIN NOINHERIT PASSWORD ${literal(r.password)}`
          : `CREATE ROLE ${ident(login)} LOGIN NOINHERIT PASSWORD ${literal(r.password)} IN ROLE ${ident(r.name)}`,
        `ALTER ROLE ${ident(login)} SET role TO ${literal(r.name)}`,
      ].join('; '),
    )
    rb.roles.set(r.name, login)
    return login
  }

  private async dropLogin(login: string): Promise<void> {
    try {
      await this.sql(`DROP OWNED BY ${ident(login)}; DROP ROLE IF EXISTS ${ident(login)}`)
    } catch {
      // It still owns objects in some other database (made after a RESET ROLE, then copied into a
      // child branch): it can no longer log in, and goes with the cluster.
      await this.sql(`ALTER ROLE ${ident(login)} NOLOGIN PASSWORD NULL`)
    }
  }

  /** A fresh real database for a branch, copied from `template` when given. */
  private async createDatabase(
    branchId: string,
    rb: RealBranch,
    d: DbSpec,
    template: string | undefined,
    schemaOnly: boolean,
  ): Promise<void> {
    await this.ensureGroup(d.owner)
    let real = realName(branchId, '/', d.name)
    for (let n = 2; this.usedDbs.has(real); n++) real = realName(branchId, '/', `${d.name}~${n}`)
    const create = `CREATE DATABASE ${ident(real)}${template ? ` TEMPLATE ${ident(template)}` : ''} OWNER ${ident(d.owner)}`
    for (let attempt = 1; ; attempt++) {
      // Postgres refuses to copy a database anyone is connected to: end those sessions first.
      if (template)
        await this.sql(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [template],
        )
      try {
        await this.sql(create)
        break
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 40) throw err
        await sleep(25)
      }
    }
    this.usedDbs.add(real)
    rb.dbs.set(d.name, real)
    if (template && schemaOnly) {
      await this.sqlIn(
        real,
        `DO $$ DECLARE t text; BEGIN
           FOR t IN SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg\\_%'
           LOOP EXECUTE 'TRUNCATE ' || t || ' RESTART IDENTITY CASCADE'; END LOOP; END $$`,
      )
    }
    const logins = [...rb.roles.values()].map(ident)
    await this.sql(
      [
        `REVOKE CONNECT ON DATABASE ${ident(real)} FROM PUBLIC`,
        ...(logins.length > 0 ? [`GRANT CONNECT ON DATABASE ${ident(real)} TO ${logins.join(', ')}`] : []),
      ].join('; '),
    )
  }

  private async dropDatabase(real: string): Promise<void> {
    await this.sql(`DROP DATABASE IF EXISTS ${ident(real)} WITH (FORCE)`)
    this.usedDbs.delete(real)
  }
}
