/**
 * Reads and validates every action input up front, so a typo fails the step before any Neon or GitHub call.
 */
import * as core from '@actions/core'

import {
  DEFAULT_API_HOST,
  EPHEMERAL_DEFAULT_EXPIRES_IN,
  INPUTS,
  MAX_EXPIRY_MS,
  type InputName,
} from './constants.js'
import { readMaskingRules, type MaskingRulesInput } from './masking/input.js'
import { parseComputeUnits, type ComputeUnits } from './neon/compute-units.js'
import { isInFuture, parsePointInTime, POINT_IN_TIME_FORMS } from './neon/point-in-time.js'
import { formatDuration, parseDuration } from './util/duration.js'

/**
 * What the action does; `auto` picks create, delete or cleanup from the event (never schema-diff:
 * it cannot know when the migrations have run; never recover: a workflow_dispatch asks for it).
 */
export type Mode = 'create' | 'reset' | 'delete' | 'cleanup' | 'schema-diff' | 'recover' | 'auto'
/** The `sslmode` put in connection strings; `omit` leaves the parameter out. */
export type SslMode = 'require' | 'verify-ca' | 'verify-full' | 'omit'
/** Neon branch type: a full copy-on-write branch, or schema only (no data). */
export type BranchType = 'default' | 'schema-only'
/** What `create` does when Neon refuses it for the project's branch limit. */
export type OnBranchLimit = 'fail' | 'make-room'
/** When a created branch should expire. */
export type Expiry = { kind: 'never' } | { kind: 'in'; ms: number } | { kind: 'at'; at: Date }

/** Every input, validated and with defaults applied. */
export interface Inputs {
  mode: Mode
  /**
   * `mode: create` only: the branch belongs to this job. Never adopted, annotated with the run,
   * expiring in 2 h unless told otherwise, and deleted by the post step when the job ends.
   */
  ephemeral: boolean
  /** Empty only when getInputs was told to allow it (a pull request from a fork). */
  apiKey: string
  projectId: string
  /** Base URL of the Neon API, without a trailing slash. */
  apiHost: string
  /** Unset when the name should be derived from the pull request. A name or a `br-…` id. */
  branchName?: string
  /**
   * Unset for the project's default branch. A name or a `br-…` id, without any `@<point>`; in reset
   * mode also `^self` (the branch's own past) or `^parent` (its parent). For schema-diff: the branch
   * to compare with.
   */
  parentBranch?: string
  /** The `@<LSN>` or `@<timestamp>` of `parent_branch`; unset for the parent's head (its data now). */
  parentPoint?: ParentPoint
  branchType: BranchType
  database: string
  role: string
  ssl: SslMode
  channelBinding: boolean
  prisma: boolean
  /** Compute suspend timeout in seconds; 0 = Neon's default, -1 = never suspend. */
  suspendTimeout: number
  expiry: Expiry
  /** How long to wait for Neon operations, in milliseconds. */
  timeoutMs: number
  /** May be empty (then no comment can be posted). */
  githubToken: string
  /** Defaults to true, and to false with `ephemeral` (an explicit `comment: true` still comments). */
  comment: boolean
  dryRun: boolean
  cleanupPrefix: string
  cleanupMaxAgeMs: number
  /** `fail`: report the limit and what cleanup would delete; `make-room`: delete that, as little as needed. */
  onBranchLimit: OnBranchLimit
  preserveUnderName?: string
  /** The size of the read-write compute; unset for Neon's (the project's) default. */
  computeUnits?: ComputeUnits
  /**
   * `masking_rules` or `masking_rules_file`, parsed and checked: the branch is an anonymized one,
   * its data masked by Neon before anything is handed out. Unset for a plain branch (and in modes
   * that do not create, where the rules are not read).
   */
  masking?: MaskingRulesInput
  /** create and reset: read the branch's Neon Auth URL for the `auth_url` output. */
  getAuthUrl: boolean
  /** create and reset: read the Data API URL of `database` for the `data_api_url` output. */
  getDataApiUrl: boolean
}

/** A point in a branch's history, as `parent_branch` gave it (exactly one is set). */
export interface ParentPoint {
  lsn?: string
  /** As written (RFC 3339 with a zone), and the same as milliseconds since the epoch. */
  timestamp?: string
  timestampMs?: number
}

