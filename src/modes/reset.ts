import { INPUTS } from '../constants.js'
import { InputError, PARENT, SELF, type Inputs, type ParentPoint } from '../inputs.js'
import { resolveBranchName } from '../github/branch-target.js'
import { BranchIndex } from '../neon/lookup.js'
import { usageField } from '../neon/usage.js'
import { describePoint } from '../neon/point-in-time.js'
import type { Branch, RestoreBranchRequest } from '../neon/types.js'
import { countRules } from '../masking/rules.js'
import {
  awaitNewBranchMasking,
  looksAnonymized,
  readAnonymizedStatus,
  recreateAnonymized,
  rulesForRecreation,
} from './anonymized.js'
import {
  madeFromCreate,
  passwordResetText,
  prepareConnection,
  prepareWithExpiry,
  servicesOf,
} from './connect.js'
import { createRequest } from './create.js'
import { refuseRestricted, refuseUnsafeTarget, restrictionOf } from './guards.js'
import { foreignBranchError, ownership } from './ownership.js'
import { checkHistoryWindow } from './history-window.js'
import { parentText, pointInfo, schemaOnly } from './point.js'
import { ModeRun } from './run.js'
import type { ModeDeps, ModeResult } from './types.js'
import { escapeControl as shown } from '../util/log-text.js'

/**
 * reset: bring the pull request's branch back to its parent's current state (or `parent_branch`'s,
 * at the point in time it names; `^self@…` is the branch's own past) with Neon's restore, which
 * keeps the branch id, the compute's host and the role passwords, so the outputs are the same as
 * create's and the URLs in use keep working.
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
    // Before anything else that could change it (an anonymized branch is re-created below).
    const owner = ownership(found.annotation, deps.context)
    if (owner.kind === 'foreign') throw foreignBranchError(branch, owner, deps.context, run.project)
    // Neon cannot reset an anonymized branch: it is re-created instead. Whether it is one is asked
    // only when something suggests it (or rules are given): a plain reset costs no extra request.
    const status = inputs.masking || looksAnonymized(found) ? await readAnonymizedStatus(run, branch) : null
    if (status) return await resetAnonymized(run, index, branch, status.state === 'anonymized')
    if (inputs.masking) throw maskingOnPlainBranch(branch, inputs.masking.source)
    // Anything else Neon restricts is refused with its reason, before any request.
    refuseRestricted(branch, 'reset')
    const source = resolveSource(run, index, branch)
    const self = source.id === branch.id
    const preserve = inputs.preserveUnderName
    refuseUnresettable(inputs, index, branch, self)

    await checkHistoryWindow(run, source, inputs.parentPoint, parentText(inputs))

    const to = describePoint(
      self ? 'its own state' : `'${source.name}' (${source.id})`,
      inputs.parentPoint ?? {},
    )
    const line =
      `reset '${branch.name}' (${branch.id}) to ${to}` +
      (preserve ? `, keeping its previous state as '${preserve}'` : '') +
      passwordResetText(inputs)
    if (inputs.dryRun) {
      log.notice(`Dry run: would ${line}. Nothing was changed.`)
      run.changed(`would ${line}`)
      return {
        mode: 'reset',
        branch: info(run, branch, source, branch.expires_at ?? null),
        ...usageField(branch),
        changes: run.changes,
        timings: run.timings(),
      }
    }

    const request = restoreRequest(source.id, inputs.parentPoint, preserve)
    const res = await neon.restoreBranch(run.project, branch.id, request)
    run.changed(line)
    log.info(`Resetting '${branch.name}' to ${to}; waiting for ${res.operations.length} operations`)
    await run.waitOps(res.operations)

    // Restore restarts the compute and re-seeds roles from the source: check both again.
    const [prepared, expiresAt] = await prepareWithExpiry(run, { ...res.branch, current_state: 'ready' })
    return {
      mode: 'reset',
      branch: info(run, res.branch, source, expiresAt),
      created: false,
      connection: prepared.connection,
      ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
      ...servicesOf(prepared),
      ...usageField(prepared.branch),
      changes: run.changes,
      timings: run.timings(prepared.readyMs),
    }
  } catch (e) {
    throw run.fail(`reset of branch '${name}'`, e)
  }
}

/** Rules given for a branch that is not anonymized: a reset would hand out its parent's data unmasked. */
function maskingOnPlainBranch(branch: Branch, source: string): Error {
  return new Error(
    `branch '${branch.name}' (${branch.id}) is not an anonymized branch, and ${source} asks ` +
      `for masked data: a reset would give it its parent's data, unmasked. Nothing was changed. Delete it ` +
      `(mode: delete) and run create for an anonymized branch, or drop the rules.`,
  )
}

