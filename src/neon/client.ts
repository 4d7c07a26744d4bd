import type { AnonymizedStatus, CreateAnonymizedBranchRequest, MaskingRule } from './anonymization-types.js'
import { CancelledError } from '../util/cancel.js'
import type { Clock } from '../util/clock.js'
import { HISTORY_LIMIT, OperationDurations } from './durations.js'
import { isNotFound, NeonApiError } from './errors.js'
import { LockDeadline, LockWait } from './lock-wait.js'
import {
  DEFAULT_RETRY_POLICY,
  isRetryable,
  parseRetryAfter,
  retryDelayMs,
  type RetryPolicy,
} from './retry.js'
import type {
  Annotation,
  Branch,
  BranchesCountResponse,
  BranchesPage,
  BranchOperations,
  BranchRecoverResponse,
  BranchSchemaResponse,
  BranchWithAnnotation,
  CreateBranchRequest,
  CreateBranchResponse,
  CreateDatabaseRequest,
  CreateEndpointRequest,
  CreateRoleRequest,
  DataApi,
  Database,
  DatabaseOperations,
  DatabasesResponse,
  Endpoint,
  EndpointOperations,
  EndpointsResponse,
  ErrorBody,
  NeonAuthIntegration,
  Operation,
  OperationResponse,
  OperationsPage,
  Project,
  ProjectResponse,
  RestoreBranchRequest,
  RoleOperations,
  RolePasswordResponse,
  RolesResponse,
  UpdateBranchRequest,
  UpdateEndpointRequest,
} from './types.js'

export interface NeonClientOptions {
  apiKey: string
  /** Base URL including `/api/v2`, without a trailing slash. */
  apiHost: string
  userAgent: string
  clock: Clock
  /** Abort one request after this long (it is then retried like a network error). */
  requestTimeoutMs?: number
  retry?: RetryPolicy
  random?: () => number
  /**
   * Called with every secret found in a response (passwords, URIs that hold one) before the
   * response is handed to any caller: this is where masking happens, at the moment of receipt.
   */
  onSecret?: (value: string) => void
  /** One line per request and retry; never holds a body. */
  debug?: (line: string) => void
  /** Why the run was cancelled, once it was: then no new request is started (util/cancel.ts). */
  cancelled?: () => string | undefined
  /**
   * The step's deadline, epoch ms (from the `timeout` input): no try starts after it, no retry is
   * waited for past it (a Retry-After included), and a try's own timeout ends at it.
   */
  deadline?: number
  /** One line per wait for the project lock, for the log (never holds a body). */
  info?: (line: string) => void
  /** Most pages one listing follows (default MAX_LIST_PAGES). */
  maxListPages?: number
  /** Largest response body read, in bytes (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number
}

/** The waits for the project lock, for the job summary and the benchmarks. */
export interface LockStats {
  /** Requests that had to wait. */
  waits: number
  /** Their tries refused with 423. */
  tries: number
  waitedMs: number
  longestMs: number
}

/** Request counts, for the job summary and the benchmarks. */
export interface ClientStats {
  requests: number
  retries: number
  byRoute: Record<string, number>
  lock: LockStats
}

type Params = Record<string, string>

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  /** Tries of this request, when fewer than the policy's are worth it (a read the run can do without). */
  attempts?: number
  /** This request's timeout, when shorter than the client's. */
  timeoutMs?: number
}

/** What a request gives back: the status and the parsed body (undefined for 204). */
interface Reply<T> {
  status: number
  data: T | undefined
}

/** Neon's own page size for branch lists, and its cap (BEHAVIOUR.md, Branches). */
export const BRANCH_PAGE_SIZE = 100

/**
 * Pages one listing follows at most: 1,000 pages of 100 are 100,000 branches, far past any plan's
 * branch limit (Neon documents no limit above a few thousand), so only a server that hands out
 * cursors for ever reaches it, and the run stops instead of paging until its timeout.
 */
export const MAX_LIST_PAGES = 1000

/**
 * The largest response body read: 64 MiB. The largest answer the action asks for is a schema
 * (`pg_dump --schema-only` of a database), megabytes for very large schemas; past this the
 * answer is not Neon's, and reading on would only exhaust the runner's memory.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024

/** A try's own timeout, when the step's deadline would cut it shorter, is at least this. */
export const MIN_TRY_TIMEOUT_MS = 1000

/** Keys whose string values are secrets wherever they appear in a Neon response. */
const SECRET_KEYS = new Set(['password', 'connection_uri', 'uri'])

