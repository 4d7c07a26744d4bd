// Services of a branch beside its Postgres: Neon Auth and the Data API (read routes only).

import { ApiError, param, requireBranch, requireProject, type Ctx, type Route } from '../router.js'
import { dataApiJson, neonAuthJson } from '../serialize.js'

/**
 * GET …/auth answers the branch's Neon Auth integration, or 404 when Neon Auth is not enabled on
 * it (BEHAVIOUR.md, "Neon Auth and the Data API"; Neon's create-branch-action reads a 404 so). The
 * message is not documented.
 */
function getNeonAuth(ctx: Ctx) {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  if (!b.neonAuth) throw new ApiError(404, 'Neon Auth is not enabled for this branch')
  return { status: 200, body: neonAuthJson(ctx.world, b, b.neonAuth) }
}

/**
 * GET …/data-api/{database_name} answers the Data API of that database, or 404 when it is not
 * enabled for it (BEHAVIOUR.md, as above). The message is not documented.
 */
function getDataApi(ctx: Ctx) {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const database = param(ctx, 'database_name')
  if (!b.dataApi?.includes(database) || !ctx.world.branchDatabases(b.id).some((d) => d.name === database))
    throw new ApiError(404, `the Data API is not enabled for database ${database} of this branch`)
  return { status: 200, body: dataApiJson(ctx.world, b, database) }
}

export const branchServiceRoutes: Route[] = [
  { method: 'GET', path: '/projects/{project_id}/branches/{branch_id}/auth', handler: getNeonAuth },
  {
    method: 'GET',
    path: '/projects/{project_id}/branches/{branch_id}/data-api/{database_name}',
    handler: getDataApi,
  },
]
