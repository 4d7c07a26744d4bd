import type { Operation } from './types.js'

/** Where an operation of one action is expected to end: ms after it started running. */
export interface DurationWindow {
  lo: number
  hi: number
}

/** Samples kept per action: recent enough to follow a project's habits, enough to trust. */
const KEEP = 20
/** How many of the project's recent operations a run reads once, when it first waits. */
export const HISTORY_LIMIT = 100

/**
 * How long each action's operations take in this project. Neon's operations carry no ETA, but
 * each finished one carries `total_duration_ms` (BEHAVIOUR.md, Asynchronous operations), and the
 * project's recent operations can be listed in one request: the poller reads that page once per
 * run, before its first wait, and adds every operation it sees finish. With that it can sleep
 * through most of an operation and poll densely around the moment it is expected to end, instead
 * of polling on a fixed back-off that sees the end of a long operation seconds late.
 *
 * How total_duration_ms counts is not documented; the OpenAPI example shows a `running` operation
 * with total_duration_ms 400 while its created_at and updated_at are 4 s apart, so it is read as
 * the time the operation has been running, not counting the wait in the project's queue.
 */
export class OperationDurations {
  private readonly samples = new Map<string, number[]>()
  /** Finished operations already learned from, so that a page read twice is not counted twice. */
  private readonly seen = new Set<string>()
  private loading?: Promise<void>

  /** `history` reads the project's recent operations (newest first); without it only what this run sees is learned. */
  constructor(private readonly history?: () => Promise<readonly Operation[]>) {}

  /** Learns from an operation that finished. Anything else (failed, still running, 0 ms) teaches nothing. */
  add(op: Pick<Operation, 'action' | 'status' | 'total_duration_ms'> & { id?: string }): void {
    if (op.status !== 'finished' || !(op.total_duration_ms > 0)) return
    if (op.id !== undefined) this.seen.add(op.id)
    const list = this.samples.get(op.action) ?? []
    list.push(op.total_duration_ms)
    if (list.length > KEEP) list.shift()
    this.samples.set(op.action, list)
  }

  has(action: string): boolean {
    return (this.samples.get(action)?.length ?? 0) > 0
  }

  /**
   * Learns from a page of the project's operations read for another reason (the wait for the
   * project lock reads it to see what holds the project): it is the same history, so the poller
   * need not read it again.
   */
  learn(ops: readonly Operation[]): void {
    this.loading ??= Promise.resolve()
    // Oldest first, as load() does; an operation already learned (from an earlier page, or seen
    // finishing by the poller) is not counted twice.
    for (const op of [...ops].reverse()) if (!this.seen.has(op.id)) this.add(op)
  }

  /**
   * The typical duration of an action here (the median of the recent ones) and how much it varies
   * (a standard deviation: from the 16th and 84th percentiles once there are five samples, else a
   * tenth of the median); undefined when none has been seen.
   */
  typical(action: string): { ms: number; sd: number } | undefined {
    const s = [...(this.samples.get(action) ?? [])].sort((a, b) => a - b)
    if (s.length === 0) return undefined
    const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!
    const ms = at(0.5)
    const sd = s.length < 5 ? ms / 10 : (at(0.84) - at(0.16)) / 2
    return { ms, sd }
  }

  /**
   * Reads the project's history once (later calls share the first). Never fails: without a
   * history the poller falls back to its fixed schedule, which costs polls, not correctness.
   */
  load(): Promise<void> {
    this.loading ??= (async () => {
      if (!this.history) return
      try {
        const ops = await this.history()
        // Oldest first, so that the newest stay when more than KEEP of one action are listed.
        for (const op of [...ops].reverse()) this.add(op)
      } catch {
        // A failed look-up only means a less informed schedule.
      }
    })()
    return this.loading
  }

  /**
   * The span in which an operation of `action` should end, measured from when it started running:
   * from a little under the shortest recent one to a little over the longest (the 5th and 95th
   * percentile once there are enough samples, so one outlier does not widen it for good).
   */
  window(action: string): DurationWindow | undefined {
    const s = [...(this.samples.get(action) ?? [])].sort((a, b) => a - b)
    if (s.length === 0) return undefined
    const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!
    const few = s.length < 5
    const lo = few ? s[0]! * 0.8 : at(0.05) * 0.95
    const hi = few ? s[s.length - 1]! * 1.25 + 50 : at(0.95) * 1.05 + 50
    return { lo: Math.round(lo), hi: Math.round(hi) }
  }
}

/**
 * What one run knows of a project's durations: its recent history, read once when first needed.
 * One per client and project (NeonClient.durationsOf), shared by the poller and the wait for the
 * project lock, so that the history is read once whichever needs it first.
 */
// `neon` is typed by the one method used (NeonClient has it), not as Pick<NeonClient, ...>: this
// file must not import client.ts, which imports this one.
export function projectDurations(
  neon: { durationsOf(projectId: string): OperationDurations },
  projectId: string,
): OperationDurations {
  return neon.durationsOf(projectId)
}
