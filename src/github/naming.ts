/**
 * Branch names derived from pull requests and from CI jobs.
 */
import { createHash } from 'node:crypto'

import { MAX_NAME_BYTES } from '../constants.js'

const BRANCH_ID_RE = /^br-[a-z0-9-]+$/
// Everything else becomes '-': keeps names readable in the Neon console and safe in API paths and URLs.
const UNSAFE_CHAR_RE = /[^a-z0-9._/-]/gu
const HASH_HEX_CHARS = 8
const SUFFIX_BYTES = 1 + HASH_HEX_CHARS

/**
 * The Neon branch name for a pull request: `preview/pr-<n>-<head ref>`, lower-cased, with every character outside
 * `[a-z0-9._/-]` replaced by `-` (one `-` per code point, so an emoji is one dash).
 *
 * The result is at most {@link MAX_NAME_BYTES} bytes. A longer name is cut, trailing `-` and `/` are dropped, and
 * `-<8 hex>` is appended: the first 8 hex digits of the SHA-256 of the full, untruncated and unsanitized name,
 * so two long head refs that share a prefix (or differ only in characters that sanitize alike) do not collide,
 * while the same ref always yields the same name.
 *
 * @throws RangeError when `prNumber` is not a positive integer.
 */
export function previewBranchName(prNumber: number, headRef: string): string {
  if (!Number.isSafeInteger(prNumber) || prNumber < 1) {
    throw new RangeError(`Pull request number must be a positive integer; got ${prNumber}.`)
  }
  return safeBranchName(headRef === '' ? `preview/pr-${prNumber}` : `preview/pr-${prNumber}-${headRef}`)
}

/**
 * The default name of a CI job's ephemeral branch: `ci/run-<run id>-<run attempt>-<job>`, made safe
 * and shortened exactly like a preview name. Every leg of a matrix shares the job id, so matrix legs
 * must name their branches themselves (the collision check says so).
 */
export function ephemeralBranchName(runId: string, runAttempt: string, job: string | undefined): string {
  return safeBranchName(`ci/run-${runId}-${runAttempt}${job ? `-${job}` : ''}`)
}

/** Lower-cased, unsafe characters replaced, at most {@link MAX_NAME_BYTES} with a hash suffix when cut. */
function safeBranchName(raw: string): string {
  const name = raw.toLowerCase().replace(UNSAFE_CHAR_RE, '-')
  // After sanitizing every character is ASCII, so bytes equal UTF-16 units; measuring bytes keeps that an
  // implementation detail rather than an assumption.
  if (Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES) return name
  const hash = createHash('sha256').update(raw, 'utf8').digest('hex').slice(0, HASH_HEX_CHARS)
  const head = name.slice(0, MAX_NAME_BYTES - SUFFIX_BYTES).replace(/[-/]+$/, '')
  return `${head}-${hash}`
}

/** True for a Neon branch id such as `br-cool-darkness-123456`, as opposed to a branch name. */
export function isBranchId(s: string): boolean {
  return BRANCH_ID_RE.test(s)
}
