import { expiryTimestamp, type Inputs } from '../inputs.js'
import { resolveBranchName } from '../github/branch-target.js'
import { isConflict, withContext } from '../neon/errors.js'
import { findBranch } from '../neon/lookup.js'
import type { Branch, CreateBranchRequest } from '../neon/types.js'
import { BranchLimit } from './branch-limit.js'
import { prepareConnection, refreshExpiry, type Known } from './connect.js'
import { refuseUnsafeTarget } from './guards.js'
import { ModeRun } from './run.js'
import type { ModeDeps, ModeResult } from './types.js'

/**
 * create: make the pull request's branch, or adopt it when it exists (a re-run, the next push, a
 * concurrent run), then make sure it is ready to connect to: a usable read_write endpoint, the
 * role and the database, all of Neon's operations finished, and the connection strings built.
 */
export async function createMode(deps: ModeDeps, inputs: Inputs): Promise<ModeResult> {
  const { neon, log } = deps
  const name = resolveBranchName(inputs, deps.context)
  const run = new ModeRun(deps, inputs)
  // The project's branch limit: on_branch_limit decides what a 422 for it does.
  const limits = new BranchLimit(run)
  try {
    let found = await findBranch(neon, run.project, name)
    if (inputs.dryRun) return await dryRun(run, name, found?.branch, limits)

    let created = false
    let branch: Branch
    let parentName: string | undefined
    let known: Known = {}
    if (found) {
      branch = found.branch
      refuseUnsafeTarget(branch, 'use it as a preview branch')
      warnIfOtherRepository(deps, found.annotation?.value)
      log.info(`Adopting existing branch '${branch.name}' (${branch.id})`)
    } else {
      const parent = await resolveParent(run)
      parentName = parent?.name
      try {
        const res = await limits.create(() =>
          neon.createBranch(run.project, createRequest(run, name, parent?.id)),
        )
        created = true
        branch = res.branch
        run.changed(`created branch '${branch.name}' (${branch.id})`)
        log.info(
          `Created branch '${branch.name}' (${branch.id}); waiting for ${res.operations.length} operations`,
        )
        let endpoint = res.endpoints.find((e) => e.type === 'read_write')
        await run.waitOps(res.operations)
        // Its operations are done, so the branch is ready and the compute started: no need to ask.
        branch = { ...branch, current_state: 'ready' }
        if (
          endpoint &&
          res.operations.some((o) => o.action === 'start_compute' && o.endpoint_id === endpoint?.id)
        ) {
          endpoint = { ...endpoint, current_state: 'active' }
        }
        known = {
          endpoint,
          roles: res.roles.map((r) => r.name),
          databases: res.databases.map((d) => d.name),
          password: res.connection_uris?.find((c) => c.connection_parameters.role === inputs.role)
            ?.connection_parameters.password,
        }
      } catch (e) {
        if (!isConflict(e) || created) throw e
        // Another run (or our own first attempt, whose answer was lost) created it: adopt it.
        log.info(`Branch '${name}' was created concurrently by another run; adopting it`)
        found = await findBranch(neon, run.project, name)
        if (!found) throw withContext(`Neon answered 409 for '${name}' but no such branch can be found`, e)
        branch = found.branch
      }
    }

    const prepared = await prepareConnection(run, branch, known)
    const expiresAt = created ? (branch.expires_at ?? null) : await refreshExpiry(run, prepared.branch)
    return {
      mode: 'create',
      branch: {
        id: branch.id,
        name: branch.name,
        parentId: branch.parent_id,
        ...(parentName ? { parentName } : {}),
        expiresAt,
      },
      created,
      connection: prepared.connection,
      ...limits.result(),
      changes: run.changes,
      timings: run.timings(prepared.readyMs),
    }
  } catch (e) {
    throw run.fail(`create of branch '${name}'`, e)
  }
}

