import { randomUUID } from 'node:crypto'

import { expiryTimestamp, InputError, type Inputs } from '../inputs.js'
import { resolveBranchName } from '../github/branch-target.js'
import { isPullRequestEvent, type RunContext } from '../github/context.js'
import { isBranchId } from '../github/naming.js'
import { isBranchLimit, isConflict, NeonApiError, withContext } from '../neon/errors.js'
import {
  findBranch,
  findBranchWithDeleted,
  type FoundBranch,
  type LookupWithDeleted,
} from '../neon/lookup.js'
import type { FoundDeleted } from '../neon/recovery.js'
import { describePoint, sameLsn } from '../neon/point-in-time.js'
import type { Branch, CreateBranchRequest } from '../neon/types.js'
import { usageField } from '../neon/usage.js'
import { allFinished } from '../util/settle.js'
import {
  adoptMasking,
  anonymizedCreateRequest,
  looksAnonymized,
  awaitNewBranchMasking,
  recoveredMasking,
  dryRunMasking,
  settleMasking,
} from './anonymized.js'
import { countRules } from '../masking/rules.js'
import { BranchLimit } from './branch-limit.js'
import {
  computeRequest,
  madeFromCreate,
  passwordResetText,
  prepareConnection,
  prepareWithExpiry,
  servicesOf,
  type Known,
} from './connect.js'
import { refuseUnsafeTarget } from './guards.js'
import { foreignBranchError, ownership } from './ownership.js'
import { checkHistoryWindow } from './history-window.js'
import { parentText, pointInfo, schemaOnly } from './point.js'
import {
  checkRecovered,
  recoverDeleted,
  recoversOnThisEvent,
  refusedRecovery,
  tiedToThisRun,
  whyNotOurs,
  type Recovered,
} from './recover.js'
import { ModeRun } from './run.js'
import type { AnonymizationReport, ModeDeps, ModeResult } from './types.js'
import { escapeControl } from '../util/log-text.js'

/**
 * create: make the pull request's branch, or adopt it when it exists (a re-run, the next push, a
 * concurrent run), then make sure it is ready to connect to: a usable read_write endpoint, the
 * role and the database, all of Neon's operations finished, and the connection strings built.
 *
 * With `ephemeral` the branch belongs to this job alone: an existing one is an error (never
 * adopted), and what is created is recorded for the post step, which deletes it.
 *
 * It looks the name up first, unless the branch is almost surely new (createsFirst): then it
 * creates at once and lets Neon's 409 say that the branch exists, and adopts it as it would have.
 *
 * The look-up asks for the deleted branches of the name too (the same request): on a pull request
 * `reopened` only (recoversOnThisEvent), when no live branch has the name, the most recently deleted
 * one tied to this repository and pull request is recovered (its data, host and password as they
 * were), checked as a found branch is, and made ready as an adopted branch is. On any other event a
 * new branch is made, and a notice names the recoverable one and `mode: recover`. Where Neon lists
 * nothing to recover, or refuses the recovery with a 4xx, a new branch is created as before.
 */
