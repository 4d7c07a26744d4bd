/**
 * Waiting for the project lock. Neon runs a project's operations one after another and refuses a
 * mutating request with 423 while any of them runs (BEHAVIOUR.md, "Locks, limits and errors"), so
 * a 423 is a queue, not a failure: the request is tried again until the lock is had or the step's
 * deadline would pass. How many tries that takes is no limit.
 *
 * A try costs a request, and every run of a burst (twenty pull requests opened at once) shares one
 * account's 700 requests a minute and 40 a second per route (BEHAVIOUR.md, 429). So the wait does
 * not back off on a clock of its own; it aims at the moment the lock should be released:
 *
 * 1. On a 423 it reads what holds the project: the unfinished operations among the project's
 *    recent ones (`GET /projects/{id}/operations`, the page the poller reads for its history, read
 *    once for both). From how long each action takes here (OperationDurations) it predicts when they
 *    end, and tries just after that, with a random spread so that waiting runs do not all arrive at
 *    once (a wide one for its first aim: every run waiting in a burst aims at the same release).
 *    With no history for what runs, it backs off briefly instead (250 ms doubling to 2 s).
 * 2. Refused again at the predicted release means that another run took the lock at that moment:
 *    its operations end about one typical hold later, so the run does not read again. It aims at one
 *    of the next releases, picked at random from a window that starts at FIRST_LOSS_WINDOW, doubles
 *    with each such refusal and shrinks as releases pass (binary exponential backoff counted in
 *    holds of the lock, at most MAX_WINDOW ahead): the more runs wait, the fewer of them try at each
 *    release, and a burst stays within the account's rate limit.
 * 3. While it skips releases it looks again (one read) just after the next one, and then every half
 *    window of releases: taken, the look says when that hold ends and the skip goes on from there;
 *    not taken, fewer runs are waiting than the window thought, so it tries at once (a release nobody
 *    takes is seen a moment late, not whole holds late) and its window starts again from one.
 * 4. A look answered 429 (the account's requests used up, by every run sharing the key) widens the
 *    window to the full MAX_WINDOW and waits a second or two.
 *
 * Nothing of this is documented by Neon beyond the lock itself: the durations come from the
 * project's own history, and the rest is this file's choice, measured in `npm run bench:burst`.
 */
import type { Clock } from '../util/clock.js'
import type { OperationDurations } from './durations.js'
import { NeonApiError } from './errors.js'
import { OPERATION_FAILURE, OPERATION_SUCCESS, type Operation } from './types.js'

/** The spread of a run's first aim at a release: a burst's runs all aim at the same one. */
export const FIRST_SPREAD_MS = 1200
/** The spread of later aims, when the backoff has thinned out who aims at a release. */
export const SPREAD_MS = 150
/** Nothing known of what holds the project: the first backoff, doubling up to the cap. */
export const BACKOFF_MIN_MS = 250
export const BACKOFF_MAX_MS = 2000
/**
 * The backoff window after the first refusal at a release, and its cap, in releases. Every run of a
 * burst aims at the first release; refused there, a quarter of them try at the next. The cap keeps
 * a burst of fifty runs within Neon's 700 requests a minute (a window of ten: about one try and
 * two looks at each release from fifty waiting runs, beside the work of the run that got the lock).
 */
export const FIRST_LOSS_WINDOW = 4
export const MAX_WINDOW = 12
/** A look taken after a skipped release comes this long after it was predicted. */
export const LOOK_AFTER_MS = 150
/** The least time between two requests of one wait (the read after a 423 and the try after it). */
export const MIN_GAP_MS = 50
/** After a look refused with 429: 1 to 2 s (Neon documents 700 a minute and 40 a second per route). */
export const RATE_LIMITED_MS = 1000
/** What holds the project after a refusal at a release, until the next look says more. */
const TAKEN_OVER = "another run's operations, started as"
/** With nothing known of what holds the project, it is looked at again no sooner than this. */
export const UNKNOWN_LOOK_MS = 5000
/** The least spread assumed of a predicted end, however regular the history. */
const MIN_SD_MS = 25

export interface LockWaitDeps {
  clock: Clock
  random: () => number
  /** The step's deadline, epoch ms: no try is aimed past it. */
  deadline: number
  /** The project's recent operations, newest first (one request; a failure is answered with a backoff). */
  readOperations: () => Promise<readonly Operation[]>
  /** What this run knows of the project's durations; every page read here teaches it too. */
  durations: OperationDurations
}

