/**
 * Names shared between action.yml, main.ts and the tests. Keeping them in one place lets a test check
 * that action.yml, the README and the code never drift apart.
 */

/** Every input declared in action.yml, keyed by a camelCase alias. */
export const INPUTS = {
  mode: 'mode',
  ephemeral: 'ephemeral',
  apiKey: 'api_key',
  projectId: 'project_id',
  apiHost: 'api_host',
  branchName: 'branch_name',
  parentBranch: 'parent_branch',
  branchType: 'branch_type',
  database: 'database',
  role: 'role',
  ssl: 'ssl',
  channelBinding: 'channel_binding',
  prisma: 'prisma',
  suspendTimeout: 'suspend_timeout',
  expiresIn: 'expires_in',
  expiresAt: 'expires_at',
  timeout: 'timeout',
  githubToken: 'github_token',
  comment: 'comment',
  dryRun: 'dry_run',
  cleanupPrefix: 'cleanup_prefix',
  cleanupMaxAge: 'cleanup_max_age',
  onBranchLimit: 'on_branch_limit',
  preserveUnderName: 'preserve_under_name',
  computeUnits: 'compute_units',
  maskingRules: 'masking_rules',
  maskingRulesFile: 'masking_rules_file',
  getAuthUrl: 'get_auth_url',
  getDataApiUrl: 'get_data_api_url',
  resetPassword: 'reset_password',
} as const

/** An input name as written in action.yml. */
export type InputName = (typeof INPUTS)[keyof typeof INPUTS]

/** Every output declared in action.yml, keyed by a camelCase alias. */
export const OUTPUTS = {
  branchId: 'branch_id',
  branchName: 'branch_name',
  created: 'created',
  recovered: 'recovered',
  dbUrl: 'db_url',
  dbUrlPooled: 'db_url_pooled',
  dbHost: 'db_host',
  dbHostPooled: 'db_host_pooled',
  password: 'password',
  role: 'role',
  database: 'database',
  endpointId: 'endpoint_id',
  expiresAt: 'expires_at',
  deleted: 'deleted',
  deletedBranches: 'deleted_branches',
  recoverableUntil: 'recoverable_until',
  staleBranches: 'stale_branches',
  skipped: 'skipped',
  computeUnits: 'compute_units',
  parentLsn: 'parent_lsn',
  parentTimestamp: 'parent_timestamp',
  schemaDiff: 'schema_diff',
  schemaChanged: 'schema_changed',
  anonymized: 'anonymized',
  maskedColumns: 'masked_columns',
  authUrl: 'auth_url',
  dataApiUrl: 'data_api_url',
  usage: 'usage',
  freed: 'freed',
} as const

/** An output name as written in action.yml. */
export type OutputName = (typeof OUTPUTS)[keyof typeof OUTPUTS]

/** Inputs whose values are secrets: never echo them in errors or logs. */
export const SECRET_INPUTS: readonly InputName[] = [INPUTS.apiKey, INPUTS.githubToken]

/** Neon API v2 base URL, without a trailing slash. */
export const DEFAULT_API_HOST = 'https://console.neon.tech/api/v2'

/** Neon caps a branch's expires_at at 30 days from now. */
export const MAX_EXPIRY_MS = 30 * 24 * 60 * 60 * 1000

/** The default expiry of an ephemeral branch: Neon deletes it by itself if no post step ever runs. */
export const EPHEMERAL_DEFAULT_EXPIRES_IN = '2h'

/** Postgres truncates identifiers at 63 bytes (NAMEDATALEN - 1); branch names are kept under the same bound. */
export const MAX_NAME_BYTES = 63
