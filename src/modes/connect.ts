import { expiryTimestamp } from '../inputs.js'
import { describeComputeUnits, type ComputeUnits } from '../neon/compute-units.js'
import { buildConnectionUrls } from '../neon/connection-string.js'
import { isConflict, isNotFound, NeonApiError } from '../neon/errors.js'
import { waitUntil } from '../neon/operations.js'
import type { Branch, CreateBranchResponse, Endpoint } from '../neon/types.js'
import type { ModeRun } from './run.js'
import type { ConnectionInfo } from './types.js'
import { allFinished } from '../util/settle.js'
import { escapeControl as shown } from '../util/log-text.js'

/** What an earlier answer already told us, so that nothing is asked twice. */
export interface Known {
  /** The read_write endpoint, when known. */
  endpoint?: Endpoint
  /** Role names on the branch; undefined when unknown (then Neon is asked). */
  roles?: readonly string[]
  /** Database names on the branch; undefined when unknown. */
  databases?: readonly string[]
  /** The role's password, when an answer carried it. */
  password?: string
}

/** What prepareConnection found: the branch ready and the masked connection details. */
export interface Prepared extends BranchServices {
  branch: Branch
  connection: ConnectionInfo
  /** When the branch became ready, in ms since the run started. */
  readyMs: number
  computeUnits?: ComputeUnits
}

/**
 * What a create's answer tells once its operations are done: the branch is ready and, when a
 * start_compute of its read_write compute was among them, the compute is active; its roles,
 * databases and (in `connection_uris`) the role's password are known. So prepareConnection asks
 * nothing twice.
 */
export function madeFromCreate(res: CreateBranchResponse, role: string): { branch: Branch; known: Known } {
  let endpoint = res.endpoints.find((e) => e.type === 'read_write')
  if (
    endpoint &&
    res.operations.some((o) => o.action === 'start_compute' && o.endpoint_id === endpoint?.id)
  ) {
    endpoint = { ...endpoint, current_state: 'active' }
  }
  return {
    branch: { ...res.branch, current_state: 'ready' },
    known: {
      endpoint,
      roles: res.roles.map((r) => r.name),
      databases: res.databases.map((d) => d.name),
      password: res.connection_uris?.find((c) => c.connection_parameters.role === role)?.connection_parameters
        .password,
    },
  }
}

/**
 * Brings a branch to the point where the outputs can be used: ready, with a usable read_write
 * compute, the role and the database present; returns the masked connection details, when the
 * branch became ready, and the Neon Auth and Data API URLs the inputs ask for.
 */
export async function prepareConnection(run: ModeRun, branch: Branch, known: Known = {}): Promise<Prepared> {
  const { inputs, deps } = run
  const { neon } = deps
  const ready = await ensureBranchReady(run, branch)
  // The reads do not depend on each other, so they go out together: on an adopted branch (every
  // push after the first) that is two round trips instead of four before the outputs, and the
  // Neon Auth and Data API reads ride along. What they find missing is then created one thing at a
  // time, as before (the database needs the role).
  const askPassword =
    known.password === undefined && (known.roles === undefined || known.roles.includes(inputs.role))
  const [services, endpoints, revealed, databases] = await allFinished([
    readServices(run, ready),
    // Without a known endpoint (then `endpoints` is what ensureEndpoint needs).
    known.endpoint ? undefined : neon.listBranchEndpoints(run.project, ready.id),
    // A 404 for the password is the answer "no such role" (null): ensureRole creates it.
    askPassword
      ? neon.revealPassword(run.project, ready.id, inputs.role).catch((e: unknown) => {
          if (isNotFound(e)) return null
          throw e
        })
      : undefined,
    known.databases ?? neon.listDatabases(run.project, ready.id).then((ds) => ds.map((d) => d.name)),
  ])
  const usable = await ensureEndpointUsable(
    run,
    known.endpoint ?? (await ensureEndpoint(run, ready, endpoints!)),
  )
  const endpoint = await ensureComputeSize(run, usable)
  const readyMs = run.elapsed()

  const current = known.password ?? (await ensureRole(run, ready, revealed ?? null, known.roles))
  await ensureDatabase(run, ready, databases)
  const password = inputs.resetPassword ? await resetPassword(run, ready) : current

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
  const computeUnits = sizeOf(endpoint)
  return {
    branch: ready,
    readyMs,
    ...(computeUnits ? { computeUnits } : {}),
    ...services,
    connection: { urls, password, role: inputs.role, database: inputs.database, endpointId: endpoint.id },
  }
}