/** A bad input value. The message names the input and what is allowed, and never holds a secret. */
export class InputError extends Error {
  /** The input's name as written in action.yml, e.g. `expires_in`. */
  readonly input: string

  constructor(input: string, message: string) {
    super(message)
    this.name = 'InputError'
    this.input = input
  }
}

const MODES: readonly Mode[] = ['create', 'reset', 'delete', 'cleanup', 'schema-diff', 'recover', 'auto']
const SSL_MODES: readonly SslMode[] = ['require', 'verify-ca', 'verify-full', 'omit']
const BRANCH_TYPES: readonly BranchType[] = ['default', 'schema-only']
const ON_BRANCH_LIMIT: readonly OnBranchLimit[] = ['fail', 'make-room']

// Defaults mirror action.yml, so calling getInputs with only the required inputs (as tests and local runs do)
// behaves exactly like the runner, which fills in action.yml defaults itself.
const DEFAULTS = {
  apiHost: DEFAULT_API_HOST,
  branchType: 'default',
  database: 'neondb',
  role: 'neondb_owner',
  ssl: 'require',
  channelBinding: 'false',
  prisma: 'false',
  suspendTimeout: '0',
  expiresIn: '14d',
  timeout: '300',
  comment: 'true',
  dryRun: 'false',
  cleanupPrefix: 'preview/',
  cleanupMaxAge: '7d',
  onBranchLimit: 'fail',
  getAuthUrl: 'false',
  getDataApiUrl: 'false',
} as const

const PROJECT_ID_RE = /^[a-z0-9-]{1,60}$/
const MAX_NAME_CHARS = 256
const MAX_IDENTIFIER_BYTES = 63
const MAX_SUSPEND_TIMEOUT = 604_800
const MAX_TIMEOUT_SECONDS = 3600
// Same set core.getBooleanInput accepts (YAML 1.2 core schema), so behaviour matches other actions.
const TRUE_VALUES = ['true', 'True', 'TRUE']
const FALSE_VALUES = ['false', 'False', 'FALSE']
// RFC 3339 date-time; the zone is mandatory because a zoneless time would depend on the runner's TZ.
const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/
// C0, DEL and C1 controls: they corrupt logs and API paths and are never intended in a name.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/
// eslint-disable-next-line no-control-regex
const CONTROL_RE_GLOBAL = /[\u0000-\u001f\u007f-\u009f]/g
// Secrets shorter than this are not redacted from messages: replacing every 'a' would garble them, and a real
// Neon key or GitHub token is far longer.
const MIN_REDACT_LENGTH = 4
const MAX_QUOTED_CHARS = 100
const URL_EXPECTED = `Expected an https:// URL (http:// only for localhost), e.g. ${DEFAULT_API_HOST}.`

const defaultRead = (name: string): string => core.getInput(name)

/** Options for {@link getInputs}. */
export interface GetInputsOptions {
  /**
   * Accept an empty `api_key` (returned as ''). main.ts sets it only on a pull request from a fork,
   * which gets no secrets under `pull_request`: that run is skipped, not failed.
   */
  allowEmptyApiKey?: boolean
  /**
   * The mode `mode: auto` resolves to for this event, when main.ts already knows it: a
   * `masking_rules_file` is then read only when that mode creates (create, reset).
   */
  autoMode?: Exclude<Mode, 'auto'>
  /** Where `masking_rules_file` is looked up (default GITHUB_WORKSPACE, else the working directory). */
  workspace?: string
  /** Reads `masking_rules_file` (default: the file system); tests hand in files. */
  readFile?: (absolutePath: string) => string
}

/**
 * Reads and validates every input. `read` defaults to core.getInput-like behaviour (trimmed, '' when unset) so
 * tests pass a plain function; `now` is injectable. Throws InputError on the first bad input.
 */
