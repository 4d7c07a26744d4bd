// The compute: `suspend_timeout` and `compute_units`.
import { INPUTS } from '../constants.js'
import { parseComputeUnits, type ComputeUnits } from '../neon/compute-units.js'
import { DEFAULTS } from './defaults.js'
import type { Reader } from './reader.js'

const MAX_SUSPEND_TIMEOUT = 604_800

/** Seconds; 0 = Neon's default, -1 = never suspend. */
export function readSuspendTimeout(r: Reader): number {
  return r.integer(
    INPUTS.suspendTimeout,
    DEFAULTS.suspendTimeout,
    -1,
    MAX_SUSPEND_TIMEOUT,
    'seconds (0 = Neon default, -1 = never suspend)',
  )
}

/** The size of the read-write compute; undefined for Neon's (the project's) default. */
export function readComputeUnits(r: Reader): ComputeUnits | undefined {
  const text = r.get(INPUTS.computeUnits)
  if (text === '') return undefined
  try {
    return parseComputeUnits(text)
  } catch (err) {
    return r.invalid(INPUTS.computeUnits, text, (err as Error).message)
  }
}
