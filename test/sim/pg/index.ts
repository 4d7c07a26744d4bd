// The simulator's optional real PostgreSQL backend: a throwaway cluster (cluster.ts), the World mapped
// onto it (backend.ts), and one proxy listener per endpoint (proxy.ts). Tests reach it through
// `sim.postgres` (SimPostgres); the API itself stays Neon-shaped.

import pg from 'pg'
import { refusesConnections } from '../anonymization.js'
import { poolerHost, type World } from '../state.js'
import { PgBackend } from './backend.js'
import { ADMIN_USER, startCluster, type ClusterOptions } from './cluster.js'
import { EndpointProxies, type RouteResult } from './proxy.js'

export type PostgresOptions = ClusterOptions

/** Test-only access to the real PostgreSQL behind a simulator started with `postgres: true`. */
export interface SimPostgres {
  /** The real server (its superuser logs in over the Unix socket in `socketDir` only). */
  readonly server: {
    host: '127.0.0.1'
    port: number
    version: number
    socketDir: string
    binDir: string
    /** A client tool for this server (psql, pg_dump), or an error naming what is missing. */
    clientTool(tool: 'pg_dump' | 'psql'): string
  }
  /** Milliseconds it took to start the cluster. */
  readonly startMs: number
  /** PEM certificate the server and the endpoint proxies present (self-signed; for `ssl.ca`). */
  readonly ca: string
  /**
   * A Neon-shaped connection string (an endpoint's host or its `-pooler` host) rewritten so that it
   * really connects: only the host and port change (to the endpoint's proxy on 127.0.0.1). Waits for
   * every change made through the API so far to be applied.
   */
  resolve(url: string): Promise<string>
  /** The proxy address for an endpoint's host (or its -pooler host). */
  address(host: string): Promise<{ host: '127.0.0.1'; port: number }>
  /** Waits until every change made so far is applied for real (rejects when one failed). */
  settled(): Promise<void>
  /** The real name of a branch's database, or undefined when it does not exist (yet, or any more). */
  realDatabase(branchId: string, database: string): string | undefined
  /** The real login role standing for a branch's role, or undefined. */
  realRole(branchId: string, role: string): string | undefined
  /** Runs SQL as the superuser, in the real database `database` (default `postgres`). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<R[]>
}

export interface PgBackendHandle {
  backend: PgBackend
  postgres: SimPostgres
  bind(world: World): void
  close(): Promise<void>
}

export async function startPgBackend(o: PostgresOptions = {}): Promise<PgBackendHandle> {
  const cluster = await startCluster(o)
  let admin: pg.Client | undefined
  try {
    admin = new pg.Client({
      host: cluster.socketDir,
      port: cluster.port,
      user: ADMIN_USER,
      database: 'postgres',
    })
    await admin.connect()
  } catch (err) {
    await cluster.stop()
    throw err
  }
  const backend = new PgBackend(cluster, admin)
  let world: World | undefined

  const endpointByHost = (host: string) => {
    const h = host.toLowerCase()
    for (const e of world?.endpoints.values() ?? []) if (e.host === h || poolerHost(e.host) === h) return e
    return undefined
  }

  const route = async (endpointId: string, user: string, database: string): Promise<RouteResult> => {
    try {
      await backend.settled()
    } catch (err) {
      return { error: { code: 'XX000', message: err instanceof Error ? err.message : String(err) } }
    }
    const ep = world?.endpoints.get(endpointId)
    const branch = ep && ep.deletedAt === undefined ? world?.branches.get(ep.branchId) : undefined
    if (!ep || !branch || branch.deletedAt !== undefined || ep.deletedAt !== undefined) {
      return {
        error: {
          code: 'XX000',
          message: `The requested endpoint could not be found, or you don't have access to it. Please check the provided ID and try again.`,
        },
      }
    }
    if (world && refusesConnections(world, branch)) {
      // BEHAVIOUR.md: "The branch is unavailable for connections while anonymization is in
      // progress." Neon's words and error code for the refusal are not documented: 57P03
      // (cannot_connect_now) is PostgreSQL's own for a server that cannot take connections yet.
      return {
        error: {
          code: '57P03',
          message: `branch ${branch.id} is being anonymized: it accepts connections once its data is masked`,
        },
      }
    }
    const realUser = backend.realRole(branch.id, user)
    if (!realUser)
      return { error: { code: '28P01', message: `password authentication failed for user "${user}"` } }
    const realDb = backend.realDatabase(branch.id, database)
    if (!realDb) return { error: { code: '3D000', message: `database "${database}" does not exist` } }
    // The session may write: a past point of this branch is out of reach until it ends (backend.ts).
    backend.sessionOpened(branch.id)
    return { user: realUser, database: realDb, release: () => backend.sessionClosed(branch.id) }
  }

  const proxies = new EndpointProxies({
    upstream: { host: cluster.host, port: cluster.port },
    cert: cluster.cert,
    key: cluster.key,
    route,
  })

  const address = async (host: string): Promise<{ host: '127.0.0.1'; port: number }> => {
    const ep = endpointByHost(host)
    if (!ep) throw new Error(`simulator: no endpoint has the host ${host}`)
    return { host: '127.0.0.1', port: await proxies.port(ep.id) }
  }

  const postgres: SimPostgres = {
    server: {
      host: cluster.host,
      port: cluster.port,
      version: cluster.version,
      socketDir: cluster.socketDir,
      binDir: cluster.binDir,
      clientTool: (tool) => cluster.clientTool(tool),
    },
    startMs: cluster.startMs,
    ca: cluster.cert,
    async resolve(url) {
      // scheme://[userinfo@]host[:port]/rest: the action percent-encodes user and password, so the
      // userinfo holds no '/', '?' or '#'.
      const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)?([^/?#:@]+)(:\d+)?([/?#].*)?$/is.exec(url)
      if (!m) throw new Error('simulator: not a postgresql:// URL with a host')
      const [, scheme, userinfo = '', host = '', , rest = ''] = m
      const a = await address(host)
      await backend.settled()
      return `${scheme}${userinfo}${a.host}:${a.port}${rest}`
    },
    address,
    settled: () => backend.settled(),
    realDatabase: (b, d) => backend.realDatabase(b, d),
    realRole: (b, r) => backend.realRole(b, r),
    async query<R extends pg.QueryResultRow>(sql: string, params?: unknown[], database = 'postgres') {
      const res = await backend.sqlIn(database, sql, params)
      return res.rows as R[]
    },
  }

  return {
    backend,
    postgres,
    bind(w) {
      world = w
      backend.bind(w)
    },
    async close() {
      await proxies.close()
      await backend.settled().catch(() => undefined)
      await admin.end().catch(() => undefined)
      await cluster.stop()
    },
  }
}