export async function createMode(deps: ModeDeps, inputs: Inputs): Promise<ModeResult> {
  const name = resolveBranchName(inputs, deps.context)
  const run = new ModeRun(deps, inputs)
  // The project's branch limit: on_branch_limit decides what a 422 for it does.
  const limits = new BranchLimit(run)
  const first = createsFirst(inputs, deps.context, name)
  try {
    const looked = first ? undefined : await lookUp(run, name)
    const found = looked?.live
    if (found && inputs.ephemeral) throw ephemeralCollision(run, name, found.branch)
    const recoverable = found || !looked ? undefined : recoverableOf(run, name, looked)
    if (inputs.dryRun) return await dryRun(run, name, found, limits, recoverable)

    const outcome: Outcome = found
      ? { existing: found }
      : ((recoverable && (await tryRecovery(run, recoverable))) ??
        (await createOrFind(run, name, limits, first)))
    const { parent } = outcome
    const made = 'made' in outcome ? outcome.made : undefined
    const recovered = 'recovered' in outcome ? outcome.recovered : undefined
    const existing = existingOf(outcome)
    const branch = made
      ? made.branch
      : recovered
        ? await afterRecovery(run, recovered)
        : await adopt(run, existing!, parent)
    const created = made !== undefined

    // An anonymized branch is handed out only once Neon has masked it: the result (and so every
    // output, the comment and the summary) is made after that. Connection details are gathered
    // meanwhile; they only go out with the result.
    let prepared: Awaited<ReturnType<typeof prepareConnection>>
    let expiresAt: string | null
    let anonymization: AnonymizationReport | undefined
    if (made) {
      prepared = await prepareConnection(run, branch, made.known)
      expiresAt = branch.expires_at ?? null
      if (inputs.masking)
        anonymization = await awaitNewBranchMasking(run, branch, inputs.masking.rules.length)
    } else {
      // A recovered branch is checked as a found one is (afterRecovery), and never handed out unmasked.
      const finish = await (recovered ? recoveredMasking : adoptMasking)(run, existing!, inputs.masking)
      // Side by side; a failed masking deletes the branch once both are done (settleMasking).
      ;[anonymization, [prepared, expiresAt]] = await settleMasking(run, branch, () =>
        allFinished([finish(), prepareWithExpiry(run, branch, recovered?.known)]),
      )
    }
    return {
      mode: 'create',
      branch: {
        id: branch.id,
        name: branch.name,
        parentId: branch.parent_id,
        ...(created && parent ? { parentName: parent.name } : {}),
        ...pointInfo(branch, inputs.parentPoint),
        expiresAt,
        ...schemaOnly(branch),
      },
      created,
      recovered: recovered !== undefined,
      ...(recovered ? { recovery: recovered.recovery } : {}),
      connection: prepared.connection,
      ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
      ...(anonymization ? { anonymization } : {}),
      ...servicesOf(prepared),
      ...usageField(prepared.branch),
      ...limits.result(),
      changes: run.changes,
      timings: run.timings(prepared.readyMs),
    }
  } catch (e) {
    throw run.fail(`create of branch '${name}'`, e)
  }
}

/** The branch to adopt: the one found, or a recovered one, which is from here on an existing one. */
function existingOf(outcome: Outcome): FoundBranch | undefined {
  if ('existing' in outcome) return outcome.existing
  const recovered = 'recovered' in outcome ? outcome.recovered : undefined
  return recovered
    ? { branch: recovered.branch, ...(recovered.annotation ? { annotation: recovered.annotation } : {}) }
    : undefined
}

/**
 * Whether create skips the look-up and sends the create at once, a 409 (or, at the branch limit,
 * a look-up after the 422) then saying the branch exists. Only where the branch is almost surely
 * new, because there the look-up is a round trip spent before Neon starts its work for nothing:
 * - `ephemeral`: its default name holds the run id, the attempt and the job, so an existing one
 *   is a collision, an error either way;
 * - a pull request `opened`: GitHub never reuses a pull request number within a repository and
 *   sends `opened` once per pull request, so no branch tied to it can exist yet, live or deleted.
 * Not `reopened`: closing deleted the branch, and the look-up (with the deleted branches) is what
 * finds it to recover; a create first would make a new, empty branch instead. Every other event
 * (synchronize above all: every push after the first) finds the branch existing, and there the
 * look-up is what makes adoption cheap; a create first would cost a 409 more. A dry run never
 * creates, so it looks up; a `br-…` id is looked up by id (created, it would be a name).
 *
 * So on `opened` nothing is ever recovered, not even after a 409 whose look-up then finds no live
 * branch: the 409 said a live branch existed a moment before, so it was deleted in between, most
 * likely by this pull request's own close running at the same time, and bringing it back would
 * undo that delete. That case fails as it always has ("… answered 409 … but no such branch").
 */
export function createsFirst(inputs: Inputs, context: RunContext, name: string): boolean {
  if (inputs.dryRun || isBranchId(name)) return false
  if (inputs.ephemeral) return true
  return isPullRequestEvent(context.eventName) && context.action === 'opened'
}

/**
 * The look-up: the live branch of the name and, in the same listing, its recoverable deleted ones.
 * An ephemeral branch is the job's own and new, never recovered: it asks for live branches only.
 */
