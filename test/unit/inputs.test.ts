import { readFileSync } from 'node:fs'

import { afterEach, describe, expect, it, vi } from 'vitest'

import { DEFAULT_API_HOST, INPUTS, MAX_EXPIRY_MS, OUTPUTS } from '../../src/constants.js'
import { expiryTimestamp, getInputs, InputError, NEON_INPUT_NAMES, type Inputs } from '../../src/inputs.js'

const API_KEY = 'napi_k3y_v4lu3_th4t_must_n3v3r_l34k_0123456789abcdef'
const GITHUB_TOKEN = 'ghs_t0k3n_v4lu3_th4t_must_n3v3r_l34k_zyxw'
const NOW = new Date('2030-06-15T12:00:00.000Z')
const DAY = 24 * 60 * 60 * 1000

const REQUIRED = { mode: 'create', api_key: API_KEY, project_id: 'restless-river-12345678' }

const reader =
  (values: Record<string, string>, seen?: string[]) =>
  (name: string): string => {
    seen?.push(name)
    return values[name] ?? ''
  }

const parse = (overrides: Record<string, string> = {}): Inputs =>
  getInputs(reader({ ...REQUIRED, github_token: GITHUB_TOKEN, ...overrides }), () => NOW)

/** Asserts getInputs fails on `input`, with a message matching `message` that holds no secret. */
function expectInvalid(
  overrides: Record<string, string>,
  input: string,
  message: RegExp | string,
): InputError {
  let caught: unknown
  try {
    parse(overrides)
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(InputError)
  const err = caught as InputError
  expect(err.input).toBe(input)
  expect(err.name).toBe('InputError')
  expect(err.message).toMatch(message)
  expect(err.message).toContain(`'${input}'`)
  expect(err.message).not.toContain(API_KEY)
  expect(err.message).not.toContain(GITHUB_TOKEN)
  return err
}

describe('getInputs: defaults', () => {
  it('applies every default when only the required inputs are given', () => {
    const inputs = getInputs(reader(REQUIRED), () => NOW)
    expect(inputs).toEqual({
      mode: 'create',
      apiKey: API_KEY,
      projectId: 'restless-river-12345678',
      apiHost: 'https://console.neon.tech/api/v2',
      ephemeral: false,
      branchType: 'default',
      database: 'neondb',
      role: 'neondb_owner',
      ssl: 'require',
      channelBinding: false,
      prisma: false,
      suspendTimeout: 0,
      expiry: { kind: 'in', ms: 14 * DAY },
      timeoutMs: 300_000,
      githubToken: '',
      comment: true,
      dryRun: false,
      cleanupPrefix: 'preview/',
      cleanupMaxAgeMs: 7 * DAY,
      onBranchLimit: 'fail',
      getAuthUrl: false,
      getDataApiUrl: false,
      resetPassword: false,
    } satisfies Inputs)
    // Optional inputs are absent, not present-but-undefined.
    expect('branchName' in inputs).toBe(false)
    expect('parentBranch' in inputs).toBe(false)
    expect('preserveUnderName' in inputs).toBe(false)
  })

  it("reads the inputs declared in constants, each once, and Neon's names for them (issue 32)", () => {
    const seen: string[] = []
    getInputs(reader(REQUIRED, seen), () => NOW)
    const neonNames = [...new Set(NEON_INPUT_NAMES.map((r) => r.neon))]
    expect([...seen].sort()).toEqual([...Object.values(INPUTS), ...neonNames].sort())
  })

  it('trims values', () => {
    const inputs = parse({ mode: '  delete\n', project_id: ' p-1 ', database: ' app ', branch_name: '  x  ' })
    expect(inputs.mode).toBe('delete')
    expect(inputs.projectId).toBe('p-1')
    expect(inputs.database).toBe('app')
    expect(inputs.branchName).toBe('x')
  })

  it('treats whitespace-only values as unset', () => {
    const inputs = parse({ database: '   ', expires_in: ' ', timeout: '\t', branch_name: ' ' })
    expect(inputs.database).toBe('neondb')
    expect(inputs.expiry).toEqual({ kind: 'in', ms: 14 * DAY })
    expect(inputs.timeoutMs).toBe(300_000)
    expect(inputs.branchName).toBeUndefined()
  })

  it('passes every value through when all inputs are set', () => {
    const inputs = parse({
      mode: 'reset',
      api_host: 'http://localhost:4010/api/v2/',
      branch_name: 'preview/pr-1-main',
      parent_branch: 'br-main-123',
      branch_type: 'schema-only',
      database: 'app',
      role: 'app_user',
      ssl: 'verify-full',
      channel_binding: 'true',
      prisma: 'TRUE',
      suspend_timeout: '-1',
      expires_in: 'never',
      timeout: '3600',
      comment: 'False',
      dry_run: 'True',
      cleanup_prefix: 'pr/',
      cleanup_max_age: '2w',
      on_branch_limit: 'make-room',
      preserve_under_name: 'preview/pr-1-main-old',
      get_auth_url: 'true',
      get_data_api_url: 'TRUE',
    })
    expect(inputs).toEqual({
      mode: 'reset',
      apiKey: API_KEY,
      projectId: 'restless-river-12345678',
      apiHost: 'http://localhost:4010/api/v2',
      branchName: 'preview/pr-1-main',
      parentBranch: 'br-main-123',
      branchType: 'schema-only',
      database: 'app',
      role: 'app_user',
      ephemeral: false,
      ssl: 'verify-full',
      channelBinding: true,
      prisma: true,
      suspendTimeout: -1,
      expiry: { kind: 'never' },
      timeoutMs: 3_600_000,
      githubToken: GITHUB_TOKEN,
      comment: false,
      dryRun: true,
      cleanupPrefix: 'pr/',
      cleanupMaxAgeMs: 14 * DAY,
      onBranchLimit: 'make-room',
      preserveUnderName: 'preview/pr-1-main-old',
      getAuthUrl: true,
      getDataApiUrl: true,
      resetPassword: false,
    } satisfies Inputs)
  })

  it('allows an empty github_token', () => {
    expect(parse({ github_token: '' }).githubToken).toBe('')
  })
})

describe('getInputs: mode', () => {
  it.each(['create', 'reset', 'delete', 'cleanup', 'schema-diff', 'recover', 'auto'])(
    'accepts %s',
    (mode) => {
      expect(parse({ mode }).mode).toBe(mode)
    },
  )

  it('is required', () => {
    expectInvalid(
      { mode: '' },
      'mode',
      "Input 'mode' is required. Expected one of: create, reset, delete, cleanup, schema-diff, recover, auto.",
    )
  })

  it.each(['Create', 'CREATE', 'destroy', 'create '.repeat(2)])('rejects %j', (mode) => {
    expectInvalid(
      { mode },
      'mode',
      /^Invalid input 'mode': '.*'\. Expected one of: create, reset, delete, cleanup, schema-diff, recover, auto\.$/,
    )
  })
})

describe('getInputs: api_key', () => {
  it.each(['', '   '])('is required (%j)', (value) => {
    expectInvalid({ api_key: value }, 'api_key', /^Input 'api_key' is required/)
  })

  it('is validated after mode and before project_id', () => {
    expectInvalid({ mode: 'nope', api_key: '' }, 'mode', /mode/)
    expectInvalid({ api_key: '', project_id: 'BAD' }, 'api_key', /required/)
  })
})

describe('getInputs: project_id', () => {
  it.each(['p', 'restless-river-12345678', 'a'.repeat(60), '0-0'])('accepts %s', (id) => {
    expect(parse({ project_id: id }).projectId).toBe(id)
  })

  it('is required', () => {
    expectInvalid({ project_id: '' }, 'project_id', /^Input 'project_id' is required/)
  })

  it.each(['Restless-River', 'a'.repeat(61), 'a_b', 'a b', 'a/b', 'ä', '../etc'])('rejects %j', (id) => {
    expectInvalid({ project_id: id }, 'project_id', `Invalid input 'project_id': '${id}'.`)
  })
})

describe('getInputs: api_host', () => {
  it.each([
    ['https://console.neon.tech/api/v2', 'https://console.neon.tech/api/v2'],
    ['https://console.neon.tech/api/v2/', 'https://console.neon.tech/api/v2'],
    ['https://console.neon.tech/api/v2///', 'https://console.neon.tech/api/v2'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['HTTPS://Example.COM/api', 'https://example.com/api'],
  ])('accepts %s as %s', (value, expected) => {
    expect(parse({ api_host: value }).apiHost).toBe(expected)
  })

  it('defaults to the Neon API', () => {
    expect(parse().apiHost).toBe(DEFAULT_API_HOST)
  })

  it.each(['console.neon.tech/api/v2', 'ftp://example.com', 'file:///etc/passwd', 'not a url', 'https://'])(
    'rejects %j',
    (value) => {
      expectInvalid(
        { api_host: value },
        'api_host',
        /Expected an https:\/\/ URL \(http:\/\/ only for localhost\)/,
      )
    },
  )

  // Issue 22: plain http carries the API key in clear text, so only to this machine.
  it.each([
    ['http://localhost:4010/api/v2', 'http://localhost:4010/api/v2'],
    ['http://LOCALHOST/api', 'http://localhost/api'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://127.255.3.4/api', 'http://127.255.3.4/api'],
    ['http://127.1:9/api', 'http://127.0.0.1:9/api'],
    ['http://[::1]:4010/api/v2', 'http://[::1]:4010/api/v2'],
    ['http://[0:0:0:0:0:0:0:1]/api', 'http://[::1]/api'],
  ])('accepts plain http to this machine: %s', (value, expected) => {
    expect(parse({ api_host: value }).apiHost).toBe(expected)
  })

  it.each([
    'http://10.0.0.5:8080/api/v2',
    'http://console.neon.tech/api/v2',
    'http://localhost.evil.example/api',
    'http://127.0.0.1.nip.io/api',
    'http://0.0.0.0:4010/api',
    'http://[::ffff:127.0.0.1]/api',
    'http://[::2]/api',
    'http://192.168.1.10/api',
  ])('rejects plain http to another host: %s, naming the input', (value) => {
    const err = expectInvalid(
      { api_host: value },
      'api_host',
      /^Invalid input 'api_host': .*Plain http:\/\/ would send the API key in clear text: use https:\/\//,
    )
    expect(err.message).toContain('localhost, 127.0.0.0/8 or [::1]')
  })

  it.each(['https://x.test/api?x=1', 'https://x.test/api#frag'])(
    'rejects query or fragment in %s',
    (value) => {
      expectInvalid({ api_host: value }, 'api_host', /query string or fragment/)
    },
  )

  it('rejects credentials without echoing them', () => {
    const err = expectInvalid(
      { api_host: 'https://user:hunter2@x.test/api' },
      'api_host',
      /user name or password/,
    )
    expect(err.message).not.toContain('hunter2')
  })
})

describe.each([
  ['branch_name', 'branchName'],
  ['parent_branch', 'parentBranch'],
  ['preserve_under_name', 'preserveUnderName'],
] as const)('getInputs: %s', (input, key) => {
  it('is optional', () => {
    expect(parse()[key]).toBeUndefined()
  })

  it.each(['main', 'br-cool-darkness-123456', 'Feature/ÄÖÜ 🚀', 'x'.repeat(256), '🚀'.repeat(256)])(
    'accepts %j',
    (value) => {
      expect(parse({ [input]: value })[key]).toBe(value)
    },
  )

  it('rejects more than 256 characters', () => {
    expectInvalid({ [input]: 'x'.repeat(257) }, input, /at most 256 characters; this one has 257/)
    expectInvalid({ [input]: '🚀'.repeat(257) }, input, /at most 256 characters/)
  })

  it.each(['a\u0000b', 'a\u0007b', 'a\nb', 'a\u001bb', 'a\u007fb', 'a\u0085b'])(
    'rejects control characters (%j) and escapes them in the message',
    (value) => {
      const err = expectInvalid({ [input]: value }, input, /control characters/)
      // eslint-disable-next-line no-control-regex -- asserting that none survive
      expect(err.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
      expect(err.message).toMatch(/a\\u00[0-9a-f]{2}b/)
    },
  )
})

describe('getInputs: enumerations', () => {
  it.each(['default', 'schema-only'])('branch_type accepts %s', (value) => {
    expect(parse({ branch_type: value }).branchType).toBe(value)
  })

  it.each(['schema_only', 'Default', 'data'])('branch_type rejects %s', (value) => {
    expectInvalid(
      { branch_type: value },
      'branch_type',
      `Invalid input 'branch_type': '${value}'. Expected one of: default, schema-only.`,
    )
  })

  it.each(['require', 'verify-ca', 'verify-full', 'omit'])('ssl accepts %s', (value) => {
    expect(parse({ ssl: value }).ssl).toBe(value)
  })

  it('ssl rejects other values with the documented message', () => {
    expectInvalid(
      { ssl: 'x' },
      'ssl',
      /^Invalid input 'ssl': 'x'\. Expected one of: require, verify-ca, verify-full, omit\.$/,
    )
    expectInvalid({ ssl: 'disable' }, 'ssl', /'disable'/)
    expectInvalid({ ssl: 'REQUIRE' }, 'ssl', /'REQUIRE'/)
  })
})

describe.each([
  ['channel_binding', 'channelBinding', false],
  ['prisma', 'prisma', false],
  ['comment', 'comment', true],
  ['dry_run', 'dryRun', false],
  ['get_auth_url', 'getAuthUrl', false],
  ['get_data_api_url', 'getDataApiUrl', false],
  ['reset_password', 'resetPassword', false],
] as const)('getInputs: boolean %s', (input, key, fallback) => {
  it(`defaults to ${fallback}`, () => {
    expect(parse()[key]).toBe(fallback)
  })

  it.each(['true', 'True', 'TRUE'])('reads %s as true', (value) => {
    expect(parse({ [input]: value })[key]).toBe(true)
  })

  it.each(['false', 'False', 'FALSE'])('reads %s as false', (value) => {
    expect(parse({ [input]: value })[key]).toBe(false)
  })

  it.each(['yes', 'no', '1', '0', 'on', 'tRUE', 'y', 't'])('rejects %s', (value) => {
    expectInvalid({ [input]: value }, input, `Invalid input '${input}': '${value}'. Expected true or false`)
  })
})

describe.each([
  ['database', 'neondb'],
  ['role', 'neondb_owner'],
] as const)('getInputs: %s', (input, fallback) => {
  it(`defaults to ${fallback}`, () => {
    expect(parse()[input]).toBe(fallback)
  })

  it.each(['a', 'x'.repeat(63), 'é'.repeat(31), 'my db/ä', 'Robert"); DROP TABLE'])('accepts %j', (value) => {
    expect(parse({ [input]: value })[input]).toBe(value)
  })

  it('counts UTF-8 bytes, not characters', () => {
    // 32 × 'é' is 32 characters but 64 bytes.
    expectInvalid({ [input]: 'é'.repeat(32) }, input, /1 to 63 bytes of UTF-8; this one has 64 bytes/)
    expectInvalid({ [input]: '🚀'.repeat(16) }, input, /this one has 64 bytes/)
    expect(parse({ [input]: `${'x'.repeat(61)}é` })[input]).toHaveLength(62)
  })

  it('rejects 64 ASCII bytes', () => {
    expectInvalid({ [input]: 'x'.repeat(64) }, input, /64 bytes/)
  })

  it('rejects NUL', () => {
    const err = expectInvalid({ [input]: 'a\u0000b' }, input, /NUL/)
    expect(err.message).toContain('a\\u0000b')
  })
})

describe('getInputs: suspend_timeout', () => {
  it.each([
    ['-1', -1],
    ['0', 0],
    ['300', 300],
    ['604800', 604800],
    ['007', 7],
  ])('accepts %s', (value, expected) => {
    expect(parse({ suspend_timeout: value }).suspendTimeout).toBe(expected)
  })

  it.each(['-2', '604801', '1.5', '1e3', '+5', '5s', 'abc', '0x10', '99999999999999999999'])(
    'rejects %s',
    (value) => {
      expectInvalid(
        { suspend_timeout: value },
        'suspend_timeout',
        /Expected a whole number of seconds .* from -1 to 604800\./,
      )
    },
  )
})

describe('getInputs: timeout', () => {
  it.each([
    ['1', 1000],
    ['300', 300_000],
    ['3600', 3_600_000],
  ])('accepts %s seconds', (value, ms) => {
    expect(parse({ timeout: value }).timeoutMs).toBe(ms)
  })

  it.each(['0', '-1', '3601', '5m', '2.5', 'forever'])('rejects %s', (value) => {
    expectInvalid({ timeout: value }, 'timeout', /Expected a whole number of seconds from 1 to 3600\./)
  })
})

describe('getInputs: expires_in', () => {
  it.each([
    ['90m', 90 * 60_000],
    ['12h', 12 * 3_600_000],
    ['7d', 7 * DAY],
    ['2w', 14 * DAY],
    ['30d', 30 * DAY],
    ['720h', 30 * DAY],
  ])('accepts %s', (value, ms) => {
    expect(parse({ expires_in: value }).expiry).toEqual({ kind: 'in', ms })
  })

  it.each(['never', 'Never', 'NEVER'])('accepts %s', (value) => {
    expect(parse({ expires_in: value }).expiry).toEqual({ kind: 'never' })
  })

  it.each(['31d', '5w', '721h', `${30 * 24 * 60 + 1}m`])('rejects more than 30 days (%s)', (value) => {
    expectInvalid({ expires_in: value }, 'expires_in', /at most 30d ahead/)
  })

  it.each([
    ['0d', /greater than zero/],
    ['-1d', /whole number/],
    ['1.5d', /whole number/],
    ['7', /whole number/],
    ['7y', /Unknown duration unit/],
    ['soon', /whole number/],
  ])('rejects %s', (value, message) => {
    const err = expectInvalid({ expires_in: value }, 'expires_in', message)
    expect(err.message).toMatch(new RegExp(`^Invalid input 'expires_in': '${value.replace('.', '\\.')}'\\. `))
  })
})

describe('getInputs: expires_at', () => {
  it.each([
    ['2030-06-20T00:00:00Z', '2030-06-20T00:00:00.000Z'],
    ['2030-06-20t00:00:00z', '2030-06-20T00:00:00.000Z'],
    ['2030-06-20T02:00:00+02:00', '2030-06-20T00:00:00.000Z'],
    ['2030-06-19T19:30:00-04:30', '2030-06-20T00:00:00.000Z'],
    ['2030-06-20T00:00:00.123456Z', '2030-06-20T00:00:00.123Z'],
    ['2030-06-15T12:00:01Z', '2030-06-15T12:00:01.000Z'],
  ])('accepts %s', (value, iso) => {
    const { expiry } = parse({ expires_at: value })
    expect(expiry.kind).toBe('at')
    expect(expiry.kind === 'at' && expiry.at.toISOString()).toBe(iso)
  })

  it('overrides expires_in', () => {
    expect(parse({ expires_in: 'never', expires_at: '2030-06-20T00:00:00Z' }).expiry.kind).toBe('at')
    expect(parse({ expires_in: '1d', expires_at: '2030-06-20T00:00:00Z' }).expiry.kind).toBe('at')
  })

  it('still rejects a bad expires_in when expires_at is set', () => {
    expectInvalid({ expires_in: '60d', expires_at: '2030-06-20T00:00:00Z' }, 'expires_in', /30d/)
  })

  it('accepts exactly 30 days ahead and rejects one second more', () => {
    const limit = new Date(NOW.getTime() + MAX_EXPIRY_MS)
    expect(parse({ expires_at: limit.toISOString() }).expiry).toEqual({ kind: 'at', at: limit })
    const over = new Date(limit.getTime() + 1000).toISOString()
    expectInvalid(
      { expires_at: over },
      'expires_at',
      /at most 30d ahead, i\.e\. no later than 2030-07-15T12:00:00Z/,
    )
  })

  it.each([
    '2030-06-15T12:00:00Z',
    '2030-06-15T11:59:59Z',
    '2020-01-01T00:00:00Z',
    '2030-06-15T14:00:00+02:00',
  ])('rejects a time not in the future (%s)', (value) => {
    expectInvalid(
      { expires_at: value },
      'expires_at',
      /must be in the future \(now is 2030-06-15T12:00:00Z\)/,
    )
  })

  it.each([
    '2030-06-20',
    '2030-06-20T00:00:00', // no zone
    '2030-06-20 00:00:00Z',
    '2030-06-20T00:00Z',
    '2030-06-20T00:00:00+0200',
    '2030-06-20T00:00:00+02',
    '2030-06-20T00:00:00 Z',
    '2030-13-01T00:00:00Z',
    '2030-00-01T00:00:00Z',
    '2030-02-30T00:00:00Z',
    '2030-06-31T00:00:00Z',
    '2030-06-20T24:00:00Z',
    '2030-06-20T23:60:00Z',
    '2030-06-20T23:59:60Z',
    '2030-06-20T00:00:00+24:00',
    '2030-06-20T00:00:00+02:60',
    '1781913600',
    'tomorrow',
    'Thu, 20 Jun 2030 00:00:00 GMT',
  ])('rejects %j as not RFC 3339', (value) => {
    expectInvalid({ expires_at: value }, 'expires_at', /Expected an RFC 3339 timestamp with a time zone/)
  })

  it('uses the injected clock', () => {
    const later = () => new Date('2030-06-25T00:00:00Z')
    expect(() => getInputs(reader({ ...REQUIRED, expires_at: '2030-06-20T00:00:00Z' }), later)).toThrow(
      /must be in the future/,
    )
  })

  it('accepts Feb 29 only in leap years', () => {
    const leapNow = () => new Date('2032-02-20T00:00:00Z')
    const inputs = getInputs(reader({ ...REQUIRED, expires_at: '2032-02-29T00:00:00Z' }), leapNow)
    expect(inputs.expiry.kind).toBe('at')
    const plainNow = () => new Date('2031-02-20T00:00:00Z')
    expect(() => getInputs(reader({ ...REQUIRED, expires_at: '2031-02-29T00:00:00Z' }), plainNow)).toThrow(
      /RFC 3339/,
    )
  })
})

describe('getInputs: on_branch_limit', () => {
  it('defaults to fail, accepts make-room, and names the allowed values otherwise', () => {
    expect(parse({ on_branch_limit: '' }).onBranchLimit).toBe('fail')
    expect(parse({ on_branch_limit: 'make-room' }).onBranchLimit).toBe('make-room')
    expectInvalid({ on_branch_limit: 'delete' }, 'on_branch_limit', /Expected one of: fail, make-room\./)
  })
})

describe('getInputs: cleanup', () => {
  it('falls back to the default prefix rather than matching every branch', () => {
    expect(parse({ cleanup_prefix: '' }).cleanupPrefix).toBe('preview/')
    expect(parse({ cleanup_prefix: '   ' }).cleanupPrefix).toBe('preview/')
  })

  it('rejects a prefix with control characters or over 256 characters', () => {
    expectInvalid({ cleanup_prefix: 'a\tb' }, 'cleanup_prefix', /control characters/)
    expectInvalid({ cleanup_prefix: 'p'.repeat(257) }, 'cleanup_prefix', /256/)
  })

  it.each([
    ['7d', 7 * DAY],
    ['36h', 36 * 3_600_000],
    ['1w', 7 * DAY],
    ['90d', 90 * DAY], // no 30-day cap: this is an age, not an expiry
  ])('cleanup_max_age accepts %s', (value, ms) => {
    expect(parse({ cleanup_max_age: value }).cleanupMaxAgeMs).toBe(ms)
  })

  it.each(['0d', 'never', '7', '1.5d', '-1d'])('cleanup_max_age rejects %s', (value) => {
    expectInvalid(
      { cleanup_max_age: value },
      'cleanup_max_age',
      `Invalid input 'cleanup_max_age': '${value}'.`,
    )
  })
})

describe('getInputs: ephemeral', () => {
  it('is off by default, and leaves the defaults of expires_in and comment as they were', () => {
    const i = parse()
    expect(i.ephemeral).toBe(false)
    expect(i.expiry).toEqual({ kind: 'in', ms: 14 * DAY })
    expect(i.comment).toBe(true)
  })

  it('with mode create: expires in 2 hours and writes no comment, unless told otherwise', () => {
    const i = parse({ ephemeral: 'true' })
    expect(i.ephemeral).toBe(true)
    expect(i.expiry).toEqual({ kind: 'in', ms: 2 * 3_600_000 })
    expect(i.comment).toBe(false)
    expect(parse({ ephemeral: 'true', expires_in: '30m' }).expiry).toEqual({ kind: 'in', ms: 1_800_000 })
    expect(parse({ ephemeral: 'true', expires_in: 'never' }).expiry).toEqual({ kind: 'never' })
    expect(parse({ ephemeral: 'true', expires_at: '2030-06-15T15:00:00Z' }).expiry).toEqual({
      kind: 'at',
      at: new Date('2030-06-15T15:00:00Z'),
    })
    expect(parse({ ephemeral: 'true', comment: 'true' }).comment).toBe(true)
  })

  it.each(['reset', 'delete', 'cleanup', 'auto'])('is an input error with mode %s', (mode) => {
    expectInvalid(
      { mode, ephemeral: 'true' },
      'ephemeral',
      `allowed only with 'mode: create' (mode is '${mode}')`,
    )
  })

  it('is a boolean like the others', () => {
    expectInvalid(
      { ephemeral: 'yes' },
      'ephemeral',
      "Invalid input 'ephemeral': 'yes'. Expected true or false",
    )
    expect(parse({ ephemeral: 'False', mode: 'delete' }).ephemeral).toBe(false)
  })
})

describe('getInputs: secrets never appear in messages', () => {
  it.each([
    ['mode', API_KEY],
    ['project_id', API_KEY],
    ['ssl', `x${API_KEY}x`],
    ['branch_name', `${API_KEY}\u0007`],
    ['database', `${API_KEY}${API_KEY}`], // longer than the quoted excerpt: redaction must come first
    ['cleanup_prefix', `${'p'.repeat(80)}${API_KEY}${'p'.repeat(200)}`],
    ['expires_at', API_KEY],
    ['mode', GITHUB_TOKEN],
    ['timeout', GITHUB_TOKEN],
    ['api_host', `https://${API_KEY}@x.test`],
    ['api_host', `https://x.test/?key=${API_KEY}`],
  ])('redacts a secret pasted into %s', (input, value) => {
    const err = expectInvalid({ [input]: value }, input, /\*\*\*|user name or password/)
    expect(err.message).not.toContain(API_KEY.slice(0, 20))
  })

  it('does not garble messages for a very short secret', () => {
    const err = (() => {
      try {
        getInputs(reader({ ...REQUIRED, api_key: 'e', ssl: 'x' }), () => NOW)
      } catch (e) {
        return e as InputError
      }
      throw new Error('expected a throw')
    })()
    expect(err.message).toBe(
      "Invalid input 'ssl': 'x'. Expected one of: require, verify-ca, verify-full, omit.",
    )
  })

  it('never quotes more than 100 characters of a value', () => {
    const err = expectInvalid({ ssl: 's'.repeat(500) }, 'ssl', /'s{100}…'/)
    expect(err.message.length).toBeLessThan(250)
  })
})

describe('getInputs: default reader', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('reads INPUT_* environment variables through @actions/core when called', () => {
    // Set after import: proves inputs are read at call time, not at module load.
    vi.stubEnv('INPUT_MODE', ' cleanup ')
    vi.stubEnv('INPUT_API_KEY', API_KEY)
    vi.stubEnv('INPUT_PROJECT_ID', 'p-1')
    vi.stubEnv('INPUT_CLEANUP_MAX_AGE', '3d')
    const inputs = getInputs()
    expect(inputs.mode).toBe('cleanup')
    expect(inputs.projectId).toBe('p-1')
    expect(inputs.cleanupMaxAgeMs).toBe(3 * DAY)
  })

  it('fails on a missing required input', () => {
    vi.stubEnv('INPUT_MODE', '')
    expect(() => getInputs()).toThrow(InputError)
  })
})

describe('expiryTimestamp', () => {
  const now = new Date('2030-06-15T12:00:00.789Z')

  it('returns null for never', () => {
    expect(expiryTimestamp({ kind: 'never' }, now)).toBeNull()
  })

  it('adds a relative expiry to now, dropping milliseconds', () => {
    expect(expiryTimestamp({ kind: 'in', ms: 14 * DAY }, now)).toBe('2030-06-29T12:00:00Z')
    expect(expiryTimestamp({ kind: 'in', ms: 90 * 60_000 }, now)).toBe('2030-06-15T13:30:00Z')
  })

  it('truncates rather than rounds, so 30 days never becomes 30 days and a second', () => {
    const ts = expiryTimestamp({ kind: 'in', ms: MAX_EXPIRY_MS }, now)
    expect(ts).toBe('2030-07-15T12:00:00Z')
    expect(Date.parse(ts ?? '')).toBeLessThanOrEqual(now.getTime() + MAX_EXPIRY_MS)
  })

  it('formats an absolute expiry in UTC without milliseconds', () => {
    expect(expiryTimestamp({ kind: 'at', at: new Date('2030-06-20T02:00:00.999+02:00') }, now)).toBe(
      '2030-06-20T00:00:00Z',
    )
  })

  it('matches RFC 3339 with Z', () => {
    const ts = expiryTimestamp({ kind: 'in', ms: 1000 }, now)
    expect(ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
  })
})

describe('action.yml', () => {
  // A small reader for the fixed layout of action.yml; avoids depending on a YAML library for one test.
  const yml = readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')
  const section = (name: string): Map<string, string | undefined> => {
    const start = yml.indexOf(`\n${name}:\n`)
    const body = yml.slice(start + name.length + 3).split(/\n(?=\S)/)[0] ?? ''
    const entries = new Map<string, string | undefined>()
    let current: string | undefined
    for (const line of body.split('\n')) {
      const key = /^ {2}([a-z_]+):\s*$/.exec(line)
      if (key?.[1] !== undefined) {
        current = key[1]
        entries.set(current, undefined)
        continue
      }
      const def = /^ {4}default:\s*(.*)$/.exec(line)
      if (def && current !== undefined) entries.set(current, def[1]?.replace(/^'(.*)'$/, '$1'))
    }
    return entries
  }

  it('declares exactly the inputs and outputs in constants', () => {
    expect([...section('inputs').keys()].sort()).toEqual(Object.values(INPUTS).sort())
    expect([...section('outputs').keys()].sort()).toEqual(Object.values(OUTPUTS).sort())
  })

  it('has defaults that getInputs treats exactly like empty values', () => {
    const defaults = section('inputs')
    const withDefaults: Record<string, string> = { ...REQUIRED }
    for (const [name, value] of defaults) {
      if (value !== undefined && name !== 'github_token') withDefaults[name] = value
    }
    expect(defaults.get('github_token')).toBe('${{ github.token }}')
    expect(getInputs(reader(withDefaults), () => NOW)).toEqual(getInputs(reader(REQUIRED), () => NOW))
  })
})

describe('parent_branch at a point in time, and compute_units', () => {
  it('splits the branch from its point', () => {
    expect(parse({ parent_branch: 'main@2030-06-15T09:00:00Z' })).toMatchObject({
      parentBranch: 'main',
      parentPoint: { timestamp: '2030-06-15T09:00:00Z', timestampMs: Date.parse('2030-06-15T09:00:00Z') },
    })
    expect(parse({ parent_branch: 'main@0/1A2B3C4' })).toMatchObject({
      parentBranch: 'main',
      parentPoint: { lsn: '0/1A2B3C4' },
    })
    expect(parse({ parent_branch: 'main' }).parentPoint).toBeUndefined()
  })
  it('refuses a malformed point, naming the input and the forms', () => {
    expectInvalid(
      { parent_branch: 'main@2030-06-15T09:00:00' },
      'parent_branch',
      /neither an LSN nor an RFC 3339 timestamp/,
    )
    expectInvalid({ parent_branch: '@0/1' }, 'parent_branch', /no branch name or id before the '@'/)
  })
  it('refuses a time in the future, saying what now is', () => {
    expectInvalid(
      { parent_branch: 'main@2030-06-15T12:00:01Z' },
      'parent_branch',
      /in the future \(now is 2030-06-15T12:00:00Z\)/,
    )
  })
  it('keeps ^self and ^parent for reset, ^self only at a point and with preserve_under_name', () => {
    expectInvalid({ parent_branch: '^self@0/1' }, 'parent_branch', /for mode 'reset' only/)
    expectInvalid({ mode: 'auto', parent_branch: '^parent' }, 'parent_branch', /for mode 'reset' only/)
    expectInvalid({ mode: 'reset', parent_branch: '^self' }, 'parent_branch', /needs a point/)
    expectInvalid({ mode: 'reset', parent_branch: '^self@0/1' }, 'preserve_under_name', /is required when/)
    expect(
      parse({ mode: 'reset', parent_branch: '^self@0/1', preserve_under_name: 'old' }).parentBranch,
    ).toBe('^self')
  })
  it('reads compute_units as a size or a range', () => {
    expect(parse({ compute_units: '0.25-2' }).computeUnits).toEqual({ min: 0.25, max: 2 })
    expect(parse({ compute_units: '4' }).computeUnits).toEqual({ min: 4, max: 4 })
    expect(parse().computeUnits).toBeUndefined()
    expectInvalid(
      { compute_units: '0.75' },
      'compute_units',
      /Invalid input 'compute_units': '0.75'\. 0.75 CU is not a size/,
    )
  })
})
