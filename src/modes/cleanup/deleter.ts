import type { Branch } from '../../neon/types.js'
import type { ModeRun } from '../run.js'

/** undefined when deleted, 'gone' when Neon says it no longer exists, else the error message. */
export type DeleteOutcome = string | undefined

/**
 * Deletes branches children first, as they are handed in, at most `concurrency` at once, each
 * waited for (its operations) before its parent's turn. A branch waits while any child of it that
 * was handed in has not finished; so a caller that hands a parent in only after all its children
 * (Finality does) gets children-first deletes while it is still deciding about other branches.
 *
 * A failure is reported through `done` and does not stop the sweep; a branch whose child failed to
 * go is not attempted (Neon would refuse it), and neither, in turn, is its parent.
 */
export class ChildrenFirstDeleter {
  private readonly seen = new Set<string>()
  /** Handed in, not started, with the number of their children handed in and not finished. */
  private readonly waiting = new Map<string, { branch: Branch; children: number }>()
  private readonly ready: Branch[] = []
  private readonly unfinishedChildren = new Map<string, number>()
  private readonly blocked = new Set<string>()
  private active = 0
  private unfinished = 0
  private closed = false
  private stopped = false
  private resolve!: () => void
  /** Settles once closed (or stopped) and nothing is left to do or in flight. */
  readonly finished = new Promise<void>((r) => (this.resolve = r))

  constructor(
    private readonly run: ModeRun,
    private readonly concurrency: number,
    private readonly done: (b: Branch, error: DeleteOutcome) => void,
  ) {}

  /** Hands branches in; they start once none of their handed-in children is left unfinished. */
  add(...branches: Branch[]): void {
    for (const b of branches) {
      if (this.closed || this.stopped || this.seen.has(b.id)) continue
      this.seen.add(b.id)
      this.unfinished++
      const children = this.unfinishedChildren.get(b.id) ?? 0
      this.waiting.set(b.id, { branch: b, children })
      if (children === 0) this.ready.push(b)
      if (b.parent_id) {
        this.unfinishedChildren.set(b.parent_id, (this.unfinishedChildren.get(b.parent_id) ?? 0) + 1)
        // A parent handed in before this child (a caller's list in any order) waits for it.
        const parent = this.waiting.get(b.parent_id)
        if (parent && parent.children++ === 0) this.ready.splice(this.ready.indexOf(parent.branch), 1)
      }
    }
    // Started on a later turn, so that a list handed in one call is seen whole before the first delete.
    queueMicrotask(() => this.pump())
  }

  /** Nothing more will be handed in; `finished` settles when the last delete has. */
  close(): void {
    this.closed = true
    this.pump()
  }

  /** Starts nothing more (what was handed in and not started is dropped); in-flight deletes finish. */
  stop(): void {
    this.stopped = true
    this.unfinished -= this.waiting.size
    this.waiting.clear()
    this.ready.length = 0
    this.pump()
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency && this.ready.length > 0) {
      const b = this.ready.shift()!
      this.waiting.delete(b.id)
      if (this.blocked.has(b.id)) {
        this.finish(b, 'not attempted: one of its children could not be deleted')
        continue
      }
      this.active++
      void deleteOne(this.run, b).then((outcome) => {
        this.active--
        this.finish(b, outcome)
      })
    }
    if (this.closed && this.active === 0 && this.ready.length === 0 && this.waiting.size > 0) {
      // Only a cycle in parent ids could leave a branch waiting with nothing under way; say so
      // rather than hang.
      for (const { branch } of [...this.waiting.values()]) {
        this.waiting.delete(branch.id)
        this.finish(branch, 'not attempted: its children never finished (a cycle in parent ids?)')
      }
    }
    if ((this.closed || this.stopped) && this.unfinished === 0 && this.active === 0) this.resolve()
  }

  private finish(b: Branch, outcome: DeleteOutcome): void {
    this.unfinished--
    try {
      this.done(b, outcome)
    } finally {
      if (outcome !== undefined && outcome !== 'gone' && b.parent_id) this.blocked.add(b.parent_id)
      if (b.parent_id) {
        this.unfinishedChildren.set(b.parent_id, (this.unfinishedChildren.get(b.parent_id) ?? 1) - 1)
        const parent = this.waiting.get(b.parent_id)
        if (parent && --parent.children === 0) this.ready.push(parent.branch)
      }
      this.pump()
    }
  }
}

/** Deletes one branch and waits for its operations, within the step's deadline (shared by every delete). */
async function deleteOne(run: ModeRun, b: Branch): Promise<DeleteOutcome> {
  try {
    const res = await run.deps.neon.deleteBranch(run.project, b.id)
    if (res === null) return 'gone'
    await run.waitOps(res.operations)
    return undefined
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}
