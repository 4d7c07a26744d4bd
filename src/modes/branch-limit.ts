import { isBranchLimit, NeonApiError, withContext } from '../neon/errors.js'
import { BranchIndex } from '../neon/lookup.js'
import { deleteChildrenFirst, judgeBranches, verdictOf } from './cleanup/index.js'
import type { Candidate } from './cleanup/candidate.js'
import type { ModeRun } from './run.js'
import type { BranchLimitReport, CleanupVerdict, ModeResult } from './types.js'
import { escapeControl as shown } from '../util/log-text.js'
import { undoLine, unknownWindows } from './undo.js'

/** Branches listed in an error message; the log lists every one. */
export const MAX_LISTED = 10

/** The project as found when the create met its branch limit. */
export interface LimitSurvey {
  limit?: number
  count: number
  index: BranchIndex
  /** Every cleanup candidate with the cleanup rules' verdict. */
  judged: Candidate[]
  /** What `mode: cleanup` would delete now, oldest first. */
  stale: Candidate[]
}

/**
 * The project's branch limit, for create: when Neon refuses the new branch for it (422
 * BRANCHES_LIMIT_EXCEEDED), `on_branch_limit: fail` fails saying the limit, the count and what the
 * cleanup rules would delete; `make-room` deletes the oldest of those (children first), only as many
 * as the create needs, and retries the create once. The rules are cleanup's own (judgeBranches), so
 * make-room can never delete what `mode: cleanup` would keep.
 */
export class BranchLimit {
  private report?: BranchLimitReport

  constructor(private readonly run: ModeRun) {}

  /**
   * Runs `attempt` (the create request); on a branch-limit refusal, fails or makes room and retries
   * once. `first`, when given, runs on the refusal before anything else and may end it by throwing:
   * a create that skipped its look-up asks there whether the name exists after all.
   */
  async create<T>(attempt: () => Promise<T>, first?: (refusal: NeonApiError) => Promise<void>): Promise<T> {
    try {
      return await attempt()
    } catch (e) {
      if (!isBranchLimit(e)) throw e
      await first?.(e as NeonApiError)
      return await this.onRefusal(e as NeonApiError, attempt)
    }
  }

  /**
   * For a dry run of a create: when the project is at its limit, the lines saying so and what
   * make-room would delete. Two requests when it is not at its limit, nothing deleted ever.
   */
  async plan(): Promise<string[]> {
    const { neon } = this.run.deps
    const limit = (await neon.getProject(this.run.project)).owner?.branches_limit
    const count = await neon.countBranches(this.run.project)
    if (limit === undefined || count < limit) return []
    const survey = await this.survey(limit, count)
    const at = `the project is at its branch limit (${count} of ${limit} branches)`
    if (this.run.inputs.onBranchLimit === 'fail' || survey.stale.length === 0) {
      this.logStale(survey)
      const why = describeSurvey(survey, this.run).replace(/\n/g, ' ')
      return [`${at}: Neon would refuse the create, and the step would fail. ${why}`]
    }
    const groups = pickRoom(survey, roomNeeded(survey))
    const made = groups.flat().map((c) => verdictOf(c, 'would delete'))
    this.report = { limit, count, madeRoom: made }
    return made.map(
      (v) => `would delete stale branch '${v.branch}' (${v.branchId}) to make room (${at}): ${v.reason}`,
    )
  }

  /** What the result carries about the limit: nothing unless the project was at it. */
  result(): Partial<ModeResult> {
    if (!this.report) return {}
    const names = this.report.madeRoom.map((v) => v.branch)
    return {
      branchLimit: this.report,
      deletedBranches: this.run.inputs.dryRun ? [] : names,
      staleBranches: names,
      // No listing to learn the exact window: the create is waiting, and the documented one is said.
      ...(this.run.inputs.dryRun || names.length === 0
        ? {}
        : {
            recoverable: unknownWindows(
              this.report.madeRoom.map((v) => ({ id: v.branchId, name: v.branch })),
            ),
          }),
    }
  }

