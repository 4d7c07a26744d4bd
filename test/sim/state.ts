// The simulator's world: projects, branches, endpoints, roles, databases and operations.
// Operation progress is derived lazily from the clock (no timers), so the state is deterministic.

import { NO_BACKEND, type Backend } from './backend.js'
import { IdGen, Rng } from './ids.js'
import type { ActivityMark, UsageSeed } from './usage.js'

export type OperationStatus =
  'scheduling' | 'running' | 'finished' | 'skipped' | 'failed' | 'error' | 'cancelling' | 'cancelled'
export type EndpointState = 'init' | 'active' | 'idle'
export type EndpointType = 'read_write' | 'read_only'
export type InitSource = 'parent-data' | 'schema-only'

/**
 * An action Neon refuses on a branch, and why: the API description's Branch.restricted_actions
 * (BranchRestrictedAction: `name`, `reason`; "Possible values include `restore`,
 * `delete-rw-endpoint`"). An anonymized branch has `restore` and `delete-rw-endpoint` (BEHAVIOUR.md,
 * "Anonymized branches").
 */
export interface RestrictedAction {
  name: string
  reason: string
}

/**
 * The names the simulator enforces: `restore` refuses POST …/restore, `delete-rw-endpoint` refuses
 * DELETE of the branch's read_write endpoint (both named by the description), and `delete` refuses
 * DELETE of the branch (named by no source: the name src/modes/guards.ts reads for it). Any other
 * name is reported and enforces nothing.
 */
/**
 * Neon Auth on a branch (the API description's NeonAuthIntegration; Neon's docs, "Branching
 * authentication": auth lives in the branch's `neon_auth` schema, works with one database and the
 * branch's read-write endpoint, and a branch made from one with Neon Auth has its own copy, served
 * at its own endpoint).
 */
export interface NeonAuthState {
  /** NeonAuthSupportedAuthProvider: `mock`, `stack` or `better_auth`. */
  provider: 'mock' | 'stack' | 'better_auth'
  providerProjectId: string
  dbName: string
  createdAt: number
}

export const RESTRICTION = {
  restore: 'restore',
  deleteRwEndpoint: 'delete-rw-endpoint',
  delete: 'delete',
} as const

export interface SimProject {
  id: string
  name: string
  regionId: string // e.g. aws-us-east-2
  pgVersion: number
  orgId: string
  createdAt: number
  updatedAt: number
  defaultBranchId: string
  historyRetentionSeconds: number
  /**
   * The plan's largest compute size, when the test sets one (the free plan's is 2 CU: BEHAVIOUR.md,
   * "Compute sizes"); unset, only Neon's documented sizes are checked.
   */
  planMaxCu?: number
  defaultEndpointSettings: {
    autoscaling_limit_min_cu: number
    autoscaling_limit_max_cu: number
    suspend_timeout_seconds: number
  }
  /**
   * Branches the project may hold; creating past it is refused with 422 (BEHAVIOUR.md, "Limits of a
   * project"). Undefined: no limit is enforced.
   */
  branchesLimit?: number
  /**
   * Set when the project does not offer branch recovery (BEHAVIOUR.md, "Deleted branches can be
   * recovered": the feature is in preview and not offered to every account). Then a delete is final
   * at once, `include_deleted` lists no deleted branch, and `POST …/recover` answers `status`
   * (BEHAVIOUR.md: "refused with a 4xx (which one is not documented)"). Unset: recovery is offered.
   */
  noRecovery?: { status: number }
}

/**
 * Neon's free plan allows 10 branches a project (BEHAVIOUR.md, "Limits of a project"; projects-api.md,
 * `owner.branches_limit: 10` with `subscription_type: free_v3`).
 */
export const FREE_PLAN_BRANCH_LIMIT = 10

/**
 * How long a deleted branch stays recoverable: "A deleted branch is soft-deleted for 7 days"
 * (BEHAVIOUR.md, "Deleted branches can be recovered"; Neon's API description, recoverProjectBranch:
 * "within the 7-day deletion recovery period").
 */
export const RECOVERY_WINDOW_MS = 7 * 86_400_000

/**
 * Whether projects offer branch recovery, as the simulator's options take it: true (the default),
 * false (not offered: `recover` answers 404, as for a branch that no longer exists), or the 4xx the
 * refusal should carry (Neon documents none: BEHAVIOUR.md, "Deleted branches can be recovered").
 */
export type BranchRecoveryOption = boolean | { refuseWith: number }

