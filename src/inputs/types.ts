// The types of the validated inputs: one `Inputs` object, what its fields may hold, and the error a
// bad value raises. The readers (reader.ts and one file per concern) fill it; index.ts composes them.
import type { MaskingRulesInput } from '../masking/input.js'
import type { ComputeUnits } from '../neon/compute-units.js'

/**
 * What the action does; `auto` picks create, delete or cleanup from the event (never schema-diff:
 * it cannot know when the migrations have run; never recover: a workflow_dispatch asks for it).
 */
export type Mode = 'create' | 'reset' | 'delete' | 'cleanup' | 'schema-diff' | 'recover' | 'auto'
/** The `sslmode` put in connection strings; `omit` leaves the parameter out. */
export type SslMode = 'require' | 'verify-ca' | 'verify-full' | 'omit'
/** Neon branch type: a full copy-on-write branch, or schema only (no data). */
export type BranchType = 'default' | 'schema-only'
/** What `create` does when Neon refuses it for the project's branch limit. */
export type OnBranchLimit = 'fail' | 'make-room'
/** When a created branch should expire. */
export type Expiry = { kind: 'never' } | { kind: 'in'; ms: number } | { kind: 'at'; at: Date }

/** Every input, validated and with defaults applied. */
export interface Inputs {
  mode: Mode
  /**
   * `mode: create` only: the branch belongs to this job. Never adopted, annotated with the run,
   * expiring in 2 h unless told otherwise, and deleted by the post step when the job ends.
   */
  ephemeral: boolean
  /** Empty only when getInputs was told to allow it (a pull request from a fork). */
  apiKey: string
  projectId: string
  /** Base URL of the Neon API, without a trailing slash. */
  apiHost: string
  /** Unset when the name should be derived from the pull request. A name or a `br-…` id. */
  branchName?: string
  /**
   * Unset for the project's default branch. A name or a `br-…` id, without any `@<point>`; in reset
   * mode also `^self` (the branch's own past) or `^parent` (its parent). For schema-diff: the branch
   * to compare with.
   */
  parentBranch?: string
  /** The `@<LSN>` or `@<timestamp>` of `parent_branch`; unset for the parent's head (its data now). */
  parentPoint?: ParentPoint
  branchType: BranchType
  database: string
  role: string
  ssl: SslMode
  channelBinding: boolean
  prisma: boolean
  /** Compute suspend timeout in seconds; 0 = Neon's default, -1 = never suspend. */
  suspendTimeout: number
  expiry: Expiry
  /** How long to wait for Neon operations, in milliseconds. */
  timeoutMs: number
  /** May be empty (then no comment can be posted). */
  githubToken: string
  /** Defaults to true, and to false with `ephemeral` (an explicit `comment: true` still comments). */
  comment: boolean
  dryRun: boolean
  cleanupPrefix: string
  cleanupMaxAgeMs: number
  /** `fail`: report the limit and what cleanup would delete; `make-room`: delete that, as little as needed. */
  onBranchLimit: OnBranchLimit
  preserveUnderName?: string
  /** The size of the read-write compute; unset for Neon's (the project's) default. */
  computeUnits?: ComputeUnits
  /**
   * `masking_rules` or `masking_rules_file`, parsed and checked: the branch is an anonymized one,
   * its data masked by Neon before anything is handed out. Unset for a plain branch (and in modes
   * that do not create, where the rules are not read).
   */
  masking?: MaskingRulesInput
  /** create and reset: read the branch's Neon Auth URL for the `auth_url` output. */
  getAuthUrl: boolean
  /** create and reset: read the Data API URL of `database` for the `data_api_url` output. */
  getDataApiUrl: boolean
  /**
   * create and reset: give the role a new password (Neon's reset_password) before handing out the
   * URLs, so that a leaked one stops working.
   */
  resetPassword: boolean
}

/** A point in a branch's history, as `parent_branch` gave it (exactly one is set). */
export interface ParentPoint {
  lsn?: string
  /** As written (RFC 3339 with a zone), and the same as milliseconds since the epoch. */
  timestamp?: string
  timestampMs?: number
}

/** A bad input value. The message names the input and what is allowed, and never holds a secret. */
export class InputError extends Error {
  /** The input's name as written in action.yml, e.g. `expires_in`. */
  readonly input: string

  constructor(input: string, message: string) {
    super(message)
    this.name = 'InputError'
    this.input = input
  }
}

/** Options for {@link getInputs}. */
export interface GetInputsOptions {
  /**
   * Accept an empty `api_key` (returned as ''). main.ts sets it only on a pull request from a fork,
   * which gets no secrets under `pull_request`: that run is skipped, not failed.
   */
  allowEmptyApiKey?: boolean
  /**
   * The mode `mode: auto` resolves to for this event, when main.ts already knows it: a
   * `masking_rules_file` is then read only when that mode creates (create, reset).
   */
  autoMode?: Exclude<Mode, 'auto'>
  /** Where `masking_rules_file` is looked up (default GITHUB_WORKSPACE, else the working directory). */
  workspace?: string
  /** Reads `masking_rules_file` (default: the file system); tests hand in files. */
  readFile?: (absolutePath: string) => string
}