  private async onRefusal<T>(refusal: NeonApiError, attempt: () => Promise<T>): Promise<T> {
    const { log } = this.run.deps
    let survey: LimitSurvey
    try {
      const project = await this.run.deps.neon.getProject(this.run.project)
      const count = await this.run.deps.neon.countBranches(this.run.project)
      survey = await this.survey(project.owner?.branches_limit, count)
    } catch (e) {
      throw withContext(
        `Neon refused the branch for the project's branch limit (${refusal.message}); then`,
        e,
      )
    }
    const at = atLimit(survey, refusal)
    this.logStale(survey)
    this.refuseWithoutRoom(at, survey)

    const needed = roomNeeded(survey)
    const made: CleanupVerdict[] = []
    const failures: string[] = []
    let freed = 0
    const byId = new Map(survey.judged.map((c) => [c.branch.id, c]))
    for (const group of roomGroups(survey)) {
      if (freed >= needed) break
      await deleteChildrenFirst(
        this.run,
        group.map((c) => c.branch),
        1,
        (b, error) => {
          const c = byId.get(b.id)!
          if (error === undefined) {
            freed++
            made.push(verdictOf(c, 'deleted'))
            this.run.changed(`deleted stale branch '${b.name}' (${b.id}) to make room: ${c.reason}`)
            log.info(`Deleted stale branch '${b.name}' (${b.id}) to make room: ${c.reason}`)
            log.info(undoLine({ id: b.id, name: b.name }))
          } else if (error === 'gone') {
            // Most likely another run making room at the same moment: that place is its, not ours.
            log.info(
              `'${b.name}' (${b.id}) was already gone (another run made room with it, or it expired); ` +
                `it frees no place for this run`,
            )
          } else {
            failures.push(`'${shown(b.name)}' (${b.id}): ${error}`)
            log.warning(`Could not delete '${b.name}' (${b.id}) to make room: ${error}`)
          }
        },
      )
    }
    this.report = { limit: survey.limit, count: survey.count, madeRoom: made }
    if (freed < needed) {
      throw new Error(
        `${at} on_branch_limit: make-room deleted ${freed} of the ${needed} branch(es) it needed` +
          (failures.length ? `; failed to delete: ${failures.join('; ')}` : '') +
          `; no other stale branch was left to try.`,
      )
    }
    log.info(`Made room: ${made.length} stale branch(es) deleted; retrying the create once`)
    try {
      return await attempt()
    } catch (e) {
      if (!isBranchLimit(e)) throw e
      throw new Error(
        `${at} make-room deleted ${made.map((v) => `'${v.branch}'`).join(', ')}, but Neon refused the ` +
          `create again (${(e as Error).message}): another run took the place first. Re-run the job to ` +
          `make room again.`,
      )
    }
  }

  /** With `on_branch_limit: fail`, or nothing stale to delete: the refusal, with what could be done. */
  private refuseWithoutRoom(at: string, survey: LimitSurvey): void {
    const byHand = `Delete a branch by hand, or raise the limit (Neon's plans set it).`
    if (this.run.inputs.onBranchLimit === 'fail') {
      const hint =
        survey.stale.length > 0
          ? `Set on_branch_limit: make-room to delete the oldest of them (only as many as the create ` +
            `needs) and create, or run mode: cleanup.`
          : byHand
      throw new Error([at, describeSurvey(survey, this.run), hint].join('\n'))
    }
    if (survey.stale.length === 0) {
      const none = 'on_branch_limit: make-room found nothing the cleanup rules allow it to delete.'
      throw new Error([at, none, describeSurvey(survey, this.run), byHand].join('\n'))
    }
  }

  private async survey(limit: number | undefined, count: number): Promise<LimitSurvey> {
    const index = await BranchIndex.load(this.run.deps.neon, this.run.project)
    const judged = await judgeBranches(this.run, index, this.run.deps.clock.now())
    const stale = judged
      .filter((c) => c.remove)
      .sort((a, b) => b.ageDays - a.ageDays || (a.branch.name < b.branch.name ? -1 : 1))
    return { limit, count, index, judged, stale }
  }

  /** The log gets every stale branch; messages list the first MAX_LISTED. */
  private logStale(s: LimitSurvey): void {
    const { log } = this.run.deps
    log.info(
      `Branch limit: ${s.count} of ${s.limit ?? '?'} branches; mode: cleanup would delete ${s.stale.length}`,
    )
    for (const c of s.stale) log.info(`  stale: ${staleLine(c)}`)
  }
}

/** Places the create needs: one, or more when the project is past its limit (a plan lowered under it). */
export function roomNeeded(s: Pick<LimitSurvey, 'limit' | 'count'>): number {
  return Math.max(1, s.limit !== undefined ? s.count - s.limit + 1 : 1)
}

/**
 * The deletes make-room would do, in groups: the oldest stale branch with its descendants (which
 * must go first, and are stale too, or the rules would have kept it), then the next, until the
 * groups free `needed` places. A real run takes the same groups one by one (roomGroups) and counts
 * only the deletes that were its own.
 */