export function noRecoveryOf(o: BranchRecoveryOption | undefined): { status: number } | undefined {
  if (o === undefined || o === true) return undefined
  const status = o === false ? 404 : o.refuseWith
  if (!Number.isInteger(status) || status < 400 || status > 499)
    throw new Error(`simulator: a refused recovery answers a 4xx, not ${status}`)
  return { status }
}

/** A branch limit as the simulator's options take it: a number, or the free plan's preset. */
export type BranchLimitOption = number | 'free'

export function branchLimitOf(o: BranchLimitOption | undefined): number | undefined {
  if (o === undefined) return undefined
  const n = o === 'free' ? FREE_PLAN_BRANCH_LIMIT : o
  if (!Number.isInteger(n) || n < 1) throw new Error(`simulator: invalid branch limit ${String(o)}`)
  return n
}

export interface SimBranch {
  id: string
  projectId: string
  name: string
  parentId?: string
  parentLsn?: string
  parentTimestamp?: number
  protected: boolean
  default: boolean
  /** The project's original root branch (cannot be deleted). */
  root: boolean
  initSource: InitSource
  createdAt: number
  updatedAt: number
  lastResetAt?: number
  expiresAt?: number
  ttlIntervalSeconds?: number
  annotations: Record<string, string>
  annotationCreatedAt?: number
  annotationUpdatedAt?: number
  /** What Neon refuses on the branch (restricted_actions); unset: nothing. */
  restrictedActions?: RestrictedAction[]
  /** Neon Auth on the branch, when enabled (GET …/auth answers it; 404 otherwise). */
  neonAuth?: NeonAuthState
  /** Databases of the branch whose Data API is enabled (GET …/data-api/{database} answers it; 404 otherwise). */
  dataApi?: string[]
  /** Operation whose completion makes the branch `ready`. */
  createOpId?: string
  /** Soft-deleted at (by the API or by its expiry): gone from the API, recoverable for 7 days. */
  deletedAt?: number
  /** How it was deleted (Neon's BranchRecoveryInfo.deletion_method: `user` or `ttl`). */
  deletionMethod?: 'user' | 'ttl'
  /** Deleted for good: past its recovery window, `hard_delete`, or in a project without recovery. */
  purged?: boolean
  /** The model's logical size in bytes (usage.ts: a child starts at its parent's). */
  logicalSize: number
  /** Usage figures a test set (sim.setUsage); usage.ts adds the model's. */
  usage?: UsageSeed
}

export interface SimEndpoint {
  id: string
  projectId: string
  branchId: string
  host: string
  type: EndpointType
  suspendTimeoutSeconds: number
  minCu: number
  maxCu: number
  disabled: boolean
  poolerEnabled: boolean
  settings: Record<string, unknown>
  createdAt: number
  updatedAt: number
  /** State before the current transition (or the state, when there is none). */
  baseState: EndpointState
  transition?: { opId: string; to: EndpointState }
  deletedAt?: number
  /** Deleted because its branch was: a recovery of the branch brings it back. */
  deletedWithBranch?: boolean
  /** Its state changes since creation, for the branch's usage figures (usage.ts). */
  activity: ActivityMark[]
}

export interface SimRole {
  branchId: string
  name: string
  password: string
  protected: boolean
  createdAt: number
  updatedAt: number
}

export interface SimDatabase {
  id: number
  branchId: string
  name: string
  ownerName: string
  createdAt: number
  updatedAt: number
  /**
   * Without the real PostgreSQL backend: the schema a test set (sim.setSchema), oldest first, for
   * GET …/schema at a timestamp or an LSN. Replaced, never changed in place: a branch's copy of
   * its parent's databases shares the history up to the moment it was made, as Neon's does.
   */
  schema?: readonly SchemaVersion[]
}

/** One version of a database's schema (see SimDatabase.schema). */
export interface SchemaVersion {
  at: number
  lsn: string
  sql: string
}

export interface SimOperation {
  id: string
  seq: number
  projectId: string
  branchId?: string
  endpointId?: string
  action: string
  createdAt: number
  /** When it leaves `scheduling`. */
  runAt: number
  /** When it reaches its terminal status. */
  endAt: number
  error?: string
  /** Terminal status when it does not finish: failed (injected) or cancelled (an earlier one in its batch failed). */
  outcome: 'finished' | 'failed' | 'cancelled'
  /** Injected transient failures: Neon retries the operation internally, `retryAfterMs` apart. */
  transient?: { failures: number; retryAfterMs: number }
  /** A real backend's work this operation waits for (Backend.ticket). */
  backendTicket?: number
}

