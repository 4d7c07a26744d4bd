// Converts the simulator's model into Neon API v2 JSON shapes.

import type {
  NeonAuthState,
  World,
  SimProject,
  SimBranch,
  SimEndpoint,
  SimRole,
  SimDatabase,
  SimOperation,
} from './state.js'
import { FREE_PLAN_BRANCH_LIMIT, poolerHost, regionSuffix } from './state.js'
import { usageJson } from './usage.js'

/** Neon's timestamps: UTC, second precision. */
export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function projectJson(w: World, p: SimProject): Record<string, unknown> {
  const region = regionSuffix(p.regionId)
  const now = w.now()
  const d = new Date(now)
  const periodStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
  const periodEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
  return {
    data_storage_bytes_hour: 0,
    data_transfer_bytes: 0,
    written_data_bytes: 0,
    compute_time_seconds: 0,
    active_time_seconds: 0,
    cpu_used_sec: 0,
    id: p.id,
    platform_id: 'aws',
    region_id: p.regionId,
    name: p.name,
    provisioner: 'k8s-neonvm',
    default_endpoint_settings: { ...p.defaultEndpointSettings },
    settings: {
      allowed_ips: { ips: [], protected_branches_only: false },
      enable_logical_replication: false,
      maintenance_window: { weekdays: [5], start_time: '07:00', end_time: '08:00' },
      block_public_connections: false,
      block_vpc_connections: false,
    },
    pg_version: p.pgVersion,
    proxy_host: `c-2.${region}.aws.neon.tech`,
    branch_logical_size_limit: 512,
    branch_logical_size_limit_bytes: 536870912,
    store_passwords: true,
    creation_source: 'console',
    history_retention_seconds: p.historyRetentionSeconds,
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
    synthetic_storage_size: 0,
    consumption_period_start: iso(periodStart),
    consumption_period_end: iso(periodEnd),
    owner_id: p.orgId,
    owner: {
      email: 'sim@example.com',
      name: 'Simulator',
      // The project's limit when one is enforced (BEHAVIOUR.md, "Limits of a project"); else a figure
      // no test reaches. The free plan is `free_v3` in projects-api.md, but the OpenAPI enum knows
      // only `free_v2`, and responses must match the OpenAPI.
      branches_limit: p.branchesLimit ?? 5000,
      subscription_type: p.branchesLimit === FREE_PLAN_BRANCH_LIMIT ? 'free_v2' : 'launch',
    },
    org_id: p.orgId,
  }
}

export function projectListItemJson(p: SimProject): Record<string, unknown> {
  const region = regionSuffix(p.regionId)
  return {
    id: p.id,
    platform_id: 'aws',
    region_id: p.regionId,
    name: p.name,
    provisioner: 'k8s-neonvm',
    default_endpoint_settings: { ...p.defaultEndpointSettings },
    settings: {
      allowed_ips: { ips: [], protected_branches_only: false },
      enable_logical_replication: false,
      maintenance_window: { weekdays: [5], start_time: '07:00', end_time: '08:00' },
      block_public_connections: false,
      block_vpc_connections: false,
    },
    pg_version: p.pgVersion,
    proxy_host: `c-2.${region}.aws.neon.tech`,
    branch_logical_size_limit: 512,
    branch_logical_size_limit_bytes: 536870912,
    store_passwords: true,
    active_time: 0,
    cpu_used_sec: 0,
    creation_source: 'console',
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
    owner_id: p.orgId,
    org_id: p.orgId,
    history_retention_seconds: p.historyRetentionSeconds,
  }
}

export function branchJson(w: World, b: SimBranch): Record<string, unknown> {
  const st = w.branchState(b)
  return {
    id: b.id,
    project_id: b.projectId,
    ...(b.parentId !== undefined ? { parent_id: b.parentId } : {}),
    ...(b.parentLsn !== undefined ? { parent_lsn: b.parentLsn } : {}),
    ...(b.parentTimestamp !== undefined ? { parent_timestamp: iso(b.parentTimestamp) } : {}),
    name: b.name,
    current_state: st.current,
    ...(st.pending ? { pending_state: st.pending } : {}),
    state_changed_at: iso(st.changedAt),
    creation_source: 'console',
    primary: b.default,
    default: b.default,
    protected: b.protected,
    // Usage figures from the simulator's model (usage.ts).
    ...usageJson(w, b),
    created_at: iso(b.createdAt),
    updated_at: iso(b.updatedAt),
    ...(b.lastResetAt !== undefined ? { last_reset_at: iso(b.lastResetAt) } : {}),
    ...(b.expiresAt !== undefined ? { expires_at: iso(b.expiresAt) } : {}),
    ...(b.ttlIntervalSeconds !== undefined ? { ttl_interval_seconds: b.ttlIntervalSeconds } : {}),
    created_by: { name: 'Neon Simulator', image: '' },
    init_source: b.initSource,
    ...(b.restrictedActions?.length
      ? { restricted_actions: b.restrictedActions.map((r) => ({ name: r.name, reason: r.reason })) }
      : {}),
  }
}

/**
 * A URL of a service at the branch's read-write endpoint: Neon puts Neon Auth at
 * `https://<endpoint id>.neonauth.<rest of the endpoint's host>/<database>/auth` (the example of
 * GET …/auth in Neon's API reference, and Neon's docs, "Branching authentication": each branch's auth
 * at its own read-write endpoint). The Data API's `apirest` label and `/rest/v1` path follow the same
 * pattern as Neon's Data API URLs show them; no document in this repository states that form. A
 * branch without an endpoint has no such host: then undefined.
 */
