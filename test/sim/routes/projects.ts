// Project routes: list, create, get, update, delete, connection_uri.

import {
  ApiError,
  bodyObject,
  decodeCursor,
  encodeCursor,
  optionalNumber,
  optionalObject,
  optionalString,
  queryLimit,
  requireProject,
  type Ctx,
  type Route,
} from '../router.js'
import {
  branchJson,
  connectionDetails,
  connectionUri,
  databaseJson,
  endpointJson,
  operationJson,
  projectJson,
  projectListItemJson,
  roleJson,
} from '../serialize.js'
import { poolerHost, roleKey } from '../state.js'

function listProjects(ctx: Ctx) {
  const w = ctx.world
  const limit = queryLimit(ctx, 1, 400) ?? 10
  const search = ctx.query['search']?.toLowerCase()
  let items = [...w.projects.values()].filter(
    (p) => !search || p.id.toLowerCase().includes(search) || p.name.toLowerCase().includes(search),
  )
  items.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const cursorRaw = ctx.query['cursor']
  if (cursorRaw) {
    const c = decodeCursor(cursorRaw)
    const idx = typeof c === 'string' ? items.findIndex((p) => p.id === c) : -1
    if (idx < 0) throw new ApiError(400, 'invalid cursor')
    items = items.slice(idx + 1)
  }
  items = items.slice(0, limit)
  const last = items[items.length - 1]
  return {
    status: 200,
    body: {
      projects: items.map(projectListItemJson),
      ...(last ? { pagination: { cursor: encodeCursor(last.id), limit } } : {}),
      applications: {},
      integrations: {},
    },
  }
}

function createProject(ctx: Ctx) {
  const w = ctx.world
  const body = bodyObject(ctx)
  const p = optionalObject(body, 'project') ?? {}
  const name = optionalString(p, 'name')
  if (name !== undefined && (name.length < 1 || name.length > 256))
    throw new ApiError(400, 'project name must be 1 to 256 characters')
  const pg = optionalNumber(p, 'pg_version')
  if (pg !== undefined && ![14, 15, 16, 17].includes(pg)) throw new ApiError(400, 'unsupported pg_version')
  const br = optionalObject(p, 'branch') ?? {}
  const database = optionalString(br, 'database_name') ?? 'neondb'
  const regionId = optionalString(p, 'region_id')
  const created = w.newProject({
    ...(name !== undefined ? { name } : {}),
    ...(regionId !== undefined ? { regionId } : {}),
    ...(pg !== undefined ? { pgVersion: pg } : {}),
    defaultBranchName: optionalString(br, 'name') ?? 'main',
    role: optionalString(br, 'role_name') ?? `${database}_owner`,
    database,
  })
  const ops = w.schedule(created.project.id, [
    { action: 'create_timeline', branchId: created.branch.id },
    { action: 'start_compute', branchId: created.branch.id, endpointId: created.endpoint.id },
  ])
  created.branch.createOpId = ops[0]?.id
  created.endpoint.baseState = 'init'
  // Made active by its start_compute, not from the start (usage.ts).
  created.endpoint.activity = [{ at: created.endpoint.createdAt, state: 'init' }]
  if (ops[1]) w.transitionEndpoint(created.endpoint, ops[1].id, 'active')
  return {
    status: 201,
    body: {
      project: projectJson(w, created.project),
      connection_uris: [connectionDetails(created.role, created.database, created.endpoint)],
      roles: [roleJson(created.role, true)],
      databases: [databaseJson(created.database)],
      operations: ops.map((o) => operationJson(w, o)),
      branch: branchJson(w, created.branch),
      endpoints: [endpointJson(w, created.endpoint)],
    },
  }
}

function getProject(ctx: Ctx) {
  return { status: 200, body: { project: projectJson(ctx.world, requireProject(ctx)) } }
}

function updateProject(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const p = optionalObject(bodyObject(ctx), 'project')
  if (!p) throw new ApiError(400, 'project is required')
  const name = optionalString(p, 'name')
  if (name !== undefined) {
    if (name.length < 1 || name.length > 256)
      throw new ApiError(400, 'project name must be 1 to 256 characters')
    project.name = name
  }
  project.updatedAt = w.now()
  return { status: 200, body: { project: projectJson(w, project), operations: [] } }
}

function deleteProject(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const body = { project: projectJson(w, project) }
  const branchIds = new Set(
    [...w.branches.values()].filter((b) => b.projectId === project.id).map((b) => b.id),
  )
  // The project goes with every branch, soft-deleted ones included: their data goes for good.
  for (const id of branchIds) {
    const b = w.branches.get(id)
    if (b && b.deletedAt === undefined) w.backend.branchDeleted(b)
    if (b && !b.purged) w.backend.branchPurged(b)
  }
  for (const id of branchIds) w.branches.delete(id)
  for (const [k, e] of w.endpoints) if (e.projectId === project.id) w.endpoints.delete(k)
  for (const [k, r] of w.roles) if (branchIds.has(r.branchId)) w.roles.delete(k)
  for (const [k, d] of w.databases) if (branchIds.has(d.branchId)) w.databases.delete(k)
  for (const [k, o] of w.operations) if (o.projectId === project.id) w.operations.delete(k)
  w.projects.delete(project.id)
  return { status: 200, body }
}

function getConnectionUri(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const dbName = ctx.query['database_name']
  const roleName = ctx.query['role_name']
  if (!dbName) throw new ApiError(400, 'database_name is a required query parameter')
  if (!roleName) throw new ApiError(400, 'role_name is a required query parameter')
  const branchId = ctx.query['branch_id'] || project.defaultBranchId
  const branch = w.liveBranch(project.id, branchId)
  if (!branch) throw new ApiError(404, `branch ${branchId} not found`)
  const endpointId = ctx.query['endpoint_id']
  let endpoint
  if (endpointId) {
    endpoint = w.liveEndpoint(project.id, endpointId)
    if (!endpoint) throw new ApiError(404, `endpoint ${endpointId} not found`)
    if (endpoint.branchId !== branch.id)
      throw new ApiError(400, `endpoint ${endpointId} does not belong to branch ${branch.id}`)
  } else {
    endpoint = w.readWriteEndpoint(branch.id)
    if (!endpoint) throw new ApiError(404, `branch ${branch.id} has no read_write endpoint`)
  }
  const role = w.roles.get(roleKey(branch.id, roleName))
  if (!role) throw new ApiError(404, `role ${roleName} not found`)
  if (!w.databases.has(roleKey(branch.id, dbName))) throw new ApiError(404, `database ${dbName} not found`)
  const pooledRaw = ctx.query['pooled']
  if (pooledRaw !== undefined && pooledRaw !== 'true' && pooledRaw !== 'false')
    throw new ApiError(400, 'pooled must be true or false')
  const pooled = pooledRaw !== 'false'
  const host = pooled ? poolerHost(endpoint.host) : endpoint.host
  return {
    status: 200,
    body: {
      uri: connectionUri({
        role: role.name,
        password: role.password,
        host,
        database: dbName,
        query: 'channel_binding=require&sslmode=require',
      }),
    },
  }
}

export const projectRoutes: Route[] = [
  { method: 'GET', path: '/projects', handler: listProjects },
  { method: 'POST', path: '/projects', handler: createProject },
  { method: 'GET', path: '/projects/{project_id}', handler: getProject },
  { method: 'PATCH', path: '/projects/{project_id}', handler: updateProject },
  { method: 'DELETE', path: '/projects/{project_id}', handler: deleteProject },
  { method: 'GET', path: '/projects/{project_id}/connection_uri', handler: getConnectionUri },
]