/**
 * Typed client for the parts of the Neon Management API v2 this action uses. Every call goes
 * through the private `request()`: auth, user agent, timeout, retry policy, secret masking and
 * error mapping live there and nowhere else.
 */
export class NeonClient {
  readonly stats: ClientStats = {
    requests: 0,
    retries: 0,
    byRoute: {},
    lock: { waits: 0, tries: 0, waitedMs: 0, longestMs: 0 },
  }
  private readonly policy: RetryPolicy
  private readonly random: () => number
  private readonly requestTimeoutMs: number
  private readonly deadline: number
  private readonly durations = new Map<string, OperationDurations>()

  constructor(private readonly opts: NeonClientOptions) {
    this.policy = opts.retry ?? DEFAULT_RETRY_POLICY
    this.random = opts.random ?? Math.random
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000
    this.deadline = opts.deadline ?? Infinity
  }

  /**
   * How long each action's operations take in this project, as this run knows it: one store per
   * project, shared by every poll and every wait for the project lock, and the project's recent
   * history read once, by whichever needs it first.
   */
  durationsOf(projectId: string): OperationDurations {
    let d = this.durations.get(projectId)
    if (!d) {
      d = new OperationDurations(() => this.listRecentOperations(projectId, HISTORY_LIMIT))
      this.durations.set(projectId, d)
    }
    return d
  }

  // --- projects ---

  async getProject(projectId: string): Promise<Project> {
    const r = await this.request<ProjectResponse>('GET', '/projects/{project_id}', {
      project_id: projectId,
    })
    return this.need(r, 'GET', `/projects/${projectId}`).project
  }

  // --- branches ---

  /** How many branches the project has, as Neon counts them against its branch limit. */
  async countBranches(projectId: string): Promise<number> {
    const r = await this.request<BranchesCountResponse>('GET', '/projects/{project_id}/branches/count', {
      project_id: projectId,
    })
    return this.need(r, 'GET', `/projects/${projectId}/branches/count`).count
  }

  /**
   * One page of the branch list. `includeDeleted` adds the recoverable deleted branches, each with
   * `recovery` (Neon's `include_deleted=true`; recovery.ts); it is sent only when asked for.
   */
  async listBranchesPage(
    projectId: string,
    q: {
      search?: string
      limit?: number
      cursor?: string
      sortBy?: string
      sortOrder?: string
      includeDeleted?: boolean
    } = {},
  ): Promise<BranchesPage> {
    const r = await this.request<BranchesPage>(
      'GET',
      '/projects/{project_id}/branches',
      { project_id: projectId },
      {
        query: {
          search: q.search,
          limit: q.limit,
          cursor: q.cursor,
          sort_by: q.sortBy,
          sort_order: q.sortOrder,
          include_deleted: q.includeDeleted ? true : undefined,
        },
      },
    )
    return r.data ?? { branches: [], annotations: {} }
  }

  /**
   * Every branch matching `search` (all when omitted), following `pagination.next` until the end.
   * Annotations of every page are merged.
   *
   * Neon caps branch pages at 100 whatever `limit` asks (BEHAVIOUR.md, Branches; neonctl 5.0.1
   * `dist/utils/enrichers.js`), so a page shorter than the limit is *not* the last one: the list
   * ends only when there is no cursor, a page comes back empty, or a cursor repeats (a server bug
   * must not loop us forever). Page size 100, as Neon's CLI asks.
   */
  async listBranches(
    projectId: string,
    search?: string,
    pageSize = BRANCH_PAGE_SIZE,
    o: { includeDeleted?: boolean } = {},
  ): Promise<Required<Omit<BranchesPage, 'pagination'>>> {
    const branches: Branch[] = []
    const annotations: NonNullable<BranchesPage['annotations']> = {}
    const seenCursors = new Set<string>()
    const maxPages = this.opts.maxListPages ?? MAX_LIST_PAGES
    let cursor: string | undefined
    for (let pages = 1; ; pages++) {
      const page = await this.listBranchesPage(projectId, {
        search,
        limit: pageSize,
        cursor,
        ...(o.includeDeleted ? { includeDeleted: true } : {}),
      })
      branches.push(...page.branches)
      Object.assign(annotations, page.annotations ?? {})
      const next = page.pagination?.next
      if (!next || page.branches.length === 0 || seenCursors.has(next)) break
      if (pages >= maxPages) {
        throw new Error(
          `listing the branches of project ${projectId}${search ? ` matching '${search}'` : ''} stopped after ` +
            `${pages} pages (${branches.length} branches) with more still announced: no project has that ` +
            `many, so the API at ${this.opts.apiHost} is not answering as Neon does`,
        )
      }
      seenCursors.add(next)
      cursor = next
    }
    return { branches, annotations }
  }

