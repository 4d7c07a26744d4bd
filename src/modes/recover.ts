import type { Inputs } from '../inputs.js'
import { resolveBranchName } from '../github/branch-target.js'
import { isPullRequestEvent, type RunContext } from '../github/context.js'
import { isBranchId } from '../github/naming.js'
import { NeonApiError } from '../neon/errors.js'
import { findBranchWithDeleted, type FoundBranch } from '../neon/lookup.js'
import { usageField } from '../neon/usage.js'
import { byDeletion, listRecoverable, type FoundDeleted } from '../neon/recovery.js'
import type { Annotation, Branch } from '../neon/types.js'
import { prepareWithExpiry, servicesOf, type Known } from './connect.js'
import { refuseUnsafeTarget } from './guards.js'
import { foreignBranchError, ownership } from './ownership.js'
import { schemaOnly } from './point.js'
import { ModeRun } from './run.js'
import type { AnonymizationReport, ModeDeps, ModeResult, RecoveryReport } from './types.js'
import { adoptMasking, recoveredMasking, settleMasking } from './anonymized.js'
import { allFinished } from '../util/settle.js'
import { escapeControl } from '../util/log-text.js'

/** A branch brought back by POST …/recover, and what the answer told. */
export interface Recovered {
  branch: Branch
  /** Its annotations, as the listing gave them (an anonymized branch is known by one). */
  annotation?: Annotation
  /** The read_write endpoint from the answer, so that it is not asked for again. */
  known: Known
  recovery: RecoveryReport
}

/** The recoverable branches a failed `mode: recover` lists, closest names first. */
export const CLOSEST_LISTED = 5

/**
 * Recovers one deleted branch (POST …/recover: no operations to wait for; the branch comes back
 * with its endpoints idle, its hosts and passwords as they were, and without an expiry).
 */
export async function recoverDeleted(run: ModeRun, found: FoundDeleted): Promise<Recovered> {
  const { branch } = found
  const deletedAt = branch.recovery.deleted_at
  const res = await run.deps.neon.recoverBranch(run.project, branch.id)
  run.changed(`recovered branch '${branch.name}' (${branch.id}), deleted at ${deletedAt}`)
  run.deps.log.info(
    `Recovered branch '${escapeControl(branch.name)}' (${branch.id}), deleted at ${deletedAt}; its data and URL are as they were`,
  )
  const endpoint = res.endpoints.find((e) => e.type === 'read_write')
  return {
    branch: res.branch,
    ...(found.annotation ? { annotation: found.annotation } : {}),
    known: endpoint ? { endpoint } : {},
    recovery: {
      deletedAt,
      ...(branch.recovery.deletion_method ? { deletionMethod: branch.recovery.deletion_method } : {}),
    },
  }
}

/**
 * Whether Neon refused a recovery outright (a 4xx): the feature is not offered to the account, the
 * branch is gone for good, its name is taken again, … Then create makes a new branch instead. A
 * 408, or a 423/429 that outlived the retries, is a failure like any other request's, as is a 5xx
 * or no answer (the recovery may have happened).
 */
export function refusedRecovery(e: unknown): e is NeonApiError {
  return (
    e instanceof NeonApiError &&
    e.status >= 400 &&
    e.status < 500 &&
    e.status !== 408 &&
    e.status !== 423 &&
    e.status !== 429
  )
}

/**
 * Annotated for another repository, by the one ownership rule (ownership.ts) every other path uses:
 * the repository the annotation names, or undefined. A `github-repo-id` decides alone when the run
 * has one too, so a renamed repository keeps its deleted branches.
 */
export function annotatedForOtherRepository(
  annotation: Annotation | undefined,
  context: RunContext,
): string | undefined {
  const o = ownership(annotation, context)
  return o.kind === 'foreign' ? o.repo : undefined
}

/**
 * Whether create may recover this deleted branch by itself: ownership.ts says it is this
 * repository's (not merely "unknown"), it is tied to the same pull request (or none, outside a
 * pull request), and it is not a CI job's ephemeral branch. A branch tied by its name only is never
 * taken: another repository sharing the Neon project, or a hand-made branch, could carry the name.
 */
export function tiedToThisRun(annotation: Annotation | undefined, context: RunContext): boolean {
  const a = annotation?.value
  if (!a || ownership(annotation, context).kind !== 'ours') return false
  if (a['github-ephemeral'] === 'true') return false
  const pr = context.pullRequest ? String(context.pullRequest.number) : undefined
  return a['github-pr-number'] === pr
}

/**
 * Whether create recovers a deleted branch by itself on this event: only on a pull request
 * `reopened` (closing deleted the branch; reopening means it back). On every other event a branch
 * that was deleted (by hand, to revoke a password or for a fresh copy, or by the action) stays
 * deleted, and a new one is made: a push must never revive it. `mode: recover` is the explicit way.
 */
export function recoversOnThisEvent(context: RunContext): boolean {
  return isPullRequestEvent(context.eventName) && context.action === 'reopened'
}

