// The readers getInputs is made of (src/inputs/*.ts), each on its own; inputs.test.ts checks them
// together through getInputs.
import { describe, expect, it } from 'vitest'
import { readCleanup } from '../../src/inputs/cleanup.js'
import { readComputeUnits, readSuspendTimeout } from '../../src/inputs/compute.js'
import { readConnection } from '../../src/inputs/connection.js'
import { readExpiry } from '../../src/inputs/expiry.js'
import { readMasking } from '../../src/inputs/masking.js'
import { readMode } from '../../src/inputs/mode.js'
import { readProject } from '../../src/inputs/project.js'
import { inputReader, quote } from '../../src/inputs/reader.js'
import { readBranchTarget, readPreserveUnderName } from '../../src/inputs/target.js'
import { InputError } from '../../src/inputs/types.js'

const NOW = new Date('2026-12-01T10:00:00Z')
const reader = (values: Record<string, string>) => inputReader((name) => values[name] ?? '')
const now = () => NOW

/** The InputError `f` throws, or a failure when it throws none. */
function errorOf(f: () => unknown): InputError {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(InputError)
    return e as InputError
  }
  throw new Error('expected an InputError')
}

describe('reader', () => {
  it('trims, and scrubs the API key and the token from every message', () => {
    const r = reader({ api_key: 'napi_secret', github_token: 'ghp_token', mode: ' napi_secret ' })
    expect(r.get('mode')).toBe('napi_secret')
    const e = errorOf(() => r.oneOf('mode', ['create']))
    expect(e.input).toBe('mode')
    expect(e.message).toBe("Invalid input 'mode': '***'. Expected one of: create.")
    expect(errorOf(() => r.fail('role', 'holds ghp_token')).message).toBe('holds ***')
  })

  it('checks booleans, whole numbers, names, Postgres names and durations', () => {
    const r = reader({
      prisma: 'TRUE',
      timeout: '0',
      branch_name: 'a\nb',
      database: 'x'.repeat(64),
      cleanup_max_age: '',
    })
    expect(r.bool('prisma', 'false')).toBe(true)
    expect(r.bool('dry_run', 'false')).toBe(false)
    expect(errorOf(() => r.integer('timeout', '300', 1, 3600, 'seconds')).message).toContain(
      'Expected a whole number of seconds from 1 to 3600.',
    )
    expect(errorOf(() => r.optionalName('branch_name')).message).toContain("'a\\u000ab'")
    expect(r.optionalName('parent_branch')).toBeUndefined()
    expect(errorOf(() => r.identifier('database', 'neondb')).message).toContain('this one has 64 bytes')
    expect(r.duration('cleanup_max_age', '2h')).toBe(7_200_000)
    expect(errorOf(() => r.duration('cleanup_max_age', 'soon')).input).toBe('cleanup_max_age')
  })

  it('quote shortens long values and escapes control characters', () => {
    expect(quote('x'.repeat(101))).toBe(`'${'x'.repeat(100)}…'`)
    expect(quote('a\tb')).toBe("'a\\u0009b'")
  })
})

describe('readMode', () => {
  it('reads mode and ephemeral, the latter for create only', () => {
    expect(readMode(reader({ mode: 'create', ephemeral: 'true', api_key: 'k' }), false)).toEqual({
      mode: 'create',
      ephemeral: true,
    })
    expect(
      errorOf(() => readMode(reader({ mode: 'delete', ephemeral: 'true', api_key: 'k' }), false)).input,
    ).toBe('ephemeral')
  })

  it('wants an API key unless told an empty one is allowed', () => {
    expect(errorOf(() => readMode(reader({ mode: 'create' }), false)).input).toBe('api_key')
    expect(readMode(reader({ mode: 'create' }), true).mode).toBe('create')
  })
})

describe('readProject', () => {
  it('reads the project id and the API host', () => {
    expect(readProject(reader({ project_id: 'p-1', api_host: 'http://127.0.0.1:9/api/v2/' }))).toEqual({
      projectId: 'p-1',
      apiHost: 'http://127.0.0.1:9/api/v2',
    })
    expect(readProject(reader({ project_id: 'p-1' })).apiHost).toBe('https://console.neon.tech/api/v2')
  })

  it('refuses a missing or malformed id, and plain http to another machine', () => {
    expect(errorOf(() => readProject(reader({}))).message).toContain('is required')
    expect(errorOf(() => readProject(reader({ project_id: 'P!' }))).input).toBe('project_id')
    expect(
      errorOf(() => readProject(reader({ project_id: 'p', api_host: 'http://example.com' }))).input,
    ).toBe('api_host')
  })
})