/** One point of a branch's write-ahead log: the LSN it had reached at a time. */
export interface LsnPoint {
  branchId: string
  at: number
  lsn: bigint
}

export interface WorldOptions {
  operationMs: Partial<Record<string, number>>
  /** Each operation lasts operationMs × (1 ± up to this fraction), drawn from the seed (default 0). */
  operationJitter?: number
  schedulingMs: number
  seed: number
  now: () => number
  /** What stands behind the computes (default: nothing). */
  backend?: Backend
  /**
   * Most branches one list page holds, whatever `limit` asks (default 100: BEHAVIOUR.md, Branches,
   * from neonctl 5.0.1 `dist/utils/enrichers.js`: "Branch list pages cap at 100").
   */
  branchPageCap?: number
  /** Branch limit of every project made from now on, unless it says otherwise (default: none). */
  branchLimit?: BranchLimitOption
  /** Which refusal a create of an existing name at the branch limit gets (see CreateCheckOrder). */
  createCheckOrder?: CreateCheckOrder
  /** Whether projects made from now on offer branch recovery, unless they say otherwise (default yes). */
  branchRecovery?: BranchRecoveryOption
  /**
   * Every branch made from now on gets the Data API enabled for each of its databases. Not a Neon
   * behaviour (Neon enables it per branch and database, and no source says a child inherits it): a
   * set-up for local runs, `npm run sim -- --data-api`, so that `data_api_url` can be seen there.
   */
  dataApiOnNewBranches?: boolean
}

/**
 * The order in which `POST /branches` checks a name that exists against the project's branch limit:
 * 409 first (`'conflict-first'`, the default) or 422 first (`'limit-first'`). No source states
 * Neon's order: BEHAVIOUR.md documents the 409 (name exists) and the 422 (branch limit) each on its
 * own, and neither the docs, the OpenAPI nor neonctl say which wins when both apply. The simulator
 * offers both so that the action is tested against both.
 */
export type CreateCheckOrder = 'conflict-first' | 'limit-first'

export interface OpSpec {
  action: string
  branchId?: string
  endpointId?: string
}

const TERMINAL: ReadonlySet<OperationStatus> = new Set([
  'finished',
  'skipped',
  'failed',
  'error',
  'cancelled',
])

export function isTerminal(s: OperationStatus): boolean {
  return TERMINAL.has(s)
}

export function roleKey(branchId: string, name: string): string {
  return `${branchId}\u0000${name}`
}

/** `ep-x-1.c-2.us-east-2.aws.neon.tech` → `ep-x-1-pooler.c-2.us-east-2.aws.neon.tech` */
export function poolerHost(host: string): string {
  const dot = host.indexOf('.')
  return dot < 0 ? `${host}-pooler` : `${host.slice(0, dot)}-pooler${host.slice(dot)}`
}

/** `0/1A2B3C4` → its 64-bit value; undefined when not an LSN (the form neonctl's formats.js accepts). */
export function parseLsn(s: string): bigint | undefined {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(s)
  if (!m) return undefined
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`)
}

/** The way Neon prints an LSN: upper-case hex, `high/low`. */
export function formatLsn(n: bigint): string {
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`
}

export function regionSuffix(regionId: string): string {
  return regionId.replace(/^aws-/, '')
}

export class World {
  readonly projects = new Map<string, SimProject>()
  /** All branches, including soft-deleted ones (`deletedAt` set). */
  readonly branches = new Map<string, SimBranch>()
  readonly endpoints = new Map<string, SimEndpoint>()
  /** Keyed by `roleKey(branchId, name)`. */
  readonly roles = new Map<string, SimRole>()
  /** Keyed by `roleKey(branchId, name)`. */
  readonly databases = new Map<string, SimDatabase>()
  readonly operations = new Map<string, SimOperation>()
  readonly failRules: {
    action?: string
    projectId?: string
    error: string
    /** Set: the operation fails this many times, is retried by Neon, then finishes. */
    transient?: { failures: number; retryAfterMs: number }
  }[] = []
  readonly ids: IdGen
  private readonly jitterRng: Rng
  readonly backend: Backend
  /**
   * Every LSN handed out, with the branch and time it marks. LSNs only grow (one WAL position per
   * World, as a Neon project's timelines share one LSN space: a child starts at its parent's LSN).
   */
  readonly lsnLog: LsnPoint[] = []
  private opSeq = 0