export function getInputs(
  read: (name: string) => string = defaultRead,
  now: () => Date = () => new Date(),
  options: GetInputsOptions = {},
): Inputs {
  const get = (name: InputName): string => read(name).trim()

  // Read the secrets first so every later message can be scrubbed of them, even when a user pastes a key into
  // the wrong input.
  const apiKey = get(INPUTS.apiKey)
  const githubToken = get(INPUTS.githubToken)
  const secrets = [apiKey, githubToken].filter((s) => s.length >= MIN_REDACT_LENGTH)
  const redact = (text: string): string =>
    secrets.reduce((acc, secret) => acc.split(secret).join('***'), text)
  const fail = (input: InputName, message: string): never => {
    throw new InputError(input, redact(message))
  }
  // The value is redacted before it is shortened for display: cutting first could leave part of a secret.
  const invalid = (input: InputName, value: string, expected: string): never =>
    fail(input, `Invalid input '${input}': ${quote(redact(value))}. ${expected}`)

  const oneOf = <T extends string>(input: InputName, allowed: readonly T[], fallback?: T): T => {
    const value = get(input)
    if (value === '' && fallback !== undefined) return fallback
    if (value === '') {
      return fail(input, `Input '${input}' is required. Expected one of: ${allowed.join(', ')}.`)
    }
    if (!(allowed as readonly string[]).includes(value)) {
      return invalid(input, value, `Expected one of: ${allowed.join(', ')}.`)
    }
    return value as T
  }

  const bool = (input: InputName, fallback: 'true' | 'false'): boolean => {
    const value = get(input) || fallback
    if (TRUE_VALUES.includes(value)) return true
    if (FALSE_VALUES.includes(value)) return false
    return invalid(input, value, 'Expected true or false (True, TRUE, False and FALSE are also accepted).')
  }

  const integer = (input: InputName, fallback: string, min: number, max: number, what: string): number => {
    const value = get(input) || fallback
    const n = /^-?\d+$/.test(value) ? Number(value) : NaN
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      return invalid(input, value, `Expected a whole number of ${what} from ${min} to ${max}.`)
    }
    return n
  }

  // Branch names: Neon allows up to 256 characters; control characters would only ever be a mistake.
  const optionalName = (input: InputName): string | undefined => {
    const value = get(input)
    if (value === '') return undefined
    if (CONTROL_RE.test(value)) return invalid(input, value, 'Names must not contain control characters.')
    const length = [...value].length
    if (length > MAX_NAME_CHARS) {
      return invalid(input, value, `Names are at most ${MAX_NAME_CHARS} characters; this one has ${length}.`)
    }
    return value
  }

  // Postgres silently truncates identifiers longer than 63 bytes, which would make the URL name a database or
  // role that does not exist; better to refuse.
  const identifier = (input: InputName, fallback: string): string => {
    const value = get(input) || fallback
    if (value.includes('\0')) return invalid(input, value, 'Postgres names cannot contain a NUL character.')
    const bytes = Buffer.byteLength(value, 'utf8')
    if (bytes > MAX_IDENTIFIER_BYTES) {
      return invalid(
        input,
        value,
        `Postgres names are 1 to ${MAX_IDENTIFIER_BYTES} bytes of UTF-8; this one has ${bytes} bytes.`,
      )
    }
    return value
  }

  const duration = (input: InputName, value: string): number => {
    try {
      return parseDuration(value)
    } catch (err) {
      return invalid(input, value, (err as Error).message)
    }
  }

  // Validation order follows action.yml, so "the first bad input" is predictable.
  const mode = oneOf(INPUTS.mode, MODES)
  const ephemeral = bool(INPUTS.ephemeral, 'false')
  if (ephemeral && mode !== 'create') {
    fail(
      INPUTS.ephemeral,
      `Input '${INPUTS.ephemeral}' is true, which is allowed only with 'mode: create' (mode is '${mode}'): ` +
        `an ephemeral branch is created by its job and deleted by the same job's post step.`,
    )
  }
  if (apiKey === '' && !options.allowEmptyApiKey) {
    fail(
      INPUTS.apiKey,
      `Input '${INPUTS.apiKey}' is required but was empty. Pass a Neon API key from a secret, e.g. ` +
        '`api_key: ${{ secrets.NEON_API_KEY }}` (a secret that is not set, or not available to pull requests ' +
        'from forks, reads as empty).',
    )
  }

  const projectId = get(INPUTS.projectId)
  if (projectId === '') {
    fail(
      INPUTS.projectId,
      `Input '${INPUTS.projectId}' is required. Find it in the Neon console under Settings.`,
    )
  }
  if (!PROJECT_ID_RE.test(projectId)) {
    invalid(
      INPUTS.projectId,
      projectId,
      'Expected a Neon project id: 1 to 60 lower-case letters, digits and dashes, e.g. restless-river-12345678.',
    )
  }

  const apiHost = parseApiHost(get(INPUTS.apiHost) || DEFAULTS.apiHost, invalid, fail)
  const branchName = optionalName(INPUTS.branchName)
  const parentText = optionalName(INPUTS.parentBranch)
  let parentBranch: string | undefined
  let parentPoint: ParentPoint | undefined
  if (parentText !== undefined) {
    ;({ parentBranch, parentPoint } = parseParent(parentText, mode, now(), invalid))
  }
  const branchType = oneOf(INPUTS.branchType, BRANCH_TYPES, DEFAULTS.branchType)
  const database = identifier(INPUTS.database, DEFAULTS.database)
  const role = identifier(INPUTS.role, DEFAULTS.role)
  const ssl = oneOf(INPUTS.ssl, SSL_MODES, DEFAULTS.ssl)
  const channelBinding = bool(INPUTS.channelBinding, DEFAULTS.channelBinding)
  const prisma = bool(INPUTS.prisma, DEFAULTS.prisma)
  const suspendTimeout = integer(
    INPUTS.suspendTimeout,
    DEFAULTS.suspendTimeout,
    -1,
    MAX_SUSPEND_TIMEOUT,
    'seconds (0 = Neon default, -1 = never suspend)',
  )

  // expires_in is validated even when expires_at overrides it: a bad value is still a mistake worth reporting.
  // An empty expires_in is the default: 14 days for a preview, 2 hours for a CI job's own branch.
  const expiresInText =
    get(INPUTS.expiresIn) || (ephemeral ? EPHEMERAL_DEFAULT_EXPIRES_IN : DEFAULTS.expiresIn)
  let expiry: Expiry
  if (expiresInText.toLowerCase() === 'never') {
    expiry = { kind: 'never' }
  } else {
    const ms = duration(INPUTS.expiresIn, expiresInText)
    if (ms > MAX_EXPIRY_MS) {
      invalid(
        INPUTS.expiresIn,
        expiresInText,
        `Neon branches expire at most ${formatDuration(MAX_EXPIRY_MS)} ahead; use a shorter duration or 'never'.`,
      )
    }
    expiry = { kind: 'in', ms }
  }

  const expiresAtText = get(INPUTS.expiresAt)
  if (expiresAtText !== '') {
    const at = parseRfc3339(expiresAtText)
    if (at === null) {
      invalid(
        INPUTS.expiresAt,
        expiresAtText,
        'Expected an RFC 3339 timestamp with a time zone, e.g. 2030-01-31T18:00:00Z or 2030-01-31T18:00:00+02:00.',
      )
    } else {
      const current = now()
      if (at.getTime() <= current.getTime()) {
        invalid(INPUTS.expiresAt, expiresAtText, `It must be in the future (now is ${isoSeconds(current)}).`)
      }
      const latest = new Date(current.getTime() + MAX_EXPIRY_MS)
      if (at.getTime() > latest.getTime()) {
        invalid(
          INPUTS.expiresAt,
          expiresAtText,
          `Neon branches expire at most ${formatDuration(MAX_EXPIRY_MS)} ahead, i.e. no later than ${isoSeconds(latest)}.`,
        )
      }
      expiry = { kind: 'at', at }
    }
  }

  const timeoutMs = integer(INPUTS.timeout, DEFAULTS.timeout, 1, MAX_TIMEOUT_SECONDS, 'seconds') * 1000
  // A CI job's throwaway database is not news for the pull request: no comment unless asked for.
  const comment = bool(INPUTS.comment, ephemeral ? 'false' : DEFAULTS.comment)
  const dryRun = bool(INPUTS.dryRun, DEFAULTS.dryRun)

  // An empty prefix falls back to the default rather than meaning "every branch": cleanup deletes branches, and
  // sweeping a whole project because a variable expanded to '' must not be possible.
  const cleanupPrefix = optionalName(INPUTS.cleanupPrefix) ?? DEFAULTS.cleanupPrefix
  const cleanupMaxAgeMs = duration(INPUTS.cleanupMaxAge, get(INPUTS.cleanupMaxAge) || DEFAULTS.cleanupMaxAge)
  const onBranchLimit = oneOf(INPUTS.onBranchLimit, ON_BRANCH_LIMIT, DEFAULTS.onBranchLimit)
  const preserveUnderName = optionalName(INPUTS.preserveUnderName)
  // Neon's BranchRestoreRequest: restoring a branch from its own history needs preserve_under_name.
  if (mode === 'reset' && parentBranch === SELF && preserveUnderName === undefined) {
    fail(
      INPUTS.preserveUnderName,
      `Input '${INPUTS.preserveUnderName}' is required when '${INPUTS.parentBranch}' is ` +
        `${quote(parentText ?? '')}: a branch restored to its own past keeps its current state as a ` +
        `branch of that name (Neon requires it), e.g. preserve_under_name: preview/pr-7-before-restore.`,
    )
  }
  const computeText = get(INPUTS.computeUnits)
  let computeUnits: ComputeUnits | undefined
  if (computeText !== '') {
    try {
      computeUnits = parseComputeUnits(computeText)
    } catch (err) {
      invalid(INPUTS.computeUnits, computeText, (err as Error).message)
    }
  }

  const masking = readMaskingRules({
    inline: get(INPUTS.maskingRules),
    file: get(INPUTS.maskingRulesFile),
    // The rules matter where a branch is made; elsewhere a file is not even read (a job that
    // deletes need not check the repository out). `auto` reads it unless main.ts knows better.
    readFile: ['create', 'reset'].includes(mode === 'auto' ? (options.autoMode ?? 'create') : mode),
    database,
    branchType,
    fail,
    ...(options.workspace !== undefined ? { workspace: options.workspace } : {}),
    ...(options.readFile ? { read: options.readFile } : {}),
  })
  const getAuthUrl = bool(INPUTS.getAuthUrl, DEFAULTS.getAuthUrl)
  const getDataApiUrl = bool(INPUTS.getDataApiUrl, DEFAULTS.getDataApiUrl)

  const inputs: Inputs = {
    mode,
    ephemeral,
    apiKey,
    projectId,
    apiHost,
    branchType,
    database,
    role,
    ssl,
    channelBinding,
    prisma,
    suspendTimeout,
    expiry,
    timeoutMs,
    githubToken,
    comment,
    dryRun,
    cleanupPrefix,
    cleanupMaxAgeMs,
    onBranchLimit,
    getAuthUrl,
    getDataApiUrl,
  }
  // Optional keys are left out rather than set to undefined, so `'branchName' in inputs` means "given".
  if (branchName !== undefined) inputs.branchName = branchName
  if (parentBranch !== undefined) inputs.parentBranch = parentBranch
  if (parentPoint !== undefined) inputs.parentPoint = parentPoint
  if (computeUnits !== undefined) inputs.computeUnits = computeUnits
  if (preserveUnderName !== undefined) inputs.preserveUnderName = preserveUnderName
  if (masking !== undefined) inputs.masking = masking
  return inputs
}