/** Why a deleted branch is not this pull request's, for the log (one line: annotations are anyone's text). */
export function whyNotOurs(found: FoundDeleted, context: RunContext): string {
  return escapeControl(whyNot(found, context))
}

function whyNot(found: FoundDeleted, context: RunContext): string {
  const a = found.annotation?.value ?? {}
  const o = ownership(found.annotation, context)
  const which = `'${escapeControl(found.branch.name)}' (${found.branch.id}, deleted at ${found.branch.recovery.deleted_at})`
  if (o.kind === 'foreign') return `${which} is annotated for repository ${o.repo} (${o.key})`
  if (o.kind === 'unknown') return `${which} carries no repository annotation this run can check`
  if (a['github-ephemeral'] === 'true') return `${which} is a CI job's ephemeral branch`
  return a['github-pr-number']
    ? `${which} belongs to pull request #${a['github-pr-number']}`
    : `${which} belongs to no pull request`
}

/** What `recover` would do, said and returned without changing anything (`dry_run`). */
function dryRunRecovery(run: ModeRun, branch: FoundDeleted['branch']): ModeResult {
  const line =
    `would recover branch '${branch.name}' (${branch.id}), deleted at ${branch.recovery.deleted_at}, ` +
    `and make sure its compute, role and database exist`
  run.deps.log.notice(`Dry run: ${line}. Nothing was changed.`)
  run.changed(line)
  return {
    mode: 'recover',
    branch: { id: branch.id, name: branch.name, parentId: branch.parent_id, expiresAt: null },
    ...usageField(branch),
    created: false,
    recovered: false,
    changes: run.changes,
    timings: run.timings(),
  }
}

/**
 * recover (for workflow_dispatch): brings back the deleted branch `branch_name` names (a name: the
 * most recently deleted of that name; or a `br-…` id) and hands it out as create does: ready, the
 * role and the database there, the expiry set again (a recovered branch has none), the outputs.
 *
 * A branch of that name that is live is handed out as it is (a re-run of a recover that worked),
 * unless a deleted one of the name exists too: then the name is taken, and Neon could not bring
 * the deleted one back under it. Nothing recoverable by that name is an error listing the
 * recoverable branches whose names are closest. A branch annotated for another repository is
 * never recovered.
 */
export async function recoverMode(deps: ModeDeps, inputs: Inputs): Promise<ModeResult> {
  const ref = resolveBranchName(inputs, deps.context)
  // reset_password is for create and reset: a recovered branch keeps its password as it was.
  const run = new ModeRun(deps, { ...inputs, resetPassword: false })
  const { neon, log } = deps
  try {
    const found = await findBranchWithDeleted(neon, run.project, ref)
    const candidates = found.deleted
    if (found.live && (candidates.length === 0 || isBranchId(ref))) return await handOutLive(run, found.live)
    if (found.live) {
      throw new Error(
        `'${ref}' is the name of a live branch (${found.live.branch.id}) and of ${candidates.length} deleted ` +
          `one(s) (${candidates.map((c) => c.branch.id).join(', ')}): branch names are unique, so Neon cannot ` +
          `bring a deleted one back under it. Rename or delete the live branch first, then run recover ` +
          `with the deleted branch's id. Nothing was changed.`,
      )
    }
    const mine = candidates.filter((c) => !annotatedForOtherRepository(c.annotation, deps.context))
    const target = mine[0]
    if (!target) {
      if (candidates.length > 0) {
        throw new Error(
          `the deleted branch(es) ${candidates.map((c) => whyNotOurs(c, deps.context)).join('; ')}: ` +
            `a branch annotated for another repository is never recovered by this one. Nothing was changed.`,
        )
      }
      throw await nothingRecoverable(run, ref)
    }
    if (mine.length > 1) {
      log.notice(
        `${mine.length} deleted branches are named '${escapeControl(ref)}'; recovering the most recently deleted, ` +
          `${target.branch.id} (deleted at ${target.branch.recovery.deleted_at}). The others: ` +
          `${mine
            .slice(1)
            .map((c) => `${c.branch.id} (deleted at ${c.branch.recovery.deleted_at})`)
            .join(', ')}; give branch_name the id of the one you want.`,
      )
    }
    if (inputs.dryRun) return dryRunRecovery(run, target.branch)
    const recovered = await recoverDeleted(run, target)
    const [anonymization, [prepared, expiresAt]] = await handOutRecovered(run, recovered)
    return {
      mode: 'recover',
      branch: {
        id: recovered.branch.id,
        name: recovered.branch.name,
        parentId: recovered.branch.parent_id,
        ...pointOf(recovered.branch),
        expiresAt,
      },
      created: false,
      recovered: true,
      recovery: recovered.recovery,
      connection: prepared.connection,
      ...(anonymization ? { anonymization } : {}),
      ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
      ...servicesOf(prepared),
      ...usageField(prepared.branch),
      changes: run.changes,
      timings: run.timings(prepared.readyMs),
    }
  } catch (e) {
    throw run.fail(`recover of branch '${ref}'`, e)
  }
}

