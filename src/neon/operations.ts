import type { Clock } from '../util/clock.js'
import type { NeonClient } from './client.js'
import type { OperationDurations } from './durations.js'
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
   * How long each action's operations take in this project (its recent history, read once, and
   * what this run has seen finish). With it the poller sleeps through most of an operation and
   * polls densely where it should end; without it, it polls on the fixed schedule above.
   */
  durations?: OperationDurations
}

/** Per-wait options. */
export interface WaitOptions {
  /** Sleep before the first check: the caller knows the thing is not done yet (it just started it). */
  delayFirst?: boolean
  /**
   * When the thing is expected to be done, in epoch ms: `from` the earliest, `to` the latest
   * likely moment. Asked again before every sleep, so an observation can move it. Before `from`
   * the wait checks only now and then (every SPARSE_MS), within it densely (the poll budget spread
   * over what is left of it), after `to` on a back-off.
   */
  expect?: () => { from: number; to: number } | undefined
}

/**
 * 150 ms for 2.5 s, then ×1.6 up to 3.5 s: 38 polls over a 60-second operation (Neon allows 700
 * requests a minute per account, shared by every CI job), and at most ~150 ms late for the short
 * operations that make up nearly every run. Used when nothing says when an operation will end.
 */
export const DEFAULT_POLL = { initialMs: 150, fastPhaseMs: 2500, factor: 1.6, maxMs: 3500 }

/** Checks before the expected window: rare, to catch an early failure, not the end. */
export const SPARSE_MS = 15_000
/** The densest polling, within the expected window: about one Neon round trip. */
export const DENSE_MIN_MS = 100
/** The sparsest polling within the window: the budget's own pace (60 s / 40). */
export const DENSE_MAX_MS = 1500
/**
 * At most this many checks in any POLL_WINDOW_MS of one wait: the budget for one long operation,
 * well inside Neon's 700 requests a minute per account (BEHAVIOUR.md, 429), which every CI job of
 * the account shares.
 */
export const POLL_BUDGET = 40
export const POLL_WINDOW_MS = 60_000

/** The checks of one wait in the last POLL_WINDOW_MS: how many more the budget allows, and when. */
export class PollBudget {
  private readonly at: number[] = []

  constructor(
    readonly perWindow = POLL_BUDGET,
    readonly windowMs = POLL_WINDOW_MS,
  ) {}

  record(now: number): void {
    this.at.push(now)
  }

  left(now: number): number {
    this.trim(now)
    return this.perWindow - this.at.length
  }

  /** The earliest moment, at or after `t`, at which one more check stays within the budget. */
  earliest(t: number): number {
    const inWindow = this.at.filter((a) => a > t - this.windowMs)
    return inWindow.length < this.perWindow ? t : inWindow[inWindow.length - this.perWindow]! + this.windowMs
  }

  private trim(now: number): void {
    while (this.at.length > 0 && this.at[0]! <= now - this.windowMs) this.at.shift()
  }
}

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
 * Calls `check` until it reports done, sleeping between calls, and throws a WaitTimeoutError
 * naming `what` once the deadline passes. One check in flight at a time, and never more than
 * POLL_BUDGET checks in any minute.
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
  const budget = new PollBudget()
  let delay = initial
  let overdue = false
  let lastProgress = started
  /** How long to sleep before the next check: by the expected window if there is one, else the back-off. */
  const nextWait = (now: number): number => {
    const win = w.expect?.()
    if (win && now < win.from) return Math.min(win.from - now, SPARSE_MS)
    if (win && now < win.to) {
      // What is left of the budget spread over what is left of the window, a few kept for after it.
      const spread = (win.to - now) / Math.max(1, budget.left(now) - 3)
      delay = Math.min(DENSE_MAX_MS, Math.max(DENSE_MIN_MS, spread))
      return delay
    }
    if (win) {
      // Later than expected: back off from the window's pace.
      if (overdue) delay = Math.min(max, delay * factor)
      overdue = true
      return Math.max(DENSE_MIN_MS, delay)
    }
    const d = delay
    if (now >= fastUntil) delay = Math.min(max, delay * factor)
    return d
  }
  if (w.delayFirst) {
    await clock.sleep(Math.min(nextWait(started), Math.max(0, o.deadline - started)))
    // The expected window may have become known during that sleep (the history arrives while the
    // operation runs): no point checking before it opens.
    const now = clock.now()
    const win = w.expect?.()
    if (win && now < win.from)
      await clock.sleep(Math.min(win.from - now, SPARSE_MS, Math.max(0, o.deadline - now)))
  }
  for (;;) {
    budget.record(clock.now())
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
    let wait = nextWait(now)
    if (seen.notBefore !== undefined && seen.notBefore > now) wait = Math.max(wait, seen.notBefore - now)
    wait = budget.earliest(now + wait) - now
    await clock.sleep(Math.min(wait, Math.max(0, o.deadline - now)))
  }
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
 * Waits for every given operation to succeed, one after the other: Neon runs a project's
 * operations in sequence (BEHAVIOUR.md, 423: new ones are refused while others run; the simulator
 * queues a batch's operations one after another), so polling them in order costs no extra time.
 * Operations already settled in the response that started them are not polled at all.
 *
 * With `durations`, each wait polls where its operation should end. One that is not the last of
 * the chain is checked once, where even a slow one has ended: its end is not what the run waits
 * for. The last one is checked densely over its expected window, which moves whenever a check
 * says how long the operation has been running.
 */
export async function waitForOperations(
  client: NeonClient,
  projectId: string,
  operations: readonly Operation[],
  o: PollOptions,
  stats?: WaitStats,
): Promise<void> {
  const { clock, durations } = o
  const pending = operations.filter((op) => !operationSettled(op))
  // When the operation now waited for started running, as far as this side can tell.
  let anchor = clock.now()
  // The history is read once per run, only when there is something to wait for, and while the
  // operations run: the schedule uses it from the moment it arrives.
  const history = durations && pending.some((op) => !durations.has(op.action)) ? durations.load() : undefined
  const lastPending = pending.at(-1)
  try {
    for (const first of operations) {
      let op = first
      if (!operationSettled(op)) {
        const isLast = op === lastPending
        let lastCheck = anchor
        let previousCheck = anchor
        const settled = await waitUntil(
          `operation ${op.action} (${op.id})`,
          async () => {
            previousCheck = lastCheck
            lastCheck = clock.now()
            op = await client.getOperation(projectId, op.id)
            // total_duration_ms of a running operation is how long it has run (see OperationDurations).
            if (op.status === 'running' && op.total_duration_ms > 0) anchor = lastCheck - op.total_duration_ms
            else if (op.status === 'scheduling') anchor = Math.max(anchor, lastCheck)
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
          {
            delayFirst: true,
            expect: () => {
              const win = durations?.window(op.action)
              if (!win) return undefined
              return isLast
                ? { from: anchor + win.lo, to: anchor + win.hi }
                : { from: anchor + win.hi, to: anchor + win.hi }
            },
          },
        )
        if (settled) op = settled
        // The next operation started when this one ended: by this one's own account where it says
        // how long it ran, else halfway between the last two checks.
        const byDuration = anchor + op.total_duration_ms
        anchor =
          op.total_duration_ms > 0 && byDuration <= lastCheck && byDuration >= previousCheck
            ? byDuration
            : (previousCheck + lastCheck) / 2
      }
      assertOperationSucceeded(op)
      durations?.add(op)
    }
  } finally {
    // Never rejects, and is one request with a 5 s timeout: nothing is left running after the wait.
    await history
  }
}
