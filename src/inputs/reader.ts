// The reader every input reader uses: it reads an input (trimmed), and checks the common shapes
// (one of a list, a boolean, a whole number in a range, a branch name, a Postgres name, a duration).
// Every message it raises is scrubbed of the API key and the GitHub token, and quotes the value.
import { INPUTS, type InputName } from '../constants.js'
import { parseDuration } from '../util/duration.js'
import { InputError } from './types.js'

const MAX_NAME_CHARS = 256
const MAX_IDENTIFIER_BYTES = 63
// Same set core.getBooleanInput accepts (YAML 1.2 core schema), so behaviour matches other actions.
const TRUE_VALUES = ['true', 'True', 'TRUE']
const FALSE_VALUES = ['false', 'False', 'FALSE']
// C0, DEL and C1 controls: they corrupt logs and API paths and are never intended in a name.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/
// eslint-disable-next-line no-control-regex
const CONTROL_RE_GLOBAL = /[\u0000-\u001f\u007f-\u009f]/g
// Secrets shorter than this are not redacted from messages: replacing every 'a' would garble them, and a real
// Neon key or GitHub token is far longer.
const MIN_REDACT_LENGTH = 4
const MAX_QUOTED_CHARS = 100

export type Fail = (input: InputName, message: string) => never
export type Invalid = (input: InputName, value: string, expected: string) => never

export interface Reader {
  /** The two secrets, read first so every later message can be scrubbed of them. */
  apiKey: string
  githubToken: string
  get(name: InputName): string
  fail: Fail
  /** "Invalid input 'x': '<value>'. <expected>", the value redacted, then shortened. */
  invalid: Invalid
  oneOf<T extends string>(input: InputName, allowed: readonly T[], fallback?: T): T
  bool(input: InputName, fallback: 'true' | 'false'): boolean
  integer(input: InputName, fallback: string, min: number, max: number, what: string): number
  /** A branch name, or undefined when empty. */
  optionalName(input: InputName): string | undefined
  /** A Postgres identifier (database, role). */
  identifier(input: InputName, fallback: string): string
  /** `value` (already read) as a duration of `input`, in milliseconds. */
  duration(input: InputName, value: string): number
}

/** A Reader over `read` (core.getInput-like: '' when unset). */
export function inputReader(read: (name: string) => string): Reader {
  const get = (name: InputName): string => read(name).trim()

  // Read the secrets first so every later message can be scrubbed of them, even when a user pastes a key into
  // the wrong input.
  const apiKey = get(INPUTS.apiKey)
  const githubToken = get(INPUTS.githubToken)
  const secrets = [apiKey, githubToken].filter((s) => s.length >= MIN_REDACT_LENGTH)
  const redact = (text: string): string =>
    secrets.reduce((acc, secret) => acc.split(secret).join('***'), text)
  const fail: Fail = (input, message) => {
    throw new InputError(input, redact(message))
  }
  // The value is redacted before it is shortened for display: cutting first could leave part of a secret.
  const invalid: Invalid = (input, value, expected) =>
    fail(input, `Invalid input '${input}': ${quote(redact(value))}. ${expected}`)
  const checks = { get, fail, invalid }
  return {
    apiKey,
    githubToken,
    ...checks,
    oneOf: (input, allowed, fallback) => oneOf(checks, input, allowed, fallback),
    bool: (input, fallback) => bool(checks, input, fallback),
    integer: (input, fallback, min, max, what) => integer(checks, input, fallback, min, max, what),
    optionalName: (input) => optionalName(checks, input),
    identifier: (input, fallback) => identifier(checks, input, fallback),
    duration: (input, value) => {
      try {
        return parseDuration(value)
      } catch (err) {
        return invalid(input, value, (err as Error).message)
      }
    },
  }
}

type Checks = Pick<Reader, 'get' | 'fail' | 'invalid'>

function oneOf<T extends string>(r: Checks, input: InputName, allowed: readonly T[], fallback?: T): T {
  const value = r.get(input)
  if (value === '' && fallback !== undefined) return fallback
  if (value === '') {
    return r.fail(input, `Input '${input}' is required. Expected one of: ${allowed.join(', ')}.`)
  }
  if (!(allowed as readonly string[]).includes(value)) {
    return r.invalid(input, value, `Expected one of: ${allowed.join(', ')}.`)
  }
  return value as T
}

function bool(r: Checks, input: InputName, fallback: 'true' | 'false'): boolean {
  const value = r.get(input) || fallback
  if (TRUE_VALUES.includes(value)) return true
  if (FALSE_VALUES.includes(value)) return false
  return r.invalid(input, value, 'Expected true or false (True, TRUE, False and FALSE are also accepted).')
}

function integer(
  r: Checks,
  input: InputName,
  fallback: string,
  min: number,
  max: number,
  what: string,
): number {
  const value = r.get(input) || fallback
  const n = /^-?\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    return r.invalid(input, value, `Expected a whole number of ${what} from ${min} to ${max}.`)
  }
  return n
}

// Branch names: Neon allows up to 256 characters; control characters would only ever be a mistake.
function optionalName(r: Checks, input: InputName): string | undefined {
  const value = r.get(input)
  if (value === '') return undefined
  if (CONTROL_RE.test(value)) return r.invalid(input, value, 'Names must not contain control characters.')
  const length = [...value].length
  if (length > MAX_NAME_CHARS) {
    return r.invalid(input, value, `Names are at most ${MAX_NAME_CHARS} characters; this one has ${length}.`)
  }
  return value
}

// Postgres silently truncates identifiers longer than 63 bytes, which would make the URL name a database or
// role that does not exist; better to refuse.
function identifier(r: Checks, input: InputName, fallback: string): string {
  const value = r.get(input) || fallback
  if (value.includes('\0')) return r.invalid(input, value, 'Postgres names cannot contain a NUL character.')
  const bytes = Buffer.byteLength(value, 'utf8')
  if (bytes > MAX_IDENTIFIER_BYTES) {
    return r.invalid(
      input,
      value,
      `Postgres names are 1 to ${MAX_IDENTIFIER_BYTES} bytes of UTF-8; this one has ${bytes} bytes.`,
    )
  }
  return value
}

// Shows a value in messages: control characters escaped so a log line stays one line, long values shortened.
export function quote(value: string): string {
  const escaped = value.replace(
    CONTROL_RE_GLOBAL,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
  const chars = [...escaped]
  const shown = chars.length > MAX_QUOTED_CHARS ? `${chars.slice(0, MAX_QUOTED_CHARS).join('')}…` : escaped
  return `'${shown}'`
}
