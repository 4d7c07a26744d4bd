/**
 * Reads and validates every action input up front, so a typo fails the step before any Neon or GitHub call.
 * One reader per concern (mode.ts, project.ts, target.ts, connection.ts, compute.ts, expiry.ts,
 * cleanup.ts, masking.ts), all through reader.ts; this file calls them in action.yml's order and
 * assembles the one `Inputs` object.
 */
import * as core from '@actions/core'

import { INPUTS } from '../constants.js'
import { readCleanup } from './cleanup.js'
import { readComputeUnits, readSuspendTimeout } from './compute.js'
import { readConnection } from './connection.js'
import { BRANCH_TYPES, DEFAULTS } from './defaults.js'
import { readExpiry } from './expiry.js'
import { readMasking } from './masking.js'
import { readMode } from './mode.js'
import { refuseNeonNames } from './neon-names.js'
import { readProject } from './project.js'
import { inputReader } from './reader.js'
import { readBranchTarget, readPreserveUnderName } from './target.js'
import type { GetInputsOptions, Inputs } from './types.js'

export * from './types.js'
export { expiryTimestamp } from './expiry.js'
export { isProjectId, parseApiHost } from './project.js'
export { NEON_INPUT_NAMES, type NeonInputName } from './neon-names.js'
export { PARENT, SELF } from './target.js'

const MAX_TIMEOUT_SECONDS = 3600

const defaultRead = (name: string): string => core.getInput(name)

/**
 * Reads and validates every input. `read` defaults to core.getInput-like behaviour (trimmed, '' when unset) so
 * tests pass a plain function; `now` is injectable. Throws InputError on the first bad input.
 */
export function getInputs(
  read: (name: string) => string = defaultRead,
  now: () => Date = () => new Date(),
  options: GetInputsOptions = {},
): Inputs {
  const r = inputReader(read)
  // Neon's actions' names for our inputs (`username`, `branch`, …) fail first, naming ours.
  refuseNeonNames(read)
  // Validation order follows action.yml, so "the first bad input" is predictable.
  const { mode, ephemeral } = readMode(r, options.allowEmptyApiKey === true)
  const { projectId, apiHost } = readProject(r)
  const target = readBranchTarget(r, mode, now)
  const branchType = r.oneOf(INPUTS.branchType, BRANCH_TYPES, DEFAULTS.branchType)
  const connection = readConnection(r)
  const suspendTimeout = readSuspendTimeout(r)
  const expiry = readExpiry(r, ephemeral, now)
  const timeoutMs = r.integer(INPUTS.timeout, DEFAULTS.timeout, 1, MAX_TIMEOUT_SECONDS, 'seconds') * 1000
  // A CI job's throwaway database is not news for the pull request: no comment unless asked for.
  const comment = r.bool(INPUTS.comment, ephemeral ? 'false' : DEFAULTS.comment)
  const dryRun = r.bool(INPUTS.dryRun, DEFAULTS.dryRun)
  const cleanup = readCleanup(r)
  const preserveUnderName = readPreserveUnderName(r, mode, target)
  const computeUnits = readComputeUnits(r)
  const masking = readMasking(r, mode, { database: connection.database, branchType }, options)
  const getAuthUrl = r.bool(INPUTS.getAuthUrl, DEFAULTS.getAuthUrl)
  const getDataApiUrl = r.bool(INPUTS.getDataApiUrl, DEFAULTS.getDataApiUrl)
  const resetPassword = r.bool(INPUTS.resetPassword, DEFAULTS.resetPassword)

  const inputs: Inputs = {
    mode,
    ephemeral,
    apiKey: r.apiKey,
    projectId,
    apiHost,
    branchType,
    ...connection,
    suspendTimeout,
    expiry,
    timeoutMs,
    githubToken: r.githubToken,
    comment,
    dryRun,
    ...cleanup,
    getAuthUrl,
    getDataApiUrl,
    resetPassword,
  }
  // Optional keys are left out rather than set to undefined, so `'branchName' in inputs` means "given".
  if (target.branchName !== undefined) inputs.branchName = target.branchName
  if (target.parentBranch !== undefined) inputs.parentBranch = target.parentBranch
  if (target.parentPoint !== undefined) inputs.parentPoint = target.parentPoint
  if (computeUnits !== undefined) inputs.computeUnits = computeUnits
  if (preserveUnderName !== undefined) inputs.preserveUnderName = preserveUnderName
  if (masking !== undefined) inputs.masking = masking
  return inputs
}