/**
 * A recovered branch, checked as a found one is before anything is handed out: never the default
 * or a protected branch, never another repository's (ownership.ts, from the annotations the
 * listing showed), and, when it looks anonymized, masked (adoptMasking; one never masked, or whose
 * masking failed, is deleted again for good by settleMasking, and nothing is handed out).
 */
export function checkRecovered(run: ModeRun, recovered: Recovered): FoundBranch {
  const { branch, annotation } = recovered
  refuseUnsafeTarget(branch, 'hand it out')
  const o = ownership(annotation, run.deps.context)
  if (o.kind === 'foreign') throw foreignBranchError(branch, o, run.deps.context, run.project)
  return { branch, ...(annotation ? { annotation } : {}) }
}

/** recover's hand-out of a recovered branch: checked (checkRecovered), masked, made ready. */
async function handOutRecovered(
  run: ModeRun,
  recovered: Recovered,
): Promise<[AnonymizationReport | undefined, Awaited<ReturnType<typeof prepareWithExpiry>>]> {
  const found = checkRecovered(run, recovered)
  const finish = await recoveredMasking(run, found, run.inputs.masking)
  return settleMasking(run, recovered.branch, () =>
    allFinished([finish(), prepareWithExpiry(run, recovered.branch, recovered.known)]),
  )
}

/** A live branch named by recover: handed out as create would adopt it, never another repository's. */
async function handOutLive(run: ModeRun, found: FoundBranch): Promise<ModeResult> {
  const { branch } = found
  const o = ownership(found.annotation, run.deps.context)
  if (o.kind === 'foreign') throw foreignBranchError(branch, o, run.deps.context, run.project)
  refuseUnsafeTarget(branch, 'hand it out')
  run.deps.log.notice(
    `Branch '${escapeControl(branch.name)}' (${branch.id}) is not deleted: nothing to recover. Handing it out as it is` +
      `${run.inputs.dryRun ? ' (dry run: nothing was changed)' : ''}.`,
  )
  if (run.inputs.dryRun) {
    return {
      mode: 'recover',
      branch: {
        id: branch.id,
        name: branch.name,
        parentId: branch.parent_id,
        expiresAt: branch.expires_at ?? null,
      },
      created: false,
      recovered: false,
      changes: run.changes,
      timings: run.timings(),
    }
  }
  const finish = await adoptMasking(run, found, run.inputs.masking)
  const [anonymization, [prepared, expiresAt]] = await settleMasking(run, branch, () =>
    allFinished([finish(), prepareWithExpiry(run, branch)]),
  )
  return {
    mode: 'recover',
    ...(anonymization ? { anonymization } : {}),
    branch: { id: branch.id, name: branch.name, parentId: branch.parent_id, ...pointOf(branch), expiresAt },
    created: false,
    recovered: false,
    connection: prepared.connection,
    ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
    ...servicesOf(prepared),
    ...usageField(prepared.branch),
    changes: run.changes,
    timings: run.timings(prepared.readyMs),
  }
}

/** Where the branch starts on its parent, and whether it holds only a schema, as create reports them. */
function pointOf(b: Branch): { parentLsn?: string; parentTimestamp?: string; schemaOnly?: boolean } {
  return {
    ...(b.parent_lsn ? { parentLsn: b.parent_lsn } : {}),
    ...(b.parent_timestamp ? { parentTimestamp: b.parent_timestamp } : {}),
    ...schemaOnly(b),
  }
}

/** The error of a recover that finds nothing: the recoverable branches whose names are closest. */
async function nothingRecoverable(run: ModeRun, ref: string): Promise<Error> {
  const what = isBranchId(ref) ? `with id or name '${ref}'` : `named '${ref}'`
  const all = (await listRecoverable(run.deps.neon, run.project)).sort(byDeletion)
  if (all.length === 0) {
    return new Error(
      `no deleted branch ${what} can be recovered in project ${run.project}, and Neon lists no recoverable ` +
        `branch there at all: nothing was deleted in the last 7 days, or the account is not offered branch ` +
        `recovery (a preview). Nothing was changed.`,
    )
  }
  const closest = all
    .map((c) => ({ c, d: Math.min(distance(ref, c.branch.name), distance(ref, c.branch.id)) }))
    .sort((x, y) => x.d - y.d)
    .slice(0, CLOSEST_LISTED)
    .map(
      ({ c }) =>
        `'${escapeControl(c.branch.name)}' (${c.branch.id}, deleted at ${c.branch.recovery.deleted_at}, ` +
        `recoverable until ${c.branch.recovery.recoverable_until})`,
    )
  return new Error(
    `no deleted branch ${what} can be recovered in project ${run.project}. The recoverable branches with ` +
      `the closest names (${Math.min(all.length, CLOSEST_LISTED)} of ${all.length}): ${closest.join(', ')}. ` +
      `Nothing was changed.`,
  )
}

/** Levenshtein distance, case-insensitive, over code points. */
export function distance(a: string, b: string): number {
  const x = [...a.toLowerCase()]
  const y = [...b.toLowerCase()]
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const cur = [i]
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[y.length]!
}
