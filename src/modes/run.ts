import { InputError, type Inputs } from '../inputs.js'
import { projectDurations } from '../neon/durations.js'
import { waitForOperations, type PollOptions, type WaitStats } from '../neon/operations.js'
import type { Operation } from '../neon/types.js'
import { ModeError, type ModeDeps, type ModeResult } from './types.js'

/**
 * One mode's run: its deadline (the step's, from the `timeout` input), its polling statistics, and
 * the list of changes made so far, so that a failure can always say what was already done in Neon.
 */
export class ModeRun {
  readonly started: number
  readonly changes: string[] = []
  readonly wait: WaitStats = { polls: 0, waitedMs: 0 }
  readonly poll: PollOptions

  constructor(
    readonly deps: ModeDeps,
    readonly inputs: Inputs,
  ) {
    this.started = deps.clock.now()
    this.poll = {
      ...deps.poll,
      clock: deps.clock,
      deadline: deps.deadline ?? this.started + inputs.timeoutMs,
      progress: (line) => deps.log.info(line),
      durations: projectDurations(deps.neon, inputs.projectId),
    }
  }

  get project(): string {
    return this.inputs.projectId
  }

  /**
   * Waits for operations this run started, within the step's deadline: `timeout` bounds the whole
   * step, a sweep of many deletes included.
   */
  waitOps(operations: readonly Operation[]): Promise<void> {
    return waitForOperations(this.deps.neon, this.project, operations, this.poll, this.wait)
  }

  changed(line: string): void {
    this.changes.push(line)
  }

  elapsed(): number {
    return this.deps.clock.now() - this.started
  }

  timings(readyMs?: number): ModeResult['timings'] {
    return { totalMs: this.elapsed(), ...(readyMs !== undefined ? { readyMs } : {}), wait: this.wait }
  }

  /**
   * Wraps any failure with what was being done and the changes already made. A bad input found
   * only with the project's help (a point outside its history) stays an input error: nothing was
   * changed, and the message already names the input.
   */
  fail(what: string, e: unknown): ModeError | InputError {
    if (e instanceof ModeError || e instanceof InputError) return e
    const message = e instanceof Error ? e.message : String(e)
    return new ModeError(`${what} failed: ${message}`, this.changes, e)
  }
}
