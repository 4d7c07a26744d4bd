import { describe, expect, it } from 'vitest'

import type { SslMode } from '../../src/inputs.js'
import { buildConnectionUrls, poolerHost, type ConnectionInput } from '../../src/neon/connection-string.js'

const HOST = 'ep-cool-darkness-123456.us-east-2.aws.neon.tech'
const POOLED = 'ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech'

const base: ConnectionInput = {
  host: HOST,
  role: 'neondb_owner',
  password: 'npg_secret123',
  database: 'neondb',
  ssl: 'require',
  channelBinding: false,
  prisma: false,
}

const queryOf = (url: string): string => new URL(url).search.replace(/^\?/, '')

describe('poolerHost', () => {
  it('appends -pooler to the first label', () => {
    expect(poolerHost(HOST)).toBe(POOLED)
    expect(poolerHost('ep-a-1.c-2.eu-central-1.aws.neon.tech')).toBe(
      'ep-a-1-pooler.c-2.eu-central-1.aws.neon.tech',
    )
  })

  it('is idempotent', () => {
    expect(poolerHost(POOLED)).toBe(POOLED)
    expect(poolerHost(poolerHost(HOST))).toBe(POOLED)
  })

  it('handles a host with a single label', () => {
    expect(poolerHost('localhost')).toBe('localhost-pooler')
    expect(poolerHost('localhost-pooler')).toBe('localhost-pooler')
  })

  it('only looks at the first label', () => {
    expect(poolerHost('ep-x.pooler-region.neon.tech')).toBe('ep-x-pooler.pooler-region.neon.tech')
    expect(poolerHost('ep-x.y-pooler.neon.tech')).toBe('ep-x-pooler.y-pooler.neon.tech')
  })

  it('rejects an empty host', () => {
    expect(() => poolerHost('')).toThrow(/empty/)
  })
})

