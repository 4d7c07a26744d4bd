/**
 * Anonymized branches (BEHAVIOUR.md, "Anonymized branches"): created with the workflow's masking
 * rules, adopted when their rules match (masked again when they do not), re-created by reset
 * (Neon cannot reset them), and never handed out before Neon says `anonymized`: the mode returns
 * its result, and so the outputs, the comment and the summary exist, only after that.
 */
import type { MaskingRulesInput } from '../masking/input.js'
import { countRules, sameRules, type MaskingRule } from '../masking/rules.js'
import {
  AnonymizationFailedError,
  FAILED_STATES,
  isTerminal,
  maskedColumns,
  waitForAnonymized,
} from '../neon/anonymization.js'
import type { AnonymizedStatus, CreateAnonymizedBranchRequest } from '../neon/anonymization-types.js'
import { NeonApiError } from '../neon/errors.js'
import type { FoundBranch } from '../neon/lookup.js'
import type { Branch, CreateBranchRequest, CreateBranchResponse } from '../neon/types.js'
import { allFinished } from '../util/settle.js'
import { refuseRestricted } from './guards.js'
import type { ModeRun } from './run.js'
import type { AnonymizationReport } from './types.js'

/**
 * The annotation by which Neon's CLI labels a branch `[anon]` (`neon` 5.0.1,
 * `dist/commands/branches.js`); written by this action too, so that the label, and adoption
 * without rules, do not depend on whether Neon adds it itself.
 */
export const ANONYMIZED_ANNOTATION = 'anonymized'

/** POST /branch_anonymized: the plain create's body as `branch_create`, the rules, start at once. */
export function anonymizedCreateRequest(
  body: CreateBranchRequest,
  rules: MaskingRule[],
): CreateAnonymizedBranchRequest {
  const { annotation_value, ...branchCreate } = body
  return {
    branch_create: branchCreate,
    masking_rules: rules,
    start_anonymization: true,
    annotation_value: { ...(annotation_value ?? {}), [ANONYMIZED_ANNOTATION]: 'true' },
  }
}

/** Whether what the branch list says about a branch suggests that it is anonymized (no request). */
export function looksAnonymized(found: FoundBranch): boolean {
  return (
    found.annotation?.value[ANONYMIZED_ANNOTATION] !== undefined ||
    (found.branch.restricted_actions ?? []).some((a) => a.name === 'restore')
  )
}

/**
 * The branch's masking state, or null when it is not an anonymized branch: Neon keeps status
 * "only [for] anonymized branches" (API description, getAnonymizedBranchStatus), and answers a
 * plain one with a refusal whose status it does not document; every 4xx but the ones a retry or
 * a key is about is read as "not anonymized".
 */
export async function readAnonymizedStatus(run: ModeRun, branch: Branch): Promise<AnonymizedStatus | null> {
  try {
    return await run.deps.neon.getAnonymizedStatus(run.project, branch.id)
  } catch (e) {
    if (notAnonymized(e)) return null
    throw e
  }
}

function notAnonymized(e: unknown): boolean {
  return (
    e instanceof NeonApiError &&
    e.status >= 400 &&
    e.status < 500 &&
    ![401, 403, 408, 423, 429].includes(e.status)
  )
}

function report(s: AnonymizedStatus, rules: number | undefined, remasked: boolean): AnonymizationReport {
  const n = maskedColumns(s)
  return {
    ...(n !== undefined ? { maskedColumns: n } : {}),
    ...(rules !== undefined ? { rules } : {}),
    remasked,
  }
}

function waitFor(run: ModeRun, branch: Branch, since?: AnonymizedStatus): Promise<AnonymizedStatus> {
  const { neon, log } = run.deps
  return waitForAnonymized(
    {
      branch,
      status: () => neon.getAnonymizedStatus(run.project, branch.id),
      ...(since ? { since } : {}),
      progress: (line) => log.info(line),
    },
    run.poll,
    run.wait,
  )
}

/**
 * After the create's operations: waits until Neon has masked the new branch. A failed masking
 * deletes the branch (it holds the parent's data, unmasked, which nobody asked for) and says so.
 */
