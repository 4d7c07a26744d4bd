import type { Inputs, ParentPoint } from '../inputs.js'
import type { Branch } from '../neon/types.js'
import type { BranchInfo } from './types.js'

/** `parent_branch` as the user wrote it (the branch and its `@point`), for messages. */
export function parentText(inputs: Pick<Inputs, 'parentBranch' | 'parentPoint'>): string {
  const p = inputs.parentPoint
  const at = p?.lsn ?? p?.timestamp
  return `${inputs.parentBranch ?? ''}${at !== undefined ? `@${at}` : ''}`
}

/** `schemaOnly` for a branch Neon made with `init_source: schema-only` (no rows of its parent). */
export function schemaOnly(branch: Pick<Branch, 'init_source'>): Pick<BranchInfo, 'schemaOnly'> {
  return branch.init_source === 'schema-only' ? { schemaOnly: true } : {}
}

/**
 * Where a branch starts on its parent, as Neon reports it, and (when `parent_branch` asked for a
 * point) how that point reads in the comment and summary: the point asked, with the other coordinate
 * Neon resolved it to when it reports one.
 */
export function pointInfo(
  branch: Pick<Branch, 'parent_lsn' | 'parent_timestamp'>,
  asked: ParentPoint | undefined,
): Pick<BranchInfo, 'parentLsn' | 'parentTimestamp' | 'pointInTime'> {
  const info: Pick<BranchInfo, 'parentLsn' | 'parentTimestamp' | 'pointInTime'> = {}
  if (branch.parent_lsn) info.parentLsn = branch.parent_lsn
  if (branch.parent_timestamp) info.parentTimestamp = branch.parent_timestamp
  if (asked?.timestamp !== undefined) {
    info.pointInTime = `${asked.timestamp}${branch.parent_lsn ? ` (LSN ${branch.parent_lsn})` : ''}`
  } else if (asked?.lsn !== undefined) {
    info.pointInTime = `LSN ${asked.lsn}${branch.parent_timestamp ? ` (${branch.parent_timestamp})` : ''}`
  }
  return info
}