  constructor(readonly opts: WorldOptions) {
    this.ids = new IdGen(opts.seed)
    this.jitterRng = new Rng(opts.seed ^ 0x6a177e5)
    this.backend = opts.backend ?? NO_BACKEND
  }

  now(): number {
    return this.opts.now()
  }

  reset(): void {
    this.projects.clear()
    this.branches.clear()
    this.endpoints.clear()
    this.roles.clear()
    this.databases.clear()
    this.operations.clear()
    this.failRules.length = 0
    this.lsnLog.length = 0
    this.opSeq = 0
    this.ids.reset()
    this.backend.reset()
  }

  // ---------- operations ----------

  opStatus(op: SimOperation, now = this.now()): OperationStatus {
    if (now < op.runAt) return 'scheduling'
    if (now < op.endAt) return 'running'
    // A real backend still applying the change holds the operation until it has.
    if (op.outcome === 'finished' && op.backendTicket !== undefined && !this.backend.done(op.backendTicket))
      return 'running'
    return op.outcome
  }

  /** Whether any operation of the project is still in progress. */
  isLocked(projectId: string, now = this.now()): boolean {
    for (const op of this.operations.values()) {
      if (op.projectId === projectId && !isTerminal(this.opStatus(op, now))) return true
    }
    return false
  }

  private queueEnd(projectId: string): number {
    let end = -Infinity
    for (const op of this.operations.values())
      if (op.projectId === projectId && op.endAt > end) end = op.endAt
    return end
  }

  /**
   * How long an operation of `action` runs. Neon documents no durations, and nothing states how much
   * they vary; `operationJitter` spreads them (the benchmarks use ±10 %) so that a poller that
   * predicts the end from earlier operations is measured against durations it cannot know exactly.
   */
  duration(action: string): number {
    const base = this.opts.operationMs[action] ?? 30
    const j = this.opts.operationJitter ?? 0
    return j > 0 ? Math.round(base * (1 + j * (2 * this.jitterRng.next() - 1))) : base
  }

  /** Schedules a batch of operations, run one after another after any earlier ones of the project. */
  schedule(projectId: string, specs: OpSpec[]): SimOperation[] {
    const now = this.now()
    const out: SimOperation[] = []
    let prevEnd = this.queueEnd(projectId)
    let failedAt: number | undefined
    for (const spec of specs) {
      const runAt = Math.max(now + this.opts.schedulingMs, prevEnd)
      const op: SimOperation = {
        id: this.ids.operationId(),
        seq: ++this.opSeq,
        projectId,
        action: spec.action,
        createdAt: now,
        runAt,
        endAt: runAt + this.duration(spec.action),
        outcome: 'finished',
        ...(spec.branchId ? { branchId: spec.branchId } : {}),
        ...(spec.endpointId ? { endpointId: spec.endpointId } : {}),
      }
      if (failedAt !== undefined) {
        op.runAt = failedAt
        op.endAt = failedAt
        op.outcome = 'cancelled'
      } else {
        const rule = this.failRules.findIndex(
          (r) =>
            (r.action === undefined || r.action === spec.action) &&
            (r.projectId === undefined || r.projectId === projectId),
        )
        if (rule >= 0) {
          const [r] = this.failRules.splice(rule, 1)
          if (r?.transient) {
            op.transient = r.transient
            op.error = r.error
            op.endAt += r.transient.failures * r.transient.retryAfterMs
          } else {
            op.outcome = 'failed'
            op.error = r?.error ?? 'operation failed'
            failedAt = op.endAt
          }
        }
      }
      const ticket = spec.branchId !== undefined ? this.backend.ticket(spec.branchId) : undefined
      if (ticket !== undefined) op.backendTicket = ticket
      prevEnd = op.endAt
      this.operations.set(op.id, op)
      out.push(op)
    }
    return out
  }

  /**
   * Failures so far and the next retry of an operation that Neon is retrying internally: the n-th
   * failure happens n-1 retry intervals after it starts running.
   */
  opRetries(op: SimOperation, now = this.now()): { failures: number; retryAt?: number } {
    const t = op.transient
    if (!t || now < op.runAt) return { failures: 0 }
    const failures = Math.min(t.failures, Math.floor((now - op.runAt) / t.retryAfterMs) + 1)
    const retryAt = op.runAt + failures * t.retryAfterMs
    return now < op.endAt && retryAt > now ? { failures, retryAt } : { failures: t.failures }
  }

