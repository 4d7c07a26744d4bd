// Deleted branches and their recovery: what `GET /branches?include_deleted=true` adds to the list,
// and `POST /branches/{branch_id}/recover`.
//
// Sources: Neon's current API description (npm @neondatabase/api-client,
// public-v2-for-users.gen.yaml): listProjectBranches' `include_deleted` ("return recoverable deleted
// branches too (soft-deleted within the recovery window)"), BranchRecoveryInfo (`deleted_at`,
// `recoverable_until`, `deletion_method`: "Only present when listing deleted branches with
// include_deleted=true"), recoverProjectBranch and BranchRecoverResponse (`{branch, endpoints}`);
// and BEHAVIOUR.md, "Deleted branches can be recovered". The deletion itself (soft, 7 days, the
// switch for projects without recovery) is World.softDelete in state.ts.

import {
  ApiError,
  assertBranchRoom,
  assertUnlocked,
  param,
  requireProject,
  type Ctx,
  type Route,
} from '../router.js'
import { branchJson, endpointJson, iso } from '../serialize.js'
import type { SimBranch, World } from '../state.js'

/** The live branches and, after them, the recoverable deleted ones (include_deleted=true). */
export function listedWithDeleted(w: World, projectId: string): SimBranch[] {
  return [...w.liveBranches(projectId), ...w.recoverableBranches(projectId)]
}

/** A branch as the list shows it: a deleted one carries `recovery` (BranchRecoveryInfo). */
export function listedBranchJson(w: World, b: SimBranch): Record<string, unknown> {
  const json = branchJson(w, b)
  const until = w.recoverableUntil(b)
  if (b.deletedAt === undefined || until === undefined) return json
  return {
    ...json,
    recovery: {
      deleted_at: iso(b.deletedAt),
      recoverable_until: iso(until),
      deletion_method: b.deletionMethod ?? 'user',
    },
  }
}

/**
 * Recovers a soft-deleted branch. Every refusal's status and message is this simulator's choice:
 * Neon documents none of them (BEHAVIOUR.md: recover "refused with a 4xx (which one is not
 * documented)"); each says which rule it applies and where the rule comes from.
 */
function recoverBranch(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const id = param(ctx, 'branch_id')
  const b = w.branches.get(id)
  if (project.noRecovery) {
    // The switch: a project that is not offered the preview (BEHAVIOUR.md).
    const status = project.noRecovery.status
    throw new ApiError(
      status,
      status === 404 ? 'branch not found' : 'branch recovery is not available for this project',
    )
  }
  if (b && b.projectId === project.id && b.deletedAt === undefined) {
    // "The branch must have been soft deleted" (recoverProjectBranch).
    throw new ApiError(400, `branch ${id} is not deleted; only a deleted branch can be recovered`)
  }
  // "… and not yet permanently deleted": past its window, hard-deleted, or never there.
  if (!b || b.projectId !== project.id || b.purged) throw new ApiError(404, 'branch not found')
  // Inferred, no Neon document states it: branch names are unique within a project (BEHAVIOUR.md,
  // Branches), and a create of a taken name is refused with 409 `branch already exists` (BEHAVIOUR.md,
  // "Locks, limits and errors"); a recovery that would make a second live branch of the name is
  // refused the same way.
  if (w.branchByName(project.id, b.name))
    throw new ApiError(409, `branch already exists; branch_name:"${b.name}"`)
  // Inferred: a branch's data lives on its parent's timeline (a child starts at its parent's LSN:
  // BEHAVIOUR.md, "Point in time"), and a live branch with a deleted parent exists nowhere else in
  // Neon's model (a branch with children cannot be deleted: BEHAVIOUR.md, Branches).
  if (b.parentId !== undefined && !w.liveBranch(project.id, b.parentId))
    throw new ApiError(
      400,
      `cannot recover branch ${id}: its parent branch ${b.parentId} is deleted; recover the parent first`,
    )
  // Inferred: a recovered branch is a live branch, and every live branch counts against the limit
  // (BEHAVIOUR.md, "Limits of a project"; router.ts assertBranchRoom). Then the project lock, as for
  // every change (BEHAVIOUR.md, "423 Locked while earlier operations … are still running").
  assertBranchRoom(ctx, project)
  assertUnlocked(ctx, project)
  const endpoints = w.recover(b)
  // BranchRecoverResponse: the branch and its endpoints, and no operations (the schema has none).
  return {
    status: 200,
    body: { branch: branchJson(w, b), endpoints: endpoints.map((e) => endpointJson(w, e)) },
  }
}

export const recoveryRoutes: Route[] = [
  { method: 'POST', path: '/projects/{project_id}/branches/{branch_id}/recover', handler: recoverBranch },
]