export async function awaitNewBranchMasking(
  run: ModeRun,
  branch: Branch,
  rules: number,
): Promise<AnonymizationReport> {
  run.deps.log.info(`Waiting for Neon to mask branch '${branch.name}' with ${countRules(rules)}`)
  return settleMasking(run, branch, async () => report(await waitFor(run, branch), rules, false))
}

/** Runs `work`; when the masking failed, deletes the branch before the failure goes on. */
export async function settleMasking<T>(run: ModeRun, branch: Branch, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (e) {
    if (e instanceof AnonymizationFailedError) await deleteUnmasked(run, branch, e)
    throw e
  }
}

async function deleteUnmasked(run: ModeRun, branch: Branch, e: AnonymizationFailedError): Promise<void> {
  const { neon, log } = run.deps
  log.info(`Deleting branch '${branch.name}' (${branch.id}): its data is not masked as the rules ask`)
  try {
    refuseRestricted(branch, 'delete')
    // For good (hard_delete): a soft-deleted branch could be recovered, unmasked data and all, for 7 days.
    const res = await neon.deleteBranch(run.project, branch.id, { hard: true })
    if (res) {
      run.changed(`deleted branch '${branch.name}' (${branch.id}) for good, whose data was not masked`)
      // Neon took the delete: should the step's deadline pass while its operations run, the branch
      // goes all the same, and the note says so rather than asking for a delete already made.
      await run.waitOps(res.operations).catch((w: unknown) => {
        e.addNote(
          `Neon accepted the delete of the branch; waiting for it to finish stopped ` +
            `(${w instanceof Error ? w.message : String(w)}).`,
        )
      })
    }
    run.deps.ephemeral?.nothing()
    e.addNote(
      'The branch was deleted for good (hard_delete: it cannot be recovered), as it held data that was ' +
        'not masked as the rules ask; fix the rules (or wait for Neon) and run again to create it anew.',
    )
  } catch (d) {
    e.addNote(
      `Deleting the branch, which holds data that is not masked as the rules ask, failed too ` +
        `(${d instanceof Error ? d.message : String(d)}): delete it now (mode: delete, or the Neon console).`,
    )
  }
}

/**
 * adoptMasking for a branch just recovered (create on a reopen, `mode: recover`): the same checks,
 * and on top, without masking rules, a branch that looks anonymized and was never masked
 * (`initialized`: no masking run started) fails as a failed masking does, so that settleMasking
 * deletes it for good rather than hand out its unmasked data.
 */
export async function recoveredMasking(
  run: ModeRun,
  found: FoundBranch,
  masking: MaskingRulesInput | undefined,
): Promise<() => Promise<AnonymizationReport | undefined>> {
  if (!masking && looksAnonymized(found)) {
    const status = await readAnonymizedStatus(run, found.branch)
    if (status?.state === 'initialized') {
      const failed = new AnonymizationFailedError(
        found.branch,
        status.state,
        status.status_message || 'the branch was never masked',
      )
      return () => Promise.reject(failed)
    }
  }
  return adoptMasking(run, found, masking)
}

/** What adoptMasking would do, from the same reads; changes nothing. */
export async function dryRunMasking(
  run: ModeRun,
  branch: Branch,
  masking: MaskingRulesInput,
): Promise<string> {
  const { status, current } = await readMasking(run, branch, masking)
  if (status.state === 'anonymized' && sameRules(current, masking.rules)) {
    return `its ${countRules(current.length)} match ${masking.source}: nothing to mask again`
  }
  return sameRules(current, masking.rules)
    ? `it is '${status.state}': would mask it again with its ${countRules(current.length)}`
    : `would replace its masking rules (${current.length} → ${masking.rules.length}) and mask it again`
}

