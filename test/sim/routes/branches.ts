// Branch routes: create, list, count, get, update, delete, restore, set_as_default (and recover,
// from recovery.ts).

import {
  ApiError,
  assertBranchRoom,
  assertUnlocked,
  bodyObject,
  decodeCursor,
  encodeCursor,
  isRecord,
  optionalBoolean,
  optionalNumber,
  optionalObject,
  optionalString,
  queryLimit,
  requireBranch,
  requireProject,
  requiredString,
  type Ctx,
  type Route,
} from '../router.js'
import {
  annotationJson,
  branchJson,
  connectionDetails,
  databaseJson,
  endpointJson,
  operationJson,
  roleJson,
} from '../serialize.js'
import { listedBranchJson, listedWithDeleted, recoveryRoutes } from './recovery.js'
import {
  parseLsn,
  RESTRICTION,
  roleKey,
  type EndpointType,
  type OpSpec,
  type SimBranch,
  type SimEndpoint,
  type SimProject,
  type World,
} from '../state.js'

const MAX_NAME = 256
/** Branches in one list page at most (BEHAVIOUR.md, Branches: "Pages are capped at 100"). */
export const DEFAULT_BRANCH_PAGE_CAP = 100
const MAX_TTL_MS = 30 * 24 * 3600 * 1000
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

function validateName(name: string): void {
  if (name.trim() === '') throw new ApiError(400, 'branch name must not be empty')
  if ([...name].length > MAX_NAME)
    throw new ApiError(400, `branch name must be at most ${MAX_NAME} characters`)
}

/** Parses and checks an `expires_at` value against the clock. */
function parseExpiresAt(w: World, raw: unknown): number {
  if (typeof raw !== 'string' || !RFC3339.test(raw) || Number.isNaN(Date.parse(raw))) {
    throw new ApiError(
      400,
      'expires_at must be an RFC 3339 timestamp with a time zone, e.g. 2025-06-09T18:02:16Z',
    )
  }
  const t = Date.parse(raw)
  const now = w.now()
  if (t <= now) throw new ApiError(400, 'expires_at must be in the future')
  if (t - now > MAX_TTL_MS) throw new ApiError(400, 'expires_at must be at most 30 days in the future')
  return t
}

function checkExpiryAllowed(w: World, b: { protected: boolean; default: boolean; id?: string }): void {
  if (b.protected) throw new ApiError(400, 'expiration is not allowed for protected branches')
  if (b.default) throw new ApiError(400, 'expiration is not allowed for the default branch')
  if (b.id !== undefined && w.children(b.id).length > 0)
    throw new ApiError(400, 'expiration is not allowed for branches that have child branches')
}

export function parseAnnotations(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined
  if (!isRecord(v)) throw new ApiError(400, 'annotation_value must be an object of strings')
  const out: Record<string, string> = {}
  const entries = Object.entries(v)
  if (entries.length > 50) throw new ApiError(400, 'annotation_value must have at most 50 properties')
  for (const [k, val] of entries) {
    if (typeof val !== 'string') throw new ApiError(400, `annotation_value.${k} must be a string`)
    out[k] = val
  }
  return out
}

/**
 * A point in a branch's history, checked as Neon checks it (BEHAVIOUR.md, "Point in time" and
 * "Limits of a project": a timestamp older than history_retention_seconds, or in the future, is
 * refused; never both an LSN and a timestamp). Neon's exact messages for these refusals are not
 * documented: these say what is wrong in Neon's error shape ({code, message}) with 400.
 * Returns the LSN and the time of the point, or undefined for the head.
 */