/**
 * What makes the branch impossible to reset as asked, refused before any change: no parent (and
 * not its own past), its own past or children without `preserve_under_name`, a name to preserve
 * under that is taken.
 */
function refuseUnresettable(inputs: Inputs, index: BranchIndex, branch: Branch, self: boolean): void {
  // A root branch has no parent to reset to, but it has a past of its own.
  if (!branch.parent_id && !self) {
    const kind = branch.init_source === 'schema-only' ? 'a schema-only branch' : 'a root branch'
    throw new Error(`'${shown(branch.name)}' (${branch.id}) is ${kind} with no parent; it cannot be reset`)
  }
  const children = index.children(branch.id)
  const preserve = inputs.preserveUnderName
  if (self && !preserve) {
    // Reached when parent_branch names the branch itself (^self is refused earlier, by getInputs).
    throw new InputError(
      INPUTS.preserveUnderName,
      `Input '${INPUTS.preserveUnderName}' is required: parent_branch '${parentText(inputs)}' is the ` +
        `branch itself, and a branch restored to its own past keeps its current state as a branch of ` +
        `that name (Neon requires it).`,
    )
  }
  if (children.length > 0 && !preserve) {
    throw new Error(
      `'${shown(branch.name)}' has child branches (${children.map((c) => `'${shown(c.name)}'`).join(', ')}); ` +
        `set 'preserve_under_name' to keep its current state under that name (Neon moves the children there)`,
    )
  }
  if (preserve && index.find(preserve)) {
    throw new Error(`preserve_under_name '${preserve}' is already the name of a branch; choose another`)
  }
}
/** Neon's restore request: from `sourceId` at the point given, keeping the old state when asked. */
function restoreRequest(
  sourceId: string,
  point: ParentPoint | undefined,
  preserve: string | undefined,
): RestoreBranchRequest {
  return {
    source_branch_id: sourceId,
    ...(point?.lsn !== undefined ? { source_lsn: point.lsn } : {}),
    ...(point?.timestamp !== undefined ? { source_timestamp: point.timestamp } : {}),
    ...(preserve ? { preserve_under_name: preserve } : {}),
  }
}

/**
 * `parent_branch` when given (it must exist; `^self` is the branch, `^parent` its parent), else the
 * branch's own parent. The branch itself is a source only at a point in its past.
 */
function resolveSource(run: ModeRun, index: BranchIndex, branch: Branch): Branch {
  const ref = run.inputs.parentBranch
  if (ref === SELF) return branch
  if (ref && ref !== PARENT) {
    const found = index.find(ref)
    if (!found) throw new Error(`parent_branch '${ref}' does not exist in project ${run.project}`)
    if (found.branch.id === branch.id && !run.inputs.parentPoint) {
      throw new Error(
        `parent_branch '${ref}' is the branch itself; to restore it to its own past, give a point, ` +
          `e.g. ^self@2026-11-30T09:00:00Z`,
      )
    }
    return found.branch
  }
  if (!branch.parent_id) {
    const kind = branch.init_source === 'schema-only' ? 'a schema-only branch' : 'a root branch'
    throw new Error(`'${shown(branch.name)}' (${branch.id}) is ${kind} with no parent; it cannot be reset`)
  }
  const parent = index.get(branch.parent_id)
  if (!parent) throw new Error(`the parent ${branch.parent_id} of '${shown(branch.name)}' no longer exists`)
  return parent
}

