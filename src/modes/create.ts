import { randomUUID } from 'node:crypto'

import { expiryTimestamp, type Inputs } from '../inputs.js'
import { resolveBranchName } from '../github/branch-target.js'
import { isConflict, NeonApiError, withContext } from '../neon/errors.js'
import { findBranch } from '../neon/lookup.js'
import { describePoint, sameLsn } from '../neon/point-in-time.js'
import type { Branch, CreateBranchRequest } from '../neon/types.js'
import { BranchLimit } from './branch-limit.js'
import { computeRequest, prepareConnection, refreshExpiry, type Known } from './connect.js'
import { refuseUnsafeTarget } from './guards.js'
import { checkHistoryWindow } from './history-window.js'
import { parentText, pointInfo } from './point.js'
import { ModeRun } from './run.js'
import type { ModeDeps, ModeResult } from './types.js'

/**
 * create: make the pull request's branch, or adopt it when it exists (a re-run, the next push, a
 * concurrent run), then make sure it is ready to connect to: a usable read_write endpoint, the
 * role and the database, all of Neon's operations finished, and the connection strings built.
 *
 * With `ephemeral` the branch belongs to this job alone: an existing one is an error (never
 * adopted), and what is created is recorded for the post step, which deletes it.
 */
export async function createMode(deps: ModeDeps, inputs: Inputs): Promise<ModeResult> {
  const { neon, log } = deps
  const name = resolveBranchName(inputs, deps.context)
  const run = new ModeRun(deps, inputs)
  // The project's branch limit: on_branch_limit decides what a 422 for it does.
  const limits = new BranchLimit(run)
  try {
    let found = await findBranch(neon, run.project, name)
    if (found && inputs.ephemeral) throw ephemeralCollision(run, name, found.branch)
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
      await warnIfOtherPoint(run, branch)
    } else {
      const parent = await resolveParent(run)
      parentName = parent?.name
      // Adoption skips this: a branch made at a point that has since left the window is still fine.
      if (parent) await checkHistoryWindow(run, parent, inputs.parentPoint, parentText(inputs))
      const key = inputs.ephemeral ? randomUUID() : undefined
      try {
        if (key !== undefined) deps.ephemeral?.creating(name, key)
        const res = await limits.create(() =>
          neon.createBranch(run.project, createRequest(run, name, parent?.id, key)),
        )
        created = true
        branch = res.branch
        deps.ephemeral?.created(
          { id: branch.id, name: branch.name },
          res.operations.map((o) => o.id),
        )
        run.changed(`created branch '${branch.name}' (${branch.id})`)
        log.info(
          `Created branch '${branch.name}' (${branch.id}); waiting for ${res.operations.length} operations`,
        )
        let endpoint = res.endpoints.find((e) => e.type === 'read_write')
        await run.waitOps(res.operations)
        // Nothing of the create is running any more: the post step need not poll for it.
        deps.ephemeral?.created({ id: branch.id, name: branch.name }, [])
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
        if (key !== undefined && !created && refusedOutright(e)) deps.ephemeral?.nothing()
        if (!isConflict(e) || created) throw e
        if (inputs.ephemeral) throw ephemeralCollision(run, name)
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
        ...pointInfo(branch, inputs.parentPoint),
        expiresAt,
      },
      created,
      connection: prepared.connection,
      ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
      ...limits.result(),
      changes: run.changes,
      timings: run.timings(prepared.readyMs),
    }
  } catch (e) {
    throw run.fail(`create of branch '${name}'`, e)
  }
}

/**
 * Adopting would let two jobs share one database and the first to finish delete it under the
 * other; the message shows the naming that keeps jobs apart. Raised before any change.
 */
function ephemeralCollision(run: ModeRun, name: string, existing?: Branch): Error {
  const which = existing ? `'${name}' (${existing.id})` : `'${name}'`
  return new Error(
    `branch ${which} already exists in project ${run.project}, and with 'ephemeral: true' a branch is ` +
      `never adopted: two jobs would share one database, and the first to finish would delete it under ` +
      `the other. Give every job its own branch_name, e.g. ` +
      'branch_name: ci/run-${{ github.run_id }}-${{ github.run_attempt }}-${{ matrix.shard }} ' +
      '(the default, ci/run-<run id>-<attempt>-<job>, is the same for every leg of a matrix). ' +
      'Nothing was changed.',
  )
}

/**
 * True when Neon answered the create with a refusal (a 4xx other than a timeout): then no branch
 * was made. A network error or a 5xx may have created it, so the post step still looks.
 */
function refusedOutright(e: unknown): boolean {
  return e instanceof NeonApiError && e.status >= 400 && e.status < 500 && e.status !== 408
}