function resolvePoint(
  w: World,
  project: SimProject,
  source: SimBranch,
  raw: { lsn?: string; timestamp?: string },
  names: { lsn: string; timestamp: string },
): { lsn: string; at: number } | undefined {
  const { lsn, timestamp } = raw
  if (lsn !== undefined && timestamp !== undefined)
    throw new ApiError(400, `${names.lsn} and ${names.timestamp} are mutually exclusive`)
  if (lsn === undefined && timestamp === undefined) return undefined
  const now = w.now()
  const earliest = now - project.historyRetentionSeconds * 1000
  const outside = (what: string): ApiError =>
    new ApiError(
      400,
      `${what} is outside of the project's history retention window (history_retention_seconds: ` +
        `${project.historyRetentionSeconds}); the earliest point available is ${new Date(earliest).toISOString()}`,
    )
  if (timestamp !== undefined) {
    if (!RFC3339.test(timestamp) || Number.isNaN(Date.parse(timestamp)))
      throw new ApiError(400, `${names.timestamp} must be an RFC 3339 timestamp`)
    const at = Date.parse(timestamp)
    if (at > now) throw new ApiError(400, `${names.timestamp} must not be in the future`)
    if (at < earliest) throw outside(`${names.timestamp} ${timestamp}`)
    if (at < source.createdAt)
      throw new ApiError(400, `${names.timestamp} is before the branch ${source.id} was created`)
    const resolved = w.lsnAt(source.id, at)
    if (resolved === undefined)
      throw new ApiError(400, `${names.timestamp} is before the branch ${source.id} was created`)
    return backendCanGive(w, source, { lsn: resolved, at })
  }
  const l = lsn ?? ''
  if (parseLsn(l) === undefined) throw new ApiError(400, `${names.lsn} is not a valid LSN`)
  const at = w.timeOfLsn(source.id, l)
  if (at === undefined)
    throw new ApiError(400, `${names.lsn} ${l} is not in the history of branch ${source.id}`)
  if (at < earliest) throw outside(`${names.lsn} ${l}`)
  return backendCanGive(w, source, { lsn: l, at })
}

/**
 * A real backend (test/sim/pg/) that cannot reproduce the data as of the point says so with 501
 * (a limitation of the simulator, not a Neon answer), rather than hand out today's data as the past.
 */
function backendCanGive<T extends { at: number }>(w: World, source: SimBranch, point: T): T {
  const why = w.backend.refusePoint?.(source, point.at)
  if (why !== undefined) throw new ApiError(501, why)
  return point
}

interface EndpointRequest {
  type: EndpointType
  suspendTimeoutSeconds?: number
  minCu?: number
  maxCu?: number
}

/**
 * Compute sizes as Neon documents them (BEHAVIOUR.md, "Compute sizes"): at least 0.25; 0.25, 0.5 or
 * a whole number; min ≤ max; autoscaling (min < max) up to 16 CU with a span of at most 8; a fixed
 * size up to 56; and the plan's limit when the test sets one. Neon's exact messages are not
 * documented (uncertain); these name the field and the rule, in Neon's error shape. Not
 * reproduced: which whole numbers above 16 are offered, and the minimum Neon wants for a maximum
 * above 10 (BEHAVIOUR.md gives no bound for either).
 */
export function checkComputeUnits(
  project: SimProject,
  minCu: number | undefined,
  maxCu: number | undefined,
  where: string,
  current?: { min: number; max: number },
): void {
  for (const [name, v] of [
    ['autoscaling_limit_min_cu', minCu],
    ['autoscaling_limit_max_cu', maxCu],
  ] as const) {
    if (v === undefined) continue
    if (v < 0.25) throw new ApiError(400, `${where}.${name} must be at least 0.25`)
    if (!(v === 0.25 || v === 0.5 || Number.isInteger(v)))
      throw new ApiError(400, `${where}.${name}: ${v} is not a supported compute size`)
  }
  if (minCu === undefined && maxCu === undefined) return
  const min = minCu ?? current?.min ?? project.defaultEndpointSettings.autoscaling_limit_min_cu
  const max = maxCu ?? current?.max ?? Math.max(min, project.defaultEndpointSettings.autoscaling_limit_max_cu)
  if (min > max)
    throw new ApiError(400, `${where}.autoscaling_limit_min_cu must not exceed autoscaling_limit_max_cu`)
  if (min < max && max > 16)
    throw new ApiError(400, `${where}: autoscaling supports at most 16 compute units; got ${min}-${max}`)
  if (min < max && max - min > 8)
    throw new ApiError(
      400,
      `${where}: the autoscaling range (max - min) must be at most 8 compute units; got ${min}-${max}`,
    )
  if (max > 56) throw new ApiError(400, `${where}: compute size must be at most 56 compute units`)
  if (project.planMaxCu !== undefined && max > project.planMaxCu)
    throw new ApiError(
      400,
      `${where}: your plan allows computes of at most ${project.planMaxCu} compute units; got ${max}`,
    )
}