function serviceUrl(w: World, b: SimBranch, label: string, path: string): string | undefined {
  const ep = w.readWriteEndpoint(b.id)
  if (!ep) return undefined
  const dot = ep.host.indexOf('.')
  return `https://${ep.host.slice(0, dot)}.${label}${ep.host.slice(dot)}/${path}`
}

/** GET …/auth: the API description's NeonAuthIntegration (base_url is optional there). */
export function neonAuthJson(w: World, b: SimBranch, auth: NeonAuthState): Record<string, unknown> {
  const base = serviceUrl(w, b, 'neonauth', `${encodeURIComponent(auth.dbName)}/auth`)
  // Without a read-write endpoint (Neon Auth is served at it) no source says what Neon answers:
  // base_url, optional in the description, is left out, and jwks_url (required) names a host under
  // `.invalid` (RFC 2606), which no client can mistake for Neon's. The same for the Data API below.
  return {
    auth_provider: auth.provider,
    auth_provider_project_id: auth.providerProjectId,
    branch_id: b.id,
    db_name: auth.dbName,
    created_at: iso(auth.createdAt),
    owned_by: 'neon',
    jwks_url: `${base ?? `https://${b.id}.neonauth.invalid/${encodeURIComponent(auth.dbName)}/auth`}/.well-known/jwks.json`,
    ...(base !== undefined ? { base_url: base } : {}),
    name: w.project(b.projectId)?.name ?? b.projectId,
  }
}

/** GET …/data-api/{database}: the API description's DataAPIReponse (`url` and `status` required). */
export function dataApiJson(w: World, b: SimBranch, database: string): Record<string, unknown> {
  const url =
    serviceUrl(w, b, 'apirest', `${encodeURIComponent(database)}/rest/v1`) ??
    `https://${b.id}.apirest.invalid/${encodeURIComponent(database)}/rest/v1`
  return { url, status: 'ready' }
}

export function annotationJson(b: SimBranch): Record<string, unknown> {
  return {
    object: { type: 'console/branch', id: b.id },
    value: { ...b.annotations },
    ...(b.annotationCreatedAt !== undefined ? { created_at: iso(b.annotationCreatedAt) } : {}),
    ...(b.annotationUpdatedAt !== undefined ? { updated_at: iso(b.annotationUpdatedAt) } : {}),
  }
}

export function endpointJson(w: World, e: SimEndpoint): Record<string, unknown> {
  const st = w.endpointState(e)
  const p = w.project(e.projectId)
  const regionId = p?.regionId ?? 'aws-us-east-2'
  return {
    host: e.host,
    id: e.id,
    project_id: e.projectId,
    branch_id: e.branchId,
    autoscaling_limit_min_cu: e.minCu,
    autoscaling_limit_max_cu: e.maxCu,
    region_id: regionId,
    type: e.type,
    current_state: st.current,
    ...(st.pending ? { pending_state: st.pending } : {}),
    settings: structuredClone(e.settings),
    pooler_enabled: e.poolerEnabled,
    pooler_mode: 'transaction',
    disabled: e.disabled,
    passwordless_access: true,
    creation_source: 'console',
    created_at: iso(e.createdAt),
    updated_at: iso(e.updatedAt),
    proxy_host: `c-2.${regionSuffix(regionId)}.aws.neon.tech`,
    suspend_timeout_seconds: e.suspendTimeoutSeconds,
    provisioner: 'k8s-neonvm',
  }
}

export function roleJson(r: SimRole, withPassword = false): Record<string, unknown> {
  return {
    branch_id: r.branchId,
    name: r.name,
    ...(withPassword ? { password: r.password } : {}),
    protected: r.protected,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
  }
}

export function databaseJson(d: SimDatabase): Record<string, unknown> {
  return {
    id: d.id,
    branch_id: d.branchId,
    name: d.name,
    owner_name: d.ownerName,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
  }
}

export function operationJson(w: World, op: SimOperation): Record<string, unknown> {
  const now = w.now()
  const status = w.opStatus(op, now)
  const updatedAt = status === 'scheduling' ? op.createdAt : status === 'running' ? op.runAt : op.endAt
  const duration = status === 'scheduling' ? 0 : status === 'running' ? now - op.runAt : op.endAt - op.runAt
  return {
    id: op.id,
    project_id: op.projectId,
    ...(op.branchId ? { branch_id: op.branchId } : {}),
    ...(op.endpointId ? { endpoint_id: op.endpointId } : {}),
    action: op.action,
    status,
    ...(status === 'failed' && op.error ? { error: op.error } : {}),
    ...retries(w, op, status, now),
    created_at: iso(op.createdAt),
    updated_at: iso(updatedAt),
    total_duration_ms: Math.max(0, Math.round(duration)),
  }
}

function retries(w: World, op: SimOperation, status: string, now: number): Record<string, unknown> {
  if (status === 'failed') return { failures_count: 1 }
  const r = w.opRetries(op, now)
  return {
    failures_count: r.failures,
    ...(r.retryAt !== undefined
      ? { retry_at: iso(r.retryAt), ...(op.error ? { error: op.error } : {}) }
      : {}),
  }
}

export function connectionUri(o: {
  role: string
  password: string
  host: string
  database: string
  query: string
}): string {
  return `postgresql://${encodeURIComponent(o.role)}:${encodeURIComponent(o.password)}@${o.host}/${encodeURIComponent(o.database)}${o.query ? `?${o.query}` : ''}`
}

export function connectionDetails(role: SimRole, db: SimDatabase, ep: SimEndpoint): Record<string, unknown> {
  return {
    connection_uri: connectionUri({
      role: role.name,
      password: role.password,
      host: ep.host,
      database: db.name,
      query: 'sslmode=require',
    }),
    connection_parameters: {
      database: db.name,
      password: role.password,
      role: role.name,
      host: ep.host,
      pooler_host: poolerHost(ep.host),
    },
  }
}
