/**
 * The post step of `ephemeral: true`: deletes the branch this job's main step created, and
 * nothing else: the branch must carry this job's key and be neither default nor protected (Neon is
 * asked first, whatever was recorded). Runs after success, failure and cancellation alike. The
 * branch may still have operations running (main was cancelled while waiting for them): those are
 * waited for first, as Neon would refuse the delete with 423 meanwhile. A branch already gone (Neon's expiry, a
 * re-run's cleanup) is a success.
 */
import { isNotFound } from '../neon/errors.js'
import { findBranch, type FoundBranch } from '../neon/lookup.js'
import { projectDurations } from '../neon/durations.js'
import { operationSettled, waitForOperations, waitUntil, type PollOptions } from '../neon/operations.js'
import type { EphemeralRecord } from '../state.js'
import { looksAnonymized } from './anonymized.js'
import { ModeError, type DeletedBranchReport, type ModeDeps } from './types.js'
import { reportRecoverable } from './undo.js'

export interface EphemeralPostResult {
  name: string
  branchId?: string
  /** true when this step deleted it; false when it was already gone or never made. */
  deleted: boolean
  /** Why nothing was deleted, when nothing was. */
  why?: string
  /** Operations waited for: main's still running, then the delete's own. */
  waitedFor: number
  /** When this step deleted it: until when it can be recovered. */
  recoverable?: DeletedBranchReport
  totalMs: number
}

type PostDeps = Pick<ModeDeps, 'neon' | 'clock' | 'log' | 'poll' | 'deadline'>

export async function ephemeralPost(deps: PostDeps, record: EphemeralRecord): Promise<EphemeralPostResult> {
  const { neon, clock, log } = deps
  const project = record.projectId
  const started = clock.now()
  const poll: PollOptions = {
    ...deps.poll,
    clock,
    deadline: deps.deadline ?? started + record.timeoutMs,
    progress: (line) => log.info(line),
    // As main's waits do: the project's recent operations say when the delete should end.
    durations: projectDurations(neon, project),
  }
  const changes: string[] = []
  const result = (deleted: boolean, branchId: string | undefined, waitedFor: number, why?: string) => ({
    name: record.name,
    ...(branchId ? { branchId } : {}),
    deleted,
    ...(why ? { why } : {}),
    waitedFor,
    totalMs: clock.now() - started,
  })
  try {
    // Neon's word on the branch, before anything else: a recorded id is deleted only when that
    // branch carries this job's key (the record could have been written by another step).
    const found = record.branchId
      ? await neon.getBranchAnnotated(project, record.branchId).catch((e: unknown) => {
          if (isNotFound(e)) return undefined
          throw e
        })
      : // Main stopped with its create request in flight: the branch exists only if Neon got it.
        await findBranch(neon, project, record.name)
    if (!found) {
      return record.branchId
        ? result(false, record.branchId, 0, 'it was already gone')
        : result(false, undefined, 0, 'the main step never got to create it')
    }
    const refusal = notOurs(found, record)
    if (refusal !== undefined) {
      log.warning(
        `Branch '${found.branch.name}' (${found.branch.id}) was not deleted: ${refusal}; it was left alone.`,
      )
      return result(false, found.branch.id, 0, refusal)
    }
    const branchId = found.branch.id
    let waitedFor = 0
    if (record.branchId === undefined) {
      if (found.branch.current_state !== 'ready') await waitForBranchReady(deps, project, branchId, poll)
    } else {
      waitedFor += await settleOperations(deps, project, record.operationIds ?? [], poll)
    }
    const hard = await mayBeUnmasked(deps, project, found)
    const res = await neon.deleteBranch(project, branchId, { hard })
    if (res === null) return result(false, branchId, waitedFor, 'it was already gone')
    changes.push(
      `deleted branch '${record.name}' (${branchId})${hard ? ' for good (not known to be masked)' : ''}`,
    )
    log.info(
      `Deleting ephemeral branch '${record.name}' (${branchId}); waiting for ${res.operations.length} operations`,
    )
    await waitForOperations(neon, project, res.operations, poll)
    const [recoverable] = hard
      ? []
      : await reportRecoverable(deps, project, [{ id: branchId, name: record.name }])
    return {
      ...result(true, branchId, waitedFor + res.operations.length),
      ...(recoverable ? { recoverable } : {}),
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    throw new ModeError(
      `post step: deleting ephemeral branch '${record.name}'${record.branchId ? ` (${record.branchId})` : ''} ` +
        `failed: ${message}. It still expires by itself (see its expires_at), and 'mode: cleanup' deletes ` +
        `it once this workflow run has completed.`,
      changes,
      e,
    )
  }
}

/**
 * Why the branch is not this job's to delete, or undefined when it is: it must carry the key this
 * job's main step wrote (`github-ephemeral-key`), and be neither the project's default branch nor
 * a protected one (Neon refuses those anyway; this refuses before asking).
 */
function notOurs(found: FoundBranch, record: EphemeralRecord): string | undefined {
  if (found.annotation?.value['github-ephemeral-key'] !== record.key) {
    return "this job's main step did not create it (its github-ephemeral-key annotation is not this job's)"
  }
  if (found.branch.default) return "it is the project's default branch"
  if (found.branch.protected) return 'it is a protected branch'
  return undefined
}

/** Waits until each of main's operations has settled, however it ended; returns how many it polled. */
async function settleOperations(
  deps: PostDeps,
  project: string,
  ids: readonly string[],
  poll: PollOptions,
): Promise<number> {
  let polled = 0
  for (const id of ids) {
    polled++
    await waitUntil(
      `operation ${id} started by the main step`,
      async () => {
        try {
          const op = await deps.neon.getOperation(project, id)
          return { done: operationSettled(op), state: op.status }
        } catch (e) {
          // An operation Neon no longer knows is not running.
          if (isNotFound(e)) return { done: true, state: 'unknown' }
          throw e
        }
      },
      poll,
    )
  }
  return polled
}

async function waitForBranchReady(
  deps: PostDeps,
  project: string,
  id: string,
  poll: PollOptions,
): Promise<void> {
  await waitUntil(
    `branch ${id} to leave 'init'`,
    async () => {
      const b = await deps.neon.getBranch(project, id)
      return { done: b.current_state !== 'init', state: b.current_state }
    },
    poll,
  )
}

/**
 * An anonymized branch whose masking is not known to be done (the main step's wait ran out, or it
 * failed): its data may be an unmasked copy of its parent, so it is deleted for good (hard_delete),
 * never left recoverable. Any branch that looks anonymized and does not answer `anonymized` counts.
 */
async function mayBeUnmasked(deps: PostDeps, project: string, found: FoundBranch): Promise<boolean> {
  if (!looksAnonymized(found)) return false
  const status = await deps.neon.getAnonymizedStatus(project, found.branch.id).catch(() => undefined)
  return status?.state !== 'anonymized'
}