export function parseEndpointOptions(
  o: Record<string, unknown>,
  where: string,
  project: SimProject,
): EndpointRequest {
  const type = o['type']
  if (type !== 'read_write' && type !== 'read_only')
    throw new ApiError(400, `${where}.type must be read_write or read_only`)
  const sts = optionalNumber(o, 'suspend_timeout_seconds')
  if (sts !== undefined && (!Number.isInteger(sts) || sts < -1 || sts > 604800)) {
    throw new ApiError(400, `${where}.suspend_timeout_seconds must be an integer from -1 to 604800`)
  }
  const minCu = optionalNumber(o, 'autoscaling_limit_min_cu')
  const maxCu = optionalNumber(o, 'autoscaling_limit_max_cu')
  checkComputeUnits(project, minCu, maxCu, where)
  return {
    type,
    ...(sts !== undefined ? { suspendTimeoutSeconds: sts } : {}),
    ...(minCu !== undefined ? { minCu } : {}),
    ...(maxCu !== undefined ? { maxCu } : {}),
  }
}

function createBranch(ctx: Ctx) {
  const { branch: _made, ...reply } = createBranchFrom(ctx, bodyObject(ctx))
  return reply
}

/**
 * POST /branches with `body`; also the `branch_create` of POST /branch_anonymized (routes/
 * anonymization.ts), whose `onCreated` marks the branch anonymized before its JSON is made.
 */
export function createBranchFrom(
  ctx: Ctx,
  body: Record<string, unknown>,
  onCreated?: (branch: SimBranch) => void,
): { status: number; body: Record<string, unknown>; branch: SimBranch } {
  const w = ctx.world
  const project = requireProject(ctx)
  const br = optionalObject(body, 'branch') ?? {}
  const name = optionalString(br, 'name')
  if (name !== undefined) validateName(name)
  const parentIdRaw = optionalString(br, 'parent_id')
  let parent: SimBranch | undefined
  if (parentIdRaw) {
    parent = w.liveBranch(project.id, parentIdRaw)
    if (!parent) throw new ApiError(404, `parent branch ${parentIdRaw} not found`)
  } else {
    parent = w.liveBranch(project.id, project.defaultBranchId)
    if (!parent) throw new ApiError(404, 'default branch not found')
  }
  const point = resolvePoint(
    w,
    project,
    parent,
    { lsn: optionalString(br, 'parent_lsn'), timestamp: optionalString(br, 'parent_timestamp') },
    { lsn: 'parent_lsn', timestamp: 'parent_timestamp' },
  )
  if (parent.expiresAt !== undefined)
    throw new ApiError(400, 'cannot create a branch from a parent branch that has an expiration time')
  const initSourceRaw = optionalString(br, 'init_source') ?? 'parent-data'
  if (initSourceRaw !== 'parent-data' && initSourceRaw !== 'schema-only')
    throw new ApiError(400, `unsupported init_source: ${initSourceRaw}`)
  const isProtected = optionalBoolean(br, 'protected') ?? false
  let expiresAt: number | undefined
  if (br['expires_at'] !== undefined && br['expires_at'] !== null) {
    expiresAt = parseExpiresAt(w, br['expires_at'])
    checkExpiryAllowed(w, { protected: isProtected, default: false })
  }
  const epsRaw = body['endpoints']
  const endpoints: EndpointRequest[] = []
  if (epsRaw !== undefined && epsRaw !== null) {
    if (!Array.isArray(epsRaw)) throw new ApiError(400, 'endpoints must be an array')
    epsRaw.forEach((e: unknown, i) => {
      if (!isRecord(e)) throw new ApiError(400, `endpoints[${i}] must be an object`)
      endpoints.push(parseEndpointOptions(e, `endpoints[${i}]`, project))
    })
  }
  if (endpoints.filter((e) => e.type === 'read_write').length > 1)
    throw new ApiError(400, 'a branch can have only one read_write endpoint')
  if (initSourceRaw === 'schema-only' && !endpoints.some((e) => e.type === 'read_write')) {
    throw new ApiError(400, 'schema-only branches require a read_write endpoint')
  }
  const annotations = parseAnnotations(body['annotation_value'])
  // The name and the limit are checked in the order the simulator was given (WorldOptions
  // createCheckOrder; default 409 first): no source states Neon's order when both apply.
  const assertNameFree = (): void => {
    if (name !== undefined && w.branchByName(project.id, name))
      throw new ApiError(409, `branch already exists; branch_name:"${name}"`)
  }
  if (w.opts.createCheckOrder === 'limit-first') {
    assertBranchRoom(ctx, project)
    assertNameFree()
  } else {
    assertNameFree()
    assertBranchRoom(ctx, project)
  }
  assertUnlocked(ctx, project)

  const branch = w.newBranch(project, {
    ...(name !== undefined ? { name } : {}),
    parent,
    protected: isProtected,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    ...(annotations ? { annotations } : {}),
    initSource: initSourceRaw,
    ...(point ? { parentLsn: point.lsn, parentTimestamp: point.at } : {}),
  })
  onCreated?.(branch)
  const eps: SimEndpoint[] = endpoints.map((e) => w.newEndpoint(project, branch.id, { ...e, state: 'init' }))
  const specs: OpSpec[] = [{ action: 'create_branch', branchId: branch.id }]
  for (const ep of eps) specs.push({ action: 'start_compute', branchId: branch.id, endpointId: ep.id })
  const ops = w.schedule(project.id, specs)
  branch.createOpId = ops[0]?.id
  eps.forEach((ep, i) => {
    const op = ops[i + 1]
    if (op) w.transitionEndpoint(ep, op.id, 'active')
  })
  const roles = w.branchRoles(branch.id)
  const dbs = w.branchDatabases(branch.id)
  const uriEndpoint = eps.find((e) => e.type === 'read_write') ?? eps[0]
  const [role] = roles
  const [db] = dbs
  const connection =
    uriEndpoint && role && db && roles.length === 1 && dbs.length === 1
      ? [connectionDetails(role, db, uriEndpoint)]
      : undefined
  return {
    status: 201,
    body: {
      branch: branchJson(w, branch),
      endpoints: eps.map((e) => endpointJson(w, e)),
      operations: ops.map((o) => operationJson(w, o)),
      roles: roles.map((r) => roleJson(r)),
      databases: dbs.map(databaseJson),
      ...(connection ? { connection_uris: connection } : {}),
    },
    branch,
  }
}

