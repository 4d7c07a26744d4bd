import type { Clock } from '../util/clock.js'
import type { NeonClient } from './client.js'
import { OperationFailedError, WaitTimeoutError } from './errors.js'
import { OPERATION_FAILURE, OPERATION_SUCCESS, type Operation } from './types.js'

/** How to poll: fast at first, then backing off, never past the deadline. */
export interface PollOptions {
  clock: Clock
  /** Epoch ms after which waiting fails (derived from the `timeout` input). */
  deadline: number
  /** Delay between polls during the fast phase. */
  initialMs?: number
  /**
   * How long a wait polls at `initialMs` before backing off. Most of Neon's operations take one to
   * three seconds: polling briskly through them keeps the time between "done" and "seen done"
   * small, and backing off after keeps a long operation within a modest request budget.
   */
  fastPhaseMs?: number
  /** Growth of the delay after each poll once the fast phase is over. */
  factor?: number
  /** Largest delay between polls: bounds requests per minute during a long operation. */
  maxMs?: number
  /** A progress line now and then (about every 10 s) during a long wait. */
  progress?: (line: string) => void
  /**
   * How long operations of each action took earlier in this run (total_duration_ms). When the
   * same action runs again, the first poll waits about that long instead of polling early and
   * often: a sweep of hundreds of deletes then costs about one poll per operation.
   */
  learned?: Map<string, number>
}

/** Per-wait options. */
export interface WaitOptions {
  /** Sleep before the first check: the caller knows the thing is not done yet (it just started it). */
  delayFirst?: boolean
  /** With delayFirst: how long the first sleep is (default: the initial poll delay). */
  firstDelayMs?: number
}

/**
 * 150 ms for 2.5 s, then ×1.6 up to 3.5 s: 38 polls over a 60-second operation (Neon allows 700
 * requests a minute per account, shared by every CI job), and at most ~150 ms late for the short
 * operations that make up nearly every run.
 */
export const DEFAULT_POLL = { initialMs: 150, fastPhaseMs: 2500, factor: 1.6, maxMs: 3500 }

/** What a check saw: whether the wait is over, a short state for messages, and a delay hint. */
export interface Observation<T> {
  done: boolean
  state: string
  value?: T
  /** Epoch ms before which polling again is pointless (Neon's retry_at). */
  notBefore?: number
}

/** Polling statistics, for the job summary. */
export interface WaitStats {
  polls: number
  waitedMs: number
}

/**
 * Calls `check` until it reports done, sleeping between calls with a growing delay, and throws a
 * WaitTimeoutError naming `what` once the deadline passes. One check in flight at a time.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<Observation<T>>,
  o: PollOptions,
  stats?: WaitStats,
  w: WaitOptions = {},
): Promise<T | undefined> {
  const { clock } = o
  const initial = o.initialMs ?? DEFAULT_POLL.initialMs
  const fastUntil = clock.now() + (o.fastPhaseMs ?? DEFAULT_POLL.fastPhaseMs)
  const factor = o.factor ?? DEFAULT_POLL.factor
  const max = o.maxMs ?? DEFAULT_POLL.maxMs
  const started = clock.now()
  let delay = initial
  let lastProgress = started
  const grow = (): void => {
    if (clock.now() >= fastUntil) delay = Math.min(max, delay * factor)
  }
  if (w.delayFirst) {
    await clock.sleep(Math.min(w.firstDelayMs ?? delay, Math.max(0, o.deadline - started)))
  }
  for (;;) {
    const seen = await check()
    if (stats) stats.polls++
    if (seen.done) {
      if (stats) stats.waitedMs += clock.now() - started
      return seen.value
    }
    const now = clock.now()
    if (now >= o.deadline) {
      if (stats) stats.waitedMs += now - started
      throw new WaitTimeoutError(what, now - started, seen.state)
    }
    if (o.progress && now - lastProgress >= 10_000) {
      o.progress(`Still waiting for ${what} (${seen.state}, ${Math.round((now - started) / 1000)} s so far)`)
      lastProgress = now
    }
    let wait = delay
    if (seen.notBefore !== undefined && seen.notBefore > now) wait = Math.max(wait, seen.notBefore - now)
    await clock.sleep(Math.min(wait, Math.max(0, o.deadline - now)))
    grow()
  }
}

/**
 * The first poll of an action seen before waits its learned duration plus a margin for queueing,
 * so that it usually finds the operation finished.
 */
function expectedMs(learned: Map<string, number> | undefined, action: string): number | undefined {
  const ms = learned?.get(action)
  return ms === undefined ? undefined : Math.round(ms * 1.1 + 25)
}

/** Terminal-state predicate shared by every wait on an operation. */
export function operationSettled(op: Operation): boolean {
  return OPERATION_SUCCESS.has(op.status) || OPERATION_FAILURE.has(op.status)
}

/** Throws when an operation ended in failure, naming its action and Neon's error. */
export function assertOperationSucceeded(op: Operation): void {
  if (OPERATION_FAILURE.has(op.status)) {
    throw new OperationFailedError(op.id, op.action, op.status, op.error)
  }
}

/**
 * Waits for every given operation to succeed, one after the other (Neon runs a project's
 * operations in sequence, so polling them in order costs no extra time). Operations already
 * settled in the response that started them are not polled at all.
 */
export async function waitForOperations(
  client: NeonClient,
  projectId: string,
  operations: readonly Operation[],
  o: PollOptions,
  stats?: WaitStats,
): Promise<void> {
  for (const first of operations) {
    let op = first
    if (!operationSettled(op)) {
      const settled = await waitUntil(
        `operation ${op.action} (${op.id})`,
        async () => {
          op = await client.getOperation(projectId, op.id)
          const retryAt = op.retry_at ? Date.parse(op.retry_at) : NaN
          return {
            done: operationSettled(op),
            state: op.status + (op.failures_count > 0 ? `, ${op.failures_count} failures` : ''),
            value: op,
            notBefore: Number.isNaN(retryAt) ? undefined : retryAt,
          }
        },
        o,
        stats,
        { delayFirst: true, firstDelayMs: expectedMs(o.learned, op.action) },
      )
      if (settled) op = settled
    }
    assertOperationSucceeded(op)
    if (o.learned && op.total_duration_ms > 0) o.learned.set(op.action, op.total_duration_ms)
  }
}
