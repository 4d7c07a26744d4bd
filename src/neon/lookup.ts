import { isBranchId } from '../github/naming.js'
import type { NeonClient } from './client.js'
import { isNotFound } from './errors.js'
import type { Annotation, Branch } from './types.js'

export interface FoundBranch {
  branch: Branch
  annotation?: Annotation
}

/**
 * Finds a branch by id (`br-…`) or exact name. Neon's `search` is a partial match on name or id,
 * so the list is paged through and filtered for an exact match: `preview/pr-1` must never pick up
 * `preview/pr-12`. A `br-…` string that is no branch id is tried as a name as well.
 */
export async function findBranch(
  client: NeonClient,
  projectId: string,
  ref: string,
): Promise<FoundBranch | undefined> {
  if (isBranchId(ref)) {
    try {
      return await client.getBranchAnnotated(projectId, ref)
    } catch (e) {
      if (!isNotFound(e)) throw e
    }
  }
  const { branches, annotations } = await client.listBranches(projectId, ref)
  const branch = branches.find((b) => b.name === ref)
  return branch ? { branch, annotation: annotations[branch.id] } : undefined
}

/**
 * Every branch of a project, loaded with one paged listing, for the modes that need to see the
 * whole tree (children, parents) and must not list the same branches twice.
 */
export class BranchIndex {
  private readonly byId = new Map<string, Branch>()

  private constructor(
    readonly branches: readonly Branch[],
    readonly annotations: Readonly<Record<string, Annotation>>,
  ) {
    for (const b of branches) this.byId.set(b.id, b)
  }

  static async load(client: NeonClient, projectId: string): Promise<BranchIndex> {
    const { branches, annotations } = await client.listBranches(projectId)
    return new BranchIndex(branches, annotations)
  }

  /** By id (`br-…`) or exact name; an id wins when a name happens to equal another branch's id. */
  find(ref: string): FoundBranch | undefined {
    const branch = this.byId.get(ref) ?? this.branches.find((b) => b.name === ref)
    return branch ? { branch, annotation: this.annotations[branch.id] } : undefined
  }

  get(id: string): Branch | undefined {
    return this.byId.get(id)
  }

  children(id: string): Branch[] {
    return this.branches.filter((b) => b.parent_id === id)
  }
}
