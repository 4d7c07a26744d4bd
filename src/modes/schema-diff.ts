import type { Inputs } from '../inputs.js'
import { resolveBranchName } from '../github/branch-target.js'
import { NeonApiError } from '../neon/errors.js'
import { findBranch } from '../neon/lookup.js'
import type { Branch } from '../neon/types.js'
import {
  boundedSchemaPatch,
  countChanges,
  MAX_DIFF_EDIT_LINES,
  textSize,
  type SchemaSide,
} from '../util/schema-patch.js'
import { redactSchemaSecrets } from '../util/schema-secrets.js'
import { foreignBranchError, ownership } from './ownership.js'
import { ModeRun } from './run.js'
import type { ModeDeps, ModeResult, SchemaTooLarge } from './types.js'
import { tooLargeText } from './schema-too-large.js'
import { allFinished } from '../util/settle.js'
import { escapeControl as shown } from '../util/log-text.js'

/**
 * schema-diff: what the pull request's migrations did to `database`. Reads the schema of the
 * branch (at its head) and of its parent, or of `parent_branch` (optionally `name@<LSN>` or
 * `name@<timestamp>`), and diffs them as `neonctl branches schema-diff` does. Read-only: it never
 * changes anything in Neon, so `dry_run` makes no difference to it.
 */
export async function schemaDiffMode(deps: ModeDeps, inputs: Inputs): Promise<ModeResult> {
  const name = resolveBranchName(inputs, deps.context)
  const run = new ModeRun(deps, inputs)
  const { neon, log } = deps
  const db = inputs.database
  try {
    const found = await findBranch(neon, run.project, name)
    if (!found) {
      throw new Error(
        `branch '${name}' does not exist in project ${run.project}; schema-diff compares an existing branch ` +
          `(run mode 'create' first, or set 'branch_name')`,
      )
    }
    const branch = found.branch
    // Its schema would go into this pull request's comment: another repository's is not ours to show.
    const owner = ownership(found.annotation, deps.context)
    if (owner.kind === 'foreign') throw foreignBranchError(branch, owner, deps.context, run.project)
    const base = await resolveBase(run, branch)
    const baseSide: SchemaSide = { branchId: base.branch.id, ...base.at }
    const branchSide: SchemaSide = { branchId: branch.id }
    log.info(
      `Comparing the schema of database '${db}' on '${branch.name}' (${branch.id}) with ` +
        `'${base.label}' (${base.branch.id})`,
    )
    // The two reads are independent: side by side, as neonctl does them. Both are let finish, so
    // no request is still running when a failure is reported, and the base's failure comes first.
    const [baseSql, branchSql] = await allFinished([
      readSchema(run, base.branch, baseSide),
      readSchema(run, branch, branchSide),
    ])
    // A user mapping's password or a subscription's connection string would go into a public
    // comment: replaced by *** in the diff (so in the comment, the summary and the output alike),
    // on the plain text, before any escaping. A password that changed still shows as a changed line.
    // What was found is never registered with add-mask: the schema is the pull request's text, and
    // masking at its word would let it hide any word from every later step's log (issue 30).
    const patch = diffWithinDeadline(run, baseSide, branchSide, baseSql, branchSql)
    const redacted = redactSchemaSecrets(patch.diff)
    if (redacted.secrets.length > 0) {
      log.info('The schema diff holds credentials (user mapping options, connection strings): shown as ***')
    }
    const diff = redacted.text
    const { added, removed } = countChanges(diff)
    if (patch.tooLarge) {
      log.warning(
        `The schemas differ, but the diff was too large to compute: ${tooLargeText(patch.tooLarge)}`,
      )
    } else {
      log.info(diff === '' ? 'No schema changes' : `Schema changes: ${added} lines added, ${removed} removed`)
    }
    return {
      mode: 'schema-diff',
      branch: {
        id: branch.id,
        name: branch.name,
        parentId: base.branch.id,
        parentName: base.label,
        expiresAt: branch.expires_at ?? null,
      },
      schema: {
        database: db,
        base: { id: base.branch.id, name: base.label, ...base.at },
        branch: { id: branch.id, name: branch.name },
        diff,
        added,
        removed,
        ...(patch.tooLarge ? { tooLarge: patch.tooLarge } : {}),
      },
      changes: run.changes,
      timings: run.timings(),
    }
  } catch (e) {
    throw run.fail(`schema-diff of database '${db}' on branch '${name}'`, e)
  }
}