/** What holds the project, as one read of its operations shows it, and when it should let go. */
export type Release =
  | { kind: 'free' }
  | { kind: 'unknown'; holders: string }
  | {
      kind: 'held'
      /** Epoch ms at which the last unfinished operation should end. */
      at: number
      /** How uncertain that is (ms, one standard deviation). */
      sd: number
      /** How long a request like the holder's holds the lock, for the releases after this one. */
      holdMs: number
      holders: string
    }

/** Still holding the project: in progress, or `cancelling` (on its way to `cancelled`, BEHAVIOUR.md). */
const unfinished = (op: Operation): boolean =>
  op.status === 'cancelling' || (!OPERATION_SUCCESS.has(op.status) && !OPERATION_FAILURE.has(op.status))

/**
 * When the project's unfinished operations should all have ended. The project runs them one after
 * another, oldest first; a running one has run `total_duration_ms` so far (see OperationDurations),
 * and each is expected to take the median of its action's recent durations here.
 */
export function predictRelease(
  ops: readonly Operation[],
  durations: OperationDurations,
  now: number,
): Release {
  const pending = ops.filter(unfinished).reverse()
  if (pending.length === 0) return { kind: 'free' }
  const holders = describeHolders(pending)
  let at = now
  let variance = 0
  for (const op of pending) {
    const t = durations.typical(op.action)
    if (!t) return { kind: 'unknown', holders }
    const sd = Math.max(MIN_SD_MS, t.sd)
    // Overdue: it should end any moment, within about its usual spread.
    const left = op.status === 'running' ? Math.max(sd, t.ms - op.total_duration_ms) : t.ms
    at += left
    variance += sd * sd
  }
  // The holder's whole request: its operations were created together (same created_at), the finished
  // ones included, so the next request to take the lock is expected to hold it about as long.
  const batch = ops.filter((op) => op.created_at === pending[0]!.created_at)
  const holdMs = batch.reduce((sum, op) => sum + (durations.typical(op.action)?.ms ?? 0), 0)
  return { kind: 'held', at: Math.round(at), sd: Math.sqrt(variance), holdMs: holdMs || at - now, holders }
}

/** `create_branch (br-x, running 1.2 s), start_compute (scheduling)` for messages. */
export function describeHolders(pending: readonly Operation[]): string {
  return pending
    .map((op) => {
      const on = op.branch_id ?? op.endpoint_id
      const state =
        op.status === 'running' ? `running ${(op.total_duration_ms / 1000).toFixed(1)} s` : op.status
      return `${op.action} (${on ? `${on}, ` : ''}${state})`
    })
    .join(', ')
}

const isRateLimited = (e: unknown): boolean => e instanceof NeonApiError && e.status === 429

/** The wait would pass the step's deadline: the request fails now, saying so. */
export class LockDeadline extends Error {
  constructor(
    readonly waitedMs: number,
    readonly tries: number,
    readonly holders: string,
  ) {
    super(
      `Waited ${(waitedMs / 1000).toFixed(1)} s for the project lock (${tries} ${tries === 1 ? 'try' : 'tries'} ` +
        `refused with 423); it is held by ${holders}; the next try would come after the step's deadline ` +
        `(the 'timeout' input). Raise 'timeout', or start fewer jobs against this project at once.`,
    )
    this.name = 'LockDeadline'
  }
}

/**
 * The wait of one request for the project lock, from its first 423 until it gets through: call
 * `beforeRetry` after every 423, and try again when it returns.
 */
export class LockWait {
  /** Tries refused with 423 so far. */
  tries = 0
  readonly started: number
  /** What held the project at the last look. */
  holders = 'operations not seen (the project could not be read)'
  /** The backoff window, in releases of the lock. */
  private window = 1
  /** The last try was aimed at a release: a 423 to it means another run took the lock then. */
  private aimed = false
  private first = true
  private holdMs?: number
  private sd = MIN_SD_MS
  /** Releases predicted since the last look: the error of a prediction grows with each. */
  private chain = 0
  private backoffs = 0
  /** When the last look found holders of unknown duration: until UNKNOWN_LOOK_MS later, only back off. */
  private unknownSince?: number
  /** The last look found nothing unfinished. */
  private lastLookFree = false

  constructor(private readonly deps: LockWaitDeps) {
    this.started = deps.clock.now()
  }

