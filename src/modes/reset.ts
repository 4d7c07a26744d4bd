import type { Inputs } from '../inputs.js'
import { resolveBranchName } from '../github/branch-target.js'
import { BranchIndex } from '../neon/lookup.js'
import type { Branch } from '../neon/types.js'
import { prepareConnection, refreshExpiry } from './connect.js'
import { refuseUnsafeTarget } from './guards.js'
import { ModeRun } from './run.js'
import type { ModeDeps, ModeResult } from './types.js'

/**
 * reset: bring the pull request's branch back to its parent's current state (or `parent_branch`'s)
 * with Neon's restore, which keeps the branch id, the compute's host and the role passwords, so
 * the outputs are the same as create's and the URLs in use keep working.
 */
export async function resetMode(deps: ModeDeps, inputs: Inputs): Promise<ModeResult> {
  const name = resolveBranchName(inputs, deps.context)
  const run = new ModeRun(deps, inputs)
  const { neon, log } = deps
  try {
    const index = await BranchIndex.load(neon, run.project)
    const found = index.find(name)
    if (!found) {
      throw new Error(
        `branch '${name}' does not exist in project ${run.project}; reset needs an existing branch ` +
          `(run mode 'create' first)`,
      )
    }
    const branch = found.branch
    refuseUnsafeTarget(branch, 'reset it')
    if (!branch.parent_id) {
      const kind = branch.init_source === 'schema-only' ? 'a schema-only branch' : 'a root branch'
      throw new Error(`'${branch.name}' (${branch.id}) is ${kind} with no parent; it cannot be reset`)
    }
    const source = resolveSource(run, index, branch)
    const children = index.children(branch.id)
    const preserve = inputs.preserveUnderName
    if (children.length > 0 && !preserve) {
      throw new Error(
        `'${branch.name}' has child branches (${children.map((c) => `'${c.name}'`).join(', ')}); ` +
          `set 'preserve_under_name' to keep its current state under that name (Neon moves the children there)`,
      )
    }
    if (preserve && index.find(preserve)) {
      throw new Error(`preserve_under_name '${preserve}' is already the name of a branch; choose another`)
    }

    const line =
      `reset '${branch.name}' (${branch.id}) to '${source.name}' (${source.id})` +
      (preserve ? `, keeping its previous state as '${preserve}'` : '')
    if (inputs.dryRun) {
      log.notice(`Dry run: would ${line}. Nothing was changed.`)
      run.changed(`would ${line}`)
      return {
        mode: 'reset',
        branch: info(branch, source, branch.expires_at ?? null),
        changes: run.changes,
        timings: run.timings(),
      }
    }

    const res = await neon.restoreBranch(run.project, branch.id, {
      source_branch_id: source.id,
      ...(preserve ? { preserve_under_name: preserve } : {}),
    })
    run.changed(line)
    log.info(
      `Resetting '${branch.name}' to '${source.name}'; waiting for ${res.operations.length} operations`,
    )
    await run.waitOps(res.operations)

    // Restore restarts the compute and re-seeds roles from the source: check both again.
    const prepared = await prepareConnection(run, { ...res.branch, current_state: 'ready' })
    const expiresAt = await refreshExpiry(run, res.branch)
    return {
      mode: 'reset',
      branch: info(res.branch, source, expiresAt),
      created: false,
      connection: prepared.connection,
      changes: run.changes,
      timings: run.timings(prepared.readyMs),
    }
  } catch (e) {
    throw run.fail(`reset of branch '${name}'`, e)
  }
}

/** `parent_branch` when given (it must exist), else the branch's own parent. */
function resolveSource(run: ModeRun, index: BranchIndex, branch: Branch): Branch {
  const ref = run.inputs.parentBranch
  if (ref) {
    const found = index.find(ref)
    if (!found) throw new Error(`parent_branch '${ref}' does not exist in project ${run.project}`)
    if (found.branch.id === branch.id) throw new Error(`parent_branch '${ref}' is the branch itself`)
    return found.branch
  }
  const parent = index.get(branch.parent_id ?? '')
  if (!parent) throw new Error(`the parent ${branch.parent_id} of '${branch.name}' no longer exists`)
  return parent
}

function info(branch: Branch, source: Branch, expiresAt: string | null): NonNullable<ModeResult['branch']> {
  return { id: branch.id, name: branch.name, parentId: source.id, parentName: source.name, expiresAt }
}
