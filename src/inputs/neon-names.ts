// Neon's own actions' names for inputs this action has under another name (issue 32). GitHub only
// warns "Unexpected input" for an input an action does not declare, and the step then runs on the
// default: `username: app_user` (create-branch-action v5) would connect as neondb_owner. The runner
// sets INPUT_<NAME> for every `with:` key, declared or not, so the reader sees them; every one of
// these that is given fails the step before any request, naming ours. docs/migrating.md holds the
// same tables (its inputs and outputs, and what behaves differently), and a test holds the two together.
import { INPUTS, type InputName } from '../constants.js'
import { InputError } from './types.js'

/** One of Neon's actions, as docs/migrating.md names it. */
export type NeonAction =
  | 'create-branch-action v5'
  | 'create-branch-action v6'
  | 'delete-branch-action v3'
  | 'reset-branch-action v1'
  | 'schema-diff-action v1'

/** A Neon action's input that this action does not declare: ours, or why there is none. */
export interface NeonInputName {
  neon: string
  action: NeonAction
  /** This action's input for it; unset when there is none (then `note` says what to do). */
  ours?: InputName
  /** What differs, or what to do instead when there is no counterpart. */
  note?: string
}

/**
 * Every input of Neon's actions (their action.yml at the tag named) that this action does not
 * declare. Their other inputs (`project_id`, `api_key`, `api_host`, `branch_name`, `database`,
 * `prisma`, `ssl`, `suspend_timeout`, and all of create-branch-action v6's) are ours too, with the
 * same meaning: never refused.
 */
export const NEON_INPUT_NAMES: readonly NeonInputName[] = [
  { neon: 'username', action: 'create-branch-action v5', ours: INPUTS.role },
  { neon: 'parent', action: 'create-branch-action v5', ours: INPUTS.parentBranch },
  {
    neon: 'parent',
    action: 'reset-branch-action v1',
    note: '`mode: reset` resets from the parent without it; `parent_branch` names another source',
  },
  { neon: 'branch', action: 'delete-branch-action v3', ours: INPUTS.branchName },
  { neon: 'branch_id', action: 'delete-branch-action v3', ours: INPUTS.branchName },
  { neon: 'branch', action: 'reset-branch-action v1', ours: INPUTS.branchName },
  { neon: 'cs_role_name', action: 'reset-branch-action v1', ours: INPUTS.role },
  { neon: 'cs_database', action: 'reset-branch-action v1', ours: INPUTS.database },
  { neon: 'cs_prisma', action: 'reset-branch-action v1', ours: INPUTS.prisma },
  { neon: 'cs_ssl', action: 'reset-branch-action v1', ours: INPUTS.ssl },
  { neon: 'github-token', action: 'schema-diff-action v1', ours: INPUTS.githubToken },
  { neon: 'compare_branch', action: 'schema-diff-action v1', ours: INPUTS.branchName },
  { neon: 'base_branch', action: 'schema-diff-action v1', ours: INPUTS.parentBranch },
  {
    neon: 'timestamp',
    action: 'schema-diff-action v1',
    note:
      'the branch is compared as it is now; a point in time goes on the other side: ' +
      '`parent_branch: <name>@<timestamp>`',
  },
  {
    neon: 'lsn',
    action: 'schema-diff-action v1',
    note:
      'the branch is compared as it is now; a point in time goes on the other side: ' +
      '`parent_branch: <name>@<LSN>`',
  },
]

/** The message for a Neon name given to this action: each of Neon's meanings, and ours. */
export function neonNameMessage(neon: string, rows: readonly NeonInputName[] = NEON_INPUT_NAMES): string {
  const parts = rows
    .filter((r) => r.neon === neon)
    .map((r) => {
      const what = r.ours
        ? `this action calls it '${r.ours}'${r.note ? ` (${r.note})` : ''}`
        : `this action has no such input: ${r.note ?? 'remove it'}`
      return `${r.action.replace(/ v\d+$/, '')}'s name; ${what}`
    })
  return `input '${neon}' is ${parts.join('. It is also ')}.`
}

/**
 * Fails (InputError, naming ours) on the first of Neon's names given a value. `read` is the
 * reader's core.getInput-like read: '' for an input the workflow does not set.
 */
export function refuseNeonNames(read: (name: string) => string): void {
  const declared = new Set<string>(Object.values(INPUTS))
  for (const neon of new Set(NEON_INPUT_NAMES.map((r) => r.neon))) {
    if (declared.has(neon)) continue
    if (read(neon).trim() !== '') throw new InputError(neon, neonNameMessage(neon))
  }
}
