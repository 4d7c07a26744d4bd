/**
 * Cancellation of a run's waiting. When the runner cancels a job it sends the step SIGINT, then
 * SIGTERM about 7.5 s later, then kills it (the post steps still run). Every wait of the action —
 * polling, and the client's retry backoff — sleeps through a Clock, so a clock whose sleeps end
 * with a CancelledError stops all of them at once without the modes knowing about signals. A
 * request already in flight is let finish: its answer (say, the id of a branch just created) is
 * worth more than the few milliseconds it takes.
 */
import { systemClock, type Clock } from './clock.js'

/** What a sleep ends with once the run has been cancelled. */
export class CancelledError extends Error {
  constructor(readonly reason: string) {
    super(`the step was cancelled (${reason}); stopped waiting`)
    this.name = 'CancelledError'
  }
}

export interface Cancellation {
  /** The clock to hand to the client and the modes. */
  readonly clock: Clock
  /** Why the run was cancelled, once it was. */
  readonly reason: string | undefined
  /** Ends every sleep in progress, and every later one, with a CancelledError. */
  cancel(reason: string): void
}

/**
 * Wraps `base`. On the real clock the sleep's own timer is cleared at cancellation, so no timer
 * keeps the process alive once the run has given up; any other clock (a test's) is raced.
 */
export function cancellable(base: Clock = systemClock): Cancellation {
  let reason: string | undefined
  const waiting = new Set<(e: CancelledError) => void>()
  const sleep = (ms: number): Promise<void> => {
    if (reason !== undefined) return Promise.reject(new CancelledError(reason))
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const stop = (e: CancelledError): void => {
        if (timer !== undefined) clearTimeout(timer)
        reject(e)
      }
      const done = (): void => {
        waiting.delete(stop)
        resolve()
      }
      waiting.add(stop)
      if (base === systemClock) timer = setTimeout(done, Math.max(0, ms))
      else base.sleep(ms).then(done, (e: unknown) => (waiting.delete(stop), reject(e)))
    })
  }
  return {
    clock: { now: () => base.now(), sleep },
    get reason() {
      return reason
    },
    cancel(why) {
      if (reason !== undefined) return
      reason = why
      const error = new CancelledError(why)
      for (const stop of [...waiting]) {
        waiting.delete(stop)
        stop(error)
      }
    },
  }
}