interface Base {
  branch: Branch
  /** The base as the user named it, e.g. `main@2030-01-31T18:00:00Z`. */
  label: string
  at: { lsn?: string; timestamp?: string }
}

/** `parent_branch` when given (it must exist), else the branch's own parent. */
async function resolveBase(run: ModeRun, branch: Branch): Promise<Base> {
  const ref = run.inputs.parentBranch
  if (ref) {
    // inputs.ts split `name@<point>` already (neonctl's form, src/neon/point-in-time.ts).
    const point = run.inputs.parentPoint
    const found = await findBranch(run.deps.neon, run.project, ref)
    if (!found) throw new Error(`parent_branch '${ref}' does not exist in project ${run.project}`)
    const at =
      point?.lsn !== undefined
        ? { lsn: point.lsn }
        : point?.timestamp !== undefined
          ? { timestamp: point.timestamp }
          : {}
    const suffix = at.lsn ?? at.timestamp
    return { branch: found.branch, label: suffix ? `${found.branch.name}@${suffix}` : found.branch.name, at }
  }
  if (!branch.parent_id) {
    const kind = branch.init_source === 'schema-only' ? 'a schema-only branch' : 'a root branch'
    throw new Error(
      `'${shown(branch.name)}' (${branch.id}) is ${kind} with no parent to compare with; set 'parent_branch'`,
    )
  }
  try {
    const parent = await run.deps.neon.getBranch(run.project, branch.parent_id)
    return { branch: parent, label: parent.name, at: {} }
  } catch (e) {
    if (e instanceof NeonApiError && e.status === 404) {
      throw new Error(
        `the parent ${branch.parent_id} of '${shown(branch.name)}' no longer exists; set 'parent_branch'`,
        { cause: e },
      )
    }
    throw e
  }
}

/**
 * One side's schema. When Neon refuses with a 4xx, the branch's databases are listed: a database
 * missing from the branch is then named as such, rather than left to whatever Neon's message says.
 */
async function readSchema(run: ModeRun, branch: Branch, side: SchemaSide): Promise<string> {
  const { neon } = run.deps
  const db = run.inputs.database
  try {
    return await neon.getBranchSchema(run.project, branch.id, db, side)
  } catch (e) {
    if (!(e instanceof NeonApiError) || e.status < 400 || e.status >= 500 || e.status === 429) throw e
    let names: string[]
    try {
      names = (await neon.listDatabases(run.project, branch.id)).map((d) => d.name)
    } catch {
      throw e
    }
    if (names.includes(db)) throw e
    throw new Error(
      `database '${db}' does not exist on branch '${shown(branch.name)}' (${branch.id}); it has ` +
        `${names.length ? names.map((n) => `'${shown(n)}'`).join(', ') : 'no databases'}. Set 'database' to one of them ` +
        `(Neon answered: ${e.message})`,
      { cause: e },
    )
  }
}

/**
 * The diff, given what is left of the step's deadline and at most MAX_DIFF_EDIT_LINES changed
 * lines (schema-patch.ts says why): the schemas are the pull request's, and a diff must not hold
 * the step past its `timeout`. When cut, the sizes of the two schemas instead.
 */
function diffWithinDeadline(
  run: ModeRun,
  base: SchemaSide,
  branch: SchemaSide,
  baseSql: string,
  branchSql: string,
): { diff: string; tooLarge?: SchemaTooLarge } {
  const timeoutMs = run.poll.deadline - run.deps.clock.now()
  const db = run.inputs.database
  const limits = { timeoutMs, maxEditLength: MAX_DIFF_EDIT_LINES }
  const diff = boundedSchemaPatch(db, base, branch, baseSql, branchSql, limits)
  if (diff !== undefined) return { diff }
  return {
    diff: '',
    tooLarge: { base: textSize(baseSql), branch: textSize(branchSql), maxChangedLines: MAX_DIFF_EDIT_LINES },
  }
}
