import { expiryTimestamp, type Inputs } from '../inputs.js'
import { resolveBranchName } from '../github/branch-target.js'
import { buildConnectionUrls } from '../neon/connection-string.js'
import { isConflict, isNotFound, NeonApiError, withContext } from '../neon/errors.js'
import { findBranch } from '../neon/lookup.js'
import { waitForOperations, waitUntil, type PollOptions, type WaitStats } from '../neon/operations.js'
import type { Branch, CreateBranchRequest, Endpoint, Operation } from '../neon/types.js'
import { ModeError, type ConnectionInfo, type ModeDeps, type ModeResult } from './types.js'

/**
 * create: make the pull request's branch, or adopt it when it exists (a re-run, the next push, a
 * concurrent run), then make sure it is ready to connect to: a usable read_write endpoint, the
 * role and the database, all of Neon's operations finished, and the connection strings built.
 */
export async function createMode(deps: ModeDeps, inputs: Inputs): Promise<ModeResult> {
  const { neon, clock, log } = deps
  const started = clock.now()
  const name = resolveBranchName(inputs, deps.context)
  const project = inputs.projectId
  const changes: string[] = []
  const wait: WaitStats = { polls: 0, waitedMs: 0 }
  const poll: PollOptions = {
    ...deps.poll,
    clock,
    deadline: started + inputs.timeoutMs,
    progress: (line) => log.info(line),
  }
  const waitOps = (ops: readonly Operation[]) => waitForOperations(neon, project, ops, poll, wait)

  try {
    let created = false
    let found = await findBranch(neon, project, name)
    let branch: Branch
    let endpoint: Endpoint | undefined
    // What the create response already told us, so we do not ask again.
    // undefined: unknown (adopted branch), so ask Neon.
    let knownRoles: string[] | undefined
    let knownDatabases: string[] | undefined
    let knownPassword: string | undefined

    if (inputs.dryRun) return await dryRun(deps, inputs, name, found?.branch, started)

    if (found) {
      branch = found.branch
      refuseUnsafeTarget(branch)
      warnIfOtherRepository(deps, found.annotation?.value)
      log.info(`Adopting existing branch '${branch.name}' (${branch.id})`)
    } else {
      const parentId = await resolveParent(deps, inputs)
      const expiresAt = expiryTimestamp(inputs.expiry, new Date(clock.now()))
      const body: CreateBranchRequest = {
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
        annotation_value: annotationsFor(deps),
      }
      try {
        const res = await neon.createBranch(project, body)
        created = true
        branch = res.branch
        changes.push(`created branch '${branch.name}' (${branch.id})`)
        log.info(
          `Created branch '${branch.name}' (${branch.id}); waiting for ${res.operations.length} operations`,
        )
        endpoint = res.endpoints.find((e) => e.type === 'read_write')
        knownRoles = res.roles.map((r) => r.name)
        knownDatabases = res.databases.map((d) => d.name)
        knownPassword = res.connection_uris?.find((c) => c.connection_parameters.role === inputs.role)
          ?.connection_parameters.password
        await waitOps(res.operations)
        // The operations are done: the branch and its compute are ready, no need to ask again.
        branch = { ...branch, current_state: 'ready' }
        if (
          endpoint &&
          res.operations.some((o) => o.action === 'start_compute' && o.endpoint_id === endpoint?.id)
        ) {
          endpoint = { ...endpoint, current_state: 'active' }
        }
      } catch (e) {
        if (!isConflict(e) || created) throw e
        // Another run (or our own first attempt, whose answer was lost) created it: adopt it.
        log.info(`Branch '${name}' was created concurrently by another run; adopting it`)
        found = await findBranch(neon, project, name)
        if (!found) throw withContext(`Neon answered 409 for '${name}' but no such branch can be found`, e)
        branch = found.branch
      }
    }

    branch = await ensureBranchReady(deps, poll, wait, branch)
    if (!endpoint) endpoint = await ensureEndpoint(deps, inputs, waitOps, branch, changes)
    endpoint = await ensureEndpointUsable(deps, poll, wait, endpoint)
    const readyMs = clock.now() - started

    const password = knownPassword ?? (await ensureRole(deps, inputs, waitOps, branch, knownRoles, changes))
    if (!knownDatabases?.includes(inputs.database)) {
      await ensureDatabase(deps, inputs, waitOps, branch, knownDatabases, changes)
    }

    const expiresAt = created
      ? (branch.expires_at ?? null)
      : await refreshExpiry(deps, inputs, branch, changes)

    const urls = buildConnectionUrls({
      host: endpoint.host,
      role: inputs.role,
      password,
      database: inputs.database,
      ssl: inputs.ssl,
      channelBinding: inputs.channelBinding,
      prisma: inputs.prisma,
    })
    for (const secret of [urls.dbUrl, urls.dbUrlPooled]) deps.setSecret(secret)
    const connection: ConnectionInfo = {
      urls,
      password,
      role: inputs.role,
      database: inputs.database,
      endpointId: endpoint.id,
    }
    return {
      mode: 'create',
      branch: { id: branch.id, name: branch.name, parentId: branch.parent_id, expiresAt },
      created,
      connection,
      changes,
      timings: { totalMs: clock.now() - started, readyMs, wait },
    }
  } catch (e) {
    const what = e instanceof Error ? e.message : String(e)
    throw new ModeError(`create of branch '${name}' failed: ${what}`, changes, e)
  }
}

