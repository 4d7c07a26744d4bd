/**
 * The parts of Neon API v2 objects this action reads, written from Neon's OpenAPI description (the
 * one Neon's SDK ships, npm `@neondatabase/api-client`) and the behaviour it leaves out (BEHAVIOUR.md). Fields are optional where Neon may omit them.
 */

export type OperationStatus =
  'scheduling' | 'running' | 'finished' | 'skipped' | 'failed' | 'error' | 'cancelling' | 'cancelled'

export interface Operation {
  id: string
  project_id: string
  branch_id?: string
  endpoint_id?: string
  action: string
  status: OperationStatus
  error?: string
  failures_count: number
  retry_at?: string
  created_at: string
  updated_at: string
  total_duration_ms: number
}

export interface Branch {
  id: string
  project_id: string
  parent_id?: string
  /** Where on the parent the branch starts (Neon reports both for a branch made at a point). */
  parent_lsn?: string
  parent_timestamp?: string
  name: string
  current_state: string
  pending_state?: string
  default: boolean
  protected: boolean
  primary?: boolean
  init_source?: string
  expires_at?: string
  ttl_interval_seconds?: number
  created_at: string
  updated_at: string
  /** What Neon refuses to do with this branch, and why (e.g. `restore` on an anonymized branch). */
  restricted_actions?: { name: string; reason: string }[]
}

export interface Annotation {
  object: { type: string; id: string }
  value: Record<string, string>
  created_at?: string
  updated_at?: string
}

export interface Endpoint {
  id: string
  host: string
  project_id: string
  branch_id: string
  type: 'read_write' | 'read_only'
  current_state: 'init' | 'active' | 'idle'
  pending_state?: string
  disabled?: boolean
  suspend_timeout_seconds?: number
  autoscaling_limit_min_cu?: number
  autoscaling_limit_max_cu?: number
  region_id?: string
}

/** The parts of a project this action reads. */
export interface Project {
  id: string
  name?: string
  /** How far back branches can be created or restored from (BEHAVIOUR.md, "Limits of a project"). */
  history_retention_seconds?: number
}

/** Endpoint options the action sends (OpenAPI BranchCreateRequestEndpointOptions). */
export interface EndpointOptions {
  type: 'read_write' | 'read_only'
  suspend_timeout_seconds?: number
  autoscaling_limit_min_cu?: number
  autoscaling_limit_max_cu?: number
}

/** OpenAPI BranchRestoreRequest. */
export interface RestoreBranchRequest {
  source_branch_id: string
  source_lsn?: string
  source_timestamp?: string
  preserve_under_name?: string
}

export interface Role {
  branch_id: string
  name: string
  password?: string
  protected?: boolean
}

export interface Database {
  id: number
  branch_id: string
  name: string
  owner_name: string
}

export interface ConnectionDetails {
  connection_uri: string
  connection_parameters: {
    database: string
    password: string
    role: string
    host: string
    pooler_host: string
  }
}

/** The parts of `GET /projects/{id}` this action reads. */
export interface Project {
  id: string
  name?: string
  /** The account's plan; `branches_limit` is the project's branch limit (BEHAVIOUR.md, "Limits of a project"). */
  owner?: { branches_limit?: number; subscription_type?: string }
}

export interface BranchesPage {
  branches: Branch[]
  annotations?: Record<string, Annotation>
  pagination?: { next?: string; sort_by?: string; sort_order?: string }
}

export interface CreateBranchResponse {
  branch: Branch
  endpoints: Endpoint[]
  operations: Operation[]
  roles: Role[]
  databases: Database[]
  connection_uris?: ConnectionDetails[]
}

export interface CreateBranchRequest {
  branch: {
    name: string
    parent_id?: string
    /** At most one of the two (BEHAVIOUR.md, "Point in time"). */
    parent_lsn?: string
    parent_timestamp?: string
    init_source?: 'parent-data' | 'schema-only'
    expires_at?: string
  }
  endpoints: EndpointOptions[]
  annotation_value?: Record<string, string>
}

/** Statuses after which an operation will not change again. */
export const OPERATION_SUCCESS: ReadonlySet<string> = new Set(['finished', 'skipped'])
export const OPERATION_FAILURE: ReadonlySet<string> = new Set(['failed', 'error', 'cancelled', 'cancelling'])