/**
 * reset of an anonymized branch: re-created from its parent (or `parent_branch`) with the
 * workflow's rules, or its own when the workflow gives none, and masked afresh; with
 * `preserve_under_name` the old branch is renamed instead of deleted. Nothing is handed out before
 * Neon says `anonymized`, as for create.
 */
async function resetAnonymized(
  run: ModeRun,
  index: BranchIndex,
  branch: Branch,
  masked: boolean,
): Promise<ModeResult> {
  const { inputs, deps } = run
  const reason = restrictionOf(branch, 'reset')?.reason
  if (inputs.parentBranch === SELF) {
    throw new Error(
      `'${branch.name}' (${branch.id}) is an anonymized branch, which Neon cannot restore, to its own past or ` +
        `otherwise; reset re-creates it from a parent instead (parent_branch: ^parent, or a branch name)`,
    )
  }
  // Re-creating deletes it (or, with preserve_under_name, renames it): what Neon forbids is refused first.
  if (!inputs.preserveUnderName) refuseRestricted(branch, 'delete')
  const source = resolveSource(run, index, branch)
  const children = index.children(branch.id)
  if (children.length > 0) {
    throw new Error(
      `'${branch.name}' (${branch.id}) is an anonymized branch, which reset re-creates (Neon cannot reset it), ` +
        `but it has child branches (${children.map((c) => `'${c.name}'`).join(', ')}), so it cannot be deleted. ` +
        `Nothing was changed.`,
    )
  }
  const preserve = inputs.preserveUnderName
  if (preserve && index.find(preserve)) {
    throw new Error(`preserve_under_name '${preserve}' is already the name of a branch; choose another`)
  }
  await checkHistoryWindow(run, source, inputs.parentPoint, parentText(inputs))
  const { rules, source: rulesFrom } = await rulesForRecreation(run, { branch, masking: inputs.masking })
  const to = describePoint(`'${source.name}' (${source.id})`, inputs.parentPoint ?? {})
  const line =
    `re-create anonymized branch '${branch.name}' (${branch.id}) from ${to} with ${countRules(rules.length)} ` +
    `(${rulesFrom})${preserve ? `, keeping the old one as '${preserve}'` : ''}: Neon cannot reset an anonymized ` +
    `branch, so its id, host and password change${passwordResetText(inputs)}`
  if (inputs.dryRun) {
    deps.log.notice(`Dry run: would ${line}. Nothing was changed.`)
    run.changed(`would ${line}`)
    return {
      mode: 'reset',
      branch: info(run, branch, source, branch.expires_at ?? null),
      changes: run.changes,
      timings: run.timings(),
    }
  }
  const { res } = await recreateAnonymized(
    run,
    {
      branch,
      source,
      body: createRequest(run, branch.name, source.id),
      masking: inputs.masking,
      reason,
      masked,
      ...(preserve ? { preserveAs: preserve } : {}),
    },
    rules,
  )
  const made = madeFromCreate(res, inputs.role)
  const prepared = await prepareConnection(run, made.branch, made.known)
  const anonymization = await awaitNewBranchMasking(run, made.branch, rules.length)
  deps.log.notice(
    `Branch '${made.branch.name}' was re-created as ${made.branch.id} (it was ${branch.id}): its host and ` +
      `password changed too, so update anything that kept the old connection string.`,
  )
  return {
    mode: 'reset',
    branch: info(run, made.branch, source, made.branch.expires_at ?? null),
    created: true,
    recreated: { previousId: branch.id },
    connection: prepared.connection,
    ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
    ...servicesOf(prepared),
    ...usageField(prepared.branch),
    anonymization,
    changes: run.changes,
    timings: run.timings(prepared.readyMs),
  }
}

function info(
  run: ModeRun,
  branch: Branch,
  source: Branch,
  expiresAt: string | null,
): NonNullable<ModeResult['branch']> {
  return {
    id: branch.id,
    name: branch.name,
    parentId: source.id,
    parentName: source.id === branch.id ? `${source.name} (its own past)` : source.name,
    // The point asked; Neon's parent_lsn / parent_timestamp describe the branch's new parent.
    ...pointInfo(source.id === branch.id ? {} : branch, run.inputs.parentPoint),
    expiresAt,
    ...schemaOnly(branch),
  }
}
