// Anonymized branch routes: create (POST /branch_anonymized), masking rules (GET, PATCH), start a
// masking run (POST …/anonymize) and its status (GET …/anonymized_status). The model and its
// sources are in ../anonymization.ts; the shapes are the API description's (the simulator checks
// every request against it, and openapi.test.ts every answer).

import {
  ANONYMIZED_RESTRICTIONS,
  anonState,
  anonymizationOf,
  outcomeWithoutBackend,
  setAnonymization,
  takeFault,
  type SimMaskRun,
  type SimMaskingRule,
} from '../anonymization.js'
import {
  ApiError,
  bodyObject,
  isRecord,
  optionalBoolean,
  optionalObject,
  requireBranch,
  requireProject,
  type Ctx,
  type Route,
} from '../router.js'
import { iso } from '../serialize.js'
import type { SimBranch, World } from '../state.js'
import { createBranchFrom, parseAnnotations } from './branches.js'

const FIELDS = ['database_name', 'schema_name', 'table_name', 'column_name'] as const

/**
 * A list of rules as the API description's MaskingRule has them (the four names required), with
 * "either masking_function … or masking_value" (BEHAVIOUR.md) read as exactly one of the two.
 * Neon's messages for these refusals are not documented.
 */
function parseRules(v: unknown, where: string): SimMaskingRule[] {
  if (!Array.isArray(v)) throw new ApiError(400, `${where} must be an array`)
  return v.map((r: unknown, i) => {
    const at = `${where}[${i}]`
    if (!isRecord(r)) throw new ApiError(400, `${at} must be an object`)
    const rule: Record<string, string> = {}
    for (const f of FIELDS) {
      const x = r[f]
      if (typeof x !== 'string' || x === '') throw new ApiError(400, `${at}.${f} is required`)
      rule[f] = x
    }
    const fn = r['masking_function']
    const value = r['masking_value']
    if (fn !== undefined && typeof fn !== 'string')
      throw new ApiError(400, `${at}.masking_function must be a string`)
    if (value !== undefined && typeof value !== 'string')
      throw new ApiError(400, `${at}.masking_value must be a string`)
    if ((fn === undefined) === (value === undefined))
      throw new ApiError(400, `${at}: exactly one of masking_function and masking_value is required`)
    return {
      ...(rule as unknown as SimMaskingRule),
      ...(fn !== undefined ? { masking_function: fn } : { masking_value: value as string }),
    }
  })
}

/** Starts a masking run with the branch's rules as they are now. */
export function startRun(w: World, b: SimBranch): void {
  const a = anonymizationOf(b)
  if (!a) throw new ApiError(500, 'not an anonymized branch')
  const run: SimMaskRun = {
    requestedAt: w.now(),
    rules: a.rules.map((r) => ({ ...r })),
    triggeredBy: w.ids.operationId() /* a uuid, as triggered_by is */,
  }
  a.run = run
  a.updatedAt = w.now()
  const fault = takeFault(w)
  if (fault) run.outcome = fault
  else if (w.backend.anonymize) {
    // The real masking: the run is `anonymizing` until it is done (anonymization.ts).
    w.backend.anonymize(b, run.rules, (o) => {
      run.outcome = o
    })
  } else run.outcome = outcomeWithoutBackend(run.rules)
}

function requireAnonymized(ctx: Ctx): { b: SimBranch; a: NonNullable<ReturnType<typeof anonymizationOf>> } {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const a = anonymizationOf(b)
  // "The branch must be an anonymized branch" (API description, startAnonymization); the status
  // Neon answers for one that is not is not documented.
  if (!a) throw new ApiError(400, `branch ${b.id} is not an anonymized branch`)
  return { b, a }
}