/** `^self`: the branch itself (neonctl's name for the restore target); `^parent`: its parent. */
export const SELF = '^self'
export const PARENT = '^parent'

/**
 * Splits `parent_branch` into the branch and its point in time (neonctl's `<branch>@<point>`), and
 * refuses what cannot be meant: a malformed point, a timestamp in the future, `^self`/`^parent`
 * outside reset, `^self` without a point. The history window needs the project (a request), so
 * the modes check it, still before any change.
 */
function parseParent(
  text: string,
  mode: Mode,
  now: Date,
  invalid: (input: InputName, value: string, expected: string) => never,
): { parentBranch: string; parentPoint?: ParentPoint } {
  const input = INPUTS.parentBranch
  let parsed
  try {
    parsed = parsePointInTime(text)
  } catch (err) {
    return invalid(input, text, (err as Error).message)
  }
  const { ref, lsn, timestamp } = parsed
  if (isInFuture(parsed, now.getTime())) {
    invalid(
      input,
      text,
      `The timestamp ${timestamp} is in the future (now is ${isoSeconds(now)}); a branch can only start ` +
        `from its parent's past or present.`,
    )
  }
  if ((ref === SELF || ref === PARENT) && mode !== 'reset') {
    invalid(
      input,
      text,
      `'${ref}' names the branch being reset (^self) or its parent (^parent): it is for mode 'reset' only. ` +
        `Expected ${POINT_IN_TIME_FORMS}.`,
    )
  }
  if (ref === SELF && lsn === undefined && timestamp === undefined) {
    invalid(
      input,
      text,
      `'^self' needs a point in the branch's own past, e.g. ^self@2026-11-30T09:00:00Z or ^self@0/1A2B3C4.`,
    )
  }
  const point: ParentPoint | undefined =
    lsn !== undefined
      ? { lsn }
      : timestamp !== undefined
        ? { timestamp, timestampMs: Date.parse(timestamp) }
        : undefined
  return point ? { parentBranch: ref, parentPoint: point } : { parentBranch: ref }
}