type SortBy = 'name' | 'created_at' | 'updated_at'

function sortKey(b: SimBranch, by: SortBy): string | number {
  return by === 'name' ? b.name : by === 'created_at' ? b.createdAt : b.updatedAt
}

function compare(a: SimBranch, b: SimBranch, by: SortBy, desc: boolean): number {
  const ka = sortKey(a, by)
  const kb = sortKey(b, by)
  let c = ka < kb ? -1 : ka > kb ? 1 : 0
  if (c === 0) c = a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  return desc ? -c : c
}

function searchBranches(
  w: World,
  projectId: string,
  search: string | undefined,
  includeDeleted = false,
): SimBranch[] {
  const all = includeDeleted ? listedWithDeleted(w, projectId) : w.liveBranches(projectId)
  if (!search) return all
  const s = search.toLowerCase()
  return all.filter((b) => b.name.toLowerCase().includes(s) || b.id.toLowerCase().includes(s))
}

function listBranches(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const sortBy = (ctx.query['sort_by'] ?? 'updated_at') as SortBy
  if (!['name', 'created_at', 'updated_at'].includes(sortBy))
    throw new ApiError(400, 'sort_by must be one of name, created_at, updated_at')
  const order = (ctx.query['sort_order'] ?? 'desc').toLowerCase()
  if (order !== 'asc' && order !== 'desc') throw new ApiError(400, 'sort_order must be asc or desc')
  const desc = order === 'desc'
  const limit = queryLimit(ctx, 1, 10000)
  // include_deleted=true adds the recoverable deleted branches (recovery.ts).
  const includeDeleted = ctx.query['include_deleted'] === 'true'
  let items = searchBranches(w, project.id, ctx.query['search'], includeDeleted).sort((a, b) =>
    compare(a, b, sortBy, desc),
  )
  const cursorRaw = ctx.query['cursor']
  if (cursorRaw) {
    const c = decodeCursor(cursorRaw)
    if (!isRecord(c) || typeof c['id'] !== 'string' || c['by'] !== sortBy || c['o'] !== order)
      throw new ApiError(400, 'invalid cursor')
    const last = { id: c['id'], name: c['k'], createdAt: c['k'], updatedAt: c['k'] } as unknown as SimBranch
    items = items.filter((b) => compare(b, last, sortBy, desc) > 0)
  }
  // Neon caps a page at 100 whatever `limit` asks (BEHAVIOUR.md, Branches). A full page always
  // carries a cursor, even when nothing follows: neonctl walks `pagination.next` until there is no
  // cursor *or a page comes back empty* (neonctl 5.0.1 dist/utils/enrichers.js), which says that an
  // empty last page happens. A short page carries none. (No Neon document states either rule.)
  const pageSize = Math.min(limit ?? Infinity, w.opts.branchPageCap ?? DEFAULT_BRANCH_PAGE_CAP)
  let next: string | undefined
  if (items.length >= pageSize) {
    items = items.slice(0, pageSize)
    const last = items[items.length - 1]
    if (last) next = encodeCursor({ by: sortBy, o: order, k: sortKey(last, sortBy), id: last.id })
  }
  const annotations: Record<string, unknown> = {}
  for (const b of items) if (Object.keys(b.annotations).length > 0) annotations[b.id] = annotationJson(b)
  return {
    status: 200,
    body: {
      branches: items.map((b) => listedBranchJson(w, b)),
      annotations,
      pagination: { ...(next ? { next } : {}), sort_by: sortBy, sort_order: order.toUpperCase() },
    },
  }
}

