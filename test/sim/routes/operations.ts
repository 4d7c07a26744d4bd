// Operation routes: get one, list (newest first, cursor pagination).

import {
  ApiError,
  decodeCursor,
  encodeCursor,
  param,
  queryLimit,
  requireProject,
  type Ctx,
  type Route,
} from '../router.js'
import { operationJson } from '../serialize.js'

function getOperation(ctx: Ctx) {
  const project = requireProject(ctx)
  const op = ctx.world.operations.get(param(ctx, 'operation_id'))
  if (!op || op.projectId !== project.id) throw new ApiError(404, 'operation not found')
  return { status: 200, body: { operation: operationJson(ctx.world, op) } }
}

function listOperations(ctx: Ctx) {
  const w = ctx.world
  const project = requireProject(ctx)
  // Without `limit` every operation comes back (Neon: "the number of operations returned can be large").
  const limit = queryLimit(ctx, 1, 1000)
  let ops = [...w.operations.values()].filter((o) => o.projectId === project.id).sort((a, b) => b.seq - a.seq)
  const cursorRaw = ctx.query['cursor']
  if (cursorRaw) {
    const c = decodeCursor(cursorRaw)
    if (typeof c !== 'number') throw new ApiError(400, 'invalid cursor')
    ops = ops.filter((o) => o.seq < c)
  }
  if (limit !== undefined) ops = ops.slice(0, limit)
  const last = ops[ops.length - 1]
  return {
    status: 200,
    body: {
      operations: ops.map((o) => operationJson(w, o)),
      ...(last && limit !== undefined ? { pagination: { cursor: encodeCursor(last.seq), limit } } : {}),
    },
  }
}

export const operationRoutes: Route[] = [
  { method: 'GET', path: '/projects/{project_id}/operations', handler: listOperations },
  { method: 'GET', path: '/projects/{project_id}/operations/{operation_id}', handler: getOperation },
]
