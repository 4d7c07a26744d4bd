import type { Inputs } from '../inputs.js'
import { resolveBranchName } from '../github/branch-target.js'
import { BranchIndex } from '../neon/lookup.js'
import { usageField } from '../neon/usage.js'
import { refuseRestricted, refuseUnsafeTarget } from './guards.js'
import { ownership } from './ownership.js'
import { ModeRun } from './run.js'
import { escapeControl as shown } from '../util/log-text.js'
import type { DeletedBranchReport, ModeDeps, ModeResult } from './types.js'
import { reportRecoverable } from './undo.js'

/**
 * delete: remove the pull request's branch when the PR closes. A branch that is already gone (a
 * re-run, Neon's own expiry, another run) is success with `deleted=false`; the default branch, a
 * protected branch and a branch with children are refused before anything is changed. A deleted
 * branch is reported with until when it can be recovered (undo.ts).
 */
export async function deleteMode(deps: ModeDeps, inputs: Inputs): Promise<ModeResult> {
  const name = resolveBranchName(inputs, deps.context)
  const run = new ModeRun(deps, inputs)
  const { neon, log } = deps
  const gone = (why: string): ModeResult => {
    log.notice(`Branch '${name}' ${why}; nothing to delete.`)
    return {
      mode: 'delete',
      branch: { id: '', name, expiresAt: null },
      deleted: false,
      changes: [],
      timings: run.timings(),
    }
  }
  try {
    const index = await BranchIndex.load(neon, run.project)
    const found = index.find(name)
    if (!found)
      return gone(`does not exist in project ${run.project} (already deleted, expired, or never created)`)
    const branch = found.branch
    refuseUnsafeTarget(branch, 'delete it')
    const owner = ownership(found.annotation, deps.context)
    if (owner.kind === 'foreign') {
      // Not ours to delete, and not a failure of this repository's workflow: its own delete goes on.
      log.warning(
        `Branch '${branch.name}' (${branch.id}) is annotated for repository ${owner.repo} (${owner.key}), ` +
          `not ${deps.context.repository}: it is that repository's branch, and it was left alone ` +
          `(deleted=false). If this repository has a branch of its own under another name, set ` +
          `branch_name to it.`,
      )
      return {
        mode: 'delete',
        // Its id is not shown (nor linked) in this repository's comment: it is not this one's branch.
        branch: { id: '', name, expiresAt: null },
        deleted: false,
        notDeleted: `it is annotated for repository ${owner.repo}, not this one`,
        changes: [],
        timings: run.timings(),
      }
    }
    refuseRestricted(branch, 'delete')
    const children = index.children(branch.id)
    if (children.length > 0) {
      throw new Error(
        `'${shown(branch.name)}' (${branch.id}) has child branches: ${children.map((c) => `'${shown(c.name)}' (${c.id})`).join(', ')}. ` +
          `Neon cannot delete a branch with children; delete them first. Nothing was deleted.`,
      )
    }
    const result = (deleted: boolean, recoverable?: DeletedBranchReport[]): ModeResult => ({
      mode: 'delete',
      branch: { id: branch.id, name: branch.name, parentId: branch.parent_id, expiresAt: null },
      deleted,
      // What the preview used: the figures of the listing read just before the delete.
      ...usageField(branch),
      ...(recoverable ? { recoverable } : {}),
      changes: run.changes,
      timings: run.timings(),
    })
    if (inputs.dryRun) {
      log.notice(`Dry run: would delete branch '${branch.name}' (${branch.id}). Nothing was changed.`)
      run.changed(`would delete branch '${branch.name}' (${branch.id})`)
      return result(false)
    }

    const res = await neon.deleteBranch(run.project, branch.id)
    if (res === null) return gone('was deleted by someone else a moment ago')
    run.changed(`deleted branch '${branch.name}' (${branch.id})`)
    log.info(`Deleting '${branch.name}'; waiting for ${res.operations.length} operations`)
    await run.waitOps(res.operations)
    // How to undo it: until when Neon keeps it (one listing with include_deleted).
    return result(true, await reportRecoverable(deps, run.project, [branch]))
  } catch (e) {
    throw run.fail(`delete of branch '${name}'`, e)
  }
}