async function lookUp(run: ModeRun, name: string): Promise<LookupWithDeleted> {
  const { neon } = run.deps
  if (run.inputs.ephemeral) {
    const live = await findBranch(neon, run.project, name)
    return { ...(live ? { live } : {}), deleted: [] }
  }
  return findBranchWithDeleted(neon, run.project, name)
}

/**
 * The deleted branch create would recover: the most recently deleted of the name that is tied to
 * this repository and pull request (tiedToThisRun); never someone else's of the same name. Says,
 * once, why nothing is recovered where the branch was to be expected (a pull request past
 * `opened`), and which deleted branches of the name are not this pull request's.
 */
function recoverableOf(run: ModeRun, name: string, looked: LookupWithDeleted): FoundDeleted | undefined {
  const { context, log } = run.deps
  const tied = looked.deleted.filter((d) => tiedToThisRun(d.annotation, context))
  // Masking rules ask for masked data: a deleted plain branch holds an unmasked copy of its parent,
  // and adopting it would be refused after the recovery; it is left deleted, and a new anonymized
  // branch is made.
  const ours = run.inputs.masking ? tied.filter((d) => looksAnonymized(d)) : tied
  for (const d of tied.filter((x) => !ours.includes(x)))
    log.info(
      `Not recovering deleted branch '${escapeControl(d.branch.name)}' (${d.branch.id}): it is not anonymized, ` +
        `and ${run.inputs.masking?.source ?? 'the masking rules'} ask for masked data`,
    )
  const others = looked.deleted.filter((d) => !tied.includes(d))
  if (others.length > 0) {
    log.info(
      `Not recovering ${others.length} deleted branch(es) named '${escapeControl(name)}' that are not this ` +
        `${context.pullRequest ? 'pull request' : 'repository'}'s: ${others.map((d) => whyNotOurs(d, context)).join('; ')}`,
    )
  }
  const target = ours[0]
  if (target && recoversOnThisEvent(context)) return target
  if (target) {
    // A push (or any event but a reopen) never revives a deleted branch: it may have been deleted to
    // revoke a leaked password, or for a fresh copy. Said once, with the explicit way back.
    log.notice(
      `Branch '${escapeControl(name)}' was deleted (${target.branch.id}, at ${target.branch.recovery.deleted_at}; ` +
        `recoverable until ${target.branch.recovery.recoverable_until}) and is not brought back on ` +
        `${escapeControl(context.eventName)}${context.action ? ` ${escapeControl(context.action)}` : ''}: ` +
        `creating a new branch. To get the deleted one back instead, delete the new one and run the ` +
        `action with mode: recover and branch_name: ${target.branch.id} (reopening the pull request also ` +
        `recovers it).`,
    )
    return undefined
  }
  if (looked.deletedRefused !== undefined)
    log.debug(`Neon refused to list deleted branches, so none can be recovered: ${looked.deletedRefused}`)
  // On a pull request past `opened` the branch was expected: say why a new one is made. Elsewhere
  // (a workflow_dispatch naming a new branch) a missing branch is the normal case.
  if (isPullRequestEvent(context.eventName) && context.action !== 'opened') {
    log.notice(
      `Branch '${escapeControl(name)}' is not there, and Neon lists no deleted branch of this pull request to recover` +
        `${others.length > 0 ? ` (${others.length} deleted branch(es) of that name belong to others)` : ''}: ` +
        `it was never made, was deleted more than 7 days ago, or the account is not offered branch recovery ` +
        `(a Neon preview). Creating a new branch.`,
    )
  }
  return undefined
}

/**
 * Recovers `target`; where Neon refuses with a 4xx (recovery not offered, the branch gone for good,
 * its name taken again by a concurrent run) says so once and returns undefined, and create makes a
 * new branch as before (whose 409 then adopts what a concurrent run made). Any other failure (a
 * 5xx after the retries, a 423 that outlived them, no answer) fails the run.
 */
async function tryRecovery(run: ModeRun, target: FoundDeleted): Promise<Outcome | undefined> {
  try {
    return { recovered: await recoverDeleted(run, target) }
  } catch (e) {
    if (!refusedRecovery(e)) throw e
    run.deps.log.notice(
      `Neon refused to recover branch '${escapeControl(target.branch.name)}' (${target.branch.id}), deleted at ` +
        `${target.branch.recovery.deleted_at}: ${e.message}. Creating a new branch instead (or adopting one ` +
        `of that name that another run has just made).`,
    )
    return undefined
  }
}

