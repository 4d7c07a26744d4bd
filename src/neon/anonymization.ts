/**
 * Waiting for Neon to mask an anonymized branch (BEHAVIOUR.md, "Anonymized branches"): its data is
 * safe to hand out only once `GET …/anonymized_status` says `anonymized`, and the branch refuses
 * connections until then. Polled like an operation: within the run's deadline, on the same
 * back-off, within the same budget of checks a minute.
 */
import type { AnonymizedStatus } from './anonymization-types.js'
import { waitUntil, type PollOptions, type WaitStats } from './operations.js'

/** States after which a masking run will not move on by itself. */
export const FAILED_STATES: ReadonlySet<string> = new Set(['error', 'initialization_error'])
export const DONE_STATE = 'anonymized'

/**
 * Neon's masking ended in `error` or `initialization_error`. The message carries Neon's
 * status_message for the log; `publicMessage` leaves it out for the pull request comment and the
 * job summary, since it can name the tables and columns that Neon marks `x-sensitive`.
 */
export class AnonymizationFailedError extends Error {
  publicMessage: string

  constructor(
    readonly branch: { id: string; name: string },
    readonly state: string,
    readonly statusMessage: string | undefined,
  ) {
    const head = `Neon's masking of branch '${branch.name}' (${branch.id}) ended in '${state}'`
    super(`${head}: ${statusMessage?.trim() || '(Neon gave no status message)'}`)
    this.name = 'AnonymizationFailedError'
    this.publicMessage =
      `${head} (Neon's status message is in the run log: it can name masked columns, so it is kept out ` +
      `of the pull request comment and the job summary)`
  }

  /** Adds what was done about it (the branch deleted, or not) to both messages. */
  addNote(note: string): void {
    this.message = `${this.message.replace(/\.?$/, '.')} ${note}`
    this.publicMessage = `${this.publicMessage.replace(/\.?$/, '.')} ${note}`
  }
}

export interface AnonymizedWait {
  /** The branch, for messages. */
  branch: { id: string; name: string }
  /** GET …/anonymized_status. */
  status: () => Promise<AnonymizedStatus>
  /**
   * What the run knew when it asked for the masking (the answer to POST …/anonymize, or the
   * status read before it): a terminal state counts only once a newer run than this one is seen.
   */
  since?: AnonymizedStatus
  /** Each new status_message, as progress for the log. */
  progress?: (line: string) => void
}

/**
 * Polls until the masking is done, and returns the final status; throws AnonymizationFailedError
 * on `error` / `initialization_error`, and WaitTimeoutError past the deadline.
 *
 * Right after `POST …/anonymize` the status may still be the previous run's `anonymized` (or
 * `error`): a terminal state is believed only when the run it reports started after `since`'s,
 * or once a state in progress has been seen since.
 */
export async function waitForAnonymized(
  w: AnonymizedWait,
  poll: PollOptions,
  stats?: WaitStats,
): Promise<AnonymizedStatus> {
  const before = w.since?.last_run?.started_at
  let moving = w.since === undefined || !isTerminal(w.since.state)
  let lastMessage: string | undefined
  const status = await waitUntil(
    `Neon to mask branch '${w.branch.name}' (${w.branch.id})`,
    async () => {
      const s = await w.status()
      if (!isTerminal(s.state)) moving = true
      const fresh = moving || (s.last_run?.started_at !== undefined && s.last_run.started_at !== before)
      if (s.status_message && s.status_message !== lastMessage && !FAILED_STATES.has(s.state)) {
        lastMessage = s.status_message
        w.progress?.(`Masking '${w.branch.name}': ${s.state}: ${s.status_message}`)
      }
      return { done: fresh && isTerminal(s.state), state: s.state, value: s }
    },
    poll,
    stats,
    { delayFirst: w.since !== undefined && !isTerminal(w.since.state) },
  )
  const final = status ?? (await w.status())
  if (FAILED_STATES.has(final.state))
    throw new AnonymizationFailedError(w.branch, final.state, final.status_message)
  return final
}

export function isTerminal(state: string): boolean {
  return state === DONE_STATE || FAILED_STATES.has(state)
}

/** `masked_columns` of the last run, when Neon reports it. */
export function maskedColumns(s: AnonymizedStatus): number | undefined {
  const n = s.last_run?.masked_columns
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined
}
