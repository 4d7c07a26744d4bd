// `expires_in` and `expires_at`: when a created branch expires (Neon's `expires_at`, at most 30 days ahead).
import { EPHEMERAL_DEFAULT_EXPIRES_IN, INPUTS, MAX_EXPIRY_MS } from '../constants.js'
import { formatDuration } from '../util/duration.js'
import { DEFAULTS } from './defaults.js'
import type { Reader } from './reader.js'
import type { Expiry } from './types.js'

// RFC 3339 date-time; the zone is mandatory because a zoneless time would depend on the runner's TZ.
const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

/**
 * The expiry: `expires_at` when given, else `expires_in` (14 days by default, 2 hours for an
 * ephemeral branch, or `never`). `expires_in` is validated even when `expires_at` overrides it: a
 * bad value is still a mistake worth reporting.
 */
export function readExpiry(r: Reader, ephemeral: boolean, now: () => Date): Expiry {
  const expiresInText =
    r.get(INPUTS.expiresIn) || (ephemeral ? EPHEMERAL_DEFAULT_EXPIRES_IN : DEFAULTS.expiresIn)
  let expiry: Expiry
  if (expiresInText.toLowerCase() === 'never') {
    expiry = { kind: 'never' }
  } else {
    const ms = r.duration(INPUTS.expiresIn, expiresInText)
    if (ms > MAX_EXPIRY_MS) {
      r.invalid(
        INPUTS.expiresIn,
        expiresInText,
        `Neon branches expire at most ${formatDuration(MAX_EXPIRY_MS)} ahead; use a shorter duration or 'never'.`,
      )
    }
    expiry = { kind: 'in', ms }
  }
  const expiresAtText = r.get(INPUTS.expiresAt)
  return expiresAtText === '' ? expiry : readExpiresAt(r, expiresAtText, now())
}

function readExpiresAt(r: Reader, text: string, current: Date): Expiry {
  const at = parseRfc3339(text)
  if (at === null) {
    return r.invalid(
      INPUTS.expiresAt,
      text,
      'Expected an RFC 3339 timestamp with a time zone, e.g. 2030-01-31T18:00:00Z or 2030-01-31T18:00:00+02:00.',
    )
  }
  if (at.getTime() <= current.getTime()) {
    r.invalid(INPUTS.expiresAt, text, `It must be in the future (now is ${isoSeconds(current)}).`)
  }
  const latest = new Date(current.getTime() + MAX_EXPIRY_MS)
  if (at.getTime() > latest.getTime()) {
    r.invalid(
      INPUTS.expiresAt,
      text,
      `Neon branches expire at most ${formatDuration(MAX_EXPIRY_MS)} ahead, i.e. no later than ${isoSeconds(latest)}.`,
    )
  }
  return { kind: 'at', at }
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
export function isoSeconds(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
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