/**
 * A recovered branch, as an adopted one: checked as a found one is (never the default, a protected
 * or another repository's branch: checkRecovered), and the warnings about parent_branch's point
 * still apply.
 */
async function afterRecovery(run: ModeRun, recovered: Recovered): Promise<Branch> {
  const { branch } = checkRecovered(run, recovered)
  await warnIfOtherPoint(run, branch)
  return branch
}

/**
 * What createOrFind ended with: the branch it made, or the existing one a refusal revealed; and the
 * parent, when `parent_branch` named one and it was resolved.
 */
type Outcome = ({ made: Made } | { existing: FoundBranch } | { recovered: Recovered }) & { parent?: Branch }

interface Made {
  branch: Branch
  /** What the create's answer told, so that prepareConnection asks nothing twice. */
  known: Known
}

/** The name exists, found after a create that skipped its look-up met the branch limit. */
class NameTakenAtLimit extends Error {
  constructor(
    readonly found: FoundBranch,
    readonly refusal: NeonApiError,
  ) {
    super(refusal.message)
  }
}

/**
 * Resolves the parent, checks its history window, creates the branch and waits for its
 * operations. When the answer is that the name exists (409, or at the limit a 422 and a look-up
 * that finds it), returns the existing branch for adoption. A create sent without a look-up
 * (`first`) that is refused for any other reason (a parent that no longer exists, a point that
 * has left the history window, a 4xx from Neon) looks the name up too: an existing branch is then
 * adopted, as the look-up would have adopted it before any of those checks; otherwise the refusal
 * stands. So the parent is resolved and checked before the create, whichever comes first.
 */
async function createOrFind(
  run: ModeRun,
  name: string,
  limits: BranchLimit,
  first: boolean,
): Promise<Outcome> {
  const { deps, inputs } = run
  const { neon, log } = deps
  const key = inputs.ephemeral ? randomUUID() : undefined
  let parent: Branch | undefined
  let recorded = false
  let created = false
  try {
    parent = await resolveParent(run)
    if (parent) await checkHistoryWindow(run, parent, inputs.parentPoint, parentText(inputs))
    if (key !== undefined) {
      deps.ephemeral?.creating(name, key)
      recorded = true
    }
    const body = createRequest(run, name, parent?.id, key)
    const masking = inputs.masking
    const res = await limits.create(
      () =>
        masking
          ? neon.createAnonymizedBranch(run.project, anonymizedCreateRequest(body, masking.rules))
          : neon.createBranch(run.project, body),
      // No look-up was made, and at its limit Neon may answer an existing name with 422 rather
      // than 409 (which it checks first is undocumented): look the name up before anything else,
      // and adopt what exists rather than make room or fail.
      first ? (refusal) => lookUpAtLimit(run, name, refusal) : undefined,
    )
    created = true
    const branch = res.branch
    deps.ephemeral?.created(
      { id: branch.id, name: branch.name },
      res.operations.map((o) => o.id),
    )
    const kind = masking ? 'anonymized branch' : 'branch'
    run.changed(`created ${kind} '${branch.name}' (${branch.id})`)
    log.info(
      `Created ${kind} '${branch.name}' (${branch.id}); waiting for ${res.operations.length} operations`,
    )
    await run.waitOps(res.operations)
    // Nothing of the create is running any more: the post step need not poll for it.
    deps.ephemeral?.created({ id: branch.id, name: branch.name }, [])
    return { parent, made: madeFromCreate(res, inputs.role) }
  } catch (e) {
    if (created) throw e
    const refusal = e instanceof NameTakenAtLimit ? e.refusal : e
    const existing = await findAfterRefusal(run, name, e, first)
    // A 409 on a retried create can mean that our first attempt made it (BEHAVIOUR.md, 5xx): an
    // ephemeral branch carrying this run's key is this job's own, not a collision.
    const ours = key !== undefined && existing?.annotation?.value['github-ephemeral-key'] === key
    if (recorded && !ours && refusedOutright(refusal)) deps.ephemeral?.nothing()
    if (!existing) {
      if (isConflict(e))
        throw withContext(`Neon answered 409 for '${name}' but no such branch can be found`, e)
      throw e
    }
    if (ours) {
      const branch = existing.branch
      deps.ephemeral?.created({ id: branch.id, name: branch.name }, [])
      run.changed(`created branch '${branch.name}' (${branch.id})`)
      log.info(`Created branch '${branch.name}' (${branch.id}) by a create whose answer was lost`)
      return { parent, made: { branch, known: {} } }
    }
    if (inputs.ephemeral) throw ephemeralCollision(run, name, existing.branch)
    log.info(
      !first
        ? `Branch '${name}' was created concurrently by another run; adopting it`
        : isConflict(refusal) || isBranchLimit(refusal)
          ? `Branch '${name}' already exists (Neon answered the create with ${(refusal as NeonApiError).status}); adopting it`
          : `Branch '${name}' already exists; adopting it as it is (a new one could not be made: ${errorText(refusal)})`,
    )
    return { parent, existing }
  }
}

