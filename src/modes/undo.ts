/**
 * Every delete says how to undo it: Neon keeps a deleted branch for 7 days where it offers branch
 * recovery (BEHAVIOUR.md, "Deleted branches can be recovered"), and `mode: recover` (or reopening
 * the pull request, whose create recovers its branch) brings it back. delete, cleanup, make-room and
 * the ephemeral post step report each deleted branch with until when that is possible.
 */
import type { NeonClient } from '../neon/client.js'
import { recoveryWindows } from '../neon/recovery.js'
import type { DeletedBranchReport, Logger } from './types.js'
import { escapeControl } from '../util/log-text.js'

/** What is said when Neon did not list the branch as recoverable (or was not asked). */
export const UNKNOWN_WINDOW = 'up to 7 days, where Neon offers recovery'

/** "until 2026-12-01T10:00:00Z", or "for up to 7 days, where Neon offers recovery". */
export function recoverableText(r: Pick<DeletedBranchReport, 'recoverableUntil'>): string {
  return r.recoverableUntil ? `until ${r.recoverableUntil}` : `for ${UNKNOWN_WINDOW}`
}

/** One log line: which branch, until when, and how to bring it back. */
export function undoLine(r: DeletedBranchReport): string {
  return (
    `Branch '${escapeControl(r.name)}' (${r.id}) can be recovered ${recoverableText(r)}: run the action with ` +
    `mode: recover and branch_name: ${r.id} (a pull request's branch also comes back when the pull ` +
    `request is reopened).`
  )
}

/**
 * The reports for `deleted` without asking Neon (make-room, a dry run): the window is the
 * documented one.
 */
export function unknownWindows(deleted: readonly { id: string; name: string }[]): DeletedBranchReport[] {
  return deleted.map((b) => ({ name: b.name, id: b.id }))
}

/**
 * After the deletes: one listing with include_deleted (narrowed by the longest prefix the names
 * share) says until when each branch can be recovered, and each is logged with how. A listing that
 * fails costs only the date: the branch is reported with the documented window, and a debug line
 * says why.
 */
export async function reportRecoverable(
  deps: { neon: NeonClient; log: Logger },
  projectId: string,
  deleted: readonly { id: string; name: string }[],
): Promise<DeletedBranchReport[]> {
  if (deleted.length === 0) return []
  let windows = new Map<string, { recoverable_until: string }>()
  try {
    const prefix = commonPrefix(deleted.map((b) => b.name))
    windows = await recoveryWindows(
      deps.neon,
      projectId,
      new Set(deleted.map((b) => b.id)),
      prefix === '' ? undefined : prefix,
    )
  } catch (e) {
    deps.log.debug(
      `Could not list the deleted branches to learn until when they can be recovered: ${e instanceof Error ? e.message : String(e)}`,
    )
  }
  const reports = deleted.map((b): DeletedBranchReport => {
    const until = windows.get(b.id)?.recoverable_until
    return { name: b.name, id: b.id, ...(until ? { recoverableUntil: until } : {}) }
  })
  for (const r of reports) deps.log.info(undoLine(r))
  return reports
}

/** The `recoverable_until` output: JSON, name → RFC 3339 time, or null where Neon gave none. */
export function recoverableUntilOutput(reports: readonly DeletedBranchReport[]): string {
  const out: Record<string, string | null> = {}
  for (const r of reports) out[r.name] = r.recoverableUntil ?? null
  return JSON.stringify(out)
}

function commonPrefix(names: readonly string[]): string {
  let prefix = names[0] ?? ''
  for (const n of names) {
    let i = 0
    while (i < prefix.length && i < n.length && prefix[i] === n[i]) i++
    prefix = prefix.slice(0, i)
  }
  // Not half of a surrogate pair: the search would then match nothing.
  const last = prefix.charCodeAt(prefix.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? prefix.slice(0, -1) : prefix
}