/** The branch's masking status and rules, read side by side; an error when it is not anonymized. */
async function readMasking(
  run: ModeRun,
  branch: Branch,
  masking: MaskingRulesInput,
): Promise<{ status: AnonymizedStatus; current: MaskingRule[] }> {
  const [status, current] = await allFinished([
    readAnonymizedStatus(run, branch),
    run.deps.neon.getMaskingRules(run.project, branch.id).catch((e: unknown) => {
      if (notAnonymized(e)) return null
      throw e
    }),
  ])
  if (!status || !current) {
    throw new Error(
      `branch '${branch.name}' (${branch.id}) is not an anonymized branch: its data is an unmasked copy of ` +
        `its parent, and ${masking.source} asks for masked data. Nothing was changed. Delete it (mode: delete) ` +
        `and run create again for an anonymized branch, or drop the rules for a plain one.`,
    )
  }
  return { status, current }
}

/**
 * An adopted branch, checked against the workflow's rules (reads only, side by side). Returns
 * what finishes the job: nothing more when the branch is masked with the same rules (in any
 * order); otherwise the rules replaced (PATCH) and a new masking run started, whose end it waits
 * for. A branch that is not anonymized is an error, before any change: its data is a plain copy.
 * What it returns throws AnonymizationFailedError when the masking failed: the caller runs it
 * within settleMasking, beside the other work on the branch, so that the branch is deleted only
 * once nothing else is in flight on it.
 */
export async function adoptMasking(
  run: ModeRun,
  found: FoundBranch,
  masking: MaskingRulesInput | undefined,
): Promise<() => Promise<AnonymizationReport | undefined>> {
  const { branch } = found
  const { neon, log } = run.deps
  if (!masking) {
    if (!looksAnonymized(found)) return async () => undefined
    const status = await readAnonymizedStatus(run, branch)
    if (!status) return async () => undefined
    log.notice(
      `Branch '${branch.name}' is an anonymized branch, and masking_rules is not set: its masking rules are ` +
        `left as they are.`,
    )
    return async () => {
      if (FAILED_STATES.has(status.state)) {
        throw new AnonymizationFailedError(branch, status.state, status.status_message)
      }
      return report(isTerminal(status.state) ? status : await waitFor(run, branch, status), undefined, false)
    }
  }
  const rules = masking.rules
  const { status, current } = await readMasking(run, branch, masking)
  let s = status
  if (!isTerminal(s.state) && s.state !== 'initialized') {
    // Another run's masking (a concurrent create, or one whose wait ran out): see where it ends.
    log.info(`Branch '${branch.name}' is being masked already (${s.state}); waiting for that first`)
    s = await waitFor(run, branch, s).catch(async (e: unknown) => {
      if (e instanceof AnonymizationFailedError) return neon.getAnonymizedStatus(run.project, branch.id)
      throw e
    })
  }
  if (s.state === 'initialization_error') {
    // Neon starts a masking run from `initialized`, `error` or `anonymized` only (API description,
    // startAnonymization): this branch cannot be masked any more.
    const failed = new AnonymizationFailedError(branch, s.state, s.status_message)
    return () => Promise.reject(failed)
  }
  const differ = !sameRules(current, rules)
  if (s.state === 'anonymized' && !differ) {
    log.info(`Branch '${branch.name}' is masked with the same ${countRules(rules.length)}; nothing to do`)
    const done = s
    return async () => report(done, rules.length, false)
  }
  if (differ) {
    await neon.updateMaskingRules(run.project, branch.id, rules)
    run.changed(`replaced the branch's masking rules (${current.length} → ${rules.length})`)
  }
  if (s.state === 'anonymized') {
    log.warning(
      `Branch '${branch.name}' is masked again, with the rules of ${masking.source}. Neon masks the data ` +
        `the branch holds now, which is masked already: a column whose rule was removed keeps its masked ` +
        `values, and no original value comes back. For data masked afresh from the parent, run mode: reset ` +
        `(it re-creates an anonymized branch).`,
    )
  } else {
    log.info(`Branch '${branch.name}' is '${s.state}': masking it with ${countRules(rules.length)}`)
  }
  const started = await startMasking(run, branch)
  run.changed(`started masking the branch again`)
  return async () => report(await waitFor(run, branch, started), rules.length, true)
}

/**
 * POST …/anonymize. Refused (a 4xx) while a run is under way, which another run can have started
 * between our read and our request: then that run is waited for instead.
 */