/** The branch of that name after the create was refused, when the refusal says to look (or found it). */
async function findAfterRefusal(
  run: ModeRun,
  name: string,
  e: unknown,
  first: boolean,
): Promise<FoundBranch | undefined> {
  const { neon } = run.deps
  if (e instanceof NameTakenAtLimit) return e.found
  // A 409: another run (or our own first attempt, whose answer was lost) created it.
  if (isConflict(e)) return findBranch(neon, run.project, name)
  // Only to learn whether to adopt: when the look-up fails too, the refusal is the answer.
  if (first && refusedBeforeNeon(e)) return findBranch(neon, run.project, name).catch(() => undefined)
  return undefined
}

/**
 * A refusal of the create itself, before Neon did anything: ours (a parent that does not exist, a
 * point out of the history window) or Neon's 4xx to the POST. Not a failure of a look-up (a GET),
 * nor a network error or 5xx (after which the create may have been made), nor a 401/403, which a
 * look-up would only repeat.
 */
function refusedBeforeNeon(e: unknown): boolean {
  if (e instanceof NeonApiError)
    return e.method === 'POST' && refusedOutright(e) && e.status !== 401 && e.status !== 403
  return e instanceof InputError || e instanceof MissingParentError
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message.replace(/\.$/, '') : String(e)
}

/** On a branch-limit refusal of a create made without a look-up: the name, when it exists, is adopted. */
async function lookUpAtLimit(run: ModeRun, name: string, refusal: NeonApiError): Promise<void> {
  let found: FoundBranch | undefined
  try {
    found = await findBranch(run.deps.neon, run.project, name)
  } catch (e) {
    throw withContext(
      `Neon refused the branch for the project's branch limit (${refusal.message}); then, looking up '${name}'`,
      e,
    )
  }
  if (found) throw new NameTakenAtLimit(found, refusal)
}

/**
 * Takes an existing branch as the preview branch: never the default or a protected one, and never
 * one annotated for another repository. Every way to an existing branch (the look-up, a 409, a
 * refusal at the branch limit) comes through here, before anything is changed on it.
 */
async function adopt(run: ModeRun, found: FoundBranch, parent: Branch | undefined): Promise<Branch> {
  const { branch } = found
  refuseUnsafeTarget(branch, 'use it as a preview branch')
  refuseForeign(run, found)
  run.deps.log.info(`Adopting existing branch '${branch.name}' (${branch.id})`)
  await warnIfOtherPoint(run, branch, parent)
  return branch
}

/**
 * Adopting would let two jobs share one database and the first to finish delete it under the
 * other; the message shows the naming that keeps jobs apart. Raised before any change.
 */
function ephemeralCollision(run: ModeRun, name: string, existing?: Branch): Error {
  const which = existing ? `'${name}' (${existing.id})` : `'${name}'`
  return new Error(
    `branch ${which} already exists in project ${run.project}, and with 'ephemeral: true' a branch is ` +
      `never adopted: two jobs would share one database, and the first to finish would delete it under ` +
      `the other. Give every job its own branch_name, e.g. ` +
      'branch_name: ci/run-${{ github.run_id }}-${{ github.run_attempt }}-${{ matrix.shard }} ' +
      '(the default, ci/run-<run id>-<attempt>-<job>, is the same for every leg of a matrix). ' +
      'Nothing was changed.',
  )
}