/**
 * Neon Auth's and the Data API's URLs for the branch, each when its input asks (`get_auth_url`,
 * `get_data_api_url`, named and read as Neon's create-branch-action does): the URL, or null with a
 * notice when the feature is not enabled there (Neon's 404). Any other failure is thrown, as any
 * other read's.
 */
export interface BranchServices {
  authUrl?: string | null
  dataApiUrl?: string | null
}

/** The URLs a result carries: only those asked for. */
export function servicesOf(p: BranchServices): BranchServices {
  return {
    ...(p.authUrl !== undefined ? { authUrl: p.authUrl } : {}),
    ...(p.dataApiUrl !== undefined ? { dataApiUrl: p.dataApiUrl } : {}),
  }
}

async function readServices(run: ModeRun, branch: Branch): Promise<BranchServices> {
  const { inputs, deps } = run
  const where = `branch '${branch.name}' (${branch.id})`
  const [auth, dataApi] = await allFinished([
    inputs.getAuthUrl ? deps.neon.getNeonAuth(run.project, branch.id) : undefined,
    inputs.getDataApiUrl ? deps.neon.getDataApi(run.project, branch.id, inputs.database) : undefined,
  ])
  const services: BranchServices = {}
  if (inputs.getAuthUrl) {
    services.authUrl = auth?.base_url || null
    if (auth === null) {
      deps.log.notice(`Neon Auth is not enabled on ${where}: the auth_url output is empty.`)
    } else if (!services.authUrl) {
      deps.log.notice(`Neon Auth is enabled on ${where}, but Neon reported no base_url: auth_url is empty.`)
    }
  }
  if (inputs.getDataApiUrl) {
    services.dataApiUrl = dataApi?.url || null
    if (!services.dataApiUrl) {
      deps.log.notice(
        `The Data API is not enabled for database '${inputs.database}' on ${where}: the data_api_url output is empty.`,
      )
    }
  }
  return services
}

async function ensureBranchReady(run: ModeRun, branch: Branch): Promise<Branch> {
  if (branch.current_state === 'ready') return branch
  const { neon, log } = run.deps
  log.info(`Waiting for branch '${branch.name}' to be ready (now '${branch.current_state}')`)
  const ready = await waitUntil(
    `branch '${shown(branch.name)}' (${branch.id}) to be ready`,
    async () => {
      const b = await neon.getBranch(run.project, branch.id)
      return { done: b.current_state === 'ready', state: b.current_state, value: b }
    },
    run.poll,
    run.wait,
    { delayFirst: true },
  )
  return ready ?? branch
}

/** The branch's read_write endpoint among `endpoints`, created when an adopted branch has none. */
async function ensureEndpoint(
  run: ModeRun,
  branch: Branch,
  endpoints: readonly Endpoint[],
): Promise<Endpoint> {
  const { neon, log } = run.deps
  const { inputs } = run
  const existing = endpoints.find((e) => e.type === 'read_write')
  if (existing) return existing
  log.info(`Branch '${branch.name}' has no read_write compute; creating one`)
  const res = await neon.createEndpoint(run.project, {
    branch_id: branch.id,
    type: 'read_write',
    ...(inputs.suspendTimeout !== 0 ? { suspend_timeout_seconds: inputs.suspendTimeout } : {}),
    ...computeRequest(inputs.computeUnits),
  })
  run.changed(`created read_write compute ${res.endpoint.id}`)
  await run.waitOps(res.operations)
  return res.operations.some((o) => o.action === 'start_compute')
    ? { ...res.endpoint, current_state: 'active' }
    : res.endpoint
}