async function startMasking(run: ModeRun, branch: Branch): Promise<AnonymizedStatus> {
  const { neon, log } = run.deps
  try {
    return await neon.startAnonymization(run.project, branch.id)
  } catch (e) {
    if (!(e instanceof NeonApiError) || e.status < 400 || e.status >= 500) throw e
    const now = await neon.getAnonymizedStatus(run.project, branch.id)
    if (now.state !== 'created' && now.state !== 'anonymizing') throw e
    log.info(
      `Neon refused a new masking run of '${branch.name}' (${e.status}): one is under way; waiting for it`,
    )
    return now
  }
}

/** What reset needs to re-create an anonymized branch. */
export interface Recreation {
  /** The branch as it is, to be deleted. */
  branch: Branch
  /** Where the new branch starts: the old one's parent, or `parent_branch`. */
  source: Branch
  /** The plain create's body for the new branch (name, parent, point, expiry, compute, annotations). */
  body: CreateBranchRequest
  /** The workflow's rules; without them the branch's own (read before it is deleted). */
  masking: MaskingRulesInput | undefined
  /** Why Neon cannot reset it: its `restricted_actions` entry for `restore`, when it has one. */
  reason: string | undefined
  /** `preserve_under_name`: the old branch is renamed to this, not deleted. */
  preserveAs?: string
  /** Neon said `anonymized` when the run read its status; otherwise its data may be unmasked. */
  masked: boolean
}

/** The rules a re-created branch gets: the workflow's, or else the branch's own. */
export async function rulesForRecreation(
  run: ModeRun,
  r: Pick<Recreation, 'branch' | 'masking'>,
): Promise<{ rules: MaskingRule[]; source: string }> {
  if (r.masking) return { rules: r.masking.rules, source: r.masking.source }
  const rules = await run.deps.neon.getMaskingRules(run.project, r.branch.id)
  if (rules.length === 0) {
    throw new Error(
      `branch '${r.branch.name}' (${r.branch.id}) is anonymized but has no masking rules, and masking_rules ` +
        `is not set: give the rules to re-create it with. Nothing was changed.`,
    )
  }
  return { rules, source: `the branch's own rules` }
}

/**
 * reset of an anonymized branch: Neon cannot reset or restore one (BEHAVIOUR.md; its
 * `restricted_actions` says so), so it is deleted, and made anew from the parent as an anonymized
 * branch with the same name, then masked, then prepared as create prepares one. Its id, host and
 * password change: the caller's result says so. A failure after the delete says that the old
 * branch is gone (run.changes lists it).
 */
export async function recreateAnonymized(
  run: ModeRun,
  r: Recreation,
  rules: MaskingRule[],
): Promise<{ res: CreateBranchResponse; report: AnonymizationReport }> {
  const { neon, log } = run.deps
  const { branch } = r
  log.info(
    `Branch '${branch.name}' is anonymized, and Neon cannot reset it` +
      `${r.reason ? ` (${r.reason.replace(/\.$/, '')})` : ''}: re-creating it from '${r.source.name}' with ` +
      `freshly masked data. Its id, host and password change.`,
  )
  if (r.preserveAs !== undefined) {
    const renamed = await neon.updateBranch(run.project, branch.id, { name: r.preserveAs })
    run.changed(`renamed branch '${branch.name}' (${branch.id}) to '${r.preserveAs}' to re-create it`)
    await run.waitOps(renamed.operations)
  } else {
    // One whose data is not known to be masked (its masking failed, or never ran) goes for good.
    const hard = !r.masked
    const gone = await neon.deleteBranch(run.project, branch.id, { hard })
    if (gone) {
      run.changed(`deleted branch '${branch.name}' (${branch.id})${hard ? ' for good' : ''} to re-create it`)
      await run.waitOps(gone.operations)
    }
  }
  const res = await neon.createAnonymizedBranch(run.project, anonymizedCreateRequest(r.body, rules))
  run.changed(`created anonymized branch '${res.branch.name}' (${res.branch.id}) in its place`)
  log.info(
    `Created anonymized branch '${res.branch.name}' (${res.branch.id}); waiting for ${res.operations.length} operations`,
  )
  await run.waitOps(res.operations)
  return { res, report: { rules: rules.length, remasked: false } }
}