  /**
   * Neon deletes a branch once its expires_at has passed. Applied before every request, so a test
   * can seed a branch that expires and see it gone, as a user would after Neon's own clean-up.
   */
  expireBranches(now = this.now()): void {
    for (const b of this.branches.values()) {
      if (b.deletedAt !== undefined || b.expiresAt === undefined || b.expiresAt > now) continue
      if (this.children(b.id).length > 0) continue
      // Deleted by its TTL: recoverable like any deleted branch, `deletion_method: ttl` (Neon's API
      // description, BranchRecoveryInfo).
      this.softDelete(b, b.expiresAt, 'ttl')
    }
    this.purgeDeleted(now)
  }

  // ---------- deletion and recovery ----------

  /**
   * Deletes a branch as Neon does: soft, kept for 7 days with its endpoints, roles and data
   * (BEHAVIOUR.md, "Branches": "Deleted branches are kept (soft-deleted) for 7 days"; "Deleted
   * branches can be recovered"), and final at once where the project offers no recovery.
   */
  softDelete(b: SimBranch, at: number, method: 'user' | 'ttl'): void {
    b.deletedAt = at
    b.deletionMethod = method
    for (const e of this.branchEndpoints(b.id)) {
      e.deletedAt = at
      e.deletedWithBranch = true
      // A deleted compute is not active (usage.ts), until a recovery and a start.
      e.activity.push({ at, state: 'idle' })
    }
    this.backend.branchDeleted(b)
    if (this.project(b.projectId)?.noRecovery) this.purge(b)
  }

  /** Deletes a soft-deleted branch for good (its window passed, `hard_delete`, no recovery offered). */
  purge(b: SimBranch): void {
    if (b.purged || b.deletedAt === undefined) return
    b.purged = true
    this.backend.branchPurged(b)
  }

  /** When a deleted branch stops being recoverable: 7 days after its delete. */
  recoverableUntil(b: SimBranch): number | undefined {
    return b.deletedAt === undefined ? undefined : b.deletedAt + RECOVERY_WINDOW_MS
  }

  /** Neon's background job: deleted branches past their recovery window go for good. */
  purgeDeleted(now = this.now()): void {
    for (const b of this.branches.values()) {
      const until = this.recoverableUntil(b)
      if (until !== undefined && !b.purged && now >= until) this.purge(b)
    }
  }

  /** The project's soft-deleted branches that can still be recovered. */
  recoverableBranches(projectId: string): SimBranch[] {
    if (this.project(projectId)?.noRecovery) return []
    return [...this.branches.values()].filter(
      (b) => b.projectId === projectId && b.deletedAt !== undefined && !b.purged,
    )
  }

  /**
   * Brings a soft-deleted branch back (the route has checked that it may): its endpoints idle, its
   * roles with their passwords, its data, and no expiry (Neon's API description, recoverProjectBranch:
   * "Recovery restores the branch and its endpoints to an idle state. Connection strings remain valid
   * after recovery. TTL branches become non-TTL branches after recovery.").
   */
  recover(b: SimBranch): SimEndpoint[] {
    const now = this.now()
    delete b.deletedAt
    delete b.deletionMethod
    delete b.expiresAt
    delete b.ttlIntervalSeconds
    b.updatedAt = now
    const back: SimEndpoint[] = []
    for (const e of this.endpoints.values()) {
      if (e.branchId !== b.id || !e.deletedWithBranch) continue
      delete e.deletedAt
      delete e.transition
      e.deletedWithBranch = false
      e.baseState = 'idle'
      e.updatedAt = now
      e.activity.push({ at: now, state: 'idle' })
      back.push(e)
    }
    this.backend.branchRecovered(b)
    return back
  }

  // ---------- history (point in time) ----------

  /** A new, larger LSN, recorded as the branch's position at `at` (default now). */
  nextLsn(branchId: string, at = this.now()): string {
    const lsn = this.ids.parentLsn()
    this.lsnLog.push({ branchId, at, lsn: parseLsn(lsn) ?? 0n })
    return lsn
  }

  /** The branch's LSN at time t: its last recorded position at or before t (undefined before it existed). */
  lsnAt(branchId: string, t: number): string | undefined {
    let best: LsnPoint | undefined
    for (const p of this.lsnLog) {
      if (p.branchId !== branchId || p.at > t) continue
      if (!best || p.at > best.at || (p.at === best.at && p.lsn > best.lsn)) best = p
    }
    return best ? formatLsn(best.lsn) : undefined
  }

