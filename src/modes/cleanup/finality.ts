import type { BranchIndex } from '../../neon/lookup.js'
import type { Candidate } from './candidate.js'

/**
 * When a cleanup candidate's delete is certain, while other candidates are still being judged (their
 * pull request or workflow run look-ups out), so the sweep can start deleting before the last
 * look-up answers (issue 17).
 *
 * A candidate is doomed, for good, when its own rule says delete and every child of it is a
 * candidate that is doomed too: Neon refuses to delete a branch with children, and a child that
 * stays keeps its parent (keepParentsOfKeptChildren). A child that is no candidate, or whose own
 * rule keeps it, settles its parent as kept; a child still unjudged leaves the parent open. This
 * is the same fixpoint keepParentsOfKeptChildren reaches once everything is judged, computed leaves
 * up as the answers land, so a candidate reported here always ends up with `remove` true there.
 *
 * `doomed` is told each such candidate once, a child always before its parent.
 */
export class Finality {
  private readonly byId = new Map<string, Candidate>()
  /** Candidates whose own rule has been applied (their `remove` is their own verdict). */
  private readonly judged = new Set<string>()
  private readonly doomedIds = new Set<string>()
  private readonly childIds = new Map<string, string[]>()

  constructor(
    candidates: readonly Candidate[],
    index: BranchIndex,
    private readonly doomed: (c: Candidate) => void,
  ) {
    for (const c of candidates) this.byId.set(c.branch.id, c)
    for (const b of index.branches) {
      if (!b.parent_id) continue
      this.childIds.set(b.parent_id, [...(this.childIds.get(b.parent_id) ?? []), b.id])
    }
  }

  /** `c`'s own rule has been applied; call once its `remove` and `reason` are set. */
  judgedOwn(c: Candidate): void {
    if (this.judged.has(c.branch.id)) return
    this.judged.add(c.branch.id)
    this.check(c)
  }

  /** Whether `id` was reported doomed. */
  isDoomed(id: string): boolean {
    return this.doomedIds.has(id)
  }

  private check(c: Candidate): void {
    for (let at: Candidate | undefined = c; at && this.becomesDoomed(at);) {
      this.doomedIds.add(at.branch.id)
      this.doomed(at)
      at = at.branch.parent_id ? this.byId.get(at.branch.parent_id) : undefined
    }
  }

  private becomesDoomed(c: Candidate): boolean {
    const id = c.branch.id
    if (this.doomedIds.has(id) || !this.judged.has(id) || !c.remove) return false
    return (this.childIds.get(id) ?? []).every((k) => this.doomedIds.has(k))
  }
}