/**
 * True when Neon answered the create with a refusal (a 4xx other than a timeout): then no branch
 * was made. A network error or a 5xx may have created it, so the post step still looks.
 */
function refusedOutright(e: unknown): boolean {
  return e instanceof NeonApiError && e.status >= 400 && e.status < 500 && e.status !== 408
}

/** The body of POST /branches for this run (also what reset re-creates an anonymized branch with). */
export function createRequest(
  run: ModeRun,
  name: string,
  parentId: string | undefined,
  ephemeralKey?: string,
): CreateBranchRequest {
  const { inputs } = run
  const expiresAt = expiryTimestamp(inputs.expiry, new Date(run.deps.clock.now()))
  return {
    branch: {
      name,
      ...(parentId ? { parent_id: parentId } : {}),
      ...(inputs.parentPoint?.lsn !== undefined ? { parent_lsn: inputs.parentPoint.lsn } : {}),
      ...(inputs.parentPoint?.timestamp !== undefined
        ? { parent_timestamp: inputs.parentPoint.timestamp }
        : {}),
      ...(inputs.branchType === 'schema-only' ? { init_source: 'schema-only' as const } : {}),
      ...(expiresAt ? { expires_at: expiresAt } : {}),
    },
    endpoints: [
      {
        type: 'read_write',
        ...(inputs.suspendTimeout !== 0 ? { suspend_timeout_seconds: inputs.suspendTimeout } : {}),
        ...computeRequest(inputs.computeUnits),
      },
    ],
    annotation_value: annotationsFor(run.deps, ephemeralKey),
  }
}

/** Says what create would do, after the same checks, and changes nothing. */
async function dryRun(
  run: ModeRun,
  name: string,
  found: FoundBranch | undefined,
  limits: BranchLimit,
  recoverable?: FoundDeleted,
): Promise<ModeResult> {
  const existing = found?.branch
  let line: string
  let room: string[] = []
  if (found && existing) {
    refuseUnsafeTarget(existing, 'use it as a preview branch')
    refuseForeign(run, found)
    line = `would adopt branch '${existing.name}' (${existing.id}) and make sure its compute, role and database exist`
    if (run.inputs.masking) line += `; ${await dryRunMasking(run, existing, run.inputs.masking)}`
  } else if (recoverable) {
    const b = recoverable.branch
    line =
      `would recover branch '${b.name}' (${b.id}), deleted at ${b.recovery.deleted_at}, and make sure ` +
      `its compute, role and database exist (or, should Neon refuse the recovery, create a new one)`
  } else {
    const parent = await resolveParent(run)
    if (parent) await checkHistoryWindow(run, parent, run.inputs.parentPoint, parentText(run.inputs))
    const expiresAt = expiryTimestamp(run.inputs.expiry, new Date(run.deps.clock.now()))
    const from = parent
      ? describePoint(`'${parent.name}' (${parent.id})`, run.inputs.parentPoint ?? {})
      : 'the default branch'
    const masking = run.inputs.masking
    line =
      `would create ${masking ? 'an anonymized branch' : 'branch'} '${name}' from ${from}` +
      (masking
        ? ` with ${countRules(masking.rules.length)} (${masking.source}), and wait for Neon to mask it`
        : '') +
      (expiresAt ? `, expiring at ${expiresAt}` : ', never expiring')
    room = await limits.plan()
  }
  line += passwordResetText(run.inputs)
  run.deps.log.notice(`Dry run: ${[...room, line].join('; ')}. Nothing was changed.`)
  for (const l of room) run.changed(l)
  run.changed(line)
  return {
    mode: 'create',
    branch: {
      id: existing?.id ?? recoverable?.branch.id ?? '',
      name,
      parentId: existing?.parent_id ?? recoverable?.branch.parent_id,
      expiresAt: existing?.expires_at ?? null,
      ...(existing ? schemaOnly(existing) : {}),
    },
    ...(existing ? usageField(existing) : {}),
    created: false,
    recovered: false,
    ...limits.result(),
    changes: run.changes,
    timings: run.timings(),
  }
}