  /**
   * When the branch reached `lsn`: the time of its last recorded position at or below it; undefined
   * when the LSN is below the branch's start or above every LSN handed out so far (not yet written).
   */
  timeOfLsn(branchId: string, lsn: string): number | undefined {
    const n = parseLsn(lsn)
    if (n === undefined) return undefined
    const own = this.lsnLog.filter((p) => p.branchId === branchId)
    const newest = this.lsnLog.reduce((m, p) => (p.lsn > m ? p.lsn : m), 0n)
    if (n > newest) return undefined
    let best: LsnPoint | undefined
    for (const p of own) if (p.lsn <= n && (!best || p.lsn > best.lsn)) best = p
    return best?.at
  }

  // ---------- derived states ----------

  branchState(b: SimBranch, now = this.now()): { current: string; pending?: string; changedAt: number } {
    const op = b.createOpId ? this.operations.get(b.createOpId) : undefined
    if (!op) return { current: 'ready', changedAt: b.createdAt }
    const st = this.opStatus(op, now)
    if (st === 'finished' || st === 'skipped') return { current: 'ready', changedAt: op.endAt }
    return { current: 'init', pending: 'ready', changedAt: b.createdAt }
  }

  endpointState(e: SimEndpoint, now = this.now()): { current: EndpointState; pending?: EndpointState } {
    if (!e.transition) return { current: e.baseState }
    const op = this.operations.get(e.transition.opId)
    if (!op) return { current: e.baseState }
    const st = this.opStatus(op, now)
    if (st === 'finished' || st === 'skipped') return { current: e.transition.to }
    if (isTerminal(st)) return { current: e.baseState }
    return { current: e.baseState, pending: e.transition.to }
  }

  /** Starts a state transition of an endpoint, driven by `opId`. */
  transitionEndpoint(e: SimEndpoint, opId: string, to: EndpointState): void {
    e.baseState = this.endpointState(e).current
    e.transition = { opId, to }
    e.updatedAt = this.now()
    e.activity.push({ at: e.updatedAt, state: to, opId })
  }

  // ---------- queries ----------

  project(id: string): SimProject | undefined {
    return this.projects.get(id)
  }

  liveBranches(projectId: string): SimBranch[] {
    return [...this.branches.values()].filter((b) => b.projectId === projectId && b.deletedAt === undefined)
  }

  liveBranch(projectId: string, branchId: string): SimBranch | undefined {
    const b = this.branches.get(branchId)
    return b && b.projectId === projectId && b.deletedAt === undefined ? b : undefined
  }

  branchByName(projectId: string, name: string): SimBranch | undefined {
    return this.liveBranches(projectId).find((b) => b.name === name)
  }

  children(branchId: string): SimBranch[] {
    return [...this.branches.values()].filter((b) => b.parentId === branchId && b.deletedAt === undefined)
  }

  branchEndpoints(branchId: string): SimEndpoint[] {
    return [...this.endpoints.values()].filter((e) => e.branchId === branchId && e.deletedAt === undefined)
  }

  projectEndpoints(projectId: string): SimEndpoint[] {
    return [...this.endpoints.values()].filter((e) => e.projectId === projectId && e.deletedAt === undefined)
  }

  liveEndpoint(projectId: string, endpointId: string): SimEndpoint | undefined {
    const e = this.endpoints.get(endpointId)
    return e && e.projectId === projectId && e.deletedAt === undefined ? e : undefined
  }

  branchRoles(branchId: string): SimRole[] {
    return [...this.roles.values()].filter((r) => r.branchId === branchId)
  }

  branchDatabases(branchId: string): SimDatabase[] {
    return [...this.databases.values()].filter((d) => d.branchId === branchId)
  }

  readWriteEndpoint(branchId: string): SimEndpoint | undefined {
    return this.branchEndpoints(branchId).find((e) => e.type === 'read_write')
  }

  // ---------- mutations shared by routes and seeding ----------

