// The allowed values and the defaults of the inputs.
import { DEFAULT_API_HOST } from '../constants.js'
import type { BranchType, Mode, OnBranchLimit, SslMode } from './types.js'

export const MODES: readonly Mode[] = [
  'create',
  'reset',
  'delete',
  'cleanup',
  'schema-diff',
  'recover',
  'auto',
]
export const SSL_MODES: readonly SslMode[] = ['require', 'verify-ca', 'verify-full', 'omit']
export const BRANCH_TYPES: readonly BranchType[] = ['default', 'schema-only']
export const ON_BRANCH_LIMIT: readonly OnBranchLimit[] = ['fail', 'make-room']

// Defaults mirror action.yml, so calling getInputs with only the required inputs (as tests and local runs do)
// behaves exactly like the runner, which fills in action.yml defaults itself.
export const DEFAULTS = {
  apiHost: DEFAULT_API_HOST,
  branchType: 'default',
  database: 'neondb',
  role: 'neondb_owner',
  ssl: 'require',
  channelBinding: 'false',
  prisma: 'false',
  suspendTimeout: '0',
  expiresIn: '14d',
  timeout: '300',
  comment: 'true',
  dryRun: 'false',
  cleanupPrefix: 'preview/',
  cleanupMaxAge: '7d',
  onBranchLimit: 'fail',
  getAuthUrl: 'false',
  getDataApiUrl: 'false',
  resetPassword: 'false',
} as const
