// Converts the simulator's model into Neon API v2 JSON shapes.

import type {
  World,
  SimProject,
  SimBranch,
  SimEndpoint,
  SimRole,
  SimDatabase,
  SimOperation,
} from './state.js'
import { FREE_PLAN_BRANCH_LIMIT, poolerHost, regionSuffix } from './state.js'
import { restrictedActions } from './anonymization.js'

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
    logical_size: b.logicalSize,
    creation_source: 'console',
    primary: b.default,
    default: b.default,
    protected: b.protected,
    cpu_used_sec: 0,
    compute_time_seconds: 0,
    active_time_seconds: 0,
    written_data_bytes: 0,
    data_transfer_bytes: 0,
    created_at: iso(b.createdAt),
    updated_at: iso(b.updatedAt),
    ...(b.lastResetAt !== undefined ? { last_reset_at: iso(b.lastResetAt) } : {}),
    ...(b.expiresAt !== undefined ? { expires_at: iso(b.expiresAt) } : {}),
    ...(b.ttlIntervalSeconds !== undefined ? { ttl_interval_seconds: b.ttlIntervalSeconds } : {}),
    created_by: { name: 'Neon Simulator', image: '' },
    init_source: b.initSource,
    ...restrictedJson(b),
  }
}

function restrictedJson(b: SimBranch): Record<string, unknown> {
  const r = restrictedActions(b)
  return r.length > 0 ? { restricted_actions: r } : {}
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