/** Expiry → absolute ISO timestamp (no milliseconds, 'Z'), or null for never. */
export function expiryTimestamp(e: Expiry, now: Date): string | null {
  switch (e.kind) {
    case 'never':
      return null
    case 'in':
      return isoSeconds(new Date(now.getTime() + e.ms))
    case 'at':
      return isoSeconds(e.at)
  }
}

// Milliseconds are dropped by truncation, never rounding up, so a value validated as "at most 30 days ahead"
// stays within Neon's limit.
function isoSeconds(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * `api_host` as the one base URL the API key is ever sent to: https, or plain http only to this
 * machine (a simulator, a local proxy), where the key never crosses a network. Exported for the
 * post step, which checks its recorded host against it.
 */
export function parseApiHost(
  value: string,
  invalid: (input: InputName, value: string, expected: string) => never,
  fail: (input: InputName, message: string) => never,
): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return invalid(INPUTS.apiHost, value, URL_EXPECTED)
  }
  if (url.username !== '' || url.password !== '') {
    // Do not echo the value: it holds credentials.
    return fail(
      INPUTS.apiHost,
      `Invalid input '${INPUTS.apiHost}': the URL must not contain a user name or password; authenticate with api_key.`,
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return invalid(INPUTS.apiHost, value, URL_EXPECTED)
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return invalid(
      INPUTS.apiHost,
      value,
      `Plain http:// would send the API key in clear text: use https://, e.g. ${DEFAULT_API_HOST}. ` +
        'http:// is accepted only for this machine: localhost, 127.0.0.0/8 or [::1].',
    )
  }
  if (url.search !== '' || url.hash !== '') {
    return invalid(INPUTS.apiHost, value, 'The API base URL must not have a query string or fragment.')
  }
  return url.href.replace(/\/+$/, '')
}