function createRequest(run: ModeRun, name: string, parentId: string | undefined): CreateBranchRequest {
  const { inputs } = run
  const expiresAt = expiryTimestamp(inputs.expiry, new Date(run.deps.clock.now()))
  return {
    branch: {
      name,
      ...(parentId ? { parent_id: parentId } : {}),
      ...(inputs.branchType === 'schema-only' ? { init_source: 'schema-only' as const } : {}),
      ...(expiresAt ? { expires_at: expiresAt } : {}),
    },
    endpoints: [
      {
        type: 'read_write',
        ...(inputs.suspendTimeout !== 0 ? { suspend_timeout_seconds: inputs.suspendTimeout } : {}),
      },
    ],
    annotation_value: annotationsFor(run.deps),
  }
}

/** Says what create would do, after the same checks, and changes nothing. */
async function dryRun(
  run: ModeRun,
  name: string,
  existing: Branch | undefined,
  limits: BranchLimit,
): Promise<ModeResult> {
  let line: string
  let room: string[] = []
  if (existing) {
    refuseUnsafeTarget(existing, 'use it as a preview branch')
    line = `would adopt branch '${existing.name}' (${existing.id}) and make sure its compute, role and database exist`
  } else {
    const parent = await resolveParent(run)
    const expiresAt = expiryTimestamp(run.inputs.expiry, new Date(run.deps.clock.now()))
    line =
      `would create branch '${name}' from ${parent ? `'${parent.name}' (${parent.id})` : 'the default branch'}` +
      (expiresAt ? `, expiring at ${expiresAt}` : ', never expiring')
    room = await limits.plan()
  }
  run.deps.log.notice(`Dry run: ${[...room, line].join('; ')}. Nothing was changed.`)
  for (const l of room) run.changed(l)
  run.changed(line)
  return {
    mode: 'create',
    branch: {
      id: existing?.id ?? '',
      name,
      parentId: existing?.parent_id,
      expiresAt: existing?.expires_at ?? null,
    },
    created: false,
    ...limits.result(),
    changes: run.changes,
    timings: run.timings(),
  }
}

/** Two repositories sharing one Neon project could otherwise silently share a branch. */
function warnIfOtherRepository(deps: ModeDeps, annotation: Record<string, string> | undefined): void {
  const repo = annotation?.['github-repo'] ?? annotation?.['github-commit-repo']
  if (repo && deps.context.repository && repo !== deps.context.repository) {
    deps.log.warning(
      `The branch was created for repository ${repo}, not ${deps.context.repository}; adopting it anyway ` +
        `because its name matches. Set 'branch_name' to keep the repositories apart.`,
    )
  }
}

/** The parent named by `parent_branch`, or undefined to let Neon use the project's default branch. */
async function resolveParent(run: ModeRun): Promise<{ id: string; name: string } | undefined> {
  const ref = run.inputs.parentBranch
  if (!ref) return undefined
  const found = await findBranch(run.deps.neon, run.project, ref)
  if (!found) {
    throw new Error(
      `parent_branch '${ref}' does not exist in project ${run.project} ` +
        `(looked up by ${ref.startsWith('br-') ? 'id and name' : 'exact name'})`,
    )
  }
  return { id: found.branch.id, name: found.branch.name }
}

/** Ties the branch to its pull request; `github-commit-repo` is what Neon's own actions write. */
function annotationsFor(deps: ModeDeps): Record<string, string> {
  const ctx = deps.context
  const a: Record<string, string> = {}
  if (ctx.repository) {
    a['github-repo'] = ctx.repository
    a['github-commit-repo'] = ctx.repository
  }
  if (ctx.pullRequest) {
    a['github-pr-number'] = String(ctx.pullRequest.number)
    a['github-head-ref'] = ctx.pullRequest.headRef
    if (ctx.pullRequest.headSha) a['github-sha'] = ctx.pullRequest.headSha
  } else if (ctx.sha) {
    a['github-sha'] = ctx.sha
  }
  return a
}
