// Endpoint routes: list (project, branch), create, get, update, delete, start, suspend, restart.

import {
  ApiError,
  assertUnlocked,
  bodyObject,
  isRecord,
  optionalBoolean,
  optionalNumber,
  optionalObject,
  optionalString,
  requireBranch,
  requireEndpoint,
  requireProject,
  requiredObject,
  type Ctx,
  type Route,
} from '../router.js'
import { endpointJson, operationJson } from '../serialize.js'
import { RESTRICTION, type OpSpec } from '../state.js'
import { assertNotRestricted, checkComputeUnits, parseEndpointOptions } from './branches.js'

function listProjectEndpoints(ctx: Ctx) {
  const project = requireProject(ctx)
  return {
    status: 200,
    body: { endpoints: ctx.world.projectEndpoints(project.id).map((e) => endpointJson(ctx.world, e)) },
  }
}

function listBranchEndpoints(ctx: Ctx) {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  return {
    status: 200,
    body: { endpoints: ctx.world.branchEndpoints(b.id).map((e) => endpointJson(ctx.world, e)) },
  }
}

function createEndpoint(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const body = bodyObject(ctx)
  const ep = requiredObject(body, 'endpoint')
  const branchId = optionalString(ep, 'branch_id')
  if (!branchId) throw new ApiError(400, 'endpoint.branch_id is required')
  const opts = parseEndpointOptions(ep, 'endpoint', project)
  const region = optionalString(ep, 'region_id')
  if (region !== undefined && region !== project.regionId)
    throw new ApiError(400, `region_id must be the project's region (${project.regionId})`)
  const branch = w.liveBranch(project.id, branchId)
  if (!branch) throw new ApiError(404, `branch ${branchId} not found`)
  if (opts.type === 'read_write' && w.readWriteEndpoint(branch.id)) {
    throw new ApiError(
      409,
      `branch ${branch.id} already has a read_write endpoint; a branch can have only one`,
    )
  }
  assertUnlocked(ctx, project)
  const settings = optionalObject(ep, 'settings')
  const disabled = optionalBoolean(ep, 'disabled')
  const e = w.newEndpoint(project, branch.id, {
    ...opts,
    ...(settings ? { settings: structuredClone(settings) } : {}),
    ...(disabled !== undefined ? { disabled } : {}),
    state: 'init',
  })
  const ops = w.schedule(project.id, [{ action: 'start_compute', branchId: branch.id, endpointId: e.id }])
  const [op] = ops
  if (op) w.transitionEndpoint(e, op.id, 'active')
  return {
    status: 201,
    body: { endpoint: endpointJson(w, e), operations: ops.map((o) => operationJson(w, o)) },
  }
}

function getEndpoint(ctx: Ctx) {
  const project = requireProject(ctx)
  const e = requireEndpoint(ctx, project)
  return { status: 200, body: { endpoint: endpointJson(ctx.world, e) } }
}

function updateEndpoint(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const e = requireEndpoint(ctx, project)
  const body = bodyObject(ctx)
  const upd = requiredObject(body, 'endpoint')
  const sts = optionalNumber(upd, 'suspend_timeout_seconds')
  if (sts !== undefined && (!Number.isInteger(sts) || sts < -1 || sts > 604800)) {
    throw new ApiError(400, 'endpoint.suspend_timeout_seconds must be an integer from -1 to 604800')
  }
  const minCu = optionalNumber(upd, 'autoscaling_limit_min_cu')
  const maxCu = optionalNumber(upd, 'autoscaling_limit_max_cu')
  checkComputeUnits(project, minCu, maxCu, 'endpoint', { min: e.minCu, max: e.maxCu })
  const moveTo = optionalString(upd, 'branch_id')
  if (moveTo !== undefined && moveTo !== e.branchId) {
    const dest = w.liveBranch(project.id, moveTo)
    if (!dest) throw new ApiError(404, `branch ${moveTo} not found`)
    if (e.type === 'read_write' && w.readWriteEndpoint(dest.id))
      throw new ApiError(409, `branch ${dest.id} already has a read_write endpoint`)
  }
  const disabled = optionalBoolean(upd, 'disabled')
  const settings = upd['settings']
  if (settings !== undefined && settings !== null && !isRecord(settings))
    throw new ApiError(400, 'endpoint.settings must be an object')
  assertUnlocked(ctx, project)
  if (sts !== undefined) e.suspendTimeoutSeconds = sts
  if (minCu !== undefined) e.minCu = minCu
  if (maxCu !== undefined) e.maxCu = maxCu
  if (isRecord(settings)) e.settings = structuredClone(settings)
  if (moveTo !== undefined) e.branchId = moveTo
  const specs: OpSpec[] = []
  const state = w.endpointState(e).current
  if (disabled === true && !e.disabled) {
    e.disabled = true
    if (state !== 'idle') specs.push({ action: 'suspend_compute', branchId: e.branchId, endpointId: e.id })
  } else {
    if (disabled === false) e.disabled = false
    if (state === 'active') specs.push({ action: 'apply_config', branchId: e.branchId, endpointId: e.id })
  }
  e.updatedAt = w.now()
  const ops = w.schedule(project.id, specs)
  const suspend = ops.find((o) => o.action === 'suspend_compute')
  if (suspend) w.transitionEndpoint(e, suspend.id, 'idle')
  return {
    status: 200,
    body: { endpoint: endpointJson(w, e), operations: ops.map((o) => operationJson(w, o)) },
  }
}