  async getBranch(projectId: string, branchId: string): Promise<Branch> {
    const r = await this.request<BranchWithAnnotation>('GET', '/projects/{project_id}/branches/{branch_id}', {
      project_id: projectId,
      branch_id: branchId,
    })
    return this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}`).branch
  }

  /**
   * The branch and its annotation: Neon's GET answers both (OpenAPI getProjectBranch:
   * BranchResponse and AnnotationResponse), and whose a branch is lives in the annotation.
   */
  async getBranchAnnotated(
    projectId: string,
    branchId: string,
  ): Promise<{ branch: Branch; annotation?: Annotation }> {
    const r = await this.request<{ branch: Branch; annotation?: Annotation }>(
      'GET',
      '/projects/{project_id}/branches/{branch_id}',
      { project_id: projectId, branch_id: branchId },
    )
    const data = this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}`)
    return { branch: data.branch, ...(data.annotation ? { annotation: data.annotation } : {}) }
  }

  async createBranch(projectId: string, body: CreateBranchRequest): Promise<CreateBranchResponse> {
    const r = await this.request<CreateBranchResponse>(
      'POST',
      '/projects/{project_id}/branches',
      { project_id: projectId },
      { body },
    )
    return this.need(r, 'POST', `/projects/${projectId}/branches`)
  }

  async updateBranch(
    projectId: string,
    branchId: string,
    branch: UpdateBranchRequest['branch'],
  ): Promise<BranchOperations> {
    const r = await this.request<BranchOperations>(
      'PATCH',
      '/projects/{project_id}/branches/{branch_id}',
      { project_id: projectId, branch_id: branchId },
      { body: { branch } satisfies UpdateBranchRequest },
    )
    const data = this.need(r, 'PATCH', `/projects/${projectId}/branches/${branchId}`)
    return { branch: data.branch, operations: data.operations ?? [] }
  }

  /**
   * Neon's "reset from parent" (or restore to a point in time with source_lsn / source_timestamp):
   * the branch keeps its id, compute host and role passwords.
   */
  async restoreBranch(
    projectId: string,
    branchId: string,
    body: RestoreBranchRequest,
  ): Promise<BranchOperations> {
    const r = await this.request<BranchOperations>(
      'POST',
      '/projects/{project_id}/branches/{branch_id}/restore',
      { project_id: projectId, branch_id: branchId },
      { body },
    )
    const data = this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/restore`)
    return { branch: data.branch, operations: data.operations ?? [] }
  }

  /**
   * Deletes a branch. Returns null when the branch was already gone (deleted by another run, or
   * expired): Neon answers 204 for that, and a 404 means the same, so every caller reads one answer.
   *
   * `hard`: `hard_delete=true` (Neon's API description, deleteProjectBranch: "the branch is
   * permanently deleted immediately without a recovery window"), for a branch whose data must never
   * come back (unmasked data). Without it the branch stays recoverable for 7 days.
   */
  async deleteBranch(
    projectId: string,
    branchId: string,
    opts: { hard?: boolean } = {},
  ): Promise<BranchOperations | null> {
    let r: Reply<BranchOperations>
    try {
      r = await this.request(
        'DELETE',
        '/projects/{project_id}/branches/{branch_id}',
        { project_id: projectId, branch_id: branchId },
        opts.hard ? { query: { hard_delete: true } } : {},
      )
    } catch (e) {
      if (isNotFound(e)) return null
      throw e
    }
    if (r.status === 204 || r.data === undefined) return null
    return { branch: r.data.branch, operations: r.data.operations ?? [] }
  }

  /**
   * Brings a soft-deleted branch back with its endpoints (Neon's `recoverProjectBranch`, in preview:
   * BEHAVIOUR.md, "Deleted branches can be recovered"). The answer carries no operations.
   */
  async recoverBranch(
    projectId: string,
    branchId: string,
  ): Promise<{ branch: Branch; endpoints: Endpoint[] }> {
    const r = await this.request<BranchRecoverResponse>(
      'POST',
      '/projects/{project_id}/branches/{branch_id}/recover',
      { project_id: projectId, branch_id: branchId },
    )
    const data = this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/recover`)
    return { branch: data.branch, endpoints: data.endpoints ?? [] }
  }

  // --- endpoints ---

  async listBranchEndpoints(projectId: string, branchId: string): Promise<Endpoint[]> {
    const r = await this.request<EndpointsResponse>(
      'GET',
      '/projects/{project_id}/branches/{branch_id}/endpoints',
      { project_id: projectId, branch_id: branchId },
    )
    return r.data?.endpoints ?? []
  }

  async createEndpoint(
    projectId: string,
    endpoint: CreateEndpointRequest['endpoint'],
  ): Promise<EndpointOperations> {
    const r = await this.request<EndpointOperations>(
      'POST',
      '/projects/{project_id}/endpoints',
      { project_id: projectId },
      { body: { endpoint } satisfies CreateEndpointRequest },
    )
    const data = this.need(r, 'POST', `/projects/${projectId}/endpoints`)
    return { endpoint: data.endpoint, operations: data.operations ?? [] }
  }

  /** Changes a compute's settings (OpenAPI EndpointUpdateRequest); the change is done when its operations are. */
  async updateEndpoint(
    projectId: string,
    endpointId: string,
    endpoint: Pick<
      UpdateEndpointRequest['endpoint'],
      'autoscaling_limit_min_cu' | 'autoscaling_limit_max_cu'
    >,
  ): Promise<EndpointOperations> {
    const r = await this.request<EndpointOperations>(
      'PATCH',
      '/projects/{project_id}/endpoints/{endpoint_id}',
      { project_id: projectId, endpoint_id: endpointId },
      { body: { endpoint } satisfies UpdateEndpointRequest },
    )
    const data = this.need(r, 'PATCH', `/projects/${projectId}/endpoints/${endpointId}`)
    return { endpoint: data.endpoint, operations: data.operations ?? [] }
  }

  // --- roles and databases ---

  async revealPassword(projectId: string, branchId: string, role: string): Promise<string> {
    const r = await this.request<RolePasswordResponse>(
      'GET',
      '/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password',
      { project_id: projectId, branch_id: branchId, role_name: role },
    )
    return this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}/roles/${role}/reveal_password`)
      .password
  }

  /** The names of the branch's roles. */
  async listRoles(projectId: string, branchId: string): Promise<string[]> {
    const r = await this.request<RolesResponse>('GET', '/projects/{project_id}/branches/{branch_id}/roles', {
      project_id: projectId,
      branch_id: branchId,
    })
    return (r.data?.roles ?? []).map((role) => role.name)
  }

  async createRole(projectId: string, branchId: string, name: string): Promise<RoleOperations> {
    const body: CreateRoleRequest = { role: { name } }
    const r = await this.request<RoleOperations>(
      'POST',
      '/projects/{project_id}/branches/{branch_id}/roles',
      { project_id: projectId, branch_id: branchId },
      { body },
    )
    const data = this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/roles`)
    return { role: data.role, operations: data.operations ?? [] }
  }

  /**
   * POST …/roles/{role_name}/reset_password (Neon's API description, resetProjectBranchRolePassword):
   * a new password for the role, in the answer's `role.password` (masked at receipt, as every
   * password is), and the operations that apply it to the branch's computes.
   */
  async resetRolePassword(projectId: string, branchId: string, role: string): Promise<RoleOperations> {
    const r = await this.request<RoleOperations>(
      'POST',
      '/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reset_password',
      { project_id: projectId, branch_id: branchId, role_name: role },
    )
    const data = this.need(
      r,
      'POST',
      `/projects/${projectId}/branches/${branchId}/roles/${role}/reset_password`,
    )
    return { role: data.role, operations: data.operations ?? [] }
  }

  async listDatabases(projectId: string, branchId: string): Promise<Database[]> {
    const r = await this.request<DatabasesResponse>(
      'GET',
      '/projects/{project_id}/branches/{branch_id}/databases',
      { project_id: projectId, branch_id: branchId },
    )
    return r.data?.databases ?? []
  }

  async createDatabase(
    projectId: string,
    branchId: string,
    name: string,
    ownerName: string,
  ): Promise<DatabaseOperations> {
    const body: CreateDatabaseRequest = { database: { name, owner_name: ownerName } }
    const r = await this.request<DatabaseOperations>(
      'POST',
      '/projects/{project_id}/branches/{branch_id}/databases',
      { project_id: projectId, branch_id: branchId },
      { body },
    )
    const data = this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/databases`)
    return { database: data.database, operations: data.operations ?? [] }
  }

  // --- Neon Auth and the Data API ---

  /**
   * The branch's Neon Auth integration (its `base_url` is the `auth_url` output), or null when Neon
   * Auth is not enabled on the branch: Neon answers 404 then (BEHAVIOUR.md, "Neon Auth and the Data
   * API"; Neon's create-branch-action reads it the same way).
   */
  async getNeonAuth(projectId: string, branchId: string): Promise<NeonAuthIntegration | null> {
    return this.unlessNotFound(
      this.request<NeonAuthIntegration>('GET', '/projects/{project_id}/branches/{branch_id}/auth', {
        project_id: projectId,
        branch_id: branchId,
      }),
      'GET',
      `/projects/${projectId}/branches/${branchId}/auth`,
    )
  }

  /**
   * The Data API of one database of the branch (its `url` is the `data_api_url` output), or null
   * when the Data API is not enabled for that database: Neon answers 404 then (BEHAVIOUR.md).
   */
  async getDataApi(projectId: string, branchId: string, database: string): Promise<DataApi | null> {
    return this.unlessNotFound(
      this.request<DataApi>('GET', '/projects/{project_id}/branches/{branch_id}/data-api/{database_name}', {
        project_id: projectId,
        branch_id: branchId,
        database_name: database,
      }),
      'GET',
      `/projects/${projectId}/branches/${branchId}/data-api/${database}`,
    )
  }

  // --- schemas ---

  /**
   * A database's schema as `pg_dump --schema-only` prints it (BEHAVIOUR.md, Schemas), at the
   * branch's head or at an LSN or a timestamp of its history (never both: Neon's API description).
   */
  async getBranchSchema(
    projectId: string,
    branchId: string,
    dbName: string,
    at: { lsn?: string; timestamp?: string } = {},
  ): Promise<string> {
    const r = await this.request<BranchSchemaResponse>(
      'GET',
      '/projects/{project_id}/branches/{branch_id}/schema',
      { project_id: projectId, branch_id: branchId },
      { query: { db_name: dbName, lsn: at.lsn, timestamp: at.lsn === undefined ? at.timestamp : undefined } },
    )
    // neonctl reads a missing `sql` as an empty schema (schema_diff.js fetchSchema: `sql ?? ""`).
    return this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}/schema`).sql ?? ''
  }

  // --- anonymized branches (BEHAVIOUR.md, "Anonymized branches") ---

  /**
   * Creates a branch whose data Neon masks with PostgreSQL Anonymizer: answered like createBranch;
   * the masking runs after its operations, and `getAnonymizedStatus` says when it is done.
   */
  async createAnonymizedBranch(
    projectId: string,
    body: CreateAnonymizedBranchRequest,
  ): Promise<CreateBranchResponse> {
    const r = await this.request<CreateBranchResponse>(
      'POST',
      '/projects/{project_id}/branch_anonymized',
      { project_id: projectId },
      { body },
    )
    return this.need(r, 'POST', `/projects/${projectId}/branch_anonymized`)
  }

  async getMaskingRules(projectId: string, branchId: string): Promise<MaskingRule[]> {
    const r = await this.request<{ masking_rules: MaskingRule[] }>(
      'GET',
      '/projects/{project_id}/branches/{branch_id}/masking_rules',
      { project_id: projectId, branch_id: branchId },
    )
    return this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}/masking_rules`).masking_rules
  }

  /** Replaces every rule of the branch (Neon's PATCH is a replacement, not a merge). */
  async updateMaskingRules(
    projectId: string,
    branchId: string,
    rules: MaskingRule[],
  ): Promise<MaskingRule[]> {
    const r = await this.request<{ masking_rules: MaskingRule[] }>(
      'PATCH',
      '/projects/{project_id}/branches/{branch_id}/masking_rules',
      { project_id: projectId, branch_id: branchId },
      { body: { masking_rules: rules } },
    )
    return this.need(r, 'PATCH', `/projects/${projectId}/branches/${branchId}/masking_rules`).masking_rules
  }

  /** Starts a masking run with the branch's rules, on the data the branch holds now. */
  async startAnonymization(projectId: string, branchId: string): Promise<AnonymizedStatus> {
    const r = await this.request<AnonymizedStatus>(
      'POST',
      '/projects/{project_id}/branches/{branch_id}/anonymize',
      { project_id: projectId, branch_id: branchId },
    )
    return this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/anonymize`)
  }

  async getAnonymizedStatus(projectId: string, branchId: string): Promise<AnonymizedStatus> {
    const r = await this.request<AnonymizedStatus>(
      'GET',
      '/projects/{project_id}/branches/{branch_id}/anonymized_status',
      { project_id: projectId, branch_id: branchId },
    )
    return this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}/anonymized_status`)
  }

  // --- operations ---

  async getOperation(projectId: string, operationId: string): Promise<Operation> {
    const r = await this.request<OperationResponse>(
      'GET',
      '/projects/{project_id}/operations/{operation_id}',
      { project_id: projectId, operation_id: operationId },
    )
    return this.need(r, 'GET', `/projects/${projectId}/operations/${operationId}`).operation
  }

  /**
   * The project's most recent operations, newest first (BEHAVIOUR.md: `GET
   * /projects/{project_id}/operations?limit&cursor` lists them). One page only: the poller reads it
   * for how long each action has taken here, not to see every operation. One try, 5 s at most:
   * without it the poller only polls more, so it is not worth a retry's wait.
   */
  async listRecentOperations(projectId: string, limit: number): Promise<Operation[]> {
    const r = await this.request<OperationsPage>(
      'GET',
      '/projects/{project_id}/operations',
      { project_id: projectId },
      { query: { limit }, attempts: 1, timeoutMs: 5000 },
    )
    return r.data?.operations ?? []
  }

  // --- the choke point ---

  /** The answer's body, or null for Neon's 404; every other failure is thrown as it is. */
  private async unlessNotFound<T>(reply: Promise<Reply<T>>, method: string, path: string): Promise<T | null> {
    try {
      return this.need(await reply, method, path)
    } catch (e) {
      if (isNotFound(e)) return null
      throw e
    }
  }

  private need<T>(r: Reply<T>, method: string, path: string): T {
    if (r.data === undefined) {
      throw new NeonApiError({
        method,
        path,
        status: r.status,
        neonMessage: 'the response had no body where one was expected',
        attempts: 1,
      })
    }
    return r.data
  }

  private async request<T>(
    method: string,
    route: string,
    params: Params,
    o: RequestOptions = {},
  ): Promise<Reply<T>> {
    const path = route.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(params[k] ?? ''))
    const url = new URL(this.opts.apiHost + path)
    for (const [k, v] of Object.entries(o.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v))
    }
    const routeKey = `${method} ${route}`
    const maxAttempts = Math.min(this.policy.maxAttempts, o.attempts ?? Infinity)
    const what = `${method} ${path}`
    // A mutating request refused with 423 waits for the project lock (lock-wait.ts); those tries do
    // not count against maxAttempts, which is for failures.
    const mutating = method !== 'GET'
    let lock: LockWait | undefined
    let lockTries = 0
    try {
      for (let sent = 1; ; sent++) {
        const attempt = sent - lockTries
        const started = this.beforeSend(method, path, sent)
        const timeoutMs = this.tryTimeout(o, started)
        this.stats.requests++
        this.stats.byRoute[routeKey] = (this.stats.byRoute[routeKey] ?? 0) + 1
        const tried = await this.tryOnce<T>({ method, path, url, o }, sent, started, timeoutMs)
        if ('reply' in tried) return tried.reply
        const { failure } = tried
        if (tried.kind === 'answer') {
          if (tried.status === 423 && mutating && tried.bodyRead) {
            lock ??= this.lockWait(params['project_id'] ?? '')
            lockTries++
            this.stats.retries++
            await waitForLock(lock, started, failure)
            continue
          }
          // Rate limited while waiting for the lock: fewer tries at each release from now on.
          if (tried.status === 429) lock?.rateLimited()
          if (!tried.retryable || attempt >= maxAttempts) throw failure
        } else if (tried.redirected || attempt >= maxAttempts) {
          throw failure
        }
        await this.pauseBeforeRetry(failure, attempt, maxAttempts, tried.retryAfter, what)
      }
    } finally {
      if (lock) this.recordLockWait(what, lock)
    }
  }

  /** Refuses to send when the run is cancelled or the step's deadline has passed; else the time. */
  private beforeSend(method: string, path: string, sent: number): number {
    const cancelled = this.opts.cancelled?.()
    if (cancelled !== undefined) throw new CancelledError(cancelled)
    const started = this.opts.clock.now()
    if (started >= this.deadline) {
      throw new NeonApiError({
        method,
        path,
        status: 0,
        neonMessage: "not sent: the step's deadline (the 'timeout' input) has passed",
        attempts: sent - 1,
      })
    }
    return started
  }

  /**
   * One try: the reply when it succeeded, else the failure, with what the caller needs to decide
   * whether to wait for the lock, try again or give up. A cancellation propagates.
   */
  private async tryOnce<T>(
    call: { method: string; path: string; url: URL; o: RequestOptions },
    sent: number,
    started: number,
    timeoutMs: number,
  ): Promise<Tried<T>> {
    const { method, path, url, o } = call
    const { clock } = this.opts
    try {
      const res = await fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${this.opts.apiKey}`,
          Accept: 'application/json',
          'User-Agent': this.opts.userAgent,
          ...(o.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
        // The key goes to api_host and nowhere else: a redirect is refused, not followed.
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      })
      const requestId =
        res.headers.get('x-neon-ret-request-id') ?? res.headers.get('x-request-id') ?? undefined
      const maxBytes = this.opts.maxResponseBytes ?? MAX_RESPONSE_BYTES
      const text = await readBody(res, maxBytes)
      this.opts.debug?.(
        `${method} ${path} -> ${res.status} (${clock.now() - started} ms${requestId ? `, request id ${requestId}` : ''})`,
      )
      const { body, parseError } = parseReply(text, maxBytes)
      if (body !== undefined) this.maskSecrets(body)
      if (res.ok && parseError === undefined) {
        return { reply: { status: res.status, data: res.status === 204 ? undefined : (body as T) } }
      }
      const failure = answerFailure({ method, path, res, body, parseError, requestId, attempts: sent })
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'), clock.now())
      // A 2xx whose body we cannot read is retried only when reading again is harmless; a body
      // over the size cap never is.
      const retryable =
        text === undefined ? false : res.ok ? method === 'GET' : isRetryable(this.policy, method, res.status)
      return {
        kind: 'answer',
        failure,
        status: res.status,
        bodyRead: text !== undefined,
        retryable,
        retryAfter,
      }
    } catch (e) {
      if (e instanceof CancelledError) throw e
      const redirected = isRedirectRefusal(e)
      const failure = new NeonApiError({
        method,
        path,
        status: 0,
        neonMessage: redirected
          ? 'the answer was a redirect, which is refused: the API key goes to api_host and nowhere else ' +
            '(is api_host the API itself, https://…/api/v2?)'
          : describeNetworkError(e, timeoutMs, timeoutMs < this.ownTimeout(o)),
        attempts: sent,
      })
      this.opts.debug?.(`${method} ${path} -> ${failure.neonMessage}`)
      return { kind: 'network', failure, redirected, retryAfter: undefined }
    }
  }

  /** The wait for the project lock of one request (lock-wait.ts). */
  private lockWait(projectId: string): LockWait {
    return new LockWait({
      clock: this.opts.clock,
      random: this.random,
      deadline: this.deadline,
      durations: this.durationsOf(projectId),
      readOperations: () => this.listRecentOperations(projectId, HISTORY_LIMIT),
    })
  }

  /** Sleeps before the next try, or throws `failure` when that try would come after the deadline. */
  private async pauseBeforeRetry(
    failure: NeonApiError,
    attempt: number,
    maxAttempts: number,
    retryAfter: number | undefined,
    what: string,
  ): Promise<void> {
    const { clock } = this.opts
    const delay = retryDelayMs(this.policy, attempt - 1, this.random, retryAfter)
    const wake = clock.now() + delay
    if (wake >= this.deadline) {
      throw failure.withDetail(
        retryAfter !== undefined
          ? `Neon asked to wait ${(retryAfter / 1000).toFixed(1)} s before trying again (Retry-After), ` +
              `which would pass the step's deadline (the 'timeout' input); not tried again`
          : `The next try, in ${delay} ms, would come after the step's deadline (the 'timeout' input); ` +
              `not tried again`,
      )
    }
    this.stats.retries++
    this.opts.debug?.(
      `retrying ${what} in ${delay} ms (attempt ${attempt + 1} of ${maxAttempts}): ` +
        `${failure.status || 'no response'} ${failure.neonMessage}`,
    )
    await clock.sleep(delay)
  }

  /** A try's timeout: the client's, the request's, and no later than the step's deadline (but at least MIN_TRY_TIMEOUT_MS). */
  private tryTimeout(o: RequestOptions, now: number): number {
    // Whole milliseconds: AbortSignal.timeout refuses a fraction (a virtual clock's sleeps make them).
    return Math.ceil(Math.min(this.ownTimeout(o), Math.max(MIN_TRY_TIMEOUT_MS, this.deadline - now)))
  }

  private ownTimeout(o: RequestOptions): number {
    return Math.min(this.requestTimeoutMs, o.timeoutMs ?? Infinity)
  }

  /** One log line per wait for the project lock, and its figures for the summary. */
  private recordLockWait(what: string, lock: LockWait): void {
    const waited = this.opts.clock.now() - lock.started
    const s = this.stats.lock
    s.waits++
    s.tries += lock.tries
    s.waitedMs += waited
    s.longestMs = Math.max(s.longestMs, waited)
    this.opts.info?.(
      `Waited ${(waited / 1000).toFixed(1)} s for the project lock before ${what} (${lock.tries} ` +
        `${lock.tries === 1 ? 'try' : 'tries'} refused with 423; last held by ${lock.holders})`,
    )
  }

  /** Hands every secret in a response to onSecret before anyone else sees the response. */
  private maskSecrets(value: unknown): void {
    if (!this.opts.onSecret || value === null || typeof value !== 'object') return
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v === 'string' && SECRET_KEYS.has(k) && v !== '') this.opts.onSecret(v)
      else if (typeof v === 'object') this.maskSecrets(v)
    }
  }
}

