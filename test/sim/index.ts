// Neon Management API v2 simulator: a stateful node:http server on 127.0.0.1 for tests and demos.

export { startNeonSimulator } from './server.js'
export type {
  SimulatorOptions,
  NeonSimulator,
  RequestLogEntry,
  AddBranchOptions,
  CreateProjectOptions,
} from './server.js'
export type { Faults, FaultSpec } from './faults.js'
export type {
  World,
  SimProject,
  SimBranch,
  SimEndpoint,
  SimRole,
  SimDatabase,
  SimOperation,
  OperationStatus,
  EndpointState,
  EndpointType,
  InitSource,
  NeonAuthState,
  RestrictedAction,
} from './state.js'
export type {
  StateView,
  BranchView,
  EndpointView,
  RoleView,
  DatabaseView,
  OperationView,
  ProjectView,
} from './view.js'
export { LOCKED_MESSAGE } from './router.js'
export {
  FREE_PLAN_BRANCH_LIMIT,
  RECOVERY_WINDOW_MS,
  type BranchLimitOption,
  type BranchRecoveryOption,
  type CreateCheckOrder,
} from './state.js'
export type { Backend } from './backend.js'
export type { SimPostgres, PostgresOptions } from './pg/index.js'
export { NEON_RATE_LIMITS, type RateLimitOptions } from './rate-limit.js'
export type { UsageSeed } from './usage.js'