describe('readBranchTarget and readPreserveUnderName', () => {
  it('splits parent_branch into the branch and its point', () => {
    expect(
      readBranchTarget(reader({ branch_name: 'preview/x', parent_branch: 'main@0/1A2B' }), 'create', now),
    ).toEqual({
      branchName: 'preview/x',
      parentBranch: 'main',
      parentPoint: { lsn: '0/1A2B' },
      parentText: 'main@0/1A2B',
    })
    expect(readBranchTarget(reader({}), 'create', now)).toEqual({})
  })

  it('keeps ^self for reset, with a point and preserve_under_name', () => {
    expect(errorOf(() => readBranchTarget(reader({ parent_branch: '^self@0/1' }), 'create', now)).input).toBe(
      'parent_branch',
    )
    const target = readBranchTarget(reader({ parent_branch: '^self@0/1' }), 'reset', now)
    expect(errorOf(() => readPreserveUnderName(reader({}), 'reset', target)).input).toBe(
      'preserve_under_name',
    )
    expect(readPreserveUnderName(reader({ preserve_under_name: 'keep' }), 'reset', target)).toBe('keep')
  })

  it('refuses a timestamp in the future', () => {
    const e = errorOf(() =>
      readBranchTarget(reader({ parent_branch: 'main@2027-01-01T00:00:00Z' }), 'create', now),
    )
    expect(e.message).toContain('is in the future (now is 2026-12-01T10:00:00Z)')
  })
})

describe('readConnection', () => {
  it('applies the defaults and reads the given values', () => {
    expect(readConnection(reader({}))).toEqual({
      database: 'neondb',
      role: 'neondb_owner',
      ssl: 'require',
      channelBinding: false,
      prisma: false,
    })
    expect(readConnection(reader({ ssl: 'omit', role: 'app', channel_binding: 'true' }))).toMatchObject({
      role: 'app',
      ssl: 'omit',
      channelBinding: true,
    })
    expect(errorOf(() => readConnection(reader({ ssl: 'prefer' }))).input).toBe('ssl')
  })
})

describe('readSuspendTimeout and readComputeUnits', () => {
  it('reads seconds from -1 to a week, and a compute size', () => {
    expect(readSuspendTimeout(reader({}))).toBe(0)
    expect(readSuspendTimeout(reader({ suspend_timeout: '-1' }))).toBe(-1)
    expect(errorOf(() => readSuspendTimeout(reader({ suspend_timeout: '604801' }))).input).toBe(
      'suspend_timeout',
    )
    expect(readComputeUnits(reader({}))).toBeUndefined()
    expect(readComputeUnits(reader({ compute_units: '0.5-2' }))).toEqual({ min: 0.5, max: 2 })
    expect(errorOf(() => readComputeUnits(reader({ compute_units: 'big' }))).input).toBe('compute_units')
  })
})

describe('readExpiry', () => {
  it('is 14 days by default, 2 hours for an ephemeral branch, or never', () => {
    expect(readExpiry(reader({}), false, now)).toEqual({ kind: 'in', ms: 14 * 86_400_000 })
    expect(readExpiry(reader({}), true, now)).toEqual({ kind: 'in', ms: 7_200_000 })
    expect(readExpiry(reader({ expires_in: 'Never' }), false, now)).toEqual({ kind: 'never' })
    expect(errorOf(() => readExpiry(reader({ expires_in: '31d' }), false, now)).input).toBe('expires_in')
  })

  it('takes expires_at over expires_in, within 30 days from now', () => {
    expect(readExpiry(reader({ expires_at: '2026-12-02T10:00:00+02:00' }), false, now)).toEqual({
      kind: 'at',
      at: new Date('2026-12-02T08:00:00Z'),
    })
    expect(
      errorOf(() => readExpiry(reader({ expires_at: '2026-12-01T09:00:00Z' }), false, now)).message,
    ).toContain('It must be in the future')
    expect(errorOf(() => readExpiry(reader({ expires_at: '2026-02-30T09:00:00Z' }), false, now)).input).toBe(
      'expires_at',
    )
    // A bad expires_in is reported even when expires_at is given.
    expect(
      errorOf(() => readExpiry(reader({ expires_in: 'x', expires_at: '2026-12-02T10:00:00Z' }), false, now))
        .input,
    ).toBe('expires_in')
  })
})

describe('readCleanup', () => {
  it('applies the defaults; an empty prefix is the default, never every branch', () => {
    expect(readCleanup(reader({ cleanup_prefix: '' }))).toEqual({
      cleanupPrefix: 'preview/',
      cleanupMaxAgeMs: 7 * 86_400_000,
      onBranchLimit: 'fail',
    })
    expect(readCleanup(reader({ cleanup_prefix: 'ci/', on_branch_limit: 'make-room' }))).toMatchObject({
      cleanupPrefix: 'ci/',
      onBranchLimit: 'make-room',
    })
    expect(errorOf(() => readCleanup(reader({ cleanup_max_age: 'old' }))).input).toBe('cleanup_max_age')
  })
})

describe('readMasking', () => {
  const target = { database: 'neondb', branchType: 'default' as const }
  it('is undefined without rules, and reads the file only where a branch is made', () => {
    expect(readMasking(reader({}), 'create', target, {})).toBeUndefined()
    const read = (path: string): string => {
      throw new Error(`read ${path}`)
    }
    const r = reader({ masking_rules_file: 'rules.yml' })
    expect(readMasking(r, 'delete', target, { readFile: read, workspace: '/w' })).toBeUndefined()
    expect(() => readMasking(r, 'create', target, { readFile: read, workspace: '/w' })).toThrow()
    expect(
      readMasking(r, 'auto', target, { readFile: read, workspace: '/w', autoMode: 'delete' }),
    ).toBeUndefined()
  })
})
