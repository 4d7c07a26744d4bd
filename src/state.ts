/**
 * What the main step hands the post step. One bundle serves both (action.yml: `main` and `post`
 * are both dist/index.js), as in actions/checkout's state-helper.ts: the main step saves `isPost`,
 * and the runner gives the post step every saved value back as a `STATE_<name>` variable, so a
 * post run is the run that sees `STATE_isPost`. Saving appends to the file at $GITHUB_STATE
 * synchronously, so what is saved survives a kill a moment later.
 */
import * as core from '@actions/core'

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
