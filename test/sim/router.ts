// Shared routing types and request helpers.

import type { World, SimProject, SimBranch, SimEndpoint } from './state.js'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = '',
  ) {
    super(message)
  }
}

export const LOCKED_MESSAGE =
  'project already has running conflicting operations, scheduling of new ones is prohibited'

export interface Ctx {
  world: World
  params: Record<string, string>
  query: Record<string, string>
  body: unknown
}

export interface Reply {
  status: number
  body?: unknown
}

export interface Route {
  method: string
  /** Template relative to /api/v2, e.g. `/projects/{project_id}/branches`. */
  path: string
  /** Synchronous, except where a real backend must be asked (GET …/schema with PostgreSQL). */
  handler: (ctx: Ctx) => Reply | Promise<Reply>
}

export function param(ctx: Ctx, name: string): string {
  const v = ctx.params[name]
  if (v === undefined) throw new ApiError(500, `missing path parameter ${name}`)
  return v
}

export function requireProject(ctx: Ctx): SimProject {
  const id = param(ctx, 'project_id')
  const p = ctx.world.project(id)
  if (!p) throw new ApiError(404, `project not found`)
  return p
}

export function requireBranch(ctx: Ctx, project: SimProject, name = 'branch_id'): SimBranch {
  const b = ctx.world.liveBranch(project.id, param(ctx, name))
  if (!b) throw new ApiError(404, 'branch not found')
  return b
}

export function requireEndpoint(ctx: Ctx, project: SimProject): SimEndpoint {
  const e = ctx.world.liveEndpoint(project.id, param(ctx, 'endpoint_id'))
  if (!e) throw new ApiError(404, 'endpoint not found')
  return e
}

/** 423 while any operation of the project is still in progress. */
export function assertUnlocked(ctx: Ctx, project: SimProject): void {
  if (ctx.world.isLocked(project.id)) throw new ApiError(423, LOCKED_MESSAGE)
}

/**
 * 422 BRANCHES_LIMIT_EXCEEDED when one more branch would pass the project's limit. The code and
 * the message follow Neon's documented answer for the analogous project limit, `422
 * {"code":"PROJECTS_LIMIT_EXCEEDED","message":"user projects limit of 1 exceeded, got 1"}`
 * (BEHAVIOUR.md, "Limits of a project"; the branch code itself is undocumented). Every live branch
 * counts, the default one included, as `GET /branches/count` counts them. Whether Neon checks the
 * limit before or after the project lock is undocumented: here it comes first (a refusal needs
 * no lock).
 */
export function assertBranchRoom(ctx: Ctx, project: SimProject): void {
  const limit = project.branchesLimit
  if (limit === undefined) return
  const count = ctx.world.liveBranches(project.id).length
  if (count >= limit) {
    throw new ApiError(422, `branches limit of ${limit} exceeded, got ${count}`, 'BRANCHES_LIMIT_EXCEEDED')
  }
}

/** 422 for sub-resource mutations on a branch that is still being created. */
export function assertBranchReady(ctx: Ctx, branch: SimBranch): void {
  if (ctx.world.branchState(branch).current !== 'ready') throw new ApiError(422, 'branch not ready yet')
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The request body as an object (an absent body is `{}`); anything else is a 400. */
export function bodyObject(ctx: Ctx): Record<string, unknown> {
  if (ctx.body === undefined) return {}
  if (!isRecord(ctx.body)) throw new ApiError(400, 'request body must be a JSON object')
  return ctx.body
}

export function optionalObject(o: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (!isRecord(v)) throw new ApiError(400, `${key} must be an object`)
  return v
}

export function requiredObject(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = optionalObject(o, key)
  if (!v) throw new ApiError(400, `${key} is required`)
  return v
}

export function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new ApiError(400, `${key} must be a string`)
  return v
}

export function requiredString(o: Record<string, unknown>, key: string): string {
  const v = optionalString(o, key)
  if (v === undefined || v === '') throw new ApiError(400, `${key} is required`)
  return v
}

export function optionalBoolean(o: Record<string, unknown>, key: string): boolean | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw new ApiError(400, `${key} must be a boolean`)
  return v
}

export function optionalNumber(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ApiError(400, `${key} must be a number`)
  return v
}

/** Parses a `limit` query parameter within [min, max]; undefined when absent. */
export function queryLimit(ctx: Ctx, min: number, max: number): number | undefined {
  const raw = ctx.query['limit']
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw)) throw new ApiError(400, `limit must be an integer between ${min} and ${max}`)
  const n = Number(raw)
  if (n < min || n > max) throw new ApiError(400, `limit must be an integer between ${min} and ${max}`)
  return n
}

export function encodeCursor(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url')
}

export function decodeCursor(raw: string): unknown {
  try {
    return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown
  } catch {
    throw new ApiError(400, 'invalid cursor')
  }
}