export function pickRoom(s: LimitSurvey, needed: number): Candidate[][] {
  const groups: Candidate[][] = []
  let freed = 0
  for (const group of roomGroups(s)) {
    if (freed >= needed) break
    groups.push(group)
    freed += group.length
  }
  return groups
}

/** Every group make-room may delete, oldest stale branch first; each branch in one group only. */
export function* roomGroups(s: LimitSurvey): Generator<Candidate[]> {
  const byId = new Map(s.judged.map((c) => [c.branch.id, c]))
  const taken = new Set<string>()
  for (const root of s.stale) {
    const group = subtree(root, s, byId).filter((c) => !taken.has(c.branch.id))
    if (group.length === 0) continue
    for (const c of group) taken.add(c.branch.id)
    yield group
  }
}

/**
 * A stale branch and all its descendants, descendants first. Empty when a descendant is not stale:
 * the cleanup rules never let that happen, and make-room deletes nothing they would keep.
 */
function subtree(root: Candidate, s: LimitSurvey, byId: Map<string, Candidate>): Candidate[] {
  const out: Candidate[] = []
  const visit = (c: Candidate, seen: Set<string>): boolean => {
    if (seen.has(c.branch.id)) return true
    seen.add(c.branch.id)
    for (const k of s.index.children(c.branch.id)) {
      const kc = byId.get(k.id)
      if (!kc?.remove || !visit(kc, seen)) return false
    }
    out.push(c)
    return true
  }
  return visit(root, new Set()) ? out : []
}

function atLimit(s: LimitSurvey, refusal: NeonApiError): string {
  return (
    `the project is at its branch limit: ${s.count} of ${s.limit ?? 'an unknown number of'} branches ` +
    `(${refusal.message}).`
  )
}

function staleLine(c: Candidate): string {
  const age = `${Math.round(c.ageDays * 10) / 10} days since its last update`
  return `'${shown(c.branch.name)}' (${c.branch.id}): ${shown(c.reason)}; ${age}`
}

/** What cleanup would delete (the first MAX_LISTED) and what holds the rest of the quota. */
export function describeSurvey(s: LimitSurvey, run: ModeRun): string {
  const lines: string[] = []
  if (s.stale.length > 0) {
    lines.push(`mode: cleanup with these inputs would delete ${s.stale.length} branch(es) now, oldest first:`)
    for (const c of s.stale.slice(0, MAX_LISTED)) lines.push(`- ${staleLine(c)}`)
    if (s.stale.length > MAX_LISTED) lines.push(`- … and ${s.stale.length - MAX_LISTED} more (see the log)`)
  } else {
    lines.push(`mode: cleanup with these inputs would delete none of them now.`)
  }
  lines.push(`What holds the quota: ${quotaBreakdown(s, run.inputs.cleanupPrefix)}.`)
  return lines.join('\n')
}

/** "1 default branch, 2 outside cleanup_prefix 'preview/', 7 under it: 4 of open pull requests, …" */
export function quotaBreakdown(s: Pick<LimitSurvey, 'index' | 'judged'>, prefix: string): string {
  const all = s.index.branches
  const parts: string[] = []
  const n = (k: number, what: string): void => {
    if (k > 0) parts.push(`${k} ${what}`)
  }
  n(all.filter((b) => b.default).length, 'default branch')
  n(all.filter((b) => !b.default && b.protected).length, 'protected')
  n(
    all.filter((b) => !b.default && !b.protected && !b.name.startsWith(prefix)).length,
    `outside cleanup_prefix '${prefix}'`,
  )
  const why = new Map<string, number>(KEPT_BECAUSE.map((k) => [k, 0]))
  for (const c of s.judged) {
    const k = c.remove ? 'stale' : keptBecause(c)
    why.set(k, (why.get(k) ?? 0) + 1)
  }
  if (s.judged.length > 0) {
    const counts = [...why].filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k}`)
    parts.push(`${s.judged.length} under it: ${counts.join(', ')}`)
  }
  return `${all.length} branches listed: ${parts.join(', ')}`
}

/** The breakdown's categories, in the order it names them. */
const KEPT_BECAUSE = [
  'stale',
  'of open pull requests',
  'of another repository',
  'whose pull request could not be looked up',
  'kept as parents of branches that stay',
  'updated within cleanup_max_age',
] as const

function keptBecause(c: Candidate): (typeof KEPT_BECAUSE)[number] {
  if (c.heldByChild) return 'kept as parents of branches that stay'
  if (c.prState === 'open') return 'of open pull requests'
  if (c.foreign !== undefined) return 'of another repository'
  if (c.tie && !c.youngNameTie) return 'whose pull request could not be looked up'
  return 'updated within cleanup_max_age'
}