  newProject(o: {
    id?: string
    name?: string
    regionId?: string
    defaultBranchName?: string
    role?: string
    database?: string
    pgVersion?: number
    /** When the project (and its root branch) came to exist; default now. */
    createdAt?: number
    historyRetentionSeconds?: number
    planMaxCu?: number
    /** Overrides the simulator's `branchLimit` for this project. */
    branchLimit?: BranchLimitOption
    /** Overrides the simulator's `branchRecovery` for this project. */
    branchRecovery?: BranchRecoveryOption
  }): {
    project: SimProject
    branch: SimBranch
    endpoint: SimEndpoint
    role: SimRole
    database: SimDatabase
  } {
    const now = o.createdAt ?? this.now()
    const id = o.id ?? this.ids.projectId()
    if (this.projects.has(id)) throw new Error(`project ${id} already exists`)
    const regionRaw = o.regionId ?? 'aws-us-east-2'
    const regionId = regionRaw.startsWith('aws-') ? regionRaw : `aws-${regionRaw}`
    const branchId = this.ids.branchId()
    const project: SimProject = {
      id,
      name: o.name ?? id,
      regionId,
      pgVersion: o.pgVersion ?? 17,
      orgId: this.ids.orgId(),
      createdAt: now,
      updatedAt: now,
      defaultBranchId: branchId,
      historyRetentionSeconds: o.historyRetentionSeconds ?? 86400,
      ...(o.planMaxCu !== undefined ? { planMaxCu: o.planMaxCu } : {}),
      defaultEndpointSettings: {
        autoscaling_limit_min_cu: 0.25,
        autoscaling_limit_max_cu: 2,
        suspend_timeout_seconds: 0,
      },
    }
    const limit = branchLimitOf(o.branchLimit ?? this.opts.branchLimit)
    if (limit !== undefined) project.branchesLimit = limit
    const noRecovery = noRecoveryOf(o.branchRecovery ?? this.opts.branchRecovery)
    if (noRecovery) project.noRecovery = noRecovery
    this.projects.set(id, project)
    const branch: SimBranch = {
      id: branchId,
      projectId: id,
      name: o.defaultBranchName ?? 'main',
      protected: false,
      default: true,
      root: true,
      initSource: 'parent-data',
      createdAt: now,
      updatedAt: now,
      annotations: {},
      logicalSize: 30785536,
    }
    this.branches.set(branchId, branch)
    const endpoint = this.newEndpoint(project, branchId, { type: 'read_write' })
    const role: SimRole = {
      branchId,
      name: o.role ?? 'neondb_owner',
      password: this.ids.password(),
      protected: false,
      createdAt: now,
      updatedAt: now,
    }
    this.roles.set(roleKey(branchId, role.name), role)
    const database: SimDatabase = {
      id: this.ids.databaseId(),
      branchId,
      name: o.database ?? 'neondb',
      ownerName: role.name,
      createdAt: now,
      updatedAt: now,
    }
    this.databases.set(roleKey(branchId, database.name), database)
    this.nextLsn(branchId, now)
    this.backend.branchCreated(branch, undefined)
    return { project, branch, endpoint, role, database }
  }

  newEndpoint(
    project: SimProject,
    branchId: string,
    o: {
      type: EndpointType
      suspendTimeoutSeconds?: number
      minCu?: number
      maxCu?: number
      settings?: Record<string, unknown>
      disabled?: boolean
      /** Its state when made: `init` where an operation starts it (default `active`: a seeded compute). */
      state?: EndpointState
    },
  ): SimEndpoint {
    const now = this.now()
    const id = this.ids.endpointId()
    const ep: SimEndpoint = {
      id,
      projectId: project.id,
      branchId,
      host: `${id}.c-2.${regionSuffix(project.regionId)}.aws.neon.tech`,
      type: o.type,
      suspendTimeoutSeconds:
        o.suspendTimeoutSeconds ?? project.defaultEndpointSettings.suspend_timeout_seconds,
      minCu: o.minCu ?? project.defaultEndpointSettings.autoscaling_limit_min_cu,
      maxCu: o.maxCu ?? Math.max(o.minCu ?? 0, project.defaultEndpointSettings.autoscaling_limit_max_cu),
      disabled: o.disabled ?? false,
      poolerEnabled: false,
      settings: o.settings ?? {},
      createdAt: now,
      updatedAt: now,
      baseState: o.state ?? 'active',
      activity: [{ at: now, state: o.state ?? 'active' }],
    }
    this.endpoints.set(id, ep)
    return ep
  }