function countBranches(ctx: Ctx) {
  const project = requireProject(ctx)
  return { status: 200, body: { count: searchBranches(ctx.world, project.id, ctx.query['search']).length } }
}

function getBranch(ctx: Ctx) {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  return { status: 200, body: { branch: branchJson(ctx.world, b), annotation: annotationJson(b) } }
}

function updateBranch(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const body = bodyObject(ctx)
  const br = optionalObject(body, 'branch')
  if (!br) throw new ApiError(400, 'branch is required')
  const name = optionalString(br, 'name')
  if (name !== undefined) {
    validateName(name)
    const other = w.branchByName(project.id, name)
    if (other && other.id !== b.id) throw new ApiError(409, `branch already exists; branch_name:"${name}"`)
  }
  const prot = optionalBoolean(br, 'protected')
  const willBeProtected = prot ?? b.protected
  let expiresAt: number | null | undefined
  if ('expires_at' in br) {
    if (br['expires_at'] === null) expiresAt = null
    else {
      expiresAt = parseExpiresAt(w, br['expires_at'])
      checkExpiryAllowed(w, { protected: willBeProtected, default: b.default, id: b.id })
    }
  }
  if (prot === true && expiresAt !== null && (expiresAt ?? b.expiresAt) !== undefined) {
    throw new ApiError(400, 'expiration is not allowed for protected branches; remove expires_at first')
  }
  const annotations = parseAnnotations(body['annotation_value'])
  const now = w.now()
  if (name !== undefined) b.name = name
  if (prot !== undefined) b.protected = prot
  if (expiresAt === null) {
    delete b.expiresAt
    delete b.ttlIntervalSeconds
  } else if (expiresAt !== undefined) {
    b.expiresAt = expiresAt
    b.ttlIntervalSeconds = Math.round((expiresAt - now) / 1000)
  }
  if (annotations) {
    b.annotations = annotations
    b.annotationCreatedAt ??= now
    b.annotationUpdatedAt = now
  }
  b.updatedAt = now
  return { status: 200, body: { branch: branchJson(w, b), operations: [] } }
}

/**
 * Neon refuses an action the branch's `restricted_actions` names (the API description,
 * Branch.restricted_actions: "the actions that are currently restricted for this branch and the
 * reason why"). The status and the message of that refusal are not documented: 400, as the
 * simulator's other refusals of what a branch does not allow, with Neon's reason.
 */
export function assertNotRestricted(b: SimBranch, name: string): void {
  const r = b.restrictedActions?.find((x) => x.name === name)
  if (r) throw new ApiError(400, `action ${name} is restricted for this branch: ${r.reason}`)
}

