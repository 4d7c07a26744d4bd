// Role routes: list, get, create, reveal_password, reset_password, delete.

import {
  ApiError,
  assertBranchReady,
  assertUnlocked,
  bodyObject,
  param,
  requireBranch,
  requireProject,
  requiredObject,
  requiredString,
  type Ctx,
  type Route,
} from '../router.js'
import { operationJson, roleJson } from '../serialize.js'
import { roleKey, type OpSpec, type SimBranch, type SimRole, type World } from '../state.js'

/** apply_config on the branch's running read-write compute, as Neon does for role and database changes. */
export function configOps(w: World, b: SimBranch): OpSpec[] {
  return w
    .branchEndpoints(b.id)
    .filter((e) => w.endpointState(e).current !== 'idle')
    .map((e) => ({ action: 'apply_config', branchId: b.id, endpointId: e.id }))
}

function requireRole(ctx: Ctx, b: SimBranch): SimRole {
  const name = param(ctx, 'role_name')
  const r = ctx.world.roles.get(roleKey(b.id, name))
  if (!r) throw new ApiError(404, `role ${name} not found`)
  return r
}

function listRoles(ctx: Ctx) {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  return { status: 200, body: { roles: ctx.world.branchRoles(b.id).map((r) => roleJson(r)) } }
}

function getRole(ctx: Ctx) {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  return { status: 200, body: { role: roleJson(requireRole(ctx, b)) } }
}

function createRole(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const role = requiredObject(bodyObject(ctx), 'role')
  const name = requiredString(role, 'name')
  if (Buffer.byteLength(name, 'utf8') > 63) throw new ApiError(400, 'role name must not exceed 63 bytes')
  if (w.roles.has(roleKey(b.id, name))) throw new ApiError(409, `role "${name}" already exists`)
  assertBranchReady(ctx, b)
  assertUnlocked(ctx, project)
  const now = w.now()
  const r: SimRole = {
    branchId: b.id,
    name,
    password: w.ids.password(),
    protected: false,
    createdAt: now,
    updatedAt: now,
  }
  w.roles.set(roleKey(b.id, name), r)
  w.backend.roleChanged(b, name)
  const ops = w.schedule(project.id, configOps(w, b))
  return { status: 201, body: { role: roleJson(r, true), operations: ops.map((o) => operationJson(w, o)) } }
}

function revealPassword(ctx: Ctx) {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  return { status: 200, body: { password: requireRole(ctx, b).password } }
}

function resetPassword(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const r = requireRole(ctx, b)
  assertBranchReady(ctx, b)
  assertUnlocked(ctx, project)
  r.password = w.ids.password()
  r.updatedAt = w.now()
  w.backend.roleChanged(b, r.name)
  const ops = w.schedule(project.id, configOps(w, b))
  return { status: 200, body: { role: roleJson(r, true), operations: ops.map((o) => operationJson(w, o)) } }
}

function deleteRole(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const r = w.roles.get(roleKey(b.id, param(ctx, 'role_name')))
  if (!r) return { status: 204 }
  const owned = w.branchDatabases(b.id).filter((d) => d.ownerName === r.name)
  if (owned.length > 0)
    throw new ApiError(400, `role "${r.name}" owns database(s): ${owned.map((d) => d.name).join(', ')}`)
  assertUnlocked(ctx, project)
  w.roles.delete(roleKey(b.id, r.name))
  w.backend.roleChanged(b, r.name)
  const ops = w.schedule(project.id, configOps(w, b))
  return { status: 200, body: { role: roleJson(r), operations: ops.map((o) => operationJson(w, o)) } }
}

export const roleRoutes: Route[] = [
  { method: 'GET', path: '/projects/{project_id}/branches/{branch_id}/roles', handler: listRoles },
  { method: 'POST', path: '/projects/{project_id}/branches/{branch_id}/roles', handler: createRole },
  { method: 'GET', path: '/projects/{project_id}/branches/{branch_id}/roles/{role_name}', handler: getRole },
  {
    method: 'DELETE',
    path: '/projects/{project_id}/branches/{branch_id}/roles/{role_name}',
    handler: deleteRole,
  },
  {
    method: 'GET',
    path: '/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password',
    handler: revealPassword,
  },
  {
    method: 'POST',
    path: '/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reset_password',
    handler: resetPassword,
  },
]