/** `compute_units` as Neon's endpoint fields (OpenAPI BranchCreateRequestEndpointOptions, EndpointUpdateRequest). */
export function computeRequest(cu: ComputeUnits | undefined): {
  autoscaling_limit_min_cu?: number
  autoscaling_limit_max_cu?: number
} {
  return cu ? { autoscaling_limit_min_cu: cu.min, autoscaling_limit_max_cu: cu.max } : {}
}

/** The compute's size as Neon reports it, or undefined when it does not. */
function sizeOf(e: Endpoint): ComputeUnits | undefined {
  const min = e.autoscaling_limit_min_cu
  const max = e.autoscaling_limit_max_cu
  return typeof min === 'number' && typeof max === 'number' ? { min, max } : undefined
}

/**
 * Gives an existing compute of another size the size `compute_units` asks for
 * (PATCH /projects/{id}/endpoints/{id}), and waits for Neon to apply it. A size the plan does not
 * allow is Neon's to refuse; its message is passed on.
 */
async function ensureComputeSize(run: ModeRun, endpoint: Endpoint): Promise<Endpoint> {
  const want = run.inputs.computeUnits
  const have = sizeOf(endpoint)
  if (!want || (have && have.min === want.min && have.max === want.max)) return endpoint
  const from = have ? describeComputeUnits(have) : 'an unreported size'
  run.deps.log.info(`Resizing compute ${endpoint.id} from ${from} to ${describeComputeUnits(want)}`)
  const res = await run.deps.neon.updateEndpoint(run.project, endpoint.id, computeRequest(want))
  run.changed(`resized compute ${endpoint.id} from ${from} to ${describeComputeUnits(want)}`)
  await run.waitOps(res.operations)
  // The answer is the compute before its operations ran: keep its state as we knew it.
  return { ...endpoint, ...computeRequest(sizeOf(res.endpoint) ?? want) }
}

/** Active or idle (suspended, wakes on connect) are usable; init is not yet, and disabled never. */
async function ensureEndpointUsable(run: ModeRun, endpoint: Endpoint): Promise<Endpoint> {
  if (endpoint.disabled) {
    throw new Error(`compute ${endpoint.id} of the branch is disabled; enable it in the Neon console`)
  }
  if (endpoint.current_state !== 'init') return endpoint
  const usable = await waitUntil(
    `compute ${endpoint.id} to start`,
    async () => {
      const all = await run.deps.neon.listBranchEndpoints(run.project, endpoint.branch_id)
      const e = all.find((x) => x.id === endpoint.id)
      if (!e) throw new Error(`compute ${endpoint.id} disappeared while starting`)
      return { done: e.current_state !== 'init', state: e.current_state, value: e }
    },
    run.poll,
    run.wait,
    { delayFirst: true },
  )
  return usable ?? endpoint
}

/**
 * Returns the role's password, creating the role first when the branch lacks it. `revealed` is the
 * answer to asking for its password (one request answers both "does the role exist?" and "what is
 * its password?"): null when there is no such role (Neon's 404, or known from the create's answer).
 * A role that is not there may be a typo of one that is: the notice names the roles the branch has
 * (`roles`, from the create's answer, or read when unknown).
 */
async function ensureRole(
  run: ModeRun,
  branch: Branch,
  revealed: string | null,
  roles: readonly string[] | undefined,
): Promise<string> {
  const { neon, log } = run.deps
  const { role } = run.inputs
  if (revealed !== null) return revealed
  const there = roles ?? (await neon.listRoles(run.project, branch.id))
  log.notice(
    `Role '${shown(role)}' does not exist on branch '${shown(branch.name)}'; creating it. The branch's ` +
      `roles are ${there.length ? there.map((r) => `'${shown(r)}'`).join(', ') : 'none'}: if 'role' is a ` +
      `typo of one of them, correct it (the new role owns nothing the others made).`,
  )
  try {
    const res = await neon.createRole(run.project, branch.id, role)
    run.changed(`created role '${role}'`)
    await run.waitOps(res.operations)
    return res.role.password ?? (await neon.revealPassword(run.project, branch.id, role))
  } catch (e) {
    // A concurrent run created it between our look and our create.
    if (!isConflict(e)) throw e
    return neon.revealPassword(run.project, branch.id, role)
  }
}

