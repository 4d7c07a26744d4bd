// Schema routes: GET …/schema and GET …/compare_schema.
//
// Sources: BEHAVIOUR.md, section Schemas (the answers `{"sql"}` and `{"diff"}`, pg_dump
// --schema-only, the unified diff from the base to the branch, empty when equal); Neon's API description
// (getProjectBranchSchema, getProjectBranchSchemaComparison: the parameters, and "`lsn` and
// `timestamp` cannot be specified at the same time"). With the real PostgreSQL backend the schema
// is pg_dump's of the branch's real database; without it, what a test set with sim.setSchema.

import { createPatch } from 'diff'
import { ApiError, requireBranch, requireProject, type Ctx, type Reply, type Route } from '../router.js'
import { roleKey, type SchemaVersion, type SimBranch, type SimProject, type World } from '../state.js'

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
// The LSN form Neon's API and neonctl use (neonctl utils/formats.js LSN_REGEX).
const LSN = /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/

interface Point {
  lsn?: string
  timestamp?: number
}

function point(ctx: Ctx, lsnKey: string, timestampKey: string): Point {
  const lsn = ctx.query[lsnKey]
  const ts = ctx.query[timestampKey]
  if (lsn !== undefined && ts !== undefined) {
    throw new ApiError(400, `${lsnKey} and ${timestampKey} cannot be specified at the same time`)
  }
  if (lsn !== undefined && !LSN.test(lsn)) throw new ApiError(400, `${lsnKey} is not a valid LSN`)
  if (ts !== undefined && (!RFC3339.test(ts) || Number.isNaN(Date.parse(ts)))) {
    throw new ApiError(400, `${timestampKey} must be an RFC 3339 timestamp`)
  }
  return { ...(lsn !== undefined ? { lsn } : {}), ...(ts !== undefined ? { timestamp: Date.parse(ts) } : {}) }
}

function dbName(ctx: Ctx): string {
  const name = ctx.query['db_name']
  // Required by Neon's API description; Neon's wording for its absence is not documented.
  if (name === undefined || name === '') throw new ApiError(400, 'db_name is required')
  return name
}

/** `0/1A2B` as a number, to order LSNs. */
function lsnValue(lsn: string): number {
  const [hi = '0', lo = '0'] = lsn.split('/')
  return parseInt(hi, 16) * 2 ** 32 + parseInt(lo, 16)
}

async function schemaOf(w: World, branch: SimBranch, database: string, at: Point): Promise<string> {
  const db = w.databases.get(roleKey(branch.id, database))
  // What Neon answers for a database the branch does not have is not documented: a 404 naming it.
  if (!db) throw new ApiError(404, `database "${database}" not found`)
  if (w.backend.dumpSchema) {
    // A real cluster has no history to read from. No source: the simulator says so rather than
    // answering with the head for a point in the past.
    if (at.lsn !== undefined || at.timestamp !== undefined) {
      throw new ApiError(
        400,
        "the simulator's PostgreSQL backend keeps no history: lsn and timestamp are not supported",
      )
    }
    return w.backend.dumpSchema(branch, database)
  }
  return versionAt(db.schema ?? [], at)?.sql ?? ''
}

/** The version current at `at` (the latest when no point is given), or undefined before the first. */
function versionAt(history: readonly SchemaVersion[], at: Point): SchemaVersion | undefined {
  let found: SchemaVersion | undefined
  for (const v of history) {
    if (at.lsn !== undefined && lsnValue(v.lsn) > lsnValue(at.lsn)) break
    if (at.timestamp !== undefined && v.at > at.timestamp) break
    found = v
  }
  return found
}

function header(b: SimBranch, p: Point, lsnOrTs: string | undefined): string {
  return `(Branch: ${b.id}${p.lsn !== undefined || p.timestamp !== undefined ? ` at ${lsnOrTs}` : ''})`
}

async function getSchema(ctx: Ctx): Promise<Reply> {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const name = dbName(ctx)
  const sql = await schemaOf(ctx.world, b, name, point(ctx, 'lsn', 'timestamp'))
  return { status: 200, body: { sql } }
}

function baseBranch(ctx: Ctx, project: SimProject, b: SimBranch): SimBranch {
  const id = ctx.query['base_branch_id']
  if (id !== undefined) {
    const base = ctx.world.liveBranch(project.id, id)
    if (!base) throw new ApiError(404, `base branch ${id} not found`)
    return base
  }
  // Optional in Neon's API description, with no word on what its absence means: the branch's parent,
  // which is what neonctl's schema-diff compares with by default (schema_diff.js, `^parent`).
  const parent = b.parentId !== undefined ? ctx.world.liveBranch(project.id, b.parentId) : undefined
  if (!parent) throw new ApiError(400, 'base_branch_id is required: the branch has no parent')
  return parent
}

async function compareSchema(ctx: Ctx): Promise<Reply> {
  const project = requireProject(ctx)
  const b = requireBranch(ctx, project)
  const name = dbName(ctx)
  const base = baseBranch(ctx, project, b)
  const at = point(ctx, 'lsn', 'timestamp')
  const baseAt = point(ctx, 'base_lsn', 'base_timestamp')
  const [baseSql, sql] = await Promise.all([
    schemaOf(ctx.world, base, name, baseAt),
    schemaOf(ctx.world, b, name, at),
  ])
  if (baseSql === sql) return { status: 200, body: { diff: '' } }
  // Neon's exact file headers are not documented: the ones neonctl writes (schema_diff.js).
  const diff = createPatch(
    `Database: ${name}`,
    baseSql,
    sql,
    header(base, baseAt, ctx.query['base_lsn'] ?? ctx.query['base_timestamp']),
    header(b, at, ctx.query['lsn'] ?? ctx.query['timestamp']),
  ).replace(/^([^\n]+)\n([^\n]+)\n/m, '')
  return { status: 200, body: { diff } }
}

export const schemaRoutes: Route[] = [
  { method: 'GET', path: '/projects/{project_id}/branches/{branch_id}/schema', handler: getSchema },
  {
    method: 'GET',
    path: '/projects/{project_id}/branches/{branch_id}/compare_schema',
    handler: compareSchema,
  },
]
