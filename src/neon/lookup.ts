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
      return { branch: await client.getBranch(projectId, ref) }
    } catch (e) {
      if (!isNotFound(e)) throw e
    }
  }
  const { branches, annotations } = await client.listBranches(projectId, ref)
  const branch = branches.find((b) => b.name === ref)
  return branch ? { branch, annotation: annotations[branch.id] } : undefined
}
