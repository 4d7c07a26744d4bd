/**
 * Neon's CLI point-in-time form, `<branch>@<timestamp>` or `<branch>@<LSN>`, parsed by the CLI's own
 * rules (`neon` 5.0.1, dist/utils/point_in_time.js `parsePITBranch` and dist/utils/formats.js):
 * - the branch is everything before the LAST `@` (a branch name may itself hold an `@`);
 * - the rest is an LSN when it is `hex/hex` with 1 to 8 hex digits on each side, e.g. `0/1A2B3C4`;
 * - anything else must be a timestamp `YYYY-MM-DDTHH:MM:SS[.sss]` with `Z` or `±HH:MM` (the zone is
 *   mandatory: a zoneless time would depend on the runner's time zone) that Date.parse accepts.
 * The CLI's check that a timestamp is not in the future needs a clock; {@link isInFuture} does it
 * with the caller's.
 *
 * Pure: no I/O, no clock.
 */

/** A branch reference with an optional point in its history; neither lsn nor timestamp means its head. */
export interface PointInTime {
  /** A branch name, a `br-…` id, or `^self` / `^parent` (the CLI's names for the target and its parent). */
  ref: string
  lsn?: string
  timestamp?: string
}

/** A value that is not in the CLI's point-in-time form. The message says what is accepted. */
export class PointInTimeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PointInTimeError'
  }
}

// Both copied from neonctl's formats.js (LSN_REGEX, and the pattern inside looksLikeTimestamp).
const LSN_RE = /^[a-fA-F0-9]{1,8}\/[a-fA-F0-9]{1,8}$/
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?([+-]\d{2}:\d{2}|Z)$/

/** What a point may look like, for messages. */
export const POINT_IN_TIME_FORMS =
  '<branch name or id>@<RFC 3339 timestamp with a time zone> (e.g. main@2026-11-30T09:00:00Z or ' +
  'main@2026-11-30T10:00:00.000+01:00) or <branch name or id>@<LSN> (e.g. main@0/1A2B3C4)'

/** Whether a string is an LSN as neonctl recognises one. */
export function looksLikeLsn(value: string): boolean {
  return LSN_RE.test(value)
}

/** Whether a string is a timestamp as neonctl recognises one (the form and a real date). */
export function looksLikeTimestamp(value: string): boolean {
  return TIMESTAMP_RE.test(value) && !Number.isNaN(Date.parse(value))
}

/**
 * Splits `ref@point` into the branch and its point; a value without `@` is the branch's head.
 * Throws PointInTimeError when the part after the last `@` is neither an LSN nor a timestamp, or
 * when there is nothing before it.
 */
export function parsePointInTime(value: string): PointInTime {
  const at = value.lastIndexOf('@')
  if (at === -1) return { ref: value }
  const ref = value.slice(0, at)
  const point = value.slice(at + 1)
  if (ref === '') {
    throw new PointInTimeError(
      `There is no branch name or id before the '@'. Expected ${POINT_IN_TIME_FORMS}.`,
    )
  }
  if (looksLikeLsn(point)) return { ref, lsn: point }
  if (!looksLikeTimestamp(point)) {
    throw new PointInTimeError(
      `'${point}' after the last '@' is neither an LSN nor an RFC 3339 timestamp with a time zone. ` +
        `Expected ${POINT_IN_TIME_FORMS}.`,
    )
  }
  return { ref, timestamp: point }
}

/** Whether the point's timestamp lies after `now` (ms since the epoch). An LSN or a head is never. */
export function isInFuture(p: PointInTime, now: number): boolean {
  return p.timestamp !== undefined && Date.parse(p.timestamp) > now
}

/** `0/1a2b` and `0/1A2B` and `00/01A2B` are one LSN: compares the 64-bit numbers. */
export function sameLsn(a: string, b: string): boolean {
  const num = (s: string): bigint | undefined => {
    if (!looksLikeLsn(s)) return undefined
    const [hi, lo] = s.split('/') as [string, string]
    return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`)
  }
  const x = num(a)
  return x !== undefined && x === num(b)
}

/** How a point reads in logs, comments and summaries: `main at 2026-…` / `main at LSN 0/…` / `main`. */
export function describePoint(ref: string, p: { lsn?: string; timestamp?: string }): string {
  if (p.lsn !== undefined) return `${ref} at LSN ${p.lsn}`
  if (p.timestamp !== undefined) return `${ref} as of ${p.timestamp}`
  return ref
}