describe('buildConnectionUrls', () => {
  it('builds direct and pooled URLs with sslmode=require by default', () => {
    const urls = buildConnectionUrls(base)
    expect(urls).toEqual({
      dbUrl: `postgresql://neondb_owner:npg_secret123@${HOST}/neondb?sslmode=require`,
      dbUrlPooled: `postgresql://neondb_owner:npg_secret123@${POOLED}/neondb?sslmode=require`,
      host: HOST,
      hostPooled: POOLED,
    })
  })

  it.each<SslMode>(['require', 'verify-ca', 'verify-full'])('puts sslmode=%s in both URLs', (ssl) => {
    const urls = buildConnectionUrls({ ...base, ssl })
    expect(queryOf(urls.dbUrl)).toBe(`sslmode=${ssl}`)
    expect(queryOf(urls.dbUrlPooled)).toBe(`sslmode=${ssl}`)
  })

  it('leaves out sslmode, and the ? when nothing else remains, for ssl=omit', () => {
    const urls = buildConnectionUrls({ ...base, ssl: 'omit' })
    expect(urls.dbUrl).toBe(`postgresql://neondb_owner:npg_secret123@${HOST}/neondb`)
    expect(urls.dbUrlPooled).toBe(`postgresql://neondb_owner:npg_secret123@${POOLED}/neondb`)
  })

  // Every combination of the three switches, with the exact parameter order.
  it.each([
    ['require', false, false, 'sslmode=require', 'sslmode=require'],
    [
      'require',
      true,
      false,
      'sslmode=require&channel_binding=require',
      'sslmode=require&channel_binding=require',
    ],
    [
      'require',
      false,
      true,
      'sslmode=require&connect_timeout=15',
      'sslmode=require&connect_timeout=15&pgbouncer=true&pool_timeout=15',
    ],
    [
      'require',
      true,
      true,
      'sslmode=require&channel_binding=require&connect_timeout=15',
      'sslmode=require&channel_binding=require&connect_timeout=15&pgbouncer=true&pool_timeout=15',
    ],
    ['omit', false, false, '', ''],
    ['omit', true, false, 'channel_binding=require', 'channel_binding=require'],
    ['omit', false, true, 'connect_timeout=15', 'connect_timeout=15&pgbouncer=true&pool_timeout=15'],
    [
      'omit',
      true,
      true,
      'channel_binding=require&connect_timeout=15',
      'channel_binding=require&connect_timeout=15&pgbouncer=true&pool_timeout=15',
    ],
    [
      'verify-full',
      true,
      true,
      'sslmode=verify-full&channel_binding=require&connect_timeout=15',
      'sslmode=verify-full&channel_binding=require&connect_timeout=15&pgbouncer=true&pool_timeout=15',
    ],
  ] as const)('ssl=%s channelBinding=%s prisma=%s', (ssl, channelBinding, prisma, direct, pooled) => {
    const urls = buildConnectionUrls({ ...base, ssl, channelBinding, prisma })
    const suffix = (q: string): string => (q === '' ? '' : `?${q}`)
    expect(urls.dbUrl).toBe(`postgresql://neondb_owner:npg_secret123@${HOST}/neondb${suffix(direct)}`)
    expect(urls.dbUrlPooled).toBe(`postgresql://neondb_owner:npg_secret123@${POOLED}/neondb${suffix(pooled)}`)
  })

  it('never puts pgbouncer on the direct URL', () => {
    const urls = buildConnectionUrls({ ...base, prisma: true })
    expect(urls.dbUrl).not.toContain('pgbouncer')
    expect(urls.dbUrl).not.toContain('pool_timeout')
    expect(new URL(urls.dbUrlPooled).searchParams.get('pgbouncer')).toBe('true')
  })

  it('adds the port after the host on both URLs', () => {
    const urls = buildConnectionUrls({ ...base, port: 5433 })
    expect(urls.dbUrl).toBe(`postgresql://neondb_owner:npg_secret123@${HOST}:5433/neondb?sslmode=require`)
    expect(urls.dbUrlPooled).toBe(
      `postgresql://neondb_owner:npg_secret123@${POOLED}:5433/neondb?sslmode=require`,
    )
    expect(urls.host).toBe(HOST) // hosts stay bare: no port
  })

  it.each([0, -1, 65536, 1.5, Number.NaN])('rejects port %s', (port) => {
    expect(() => buildConnectionUrls({ ...base, port })).toThrow(RangeError)
  })

  it('accepts an already pooled host without doubling the suffix', () => {
    const urls = buildConnectionUrls({ ...base, host: POOLED })
    expect(urls.hostPooled).toBe(POOLED)
  })

  describe('percent-encoding', () => {
    const password = 'p@ss:w/rd?#%&=+ x€ü🚀\'"!*()[]{}\\|<>^`~;,$'
    const role = 'app user@corp:ro'
    const database = 'my db/ä'

    const decoded = (url: string) => {
      const u = new URL(url)
      return {
        protocol: u.protocol,
        hostname: u.hostname,
        port: u.port,
        role: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        database: decodeURIComponent(u.pathname.slice(1)),
        params: [...u.searchParams.entries()],
      }
    }

    it.each([
      ['direct', 'dbUrl'],
      ['pooled', 'dbUrlPooled'],
    ] as const)('round-trips role, password and database through new URL() (%s)', (_label, key) => {
      const urls = buildConnectionUrls({ ...base, role, password, database, port: 5432, prisma: true })
      const d = decoded(urls[key])
      expect(d.protocol).toBe('postgresql:')
      expect(d.hostname).toBe(key === 'dbUrl' ? HOST : POOLED)
      expect(d.port).toBe('5432') // postgresql: has no default port in WHATWG URL, so it is kept
      expect(d.role).toBe(role)
      expect(d.password).toBe(password)
      expect(d.database).toBe(database)
      expect(d.params[0]).toEqual(['sslmode', 'require'])
    })

    it('leaves no reserved character unencoded in the credentials or database', () => {
      const { dbUrl } = buildConnectionUrls({ ...base, role, password, database })
      const authority = dbUrl.slice('postgresql://'.length, dbUrl.indexOf(`@${HOST}`))
      // Exactly one ':' separates role and password; no '@', '/', '?' or '#' leaks out.
      expect(authority.split(':')).toHaveLength(2)
      expect(authority).not.toMatch(/[@/?#\s]/)
      const path = dbUrl.slice(dbUrl.indexOf(`${HOST}/`) + HOST.length + 1, dbUrl.indexOf('?'))
      expect(path).toBe('my%20db%2F%C3%A4')
    })

    it('encodes the database so it is one path segment', () => {
      const { dbUrl } = buildConnectionUrls({ ...base, database: 'a/b?c#d' })
      const u = new URL(dbUrl)
      expect(u.pathname).toBe('/a%2Fb%3Fc%23d')
      expect(u.hash).toBe('')
      expect(u.searchParams.get('sslmode')).toBe('require')
    })

    it('keeps plain identifiers readable', () => {
      const { dbUrl } = buildConnectionUrls({ ...base, role: 'read_only-1', database: 'app.db' })
      expect(dbUrl).toContain('//read_only-1:npg_secret123@')
      expect(dbUrl).toContain('/app.db?')
    })
  })
})
