/**
 * Postgres connection strings for a Neon branch endpoint, direct and through Neon's PgBouncer pooler.
 */
import type { SslMode } from '../inputs.js'

/** Everything needed to build the two connection URLs. */
export interface ConnectionInput {
  /** Direct endpoint host, e.g. `ep-cool-darkness-123456.us-east-2.aws.neon.tech`. */
  host: string
  role: string
  password: string
  database: string
  ssl: SslMode
  /** Adds `channel_binding=require` (SCRAM channel binding; needs a libpq 14+ style client). */
  channelBinding: boolean
  /** Adds the parameters Prisma needs (`connect_timeout`, and `pgbouncer`/`pool_timeout` on the pooled URL). */
  prisma: boolean
  /** Omitted from the URL when unset (clients then use 5432). */
  port?: number
}

/** Direct and pooled URLs and hosts. URLs hold the password: mask them before output. */
export interface ConnectionUrls {
  dbUrl: string
  dbUrlPooled: string
  host: string
  hostPooled: string
}

const POOLER_SUFFIX = '-pooler'
// Neon cold starts can take a few seconds; Prisma's 5 s default fails them, 15 s rides them out.
const PRISMA_TIMEOUT_SECONDS = 15

/**
 * The pooled host for a Neon endpoint host: `-pooler` appended to the first DNS label
 * (`ep-x-1.region.aws.neon.tech` → `ep-x-1-pooler.region.aws.neon.tech`). Idempotent.
 *
 * @throws Error when `host` is empty.
 */
export function poolerHost(host: string): string {
  if (host === '') throw new Error('Cannot derive a pooler host from an empty host name.')
  const dot = host.indexOf('.')
  const first = dot === -1 ? host : host.slice(0, dot)
  const rest = dot === -1 ? '' : host.slice(dot)
  if (first.endsWith(POOLER_SUFFIX)) return host
  return `${first}${POOLER_SUFFIX}${rest}`
}

/**
 * Builds `postgresql://<role>:<password>@<host>[:port]/<database>?<params>` for the direct and pooled hosts.
 * Role, password and database are percent-encoded, so any characters survive a URL parser.
 * Parameters, in order: `sslmode` (unless `omit`), `channel_binding=require`, then for Prisma
 * `connect_timeout=15` on both and `pgbouncer=true&pool_timeout=15` on the pooled URL only.
 *
 * @throws Error when the host is empty; RangeError when `port` is not an integer from 1 to 65535.
 */
export function buildConnectionUrls(c: ConnectionInput): ConnectionUrls {
  if (c.port !== undefined && (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535)) {
    throw new RangeError(`Invalid port ${c.port}; expected an integer from 1 to 65535.`)
  }
  const hostPooled = poolerHost(c.host)
  const common: string[] = []
  if (c.ssl !== 'omit') common.push(`sslmode=${c.ssl}`)
  if (c.channelBinding) common.push('channel_binding=require')
  if (c.prisma) common.push(`connect_timeout=${PRISMA_TIMEOUT_SECONDS}`)
  // Prisma must be told it talks to PgBouncer (no prepared statements) only on the pooled connection.
  const pooled = c.prisma ? [...common, 'pgbouncer=true', `pool_timeout=${PRISMA_TIMEOUT_SECONDS}`] : common

  const build = (host: string, params: string[]): string => {
    const auth = `${encodeURIComponent(c.role)}:${encodeURIComponent(c.password)}`
    const port = c.port === undefined ? '' : `:${c.port}`
    const query = params.length === 0 ? '' : `?${params.join('&')}`
    return `postgresql://${auth}@${host}${port}/${encodeURIComponent(c.database)}${query}`
  }

  return { dbUrl: build(c.host, common), dbUrlPooled: build(hostPooled, pooled), host: c.host, hostPooled }
}
