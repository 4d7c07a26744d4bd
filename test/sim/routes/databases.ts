// Database routes: list, get, create, update, delete.

import {
  ApiError,
  assertBranchReady,
  assertUnlocked,
  bodyObject,
  optionalString,
  param,
  requireBranch,
  requireProject,
  requiredObject,
  requiredString,
  type Ctx,
  type Route,
} from '../router.js'
import { databaseJson, operationJson } from '../serialize.js'
import { roleKey, type SimBranch, type SimDatabase } from '../state.js'
import { configOps } from './roles.js'

function requireDatabase(ctx: Ctx, b: SimBranch): SimDatabase {
  const name = param(ctx, 'database_name')
  const d = ctx.world.databases.get(roleKey(b.id, name))
  if (!d) throw new ApiError(404, `database ${name} not found`)
  return d
}

function listDatabases(ctx: Ctx) {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  return { status: 200, body: { databases: ctx.world.branchDatabases(b.id).map(databaseJson) } }
}

function getDatabase(ctx: Ctx) {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  return { status: 200, body: { database: databaseJson(requireDatabase(ctx, b)) } }
}

function createDatabase(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const db = requiredObject(bodyObject(ctx), 'database')
  const name = requiredString(db, 'name')
  const owner = requiredString(db, 'owner_name')
  if (Buffer.byteLength(name, 'utf8') > 63) throw new ApiError(400, 'database name must not exceed 63 bytes')
  if (!w.roles.has(roleKey(b.id, owner))) throw new ApiError(400, `owner role "${owner}" does not exist`)
  if (w.databases.has(roleKey(b.id, name))) throw new ApiError(409, `database "${name}" already exists`)
  assertBranchReady(ctx, b)
  assertUnlocked(ctx, project)
  const now = w.now()
  const d: SimDatabase = {
    id: w.ids.databaseId(),
    branchId: b.id,
    name,
    ownerName: owner,
    createdAt: now,
    updatedAt: now,
  }
  w.databases.set(roleKey(b.id, name), d)
  w.backend.databaseChanged(b, name)
  const ops = w.schedule(project.id, configOps(w, b))
  return { status: 201, body: { database: databaseJson(d), operations: ops.map((o) => operationJson(w, o)) } }
}

function updateDatabase(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const d = requireDatabase(ctx, b)
  const upd = requiredObject(bodyObject(ctx), 'database')
  const name = optionalString(upd, 'name')
  const owner = optionalString(upd, 'owner_name')
  if (name !== undefined && name !== d.name && w.databases.has(roleKey(b.id, name)))
    throw new ApiError(409, `database "${name}" already exists`)
  if (owner !== undefined && !w.roles.has(roleKey(b.id, owner)))
    throw new ApiError(400, `owner role "${owner}" does not exist`)
  assertUnlocked(ctx, project)
  const oldName = d.name
  if (name !== undefined && name !== d.name) {
    w.databases.delete(roleKey(b.id, d.name))
    d.name = name
    w.databases.set(roleKey(b.id, name), d)
  }
  if (owner !== undefined) d.ownerName = owner
  d.updatedAt = w.now()
  w.backend.databaseChanged(b, d.name, oldName)
  const ops = w.schedule(project.id, configOps(w, b))
  return { status: 200, body: { database: databaseJson(d), operations: ops.map((o) => operationJson(w, o)) } }
}

function deleteDatabase(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const d = w.databases.get(roleKey(b.id, param(ctx, 'database_name')))
  if (!d) return { status: 204 }
  assertUnlocked(ctx, project)
  w.databases.delete(roleKey(b.id, d.name))
  w.backend.databaseChanged(b, d.name)
  const ops = w.schedule(project.id, configOps(w, b))
  return { status: 200, body: { database: databaseJson(d), operations: ops.map((o) => operationJson(w, o)) } }
}

export const databaseRoutes: Route[] = [
  { method: 'GET', path: '/projects/{project_id}/branches/{branch_id}/databases', handler: listDatabases },
  { method: 'POST', path: '/projects/{project_id}/branches/{branch_id}/databases', handler: createDatabase },
  {
    method: 'GET',
    path: '/projects/{project_id}/branches/{branch_id}/databases/{database_name}',
    handler: getDatabase,
  },
  {
    method: 'PATCH',
    path: '/projects/{project_id}/branches/{branch_id}/databases/{database_name}',
    handler: updateDatabase,
  },
  {
    method: 'DELETE',
    path: '/projects/{project_id}/branches/{branch_id}/databases/{database_name}',
    handler: deleteDatabase,
  },
]