  /** Creates a branch with copies of the parent's roles and databases (no operations). */
  newBranch(
    project: SimProject,
    o: {
      name?: string
      parent: SimBranch
      protected?: boolean
      default?: boolean
      expiresAt?: number
      annotations?: Record<string, string>
      createdAt?: number
      updatedAt?: number
      initSource?: InitSource
      parentLsn?: string
      parentTimestamp?: number
    },
  ): SimBranch {
    const now = this.now()
    const createdAt = o.createdAt ?? now
    const id = this.ids.branchId()
    const initSource = o.initSource ?? 'parent-data'
    const branch: SimBranch = {
      id,
      projectId: project.id,
      name: o.name ?? id,
      protected: o.protected ?? false,
      default: false,
      root: false,
      initSource,
      createdAt,
      updatedAt: o.updatedAt ?? createdAt,
      annotations: { ...(o.annotations ?? {}) },
      logicalSize: o.parent.logicalSize,
    }
    if (initSource === 'parent-data') {
      branch.parentId = o.parent.id
      // At the parent's head unless a point was asked (the route has checked it): a new LSN on the parent.
      branch.parentLsn = o.parentLsn ?? this.nextLsn(o.parent.id, createdAt)
      branch.parentTimestamp = o.parentTimestamp ?? createdAt
    }
    // The branch's own timeline starts here.
    this.lsnLog.push({ branchId: id, at: createdAt, lsn: parseLsn(branch.parentLsn ?? '') ?? this.headLsn() })
    if (Object.keys(branch.annotations).length > 0) {
      branch.annotationCreatedAt = createdAt
      branch.annotationUpdatedAt = createdAt
    }
    // Neon Auth's data is the branch's `neon_auth` schema and its rows, so a copy of the parent's
    // data copies it (Neon's docs, "Branching authentication"); a schema-only branch copies no rows,
    // and no source says it keeps Neon Auth: here it does not. The Data API: no source says whether a
    // branch inherits it, so it does not (it is enabled per branch and database).
    if (o.parent.neonAuth && initSource === 'parent-data') {
      branch.neonAuth = { ...o.parent.neonAuth, createdAt }
    }
    if (o.expiresAt !== undefined) {
      branch.expiresAt = o.expiresAt
      branch.ttlIntervalSeconds = Math.max(0, Math.round((o.expiresAt - createdAt) / 1000))
    }
    this.branches.set(id, branch)
    // A branch from a protected parent, or a schema-only (new root) branch, gets new role passwords.
    const newPasswords = o.parent.protected || initSource === 'schema-only'
    for (const r of this.branchRoles(o.parent.id)) {
      this.roles.set(roleKey(id, r.name), {
        ...r,
        branchId: id,
        password: newPasswords ? this.ids.password() : r.password,
      })
    }
    for (const d of this.branchDatabases(o.parent.id)) {
      this.databases.set(roleKey(id, d.name), { ...d, branchId: id, id: this.ids.databaseId() })
    }
    if (this.opts.dataApiOnNewBranches) branch.dataApi = this.branchDatabases(id).map((d) => d.name)
    if (o.default) this.setDefault(project, branch)
    this.backend.branchCreated(branch, o.parent)
    return branch
  }

  /** Enables Neon Auth on a branch (as POST …/auth does), on `database` (default: its first). */
  enableNeonAuth(
    branch: SimBranch,
    o: { provider?: NeonAuthState['provider']; database?: string } = {},
  ): void {
    const dbName = o.database ?? this.branchDatabases(branch.id)[0]?.name
    if (dbName === undefined) throw new Error(`simulator: branch ${branch.id} has no database for Neon Auth`)
    branch.neonAuth = {
      provider: o.provider ?? 'better_auth',
      providerProjectId: this.ids.uuid(),
      dbName,
      createdAt: this.now(),
    }
  }

  /** Enables the Data API for one database of a branch (as POST …/data-api/{database} does). */
  enableDataApi(branch: SimBranch, database: string): void {
    if (!this.databases.has(roleKey(branch.id, database)))
      throw new Error(`simulator: branch ${branch.id} has no database ${database}`)
    if (!branch.dataApi?.includes(database)) branch.dataApi = [...(branch.dataApi ?? []), database]
  }

  /** The largest LSN handed out so far. */
  headLsn(): bigint {
    return this.lsnLog.reduce((m, p) => (p.lsn > m ? p.lsn : m), 0n)
  }

  setDefault(project: SimProject, branch: SimBranch): void {
    for (const b of this.liveBranches(project.id)) if (b.default) b.default = false
    branch.default = true
    project.defaultBranchId = branch.id
  }

  /** Deep JSON copy of the whole state (operation statuses are derived, so not included). */
  snapshot(): unknown {
    const byInsertion = <T>(m: Map<string, T>): Record<string, T> => Object.fromEntries(m.entries())
    return JSON.parse(
      JSON.stringify({
        projects: byInsertion(this.projects),
        branches: byInsertion(this.branches),
        endpoints: byInsertion(this.endpoints),
        roles: [...this.roles.values()],
        databases: [...this.databases.values()],
        operations: byInsertion(this.operations),
        failRules: this.failRules,
      }),
    ) as unknown
  }
}