/**
 * The hosts plain http may go to: the loopback names and addresses. `hostname` is the WHATWG URL
 * parser's, already normalized (lower-cased; `127.1` and `0x7f.0.0.1` read as `127.0.0.1`;
 * `[0:0:0:0:0:0:0:1]` as `[::1]`), so an address cannot pass in another spelling.
 */
function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname)
  return m !== null && m.slice(1).every((o) => Number(o) <= 255)
}

/** Whether `id` has the form of a Neon project id (what `project_id` accepts). */
export function isProjectId(id: string): boolean {
  return PROJECT_ID_RE.test(id)
}

/** Parses an RFC 3339 date-time with an explicit zone; null when malformed or out of range (e.g. 2030-02-30). */
function parseRfc3339(text: string): Date | null {
  const m = RFC3339_RE.exec(text)
  if (m === null) return null
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const fraction = m[7] ?? ''
  const sign = m[9] === '-' ? -1 : 1
  const offsetHours = Number(m[10] ?? 0)
  const offsetMinutes = Number(m[11] ?? 0)
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null
  if (offsetHours > 23 || offsetMinutes > 59) return null
  const local = Date.UTC(year, month - 1, day, hour, minute, second)
  // Date.UTC rolls 2030-02-30 over into March; a changed day means the date does not exist.
  if (new Date(local).getUTCDate() !== day) return null
  const ms = fraction === '' ? 0 : Math.floor(Number(`0${fraction}`) * 1000)
  return new Date(local + ms - sign * (offsetHours * 60 + offsetMinutes) * 60_000)
}

// Shows a value in messages: control characters escaped so a log line stays one line, long values shortened.
function quote(value: string): string {
  const escaped = value.replace(
    CONTROL_RE_GLOBAL,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
  const chars = [...escaped]
  const shown = chars.length > MAX_QUOTED_CHARS ? `${chars.slice(0, MAX_QUOTED_CHARS).join('')}…` : escaped
  return `'${shown}'`
}
