// What the sweep (and create's make-room) may delete: `cleanup_prefix`, `cleanup_max_age`,
// `on_branch_limit`.
import { INPUTS } from '../constants.js'
import { DEFAULTS, ON_BRANCH_LIMIT } from './defaults.js'
import type { Reader } from './reader.js'
import type { Inputs } from './types.js'

export type CleanupInputs = Pick<Inputs, 'cleanupPrefix' | 'cleanupMaxAgeMs' | 'onBranchLimit'>

export function readCleanup(r: Reader): CleanupInputs {
  // An empty prefix falls back to the default rather than meaning "every branch": cleanup deletes branches, and
  // sweeping a whole project because a variable expanded to '' must not be possible.
  const cleanupPrefix = r.optionalName(INPUTS.cleanupPrefix) ?? DEFAULTS.cleanupPrefix
  const cleanupMaxAgeMs = r.duration(
    INPUTS.cleanupMaxAge,
    r.get(INPUTS.cleanupMaxAge) || DEFAULTS.cleanupMaxAge,
  )
  const onBranchLimit = r.oneOf(INPUTS.onBranchLimit, ON_BRANCH_LIMIT, DEFAULTS.onBranchLimit)
  return { cleanupPrefix, cleanupMaxAgeMs, onBranchLimit }
}