function deleteEndpoint(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const e = w.liveEndpoint(project.id, ctx.params['endpoint_id'] ?? '')
  if (!e) return { status: 204 }
  const branch = w.branches.get(e.branchId)
  // An anonymized branch's read-write compute cannot be deleted (BEHAVIOUR.md, "Anonymized branches").
  if (branch && e.type === 'read_write') assertNotRestricted(branch, RESTRICTION.deleteRwEndpoint)
  assertUnlocked(ctx, project)
  const specs: OpSpec[] =
    w.endpointState(e).current === 'idle'
      ? []
      : [{ action: 'suspend_compute', branchId: e.branchId, endpointId: e.id }]
  const ops = w.schedule(project.id, specs)
  e.deletedAt = w.now()
  e.updatedAt = w.now()
  return {
    status: 200,
    body: { endpoint: endpointJson(w, e), operations: ops.map((o) => operationJson(w, o)) },
  }
}

function startEndpoint(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const e = requireEndpoint(ctx, project)
  if (e.disabled) throw new ApiError(400, 'endpoint is disabled')
  assertUnlocked(ctx, project)
  const ops = w.schedule(project.id, [{ action: 'start_compute', branchId: e.branchId, endpointId: e.id }])
  const [op] = ops
  if (op) w.transitionEndpoint(e, op.id, 'active')
  return {
    status: 200,
    body: { endpoint: endpointJson(w, e), operations: ops.map((o) => operationJson(w, o)) },
  }
}

function suspendEndpoint(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const e = requireEndpoint(ctx, project)
  const st = w.endpointState(e)
  if (st.pending !== undefined || st.current === 'init')
    throw new ApiError(423, 'endpoint is in some transitive state, could not suspend')
  assertUnlocked(ctx, project)
  const ops = w.schedule(project.id, [{ action: 'suspend_compute', branchId: e.branchId, endpointId: e.id }])
  const [op] = ops
  if (op) w.transitionEndpoint(e, op.id, 'idle')
  return {
    status: 200,
    body: { endpoint: endpointJson(w, e), operations: ops.map((o) => operationJson(w, o)) },
  }
}

function restartEndpoint(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const e = requireEndpoint(ctx, project)
  assertUnlocked(ctx, project)
  const ops = w.schedule(project.id, [
    { action: 'suspend_compute', branchId: e.branchId, endpointId: e.id },
    { action: 'start_compute', branchId: e.branchId, endpointId: e.id },
  ])
  const start = ops[1]
  if (start) w.transitionEndpoint(e, start.id, 'active')
  return {
    status: 200,
    body: { endpoint: endpointJson(w, e), operations: ops.map((o) => operationJson(w, o)) },
  }
}

export const endpointRoutes: Route[] = [
  { method: 'GET', path: '/projects/{project_id}/endpoints', handler: listProjectEndpoints },
  { method: 'POST', path: '/projects/{project_id}/endpoints', handler: createEndpoint },
  { method: 'GET', path: '/projects/{project_id}/endpoints/{endpoint_id}', handler: getEndpoint },
  { method: 'PATCH', path: '/projects/{project_id}/endpoints/{endpoint_id}', handler: updateEndpoint },
  { method: 'DELETE', path: '/projects/{project_id}/endpoints/{endpoint_id}', handler: deleteEndpoint },
  { method: 'POST', path: '/projects/{project_id}/endpoints/{endpoint_id}/start', handler: startEndpoint },
  {
    method: 'POST',
    path: '/projects/{project_id}/endpoints/{endpoint_id}/suspend',
    handler: suspendEndpoint,
  },
  {
    method: 'POST',
    path: '/projects/{project_id}/endpoints/{endpoint_id}/restart',
    handler: restartEndpoint,
  },
  {
    method: 'GET',
    path: '/projects/{project_id}/branches/{branch_id}/endpoints',
    handler: listBranchEndpoints,
  },
]