function deleteBranch(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const b = w.liveBranch(project.id, ctx.params['branch_id'] ?? '')
  if (!b) return { status: 204 }
  assertNotRestricted(b, RESTRICTION.delete)
  if (b.default) throw new ApiError(400, 'cannot delete the default branch of the project')
  if (b.root) throw new ApiError(400, 'cannot delete the root branch of the project')
  if (b.protected) throw new ApiError(400, 'cannot delete a protected branch')
  if (w.children(b.id).length > 0)
    throw new ApiError(400, 'cannot delete a branch that has child branches; delete its children first')
  assertUnlocked(ctx, project)
  const eps = w.branchEndpoints(b.id)
  const specs: OpSpec[] = eps
    .filter((e) => w.endpointState(e).current !== 'idle')
    .map((e) => ({ action: 'suspend_compute', branchId: b.id, endpointId: e.id }))
  specs.push({ action: 'delete_timeline', branchId: b.id })
  const now = w.now()
  // A soft delete, recoverable for 7 days, unless `hard_delete=true` (Neon's API description,
  // deleteProjectBranch: "If true, the branch is permanently deleted immediately without a recovery
  // window") or the project offers no recovery (state.ts, softDelete).
  w.softDelete(b, now, 'user')
  if (ctx.query['hard_delete'] === 'true') w.purge(b)
  const ops = w.schedule(project.id, specs)
  b.updatedAt = now
  return { status: 200, body: { branch: branchJson(w, b), operations: ops.map((o) => operationJson(w, o)) } }
}

function restoreBranch(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const body = bodyObject(ctx)
  const sourceId = requiredString(body, 'source_branch_id')
  const source = w.liveBranch(project.id, sourceId)
  if (!source) throw new ApiError(404, `source branch ${sourceId} not found`)
  const lsn = optionalString(body, 'source_lsn')
  const ts = optionalString(body, 'source_timestamp')
  const point = resolvePoint(
    w,
    project,
    source,
    { lsn, timestamp: ts },
    { lsn: 'source_lsn', timestamp: 'source_timestamp' },
  )
  const preserve = optionalString(body, 'preserve_under_name') || undefined
  const self = source.id === b.id
  assertNotRestricted(b, RESTRICTION.restore)
  if (b.protected) throw new ApiError(400, 'cannot restore a protected branch')
  if (self) {
    if (lsn === undefined && ts === undefined)
      throw new ApiError(
        400,
        'source_lsn or source_timestamp is required when restoring a branch from its own history',
      )
    if (!preserve)
      throw new ApiError(400, 'preserve_under_name is required when restoring a branch from its own history')
  } else if (b.parentId === undefined) {
    throw new ApiError(
      400,
      b.initSource === 'schema-only'
        ? 'cannot reset a schema-only branch: it has no parent'
        : 'cannot reset a root branch: it has no parent',
    )
  }
  const children = w.children(b.id)
  if (children.length > 0 && !preserve)
    throw new ApiError(400, 'preserve_under_name is required when the branch has children')
  if (preserve !== undefined) {
    validateName(preserve)
    if (w.branchByName(project.id, preserve))
      throw new ApiError(409, `branch already exists; branch_name:"${preserve}"`)
  }
  if (!self && isDescendant(w, source, b.id))
    throw new ApiError(400, 'cannot restore a branch from one of its descendants')
  // The preserved copy is a new branch, so it counts against the limit like any other (no Neon
  // document says so either way).
  if (preserve !== undefined) assertBranchRoom(ctx, project)
  assertUnlocked(ctx, project)

  const now = w.now()
  const specs: OpSpec[] = []
  let preserved: SimBranch | undefined
  if (preserve !== undefined) {
    // The old state is kept under the new name; the children move to it.
    preserved = w.newBranch(project, { name: preserve, parent: b, createdAt: now })
    // It keeps the branch's history, so a later point in it can still be found there.
    for (const p of w.lsnLog.filter((x) => x.branchId === b.id))
      w.lsnLog.push({ ...p, branchId: preserved.id })
    if (b.parentId !== undefined) {
      preserved.parentId = b.parentId
      preserved.parentLsn = b.parentLsn ?? w.nextLsn(b.parentId, now)
      preserved.parentTimestamp = b.parentTimestamp ?? b.createdAt
    } else {
      delete preserved.parentId
      delete preserved.parentLsn
      delete preserved.parentTimestamp
      preserved.initSource = b.initSource
    }
    for (const c of children) {
      c.parentId = preserved.id
      c.updatedAt = now
    }
    specs.push({ action: 'create_branch', branchId: preserved.id })
  }
  const eps = w.branchEndpoints(b.id)
  for (const e of eps)
    if (w.endpointState(e).current === 'active')
      specs.push({ action: 'suspend_compute', branchId: b.id, endpointId: e.id })
  specs.push({ action: 'create_timeline', branchId: b.id })
  for (const e of eps) specs.push({ action: 'start_compute', branchId: b.id, endpointId: e.id })
  if (!self) w.backend.branchRestored(b, source)
  const ops = w.schedule(project.id, specs)
  if (preserved) preserved.createOpId = ops[0]?.id

  if (!self) {
    // Data (and so roles and databases) now come from the source; existing roles keep their passwords.
    const oldRoles = new Map(w.branchRoles(b.id).map((r) => [r.name, r]))
    const oldDbs = new Map(w.branchDatabases(b.id).map((d) => [d.name, d]))
    for (const r of oldRoles.values()) w.roles.delete(roleKey(b.id, r.name))
    for (const d of oldDbs.values()) w.databases.delete(roleKey(b.id, d.name))
    for (const r of w.branchRoles(source.id)) {
      const old = oldRoles.get(r.name)
      w.roles.set(roleKey(b.id, r.name), { ...r, branchId: b.id, password: old ? old.password : r.password })
    }
    for (const d of w.branchDatabases(source.id)) {
      const old = oldDbs.get(d.name)
      w.databases.set(roleKey(b.id, d.name), { ...d, branchId: b.id, id: old ? old.id : w.ids.databaseId() })
    }
    b.parentId = source.id
    b.parentLsn = point?.lsn ?? w.nextLsn(source.id, now)
    b.parentTimestamp = point?.at ?? now
    b.logicalSize = source.logicalSize
  } else if (preserved) {
    // Restored from its own past: the preserved copy holds that history now, and is the parent.
    b.parentId = preserved.id
    b.parentLsn = point?.lsn ?? w.nextLsn(b.id, now)
    b.parentTimestamp = point?.at ?? now
  }
  // The restored timeline goes on from the point it starts at.
  w.lsnLog.push({ branchId: b.id, at: now, lsn: parseLsn(b.parentLsn ?? '') ?? w.headLsn() })
  b.lastResetAt = now
  b.updatedAt = now
  if (b.ttlIntervalSeconds !== undefined) b.expiresAt = now + b.ttlIntervalSeconds * 1000
  return { status: 200, body: { branch: branchJson(w, b), operations: ops.map((o) => operationJson(w, o)) } }
}

