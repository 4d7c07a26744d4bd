/**
 * What the main step hands the post step. One bundle serves both (action.yml: `main` and `post`
 * are both dist/index.js), as in actions/checkout's state-helper.ts: the main step saves `isPost`,
 * and the runner gives the post step every saved value back as a `STATE_<name>` variable, so a
 * post run is the run that sees `STATE_isPost`. Saving appends to the file at $GITHUB_STATE
 * synchronously, so what is saved survives a kill a moment later.
 */
import * as core from '@actions/core'

import { isBranchId } from './github/naming.js'

export const STATE_KEYS = {
  isPost: 'isPost',
  /** JSON of an {@link EphemeralRecord}, or '' when there is nothing for the post step to delete. */
  ephemeral: 'ephemeral_branch',
} as const

/** The ephemeral branch the main step created (or was creating when it stopped). */
export interface EphemeralRecord {
  projectId: string
  /** The Neon API base the branch lives behind, as validated in main. */
  apiHost: string
  name: string
  /**
   * A random value written as the `github-ephemeral-key` annotation: when main stopped with its
   * create request in flight, the post step deletes a branch of that name only if it carries this.
   */
  key: string
  /** Milliseconds the post step may wait for Neon's operations (main's `timeout`). */
  timeoutMs: number
  /** Set once Neon answered the create; absent while the create request was in flight. */
  branchId?: string
  /** The create's operations, which the post step waits for before it deletes. */
  operationIds?: string[]
}

/** True in the post run: the main run saved `isPost`, and only the post run is handed it back. */
export function isPostRun(): boolean {
  return core.getState(STATE_KEYS.isPost) !== ''
}

/** Called first thing in every main run, whatever the inputs: the post run must know it is one. */
export function markMainRan(): void {
  core.saveState(STATE_KEYS.isPost, 'true')
}

/** Records what the post step must delete; undefined records that there is nothing. */
export function saveEphemeralRecord(record: EphemeralRecord | undefined): void {
  core.saveState(STATE_KEYS.ephemeral, record ? JSON.stringify(record) : '')
}

/** The record main saved, undefined when it saved none (or cleared it). */
export function readEphemeralRecord(): EphemeralRecord | undefined {
  return parseEphemeralRecord(core.getState(STATE_KEYS.ephemeral))
}

/** Parses a saved record; throws naming the state variable when it is not one (it never should be). */
export function parseEphemeralRecord(text: string): EphemeralRecord | undefined {
  if (text.trim() === '') return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  const r = value as Partial<EphemeralRecord> | undefined
  const ok =
    typeof r === 'object' &&
    r !== null &&
    typeof r.projectId === 'string' &&
    typeof r.apiHost === 'string' &&
    typeof r.name === 'string' &&
    typeof r.key === 'string' &&
    typeof r.timeoutMs === 'number' &&
    (r.branchId === undefined || typeof r.branchId === 'string') &&
    (r.operationIds === undefined ||
      (Array.isArray(r.operationIds) && r.operationIds.every((x) => typeof x === 'string')))
  if (!ok) {
    throw new Error(
      `STATE_${STATE_KEYS.ephemeral} does not hold what the main step saves (${text.length} characters); ` +
        'nothing was deleted',
    )
  }
  return r as EphemeralRecord
}

// What main records: a key from randomUUID, operation ids as Neon gives them (uuids: BEHAVIOUR.md,
// Asynchronous operations), a branch id of Neon's `br-` form, a name without control characters.
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/
const MAX_NAME_CHARS = 256
const MAX_TIMEOUT_MS = 3_600_000

/**
 * Why a record must not be acted on, or undefined when it may. The state reaches the post step
 * through STATE_* variables, which an earlier step of the job can write too ($GITHUB_ENV): a
 * record is trusted only as far as it agrees with this step's own inputs (the same as main's,
 * validated again) and has the forms main writes. Checked before any request: a forged record
 * must not get the API key sent to its host, nor a DELETE for its id.
 */
export function recordProblem(
  r: EphemeralRecord,
  expected: { apiHost: string; projectId: string },
): string | undefined {
  if (r.apiHost !== expected.apiHost) {
    return `it names the API host ${shown(r.apiHost)}, not this step's api_host (${expected.apiHost})`
  }
  if (r.projectId !== expected.projectId) {
    return `it names the project ${shown(r.projectId)}, not this step's project_id (${expected.projectId})`
  }
  if (r.branchId !== undefined && !isBranchId(r.branchId)) {
    return `its branch id ${shown(r.branchId)} is not of Neon's br-… form`
  }
  if (r.name === '' || [...r.name].length > MAX_NAME_CHARS || CONTROL_RE.test(r.name)) {
    return `its branch name ${shown(r.name)} is not one the main step could have used`
  }
  if (!UUID_RE.test(r.key)) return 'its github-ephemeral-key is not of the form the main step writes'
  if (!(r.operationIds ?? []).every((id) => UUID_RE.test(id))) {
    return "its operation ids are not of Neon's form"
  }
  if (!Number.isInteger(r.timeoutMs) || r.timeoutMs < 1000 || r.timeoutMs > MAX_TIMEOUT_MS) {
    return `its timeout (${r.timeoutMs} ms) is not one the timeout input allows`
  }
  return undefined
}

/** A recorded value in a message: quoted, control characters escaped (JSON's), at most 100 characters. */
function shown(value: string): string {
  const chars = [...value]
  return JSON.stringify(chars.length > 100 ? `${chars.slice(0, 100).join('')}…` : value)
}
