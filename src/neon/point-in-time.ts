/**
 * neonctl's point-in-time form of a branch reference: `name`, `name@<LSN>` or
 * `name@<RFC 3339 timestamp>`. Pure; the rules are neonctl's own (node_modules/neon/dist/utils/
 * point_in_time.js parsePITBranch, formats.js looksLikeLSN / looksLikeTimestamp), so a value that
 * works with `neonctl branches schema-diff` works here, and one it refuses is refused here too.
 */

/** A branch reference, at its head or at a point in its history. */
export interface PointInTime {
  /** The branch: a name or a `br-…` id (everything before the last `@`). */
  ref: string
  /** A WAL position such as `0/1A2B3C4`. */
  lsn?: string
  /** An RFC 3339 timestamp, as written. */
  timestamp?: string
}

/** A malformed point in time; the message quotes the value and says what is expected. */
export class PointInTimeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PointInTimeError'
  }
}

// formats.js: an LSN is two hex numbers of 1 to 8 digits; a timestamp has seconds, optional
// milliseconds, and a zone (Z or ±hh:mm), and must also be a date Date.parse accepts.
const LSN_RE = /^[a-fA-F0-9]{1,8}\/[a-fA-F0-9]{1,8}$/
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?([+-]\d{2}:\d{2}|Z)$/

export const POINT_IN_TIME_EXPECTED =
  'Expected a branch name or id, optionally followed by @ and an LSN (e.g. main@0/1A2B3C4) or an ' +
  'RFC 3339 timestamp with seconds and a zone (e.g. main@2030-01-31T18:00:00Z).'

/**
 * Splits `value` at its last `@` as neonctl does: what follows is an LSN when it looks like one,
 * else it must be a timestamp that is not in the future (`now`, default the current time).
 */
export function parsePointInTime(value: string, now: number = Date.now()): PointInTime {
  const at = value.lastIndexOf('@')
  if (at === -1) return { ref: value }
  const ref = value.slice(0, at)
  const point = value.slice(at + 1)
  if (ref === '')
    throw new PointInTimeError(`'${value}' names no branch before '@'. ${POINT_IN_TIME_EXPECTED}`)
  if (LSN_RE.test(point)) return { ref, lsn: point }
  const t = Date.parse(point)
  if (!TIMESTAMP_RE.test(point) || Number.isNaN(t) || !dateExists(point)) {
    throw new PointInTimeError(
      `'${point}' after '@' is neither an LSN nor a timestamp. ${POINT_IN_TIME_EXPECTED}`,
    )
  }
  if (t > now) throw new PointInTimeError(`the timestamp ${point} is in the future`)
  return { ref, timestamp: point }
}

// Stricter than neonctl in one way: Date.parse rolls 2030-02-31 over into March, which neonctl
// would pass on to Neon as is; a date that does not exist is refused here.
function dateExists(timestamp: string): boolean {
  const [y, m, d] = timestamp.slice(0, 10).split('-').map(Number) as [number, number, number]
  return m >= 1 && m <= 12 && new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d
}

/** The value back in neonctl's form, for messages and headers. */
export function formatPointInTime(p: PointInTime): string {
  const point = p.lsn ?? p.timestamp
  return point === undefined ? p.ref : `${p.ref}@${point}`
}