function describeNetworkError(e: unknown, timeoutMs: number, cutByDeadline = false): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
    return `no response within ${timeoutMs} ms${cutByDeadline ? " (what was left of the step's 'timeout')" : ''}`
  }
  const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined
  const detail = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e))
  return `network error: ${detail}`
}

/** fetch with `redirect: 'error'` rejects a redirect with "fetch failed" caused by "unexpected redirect" (undici). */
function isRedirectRefusal(e: unknown): boolean {
  const cause = e instanceof Error ? (e.cause as { message?: unknown } | undefined) : undefined
  return typeof cause?.message === 'string' && /redirect/i.test(cause.message)
}

/**
 * The body as text, or undefined when it is larger than `limit` bytes (announced by Content-Length,
 * or found while reading): then the rest is not read.
 */
async function readBody(res: Response, limit: number): Promise<string | undefined> {
  const announced = Number(res.headers.get('content-length') ?? NaN)
  if (announced > limit) {
    await res.body?.cancel().catch(() => {})
    return undefined
  }
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** What one try of a request came to (NeonClient.tryOnce). */
type Tried<T> =
  | { reply: Reply<T> }
  | {
      kind: 'answer'
      failure: NeonApiError
      status: number
      /** False when the body was over the size cap and not read. */
      bodyRead: boolean
      retryable: boolean
      retryAfter: number | undefined
    }
  | { kind: 'network'; failure: NeonApiError; redirected: boolean; retryAfter: undefined }

/** The body of a response read as text (undefined: over `maxBytes`), parsed, or why not. */
function parseReply(text: string | undefined, maxBytes: number): { body?: unknown; parseError?: string } {
  if (text === undefined) return { parseError: `the response was larger than ${maxBytes} bytes; not read` }
  if (text === '') return {}
  try {
    return { body: JSON.parse(text) }
  } catch {
    return { parseError: `the response was not valid JSON (${text.length} bytes)` }
  }
}

/** The error of an answer that is not a success: Neon's code, message and request id when it gave them. */
function answerFailure(a: {
  method: string
  path: string
  res: Response
  body: unknown
  parseError: string | undefined
  requestId: string | undefined
  attempts: number
}): NeonApiError {
  const err = (a.body ?? {}) as ErrorBody
  return new NeonApiError({
    method: a.method,
    path: a.path,
    status: a.res.status,
    code: typeof err.code === 'string' && err.code !== '' ? err.code : undefined,
    neonMessage:
      a.parseError ??
      (typeof err.message === 'string' && err.message !== '' ? err.message : a.res.statusText),
    requestId: typeof err.request_id === 'string' ? err.request_id : a.requestId,
    attempts: a.attempts,
  })
}

/** Waits for the project lock before the next try; past the deadline, `failure` says why it gave up. */
async function waitForLock(lock: LockWait, started: number, failure: NeonApiError): Promise<void> {
  try {
    await lock.beforeRetry(started)
  } catch (e) {
    if (e instanceof LockDeadline) throw failure.withDetail(e.message)
    throw e
  }
}
