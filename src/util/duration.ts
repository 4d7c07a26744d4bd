/**
 * Durations as users write them in workflow inputs (`90m`, `12h`, `7d`, `2w`), converted to milliseconds.
 */

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const WEEK = 7 * DAY

const UNIT_MS: Readonly<Record<string, number>> = { s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: WEEK }

// One integer and one unit, nothing else: compound forms ('1d12h') and decimals ('1.5h') are rejected so that
// there is exactly one way to read every accepted value.
const DURATION_RE = /^(\d+)([a-z])$/i

/**
 * Parses `<int><unit>` (units s, m, h, d, w; case-insensitive; surrounding whitespace ignored) into milliseconds.
 *
 * @throws Error (plain, so the caller can wrap it with the input's name) when the text is empty, has no unit or an
 *   unknown one, is zero, negative, fractional, or too large to represent exactly.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim()
  if (trimmed === '') throw new Error('Expected a duration such as 90m, 12h, 7d or 2w; got an empty value.')
  const match = DURATION_RE.exec(trimmed)
  const digits = match?.[1]
  const unit = match?.[2]?.toLowerCase()
  if (digits === undefined || unit === undefined) {
    throw new Error(
      `Expected a duration: a whole number followed by one unit (s, m, h, d, w), such as 90m, 12h, 7d or 2w.`,
    )
  }
  const unitMs = UNIT_MS[unit]
  if (unitMs === undefined) {
    throw new Error(`Unknown duration unit '${unit}'. Expected one of: s, m, h, d, w.`)
  }
  const count = Number(digits)
  if (count === 0) throw new Error('A duration must be greater than zero.')
  const ms = count * unitMs
  // Beyond 2^53 the millisecond count is no longer exact, and any such value is nonsense for this action anyway.
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(ms)) throw new Error('The duration is too large.')
  return ms
}

const FORMAT_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', DAY],
  ['h', HOUR],
  ['m', MINUTE],
  ['s', SECOND],
]

// Below this count a whole number of one unit reads better than two parts ('90m' rather than '1h 30m'); above
// it the count stops being readable ('97199s').
const MAX_SINGLE_UNIT_COUNT = 100

/**
 * Short human form for logs.
 *
 * A value that is a whole number of one unit, fewer than 100 of them, is written in the largest such unit, the
 * way a user would type it (and {@link parseDuration} reads it back): `14d`, `36h`, `90m`, `45s`. Anything else
 * (typically a remaining time computed from clocks) shows its two most significant parts, truncated: `1d 2h`,
 * `5m 3s`. Weeks are never used (`14d`, not `2w`), sub-second values are shown as `ms`, and negative values get
 * a leading `-`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms)
  if (ms < 0) return `-${formatDuration(-ms)}`
  const whole = Math.floor(ms)
  if (whole < SECOND) return whole === 0 ? '0s' : `${whole}ms`
  for (const [unit, size] of FORMAT_UNITS) {
    if (whole % size === 0 && whole / size < MAX_SINGLE_UNIT_COUNT) return `${whole / size}${unit}`
  }
  const parts: Array<readonly [number, string]> = []
  let rest = whole
  for (const [unit, size] of FORMAT_UNITS) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0 || parts.length > 0) parts.push([n, unit])
    if (parts.length === 2) break
  }
  // A zero second part ('1d 0h') says nothing the first part does not.
  return parts
    .filter(([n], i) => i === 0 || n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join(' ')
}