function createRequest(
  run: ModeRun,
  name: string,
  parentId: string | undefined,
  ephemeralKey?: string,
): CreateBranchRequest {
  const { inputs } = run
  const expiresAt = expiryTimestamp(inputs.expiry, new Date(run.deps.clock.now()))
  return {
    branch: {
      name,
      ...(parentId ? { parent_id: parentId } : {}),
      ...(inputs.parentPoint?.lsn !== undefined ? { parent_lsn: inputs.parentPoint.lsn } : {}),
      ...(inputs.parentPoint?.timestamp !== undefined
        ? { parent_timestamp: inputs.parentPoint.timestamp }
        : {}),
      ...(inputs.branchType === 'schema-only' ? { init_source: 'schema-only' as const } : {}),
      ...(expiresAt ? { expires_at: expiresAt } : {}),
    },
    endpoints: [
      {
        type: 'read_write',
        ...(inputs.suspendTimeout !== 0 ? { suspend_timeout_seconds: inputs.suspendTimeout } : {}),
        ...computeRequest(inputs.computeUnits),
      },
    ],
    annotation_value: annotationsFor(run.deps, ephemeralKey),
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
    if (parent) await checkHistoryWindow(run, parent, run.inputs.parentPoint, parentText(run.inputs))
    const expiresAt = expiryTimestamp(run.inputs.expiry, new Date(run.deps.clock.now()))
    const from = parent
      ? describePoint(`'${parent.name}' (${parent.id})`, run.inputs.parentPoint ?? {})
      : 'the default branch'
    line =
      `would create branch '${name}' from ${from}` +
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

/**
 * An adopted branch keeps the data it was made with. When `parent_branch` asks for a point in time
 * and the branch starts elsewhere, say so: its data is not what the input asks for.
 */
async function warnIfOtherPoint(run: ModeRun, branch: Branch): Promise<void> {
  const point = run.inputs.parentPoint
  if (!point) return
  const parent = await resolveParent(run)
  const differences: string[] = []
  if (parent && branch.parent_id !== parent.id) {
    differences.push(`its parent is ${branch.parent_id ?? 'none'}, not '${parent.name}' (${parent.id})`)
  }
  if (point.lsn !== undefined && !(branch.parent_lsn && sameLsn(branch.parent_lsn, point.lsn))) {
    differences.push(`it starts at LSN ${branch.parent_lsn ?? '(not reported)'}, not ${point.lsn}`)
  }
  // Compared to the second: Neon may report the time without the milliseconds asked.
  const seconds = (ms: number): number => Math.floor(ms / 1000)
  if (
    point.timestampMs !== undefined &&
    seconds(Date.parse(branch.parent_timestamp ?? '')) !== seconds(point.timestampMs)
  ) {
    differences.push(`it starts at ${branch.parent_timestamp ?? '(not reported)'}, not ${point.timestamp}`)
  }
  if (differences.length === 0) return
  run.deps.log.warning(
    `The existing branch '${branch.name}' (${branch.id}) was not made from ${parentText(run.inputs)}: ` +
      `${differences.join('; ')}. Adopting it as it is, so its data is not what parent_branch asks for. ` +
      `For a branch from that point, delete it (mode: delete) and run create again, or run mode: reset ` +
      `with the same parent_branch.`,
  )
}

/** The parent named by `parent_branch`, or undefined to let Neon use the project's default branch. */
async function resolveParent(run: ModeRun): Promise<Branch | undefined> {
  const ref = run.inputs.parentBranch
  if (!ref) return undefined
  const found = await findBranch(run.deps.neon, run.project, ref)
  if (!found) {
    throw new Error(
      `parent_branch '${ref}' does not exist in project ${run.project} ` +
        `(looked up by ${ref.startsWith('br-') ? 'id and name' : 'exact name'})`,
    )
  }
  return found.branch
}

/**
 * Ties the branch to its pull request; `github-commit-repo` is what Neon's own actions write. An
 * ephemeral branch is tied to its run and job instead (cleanup asks GitHub whether that run has
 * completed), and not to the pull request, whose preview it is not.
 */
function annotationsFor(deps: ModeDeps, ephemeralKey?: string): Record<string, string> {
  const ctx = deps.context
  const a: Record<string, string> = {}
  if (ctx.repository) {
    a['github-repo'] = ctx.repository
    a['github-commit-repo'] = ctx.repository
  }
  if (ephemeralKey !== undefined) {
    a['github-ephemeral'] = 'true'
    a['github-ephemeral-key'] = ephemeralKey
    if (ctx.runId) a['github-run-id'] = ctx.runId
    if (ctx.runAttempt) a['github-run-attempt'] = ctx.runAttempt
    if (ctx.job) a['github-job'] = ctx.job
    const sha = ctx.pullRequest?.headSha || ctx.sha
    if (sha) a['github-sha'] = sha
    return a
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