/** Says what create would do, after the same checks, and changes nothing. */
async function dryRun(
  deps: ModeDeps,
  inputs: Inputs,
  name: string,
  existing: Branch | undefined,
  started: number,
): Promise<ModeResult> {
  let line: string
  if (existing) {
    refuseUnsafeTarget(existing)
    line = `would adopt branch '${existing.name}' (${existing.id}) and make sure its compute, role and database exist`
  } else {
    const parentId = await resolveParent(deps, inputs)
    const expiresAt = expiryTimestamp(inputs.expiry, new Date(deps.clock.now()))
    line =
      `would create branch '${name}' from ${parentId ? `'${inputs.parentBranch}' (${parentId})` : 'the default branch'}` +
      (expiresAt ? `, expiring at ${expiresAt}` : ', never expiring')
  }
  deps.log.notice(`Dry run: ${line}. Nothing was changed.`)
  return {
    mode: 'create',
    branch: {
      id: existing?.id ?? '',
      name,
      parentId: existing?.parent_id,
      expiresAt: existing?.expires_at ?? null,
    },
    created: false,
    changes: [line],
    timings: { totalMs: deps.clock.now() - started, wait: { polls: 0, waitedMs: 0 } },
  }
}

/** A preview URL must never point at production: the default and protected branches are off limits. */
function refuseUnsafeTarget(branch: Branch): void {
  if (branch.default) {
    throw new Error(
      `'${branch.name}' (${branch.id}) is the project's default branch; refusing to use it as a preview branch`,
    )
  }
  if (branch.protected) {
    throw new Error(
      `'${branch.name}' (${branch.id}) is a protected branch; refusing to use it as a preview branch`,
    )
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

/** The parent's id, or undefined to let Neon use the project's default branch. */
async function resolveParent(deps: ModeDeps, inputs: Inputs): Promise<string | undefined> {
  if (!inputs.parentBranch) return undefined
  const found = await findBranch(deps.neon, inputs.projectId, inputs.parentBranch)
  if (!found) {
    throw new Error(
      `parent_branch '${inputs.parentBranch}' does not exist in project ${inputs.projectId} ` +
        `(looked up by ${inputs.parentBranch.startsWith('br-') ? 'id and name' : 'exact name'})`,
    )
  }
  return found.branch.id
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

async function ensureBranchReady(
  deps: ModeDeps,
  poll: PollOptions,
  wait: WaitStats,
  branch: Branch,
): Promise<Branch> {
  if (branch.current_state === 'ready') return branch
  const { neon } = deps
  deps.log.info(`Waiting for branch '${branch.name}' to be ready (now '${branch.current_state}')`)
  const ready = await waitUntil(
    `branch '${branch.name}' (${branch.id}) to be ready`,
    async () => {
      const b = await neon.getBranch(branch.project_id, branch.id)
      return { done: b.current_state === 'ready', state: b.current_state, value: b }
    },
    poll,
    wait,
    { delayFirst: true },
  )
  return ready ?? branch
}

async function ensureEndpoint(
  deps: ModeDeps,
  inputs: Inputs,
  waitOps: (ops: readonly Operation[]) => Promise<void>,
  branch: Branch,
  changes: string[],
): Promise<Endpoint> {
  const endpoints = await deps.neon.listBranchEndpoints(inputs.projectId, branch.id)
  const existing = endpoints.find((e) => e.type === 'read_write')
  if (existing) return existing
  deps.log.info(`Branch '${branch.name}' has no read_write compute; creating one`)
  const res = await deps.neon.createEndpoint(inputs.projectId, {
    branch_id: branch.id,
    type: 'read_write',
    ...(inputs.suspendTimeout !== 0 ? { suspend_timeout_seconds: inputs.suspendTimeout } : {}),
  })
  changes.push(`created read_write compute ${res.endpoint.id}`)
  await waitOps(res.operations)
  return res.operations.some((o) => o.action === 'start_compute')
    ? { ...res.endpoint, current_state: 'active' }
    : res.endpoint
}

/** Active or idle (suspended, wakes on connect) are usable; init is not yet, and disabled never. */
async function ensureEndpointUsable(
  deps: ModeDeps,
  poll: PollOptions,
  wait: WaitStats,
  endpoint: Endpoint,
): Promise<Endpoint> {
  if (endpoint.disabled) {
    throw new Error(`compute ${endpoint.id} of the branch is disabled; enable it in the Neon console`)
  }
  if (endpoint.current_state !== 'init') return endpoint
  const usable = await waitUntil(
    `compute ${endpoint.id} to start`,
    async () => {
      const all = await deps.neon.listBranchEndpoints(endpoint.project_id, endpoint.branch_id)
      const e = all.find((x) => x.id === endpoint.id)
      if (!e) throw new Error(`compute ${endpoint.id} disappeared while starting`)
      return { done: e.current_state !== 'init', state: e.current_state, value: e }
    },
    poll,
    wait,
    { delayFirst: true },
  )
  return usable ?? endpoint
}

/** Returns the role's password, creating the role first when the branch lacks it. */
async function ensureRole(
  deps: ModeDeps,
  inputs: Inputs,
  waitOps: (ops: readonly Operation[]) => Promise<void>,
  branch: Branch,
  knownRoles: readonly string[] | undefined,
  changes: string[],
): Promise<string> {
  const { neon } = deps
  if (knownRoles?.includes(inputs.role)) return neon.revealPassword(inputs.projectId, branch.id, inputs.role)
  if (knownRoles === undefined) {
    // One request answers both "does the role exist?" and "what is its password?".
    try {
      return await neon.revealPassword(inputs.projectId, branch.id, inputs.role)
    } catch (e) {
      if (!isNotFound(e)) throw e
    }
  }
  deps.log.info(`Creating role '${inputs.role}' on branch '${branch.name}'`)
  try {
    const res = await neon.createRole(inputs.projectId, branch.id, inputs.role)
    changes.push(`created role '${inputs.role}'`)
    await waitOps(res.operations)
    return res.role.password ?? (await neon.revealPassword(inputs.projectId, branch.id, inputs.role))
  } catch (e) {
    // A concurrent run created it between our look and our create.
    if (!isConflict(e)) throw e
    return neon.revealPassword(inputs.projectId, branch.id, inputs.role)
  }
}

async function ensureDatabase(
  deps: ModeDeps,
  inputs: Inputs,
  waitOps: (ops: readonly Operation[]) => Promise<void>,
  branch: Branch,
  knownDatabases: readonly string[] | undefined,
  changes: string[],
): Promise<void> {
  const { neon } = deps
  const names = knownDatabases ?? (await neon.listDatabases(inputs.projectId, branch.id)).map((d) => d.name)
  if (names.includes(inputs.database)) return
  deps.log.info(`Creating database '${inputs.database}' owned by '${inputs.role}' on branch '${branch.name}'`)
  try {
    const res = await neon.createDatabase(inputs.projectId, branch.id, inputs.database, inputs.role)
    changes.push(`created database '${inputs.database}'`)
    await waitOps(res.operations)
  } catch (e) {
    if (!isConflict(e)) throw e
  }
}

/**
 * On an adopted branch: push the expiry out again (every push keeps an active PR's branch alive),
 * or remove it when the user now asks for `never`. A refusal (a branch with children cannot
 * expire) is a warning: the branch is still usable.
 */
async function refreshExpiry(
  deps: ModeDeps,
  inputs: Inputs,
  branch: Branch,
  changes: string[],
): Promise<string | null> {
  const target = expiryTimestamp(inputs.expiry, new Date(deps.clock.now()))
  const current = branch.expires_at ?? null
  if (target === null && current === null) return null
  try {
    const res = await deps.neon.updateBranch(inputs.projectId, branch.id, { expires_at: target })
    changes.push(target ? `expiry moved to ${target}` : 'expiry removed')
    return res.branch.expires_at ?? target
  } catch (e) {
    if (!(e instanceof NeonApiError)) throw e
    deps.log.warning(`Could not refresh the expiry of branch '${branch.name}': ${e.message}`)
    return current
  }
}
