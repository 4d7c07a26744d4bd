/**
 * Neon's objects as this action reads and sends them: the types of Neon's own TypeScript SDK, npm
 * `@neondatabase/api-client`, generated from the API description the simulator validates against
 * (`public-v2-for-users.gen.yaml`, BEHAVIOUR.md "Neon's current API description"). A field Neon
 * renames or removes in a release fails `tsc --noEmit` wherever the action reads it; Dependabot
 * brings each release as a pull request.
 *
 * Types only: `import type` is erased at build, so nothing of the SDK, nor of axios (which it needs
 * at run time), reaches dist/index.js (test/unit/bundle-sdk.test.ts checks). The client stays ours
 * (client.ts: Node's fetch, one `request()` choke point, our retry policy and secret masking).
 */
import type * as Sdk from '@neondatabase/api-client'

/**
 * A Neon type as `JSON.parse` gives it. The SDK declares its enumerations as TypeScript enums
 * (OperationStatus, OperationAction, EndpointType, EndpointState, …), which are values: naming a
 * member would import the SDK at run time. `${E}` turns each into the union of its string values, so
 * the code compares with plain strings ('read_write') and tsc still refuses a value Neon drops.
 */
export type Plain<T> = T extends string
  ? `${T}`
  : T extends readonly (infer U)[]
    ? Plain<U>[]
    : T extends object
      ? { [K in keyof T]: Plain<T[K]> }
      : T

export type OperationStatus = Plain<Sdk.OperationStatus>
export type Operation = Plain<Sdk.Operation>
export type Branch = Plain<Sdk.Branch>
/** One of `Branch.restricted_actions`: an action Neon refuses on the branch, and why. */
export type BranchRestrictedAction = Plain<Sdk.BranchRestrictedAction>
export type Annotation = Plain<Sdk.AnnotationData>
export type Endpoint = Plain<Sdk.Endpoint>
export type Project = Plain<Sdk.Project>
export type Role = Plain<Sdk.Role>
export type Database = Plain<Sdk.Database>

export type ProjectResponse = Plain<Sdk.ProjectResponse>
export type BranchesCountResponse = Plain<Sdk.BranchesCountResponse>
/** `GET /projects/{id}/branches`: one page, with the annotations of its branches (listProjectBranches). */
export type BranchesPage = Plain<
  Sdk.BranchesResponse & Sdk.AnnotationsMapResponse & Sdk.CursorPaginationResponse
>
/** `GET /projects/{id}/branches/{branch_id}` (getProjectBranch). */
export type BranchWithAnnotation = Plain<Sdk.BranchResponse & Sdk.AnnotationResponse>
/**
 * `PATCH`, `DELETE` and `…/restore` of a branch answer the branch and the operations started. The
 * SDK marks `operations` required in these answers and the ones below; the client still reads an
 * absent list as empty (`?? []`): a missing list means nothing to wait for, never a crash.
 */
export type BranchOperations = Plain<Sdk.BranchOperations>
export type EndpointOperations = Plain<Sdk.EndpointOperations>
export type RoleOperations = Plain<Sdk.RoleOperations>
export type DatabaseOperations = Plain<Sdk.DatabaseOperations>

export type EndpointsResponse = Plain<Sdk.EndpointsResponse>
export type RolePasswordResponse = Plain<Sdk.RolePasswordResponse>
export type RolesResponse = Plain<Sdk.RolesResponse>
export type DatabasesResponse = Plain<Sdk.DatabasesResponse>
export type BranchSchemaResponse = Plain<Sdk.BranchSchemaResponse>
export type OperationResponse = Plain<Sdk.OperationResponse>
/** `GET /projects/{id}/operations` (listProjectOperations). */
export type OperationsPage = Plain<Sdk.OperationsResponse & Sdk.PaginationResponse>

/** `POST /projects/{id}/branches` (createProjectBranch). */
export type CreateBranchRequest = Plain<Sdk.BranchCreateRequest & Sdk.AnnotationCreateValueRequest>
export type CreateBranchResponse = Plain<
  Sdk.BranchResponse &
    Sdk.EndpointsResponse &
    Sdk.OperationsResponse &
    Sdk.RolesResponse &
    Sdk.DatabasesResponse &
    Sdk.ConnectionURIsOptionalResponse
>
export type CreateEndpointRequest = Plain<Sdk.EndpointCreateRequest>
export type UpdateEndpointRequest = Plain<Sdk.EndpointUpdateRequest>
export type UpdateBranchRequest = Plain<Sdk.BranchUpdateRequest>
export type RestoreBranchRequest = Plain<Sdk.BranchRestoreRequest>
/** `POST /projects/{id}/branches/{branch_id}/recover` (recoverProjectBranch): no operations. */
export type BranchRecoverResponse = Plain<Sdk.BranchRecoverResponse>
export type CreateRoleRequest = Plain<Sdk.RoleCreateRequest>
export type CreateDatabaseRequest = Plain<Sdk.DatabaseCreateRequest>

/** `GET /projects/{id}/branches/{branch_id}/auth` (getNeonAuth): the branch's Neon Auth, `base_url` among it. */
export type NeonAuthIntegration = Plain<Sdk.NeonAuthIntegration>
/** `GET /projects/{id}/branches/{branch_id}/data-api/{database_name}` (getProjectBranchDataAPI). */
export type DataApi = Plain<Sdk.DataAPIReponse>

/**
 * Neon's error body (GeneralError) as a failed response may carry it: read field by field, because a
 * proxy or a gateway in front of Neon may answer anything.
 */
export type ErrorBody = { [K in keyof Sdk.GeneralError]?: unknown }

// --- ours ---

/** Statuses after which an operation will not change again. */
export const OPERATION_SUCCESS: ReadonlySet<string> = new Set<OperationStatus>(['finished', 'skipped'])
export const OPERATION_FAILURE: ReadonlySet<string> = new Set<OperationStatus>([
  'failed',
  'error',
  'cancelled',
  'cancelling',
])
