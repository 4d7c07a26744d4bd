/**
 * Deleted branches, as Neon lists them for recovery. Neon keeps a deleted branch for 7 days and can
 * bring it back with its endpoints, hosts and passwords (BEHAVIOUR.md, "Deleted branches can be
 * recovered"; Neon's API description: `include_deleted` on listProjectBranches, BranchRecoveryInfo,
 * recoverProjectBranch). The feature is in preview and not offered to every account: where it is
 * not, the listing simply shows no deleted branch.
 */
import type * as Sdk from '@neondatabase/api-client'
import type { NeonClient } from './client.js'
import type { Annotation, Branch, Plain } from './types.js'

/**
 * Neon's BranchRecoveryInfo (`deleted_at`, `recoverable_until`, `deletion_method`: `user` or `ttl`):
 * on a branch only when a listing with include_deleted shows a deleted one.
 */
export type BranchRecoveryInfo = Plain<Sdk.BranchRecoveryInfo>

/** A deleted branch as a listing with include_deleted shows it. */
export type DeletedBranch = Branch & { recovery: BranchRecoveryInfo }

export interface FoundDeleted {
  branch: DeletedBranch
  annotation?: Annotation
}

/** What `recovery` says about a listed branch; undefined for a live one (or a malformed field). */
export function recoveryOf(b: Branch): BranchRecoveryInfo | undefined {
  // Checked, not trusted: the two times are what a report and a choice are made from.
  const r = b.recovery as Partial<BranchRecoveryInfo> | null | undefined
  if (typeof r !== 'object' || r === null) return undefined
  return typeof r.deleted_at === 'string' && typeof r.recoverable_until === 'string'
    ? (r as BranchRecoveryInfo)
    : undefined
}

/**
 * True for a branch a listing marks as deleted. Every look-up for live branches drops these: a
 * listing is asked for deleted branches only where they are wanted, but one that carried them
 * anyway must never have a deleted branch adopted, judged or deleted again.
 */
export function isDeleted(b: Branch): b is DeletedBranch {
  return b.recovery != null
}

/** Most recently deleted first. */
export function byDeletion(a: FoundDeleted, b: FoundDeleted): number {
  return Date.parse(b.branch.recovery.deleted_at) - Date.parse(a.branch.recovery.deleted_at)
}

/**
 * Until when each of `ids` (branches just deleted) can be recovered, from one paged listing with
 * include_deleted (`search` narrows it: a name, or a prefix every one of them shares). A branch the
 * listing does not show as deleted is left out: Neon does not offer recovery here, or no longer.
 */
export async function recoveryWindows(
  client: NeonClient,
  projectId: string,
  ids: ReadonlySet<string>,
  search?: string,
): Promise<Map<string, BranchRecoveryInfo>> {
  const out = new Map<string, BranchRecoveryInfo>()
  if (ids.size === 0) return out
  const { branches } = await client.listBranches(projectId, search, undefined, { includeDeleted: true })
  for (const b of branches) {
    const info = recoveryOf(b)
    if (info && ids.has(b.id)) out.set(b.id, info)
  }
  return out
}

/**
 * Every recoverable branch of the project (one paged listing with include_deleted), for the
 * message of a recover that finds nothing by the name it was given.
 */
export async function listRecoverable(client: NeonClient, projectId: string): Promise<FoundDeleted[]> {
  const { branches, annotations } = await client.listBranches(projectId, undefined, undefined, {
    includeDeleted: true,
  })
  return branches
    .filter((b): b is DeletedBranch => recoveryOf(b) !== undefined)
    .map((branch) => ({ branch, annotation: annotations[branch.id] }))
}