  /** Sleeps (and looks at the project when that is worth a request) until the next try; `sentAt` is when the refused one was sent. */
  async beforeRetry(sentAt: number): Promise<void> {
    this.tries++
    if (!this.aimed || this.holdMs === undefined) return this.look()
    // Another run took the lock as it was released (about when this try was sent): its hold ends
    // about one hold later. Fewer runs aim at each release the more often this happens.
    if (!this.holders.startsWith(TAKEN_OVER)) this.holders = `${TAKEN_OVER} ${this.holders} ended`
    this.window = Math.min(MAX_WINDOW, Math.max(FIRST_LOSS_WINDOW, this.window * 2))
    const skip = Math.floor(this.deps.random() * this.window)
    this.window = Math.max(1, this.window - skip / 2)
    const release = sentAt + this.holdMs
    if (skip === 0) {
      this.chain++
      return this.aimAt(release, this.chain, SPREAD_MS)
    }
    // Skipping releases: look just after the next one. Taken by another run, the look says when
    // that one ends, and the rest of the releases to skip follow it; not taken, few runs are left
    // and this one tries at once, instead of sleeping through releases nobody takes.
    await this.sleepUntil(release + this.margin(this.chain + 1) + LOOK_AFTER_MS)
    return this.look(skip - 1)
  }

  /**
   * A try of this request was answered 429 (the client retries it by its policy, after Retry-After):
   * the account's requests are used up by the runs sharing the key, so this one steps back furthest.
   */
  rateLimited(): void {
    this.window = MAX_WINDOW
  }

  /**
   * Reads what holds the project and sleeps until just after it should let go, or `skip` releases
   * of a typical hold after that.
   */
  private async look(skip = 0): Promise<void> {
    const { clock, durations } = this.deps
    if (this.unknownSince !== undefined && clock.now() - this.unknownSince < UNKNOWN_LOOK_MS) {
      return this.backOff()
    }
    this.unknownSince = undefined
    let ops: readonly Operation[] | undefined
    try {
      ops = await this.deps.readOperations()
    } catch (e) {
      // Unreadable now (a timeout, a 5xx): the try itself will tell. A 429 says that the account's
      // requests are used up, by every run sharing the key: this one steps back the furthest.
      if (isRateLimited(e)) {
        this.window = MAX_WINDOW
        this.aimed = false
        return this.sleepUntil(clock.now() + RATE_LIMITED_MS * (1 + this.deps.random()))
      }
    }
    if (ops) durations.learn(ops)
    const now = clock.now()
    const release = ops ? predictRelease(ops, durations, now) : undefined
    this.chain = 0
    if (release?.kind === 'free' && this.lastLookFree) {
      // Refused again although nothing shows as running (Neon's other 423, "endpoint is in some
      // transitive state", or operations this page does not show): what holds it is unknown.
      this.lastLookFree = false
      this.unknownSince = now
      return this.backOff()
    }
    this.lastLookFree = release?.kind === 'free'
    if (release?.kind === 'free') {
      // Released since the 423, and nobody took it: few runs are waiting, so this one goes back to
      // trying at every release. Refused now means another run took it just now.
      this.window = 1
      this.aimed = true
      return this.sleepUntil(now + this.deps.random() * SPREAD_MS)
    }
    if (release?.kind !== 'held') {
      if (release) {
        this.holders = release.holders
        this.unknownSince = now
      }
      return this.backOff()
    }
    this.holders = release.holders
    this.holdMs = release.holdMs
    this.sd = release.sd
    // Still skipping: looking again every half window of releases, so that releases nobody takes
    // (the runs still waiting are fewer than the window thought) cost at most that many holds.
    const every = Math.max(1, Math.ceil(this.window / 2))
    if (skip >= every) {
      this.aimed = false
      await this.sleepUntil(release.at + (every - 1) * release.holdMs + this.margin(every) + LOOK_AFTER_MS)
      return this.look(skip - every)
    }
    this.chain = 1 + skip
    const spread = this.first ? FIRST_SPREAD_MS : SPREAD_MS
    this.first = false
    return this.aimAt(release.at + skip * release.holdMs, this.chain, spread)
  }

  /** Nothing known of when the project is let go: 250 ms, doubling to 2 s, jittered. */
  private async backOff(): Promise<void> {
    this.aimed = false
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.backoffs++)
    return this.sleepUntil(this.deps.clock.now() + ceiling * (0.5 + this.deps.random() / 2))
  }

  private async aimAt(release: number, chain: number, spread: number): Promise<void> {
    this.aimed = true
    await this.sleepUntil(release + this.margin(chain) + this.deps.random() * spread)
  }

  /** Past the predicted end by one standard deviation of it, which grows with every release predicted blind. */
  private margin(chain: number): number {
    return Math.max(MIN_SD_MS, this.sd) * Math.sqrt(Math.max(1, chain))
  }

  private async sleepUntil(at: number): Promise<void> {
    const { clock, deadline } = this.deps
    const now = clock.now()
    const wake = Math.max(at, now + MIN_GAP_MS)
    if (wake >= deadline) throw new LockDeadline(now - this.started, this.tries, this.holders)
    await clock.sleep(wake - now)
  }
}