/** Two repositories sharing one Neon project would otherwise share a branch (ownership.ts). */
function refuseForeign(run: ModeRun, found: FoundBranch): void {
  const o = ownership(found.annotation, run.deps.context)
  if (o.kind === 'foreign') throw foreignBranchError(found.branch, o, run.deps.context, run.project)
}

/**
 * An adopted branch keeps the data it was made with. When `parent_branch` asks for a point in time
 * and the branch starts elsewhere, say so: its data is not what the input asks for.
 */
async function warnIfOtherPoint(run: ModeRun, branch: Branch, resolved?: Branch): Promise<void> {
  const point = run.inputs.parentPoint
  if (!point) return
  const parent = resolved ?? (await resolveParent(run))
  const differences: string[] = []
  if (parent && branch.parent_id !== parent.id) {
    differences.push(`its parent is ${branch.parent_id ?? 'none'}, not '${parent.name}' (${parent.id})`)
  }
  if (point.lsn !== undefined && !(branch.parent_lsn && sameLsn(branch.parent_lsn, point.lsn))) {
    differences.push(`it starts at LSN ${branch.parent_lsn ?? '(not reported)'}, not ${point.lsn}`)
  }
  // Compared to the second: Neon may report the time without the milliseconds asked.
  const seconds = (ms: number): number => Math.floor(ms / 1000)
  if (
    point.timestampMs !== undefined &&
    seconds(Date.parse(branch.parent_timestamp ?? '')) !== seconds(point.timestampMs)
  ) {
    differences.push(`it starts at ${branch.parent_timestamp ?? '(not reported)'}, not ${point.timestamp}`)
  }
  if (differences.length === 0) return
  run.deps.log.warning(
    `The existing branch '${branch.name}' (${branch.id}) was not made from ${parentText(run.inputs)}: ` +
      `${differences.join('; ')}. Adopting it as it is, so its data is not what parent_branch asks for. ` +
      `For a branch from that point, delete it (mode: delete) and run create again, or run mode: reset ` +
      `with the same parent_branch.`,
  )
}

/** The parent named by `parent_branch`, or undefined to let Neon use the project's default branch. */
async function resolveParent(run: ModeRun): Promise<Branch | undefined> {
  const ref = run.inputs.parentBranch
  if (!ref) return undefined
  const found = await findBranch(run.deps.neon, run.project, ref)
  if (!found) {
    throw new MissingParentError(
      `parent_branch '${ref}' does not exist in project ${run.project} ` +
        `(looked up by ${ref.startsWith('br-') ? 'id and name' : 'exact name'})`,
    )
  }
  return found.branch
}

class MissingParentError extends Error {}

/**
 * Ties the branch to its pull request; `github-commit-repo` is what Neon's own actions write. An
 * ephemeral branch is tied to its run and job instead (cleanup asks GitHub whether that run has
 * completed), and not to the pull request, whose preview it is not.
 */
function annotationsFor(deps: ModeDeps, ephemeralKey?: string): Record<string, string> {
  const ctx = deps.context
  const a: Record<string, string> = {}
  if (ctx.repository) {
    a['github-repo'] = ctx.repository
    a['github-commit-repo'] = ctx.repository
  }
  // Survives a rename or a transfer of the repository (ownership.ts).
  if (ctx.repositoryId) a['github-repo-id'] = ctx.repositoryId
  if (ephemeralKey !== undefined) {
    a['github-ephemeral'] = 'true'
    a['github-ephemeral-key'] = ephemeralKey
    if (ctx.runId) a['github-run-id'] = ctx.runId
    if (ctx.runAttempt) a['github-run-attempt'] = ctx.runAttempt
    if (ctx.job) a['github-job'] = ctx.job
    const sha = ctx.pullRequest?.headSha || ctx.sha
    if (sha) a['github-sha'] = sha
    return a
  }
  if (ctx.pullRequest) {
    a['github-pr-number'] = String(ctx.pullRequest.number)
    a['github-head-ref'] = ctx.pullRequest.headRef
    if (ctx.pullRequest.headSha) a['github-sha'] = ctx.pullRequest.headSha
  } else if (ctx.sha) {
    a['github-sha'] = ctx.sha
  }
  return a
}
