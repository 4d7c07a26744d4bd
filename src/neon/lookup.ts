import { isBranchId } from '../github/naming.js'
import type { NeonClient } from './client.js'
import { isNotFound, NeonApiError } from './errors.js'
import { byDeletion, isDeleted, recoveryOf, type DeletedBranch, type FoundDeleted } from './recovery.js'
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
  const branch = branches.find((b) => b.name === ref && !isDeleted(b))
  return branch ? { branch, annotation: annotations[branch.id] } : undefined
}

/** A look-up that also asked for the deleted branches of the name. */
export interface LookupWithDeleted {
  /** The live branch of that id or exact name, as findBranch finds it. */
  live?: FoundBranch
  /** Recoverable deleted branches of that exact name (or, for a `br-…` ref, id), most recently deleted first. */
  deleted: FoundDeleted[]
  /** Set when Neon refused `include_deleted` outright: its answer (then the name was looked up without). */
  deletedRefused?: string
}

/**
 * findBranch's look-up with `include_deleted=true`: the same request (and pages) answers both "is
 * there a live branch of this name?" and "which deleted ones could be recovered?". Where Neon does
 * not offer recovery, `deleted` is empty. A live branch found by id needs no listing.
 */
export async function findBranchWithDeleted(
  client: NeonClient,
  projectId: string,
  ref: string,
): Promise<LookupWithDeleted> {
  if (isBranchId(ref)) {
    try {
      // With its annotation: whose the branch is lives there (modes/ownership.ts).
      return { live: await client.getBranchAnnotated(projectId, ref), deleted: [] }
    } catch (e) {
      if (!isNotFound(e)) throw e
    }
  }
  let listed: Awaited<ReturnType<NeonClient['listBranches']>>
  try {
    listed = await client.listBranches(projectId, ref, undefined, { includeDeleted: true })
  } catch (e) {
    // Where recovery is not offered Neon is expected to list no deleted branch (BEHAVIOUR.md,
    // "Deleted branches can be recovered"); should it refuse the parameter instead (400, 403 or
    // 422), the look-up asks again without it rather than fail every create.
    if (!(e instanceof NeonApiError) || ![400, 403, 422].includes(e.status)) throw e
    const live = await findBranch(client, projectId, ref)
    return { ...(live ? { live } : {}), deleted: [], deletedRefused: e.message }
  }
  const { branches, annotations } = listed
  const live = branches.find((b) => b.name === ref && !isDeleted(b))
  const deleted = branches
    .filter((b): b is DeletedBranch => recoveryOf(b) !== undefined && (b.name === ref || b.id === ref))
    .map((branch) => ({ branch, annotation: annotations[branch.id] }))
    .sort(byDeletion)
  return { ...(live ? { live: { branch: live, annotation: annotations[live.id] } } : {}), deleted }
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

  /** The live branches only: include_deleted is never sent, and a deleted entry is dropped anyway. */
  static async load(client: NeonClient, projectId: string): Promise<BranchIndex> {
    const { branches, annotations } = await client.listBranches(projectId)
    return new BranchIndex(
      branches.filter((b) => !isDeleted(b)),
      annotations,
    )
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