/** What a dry run adds to its line with `reset_password: true`. */
export function passwordResetText(inputs: { resetPassword: boolean; role: string }): string {
  return inputs.resetPassword ? `, and give role '${inputs.role}' a new password (reset_password)` : ''
}

/**
 * `reset_password: true`: Neon gives the role a new password (the old one stops authenticating),
 * masked the moment the answer arrives (the client's onSecret), and its operations are waited for
 * so the URLs handed out work. A failure after the request is said as such: the old password may
 * no longer work and the new one was not confirmed, so no URL is handed out (the mode fails).
 */
async function resetPassword(run: ModeRun, branch: Branch): Promise<string> {
  const { neon, log } = run.deps
  const { role } = run.inputs
  const res = await neon.resetRolePassword(run.project, branch.id, role)
  run.changed(`reset the password of role '${role}'`)
  log.info(
    `Reset the password of role '${role}' on branch '${branch.name}' (reset_password); the old one no ` +
      `longer authenticates. Waiting for ${res.operations.length} operations`,
  )
  try {
    await run.waitOps(res.operations)
  } catch (e) {
    throw new Error(
      `the password of role '${role}' on branch '${shown(branch.name)}' (${branch.id}) was reset, but ` +
        `waiting for Neon to apply it failed (${e instanceof Error ? e.message : String(e)}): the old ` +
        `password may no longer work and the new one is not confirmed, so no connection URL was handed ` +
        `out. Run the step again (without reset_password, or with it for yet another password).`,
      { cause: e },
    )
  }
  const password = res.role.password ?? (await neon.revealPassword(run.project, branch.id, role))
  run.deps.setSecret(password)
  return password
}

async function ensureDatabase(run: ModeRun, branch: Branch, names: readonly string[]): Promise<void> {
  const { neon, log } = run.deps
  const { database, role } = run.inputs
  if (names.includes(database)) return
  log.info(`Creating database '${database}' owned by '${role}' on branch '${branch.name}'`)
  try {
    const res = await neon.createDatabase(run.project, branch.id, database, role)
    run.changed(`created database '${database}'`)
    await run.waitOps(res.operations)
  } catch (e) {
    if (!isConflict(e)) throw e
  }
}

/**
 * prepareConnection and, beside it, refreshExpiry for a branch that is already ready: the PATCH
 * depends on nothing the reads find, so it shares their round trip. Both are waited for; the
 * first failure (prepareConnection's, refreshExpiry only warns) is thrown.
 */
export async function prepareWithExpiry(
  run: ModeRun,
  branch: Branch,
  known: Known = {},
): Promise<[Prepared, string | null]> {
  if (branch.current_state !== 'ready') {
    const prepared = await prepareConnection(run, branch, known)
    return [prepared, await refreshExpiry(run, prepared.branch)]
  }
  return allFinished([prepareConnection(run, branch, known), refreshExpiry(run, branch)])
}

/**
 * Pushes an existing branch's expiry out again (every push keeps an active PR's branch alive, and a
 * reset restarts the TTL), or removes it when the user now asks for `never`. A refusal (a branch
 * with children cannot expire) is a warning: the branch is still usable.
 */
export async function refreshExpiry(run: ModeRun, branch: Branch): Promise<string | null> {
  const target = expiryTimestamp(run.inputs.expiry, new Date(run.deps.clock.now()))
  const current = branch.expires_at ?? null
  if (target === null && current === null) return null
  try {
    const res = await run.deps.neon.updateBranch(run.project, branch.id, { expires_at: target })
    run.changed(target ? `expiry moved to ${target}` : 'expiry removed')
    return res.branch.expires_at ?? target
  } catch (e) {
    if (!(e instanceof NeonApiError)) throw e
    run.deps.log.warning(`Could not refresh the expiry of branch '${branch.name}': ${e.message}`)
    return current
  }
}
