// A read-only, API-shaped (snake_case) view of the simulator's state, keyed by id, for assertions in tests.

import {
  annotationJson,
  branchJson,
  databaseJson,
  endpointJson,
  operationJson,
  roleJson,
} from './serialize.js'
import type { OperationStatus, World } from './state.js'

export interface BranchView {
  id: string
  project_id: string
  name: string
  parent_id?: string
  parent_lsn?: string
  parent_timestamp?: string
  current_state: 'init' | 'ready'
  pending_state?: 'ready'
  state_changed_at: string
  default: boolean
  primary: boolean
  protected: boolean
  init_source: 'parent-data' | 'schema-only'
  created_at: string
  updated_at: string
  last_reset_at?: string
  expires_at?: string
  ttl_interval_seconds?: number
  restricted_actions?: { name: string; reason: string }[]
  /** Soft-deleted: gone from the API (but `include_deleted=true` while recoverable), kept here. */
  deleted: boolean
  /** Deleted for good: no longer recoverable. */
  purged: boolean
}

export interface EndpointView {
  id: string
  project_id: string
  branch_id: string
  host: string
  type: 'read_write' | 'read_only'
  current_state: 'init' | 'active' | 'idle'
  pending_state?: 'init' | 'active' | 'idle'
  suspend_timeout_seconds: number
  autoscaling_limit_min_cu: number
  autoscaling_limit_max_cu: number
  disabled: boolean
  created_at: string
  updated_at: string
  deleted: boolean
}

export interface RoleView {
  branch_id: string
  name: string
  password: string
  protected: boolean
  created_at: string
  updated_at: string
}

export interface DatabaseView {
  id: number
  branch_id: string
  name: string
  owner_name: string
  created_at: string
  updated_at: string
}

export interface OperationView {
  id: string
  project_id: string
  branch_id?: string
  endpoint_id?: string
  action: string
  status: OperationStatus
  error?: string
  failures_count: number
  created_at: string
  updated_at: string
  total_duration_ms: number
}

export interface ProjectView {
  id: string
  name: string
  region_id: string
  default_branch_id: string
}

export interface StateView {
  projects: Record<string, ProjectView>
  /** Every branch ever created, deleted ones included (`deleted: true`). */
  branches: Record<string, BranchView>
  endpoints: Record<string, EndpointView>
  /** Keyed by `${branch_id}/${name}`. */
  roles: Record<string, RoleView>
  /** Keyed by `${branch_id}/${name}`. */
  databases: Record<string, DatabaseView>
  /** Statuses as of the simulator's clock now. */
  operations: Record<string, OperationView>
  /** Annotation values by branch id (branches with annotations only). */
  annotations: Record<string, Record<string, string>>
}

export function stateView(w: World): StateView {
  const view: StateView = {
    projects: {},
    branches: {},
    endpoints: {},
    roles: {},
    databases: {},
    operations: {},
    annotations: {},
  }
  for (const p of w.projects.values()) {
    view.projects[p.id] = {
      id: p.id,
      name: p.name,
      region_id: p.regionId,
      default_branch_id: p.defaultBranchId,
    }
  }
  for (const b of w.branches.values()) {
    view.branches[b.id] = {
      ...(branchJson(w, b) as unknown as Omit<BranchView, 'deleted' | 'purged'>),
      deleted: b.deletedAt !== undefined,
      purged: b.purged === true,
    }
    if (Object.keys(b.annotations).length > 0)
      view.annotations[b.id] = { ...(annotationJson(b)['value'] as Record<string, string>) }
  }
  for (const e of w.endpoints.values()) {
    view.endpoints[e.id] = {
      ...(endpointJson(w, e) as unknown as Omit<EndpointView, 'deleted'>),
      deleted: e.deletedAt !== undefined,
    }
  }
  for (const r of w.roles.values())
    view.roles[`${r.branchId}/${r.name}`] = roleJson(r, true) as unknown as RoleView
  for (const d of w.databases.values())
    view.databases[`${d.branchId}/${d.name}`] = databaseJson(d) as unknown as DatabaseView
  for (const o of w.operations.values())
    view.operations[o.id] = operationJson(w, o) as unknown as OperationView
  return view
}
