// The branch target: `branch_name`, `parent_branch` (with its point in time) and
// `preserve_under_name`.
import { INPUTS } from '../constants.js'
import { isInFuture, parsePointInTime, POINT_IN_TIME_FORMS } from '../neon/point-in-time.js'
import { isoSeconds } from './expiry.js'
import { quote, type Invalid, type Reader } from './reader.js'
import type { Mode, ParentPoint } from './types.js'

export interface BranchTarget {
  branchName?: string
  parentBranch?: string
  parentPoint?: ParentPoint
  /** `parent_branch` as written, for messages. */
  parentText?: string
}

/** `branch_name` and `parent_branch`, split into the branch and its point in time. */
export function readBranchTarget(r: Reader, mode: Mode, now: () => Date): BranchTarget {
  const target: BranchTarget = {}
  const branchName = r.optionalName(INPUTS.branchName)
  if (branchName !== undefined) target.branchName = branchName
  const parentText = r.optionalName(INPUTS.parentBranch)
  if (parentText !== undefined) {
    target.parentText = parentText
    const { parentBranch, parentPoint } = parseParent(parentText, mode, now(), r.invalid)
    target.parentBranch = parentBranch
    if (parentPoint !== undefined) target.parentPoint = parentPoint
  }
  return target
}

/** `preserve_under_name`, required to reset a branch to its own past (`^self@...`). */
export function readPreserveUnderName(r: Reader, mode: Mode, target: BranchTarget): string | undefined {
  const preserveUnderName = r.optionalName(INPUTS.preserveUnderName)
  // Neon's BranchRestoreRequest: restoring a branch from its own history needs preserve_under_name.
  if (mode === 'reset' && target.parentBranch === SELF && preserveUnderName === undefined) {
    r.fail(
      INPUTS.preserveUnderName,
      `Input '${INPUTS.preserveUnderName}' is required when '${INPUTS.parentBranch}' is ` +
        `${quote(target.parentText ?? '')}: a branch restored to its own past keeps its current state as a ` +
        `branch of that name (Neon requires it), e.g. preserve_under_name: preview/pr-7-before-restore.`,
    )
  }
  return preserveUnderName
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
  invalid: Invalid,
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