export function statusJson(w: World, b: SimBranch): Record<string, unknown> {
  const a = anonymizationOf(b)
  const s = anonState(w, b)
  if (!a || !s) throw new ApiError(500, 'not an anonymized branch')
  return {
    project_id: b.projectId,
    branch_id: b.id,
    state: s.state,
    status_message: s.message,
    created_at: iso(a.createdAt),
    updated_at: iso(Math.max(a.updatedAt, s.since)),
    ...(s.failedAt !== undefined ? { failed_at: iso(s.failedAt) } : {}),
    ...(s.run
      ? {
          last_run: {
            started_at: iso(s.run.startedAt),
            ...(s.run.completedAt !== undefined ? { completed_at: iso(s.run.completedAt) } : {}),
            triggered_by: s.run.triggeredBy,
            triggered_by_username: 'Neon Simulator',
            ...(s.run.maskedColumns !== undefined ? { masked_columns: s.run.maskedColumns } : {}),
          },
        }
      : {}),
  }
}

/**
 * "Creates a new branch with anonymized data … provide `masking_rules` to set initial masking rules
 * … and `start_anonymization` to automatically start anonymization after creation" (API
 * description). The branch is made as POST /branches makes it from `branch_create` (the same
 * checks, 409, 422, 423), with the request's annotations and `anonymized`, which Neon's CLI reads
 * to label a branch `[anon]` (BEHAVIOUR.md).
 */
function createAnonymized(ctx: Ctx) {
  const w = ctx.world
  const body = bodyObject(ctx)
  const rules = parseRules(body['masking_rules'] ?? [], 'masking_rules')
  const start = optionalBoolean(body, 'start_anonymization') ?? false
  const branchCreate = optionalObject(body, 'branch_create') ?? {}
  const annotations = { ...(parseAnnotations(body['annotation_value']) ?? {}), anonymized: 'true' }
  const now = w.now()
  const made = createBranchFrom(ctx, { ...branchCreate, annotation_value: annotations }, (b) => {
    setAnonymization(b, { rules, createdAt: now, updatedAt: now })
    b.restrictedActions = ANONYMIZED_RESTRICTIONS.map((r) => ({ ...r }))
  })
  // After the create's operations were scheduled, so that they do not wait for the masking.
  if (start) startRun(w, made.branch)
  return { status: made.status, body: made.body }
}

function getRules(ctx: Ctx) {
  const { a } = requireAnonymized(ctx)
  return { status: 200, body: { masking_rules: a.rules } }
}

/** "This will replace all existing masking rules for the branch" (API description). */
function updateRules(ctx: Ctx) {
  const { a } = requireAnonymized(ctx)
  const body = bodyObject(ctx)
  a.rules = parseRules(body['masking_rules'], 'masking_rules')
  a.updatedAt = ctx.world.now()
  return { status: 200, body: { masking_rules: a.rules } }
}

/**
 * "Starts the anonymization process for an anonymized branch that is in the initialized, error,
 * or anonymized state" (API description); any other state is refused, with a status Neon does
 * not document.
 */
function anonymize(ctx: Ctx) {
  const w = ctx.world
  const { b } = requireAnonymized(ctx)
  const state = anonState(w, b)?.state
  if (state !== 'initialized' && state !== 'error' && state !== 'anonymized')
    throw new ApiError(400, `anonymization cannot start while the branch is '${state ?? 'unknown'}'`)
  startRun(w, b)
  return { status: 200, body: statusJson(w, b) }
}

/** "Only anonymized branches will have status information available" (API description): 404 otherwise. */
function getStatus(ctx: Ctx) {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  if (!anonymizationOf(b))
    throw new ApiError(404, `branch ${b.id} has no anonymized status: it is not an anonymized branch`)
  return { status: 200, body: statusJson(ctx.world, b) }
}

export const anonymizationRoutes: Route[] = [
  { method: 'POST', path: '/projects/{project_id}/branch_anonymized', handler: createAnonymized },
  { method: 'GET', path: '/projects/{project_id}/branches/{branch_id}/masking_rules', handler: getRules },
  {
    method: 'PATCH',
    path: '/projects/{project_id}/branches/{branch_id}/masking_rules',
    handler: updateRules,
  },
  { method: 'POST', path: '/projects/{project_id}/branches/{branch_id}/anonymize', handler: anonymize },
  {
    method: 'GET',
    path: '/projects/{project_id}/branches/{branch_id}/anonymized_status',
    handler: getStatus,
  },
]
