import { INPUTS } from '../constants.js'
import { InputError, type ParentPoint } from '../inputs.js'
import type { Branch } from '../neon/types.js'
import { formatDuration } from '../util/duration.js'
import type { ModeRun } from './run.js'
import { escapeControl as shown } from '../util/log-text.js'

/**
 * Refuses a `parent_branch` timestamp that Neon no longer (or never) holds, before any change:
 * the project keeps `history_retention_seconds` of history (GET /projects/{id}; BEHAVIOUR.md,
 * "Limits of a project"), and a branch has no history before it was created. An LSN cannot be
 * placed in time without Neon, so Neon judges it and its refusal is passed on.
 */
export async function checkHistoryWindow(
  run: ModeRun,
  source: Branch,
  point: ParentPoint | undefined,
  text: string,
): Promise<void> {
  if (point?.timestampMs === undefined) return
  const project = await run.deps.neon.getProject(run.project)
  const retention = project.history_retention_seconds
  const now = run.deps.clock.now()
  const retained = retention === undefined ? -Infinity : now - retention * 1000
  const created = Date.parse(source.created_at)
  const start = Number.isFinite(created) ? Math.max(retained, created) : retained
  if (point.timestampMs >= start) return
  const bound =
    start === created
      ? `'${shown(source.name)}' (${source.id}) was created at ${iso(created)} and has no history before that`
      : `project ${run.project} keeps ${formatDuration((retention ?? 0) * 1000)} of history ` +
        `(history_retention_seconds = ${retention})`
  throw new InputError(
    INPUTS.parentBranch,
    `Invalid input '${INPUTS.parentBranch}': '${text}'. The timestamp ${point.timestamp} is outside ` +
      `the history Neon can branch from: ${bound}, so the allowed window is ${iso(start)} to now ` +
      `(${iso(now)}). Choose a time inside it. The retention is set per project: in the Neon console ` +
      `under Settings → Instant restore, or with history_retention_seconds in PATCH /projects/{project_id}.`,
  )
}

function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z')
}