function isDescendant(w: World, candidate: SimBranch, ancestorId: string): boolean {
  let cur: SimBranch | undefined = candidate
  const seen = new Set<string>()
  while (cur?.parentId !== undefined && !seen.has(cur.id)) {
    seen.add(cur.id)
    if (cur.parentId === ancestorId) return true
    cur = w.branches.get(cur.parentId)
  }
  return false
}

function setAsDefault(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  if (b.expiresAt !== undefined)
    throw new ApiError(400, 'a branch with an expiration time cannot be the default branch')
  w.setDefault(project, b)
  b.updatedAt = w.now()
  return { status: 200, body: { branch: branchJson(w, b), operations: [] } }
}

export const branchRoutes: Route[] = [
  { method: 'POST', path: '/projects/{project_id}/branches', handler: createBranch },
  { method: 'GET', path: '/projects/{project_id}/branches', handler: listBranches },
  { method: 'GET', path: '/projects/{project_id}/branches/count', handler: countBranches },
  { method: 'GET', path: '/projects/{project_id}/branches/{branch_id}', handler: getBranch },
  { method: 'PATCH', path: '/projects/{project_id}/branches/{branch_id}', handler: updateBranch },
  { method: 'DELETE', path: '/projects/{project_id}/branches/{branch_id}', handler: deleteBranch },
  { method: 'POST', path: '/projects/{project_id}/branches/{branch_id}/restore', handler: restoreBranch },
  {
    method: 'POST',
    path: '/projects/{project_id}/branches/{branch_id}/set_as_default',
    handler: setAsDefault,
  },
  ...recoveryRoutes,
]
