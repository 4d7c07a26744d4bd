import type { Branch, BranchRestrictedAction } from '../neon/types.js'
import { escapeControl as shown } from '../util/log-text.js'

/**
 * The branches a preview workflow must never touch: handing out the default branch's URL sends
 * migrations to production, and protected branches are protected for a reason. `action` completes
 * "refusing to …", e.g. "reset it".
 */
export function refuseUnsafeTarget(branch: Branch, action: string): void {
  if (branch.default) {
    throw new Error(
      `'${shown(branch.name)}' (${branch.id}) is the project's default branch; refusing to ${action}`,
    )
  }
  if (branch.protected) {
    throw new Error(`'${shown(branch.name)}' (${branch.id}) is a protected branch; refusing to ${action}`)
  }
}

/**
 * What this action does to a branch that Neon may restrict, and the name Neon gives it in the
 * branch's `restricted_actions` (API description, Branch.restricted_actions and
 * BranchRestrictedAction: "Possible values include `restore`, `delete-rw-endpoint`").
 * - reset is `POST …/restore`: `restore`, as the description names it (an anonymized branch has it:
 *   BEHAVIOUR.md, "Anonymized branches").
 * - delete is `DELETE /branches/{id}`. The description names no value for it, and says its list is
 *   open ("include"): `delete` is the name by the same rule (the action the request performs). No
 *   source states it; an unknown name never refuses anything, so the guess can only err on Neon's
 *   side, which refuses the request itself.
 */
export const RESTRICTABLE = {
  reset: { neonName: 'restore', doing: 'reset it' },
  delete: { neonName: 'delete', doing: 'delete it' },
} as const

/** One of this action's doings that Neon may restrict on a branch. */
export type RestrictableAction = keyof typeof RESTRICTABLE

/** Neon's restriction of `action` on the branch, when it has one. */
export function restrictionOf(
  branch: Pick<Branch, 'restricted_actions'>,
  action: RestrictableAction,
): BranchRestrictedAction | undefined {
  return branch.restricted_actions?.find((r) => r.name === RESTRICTABLE[action].neonName)
}

/** A request refused before it was sent, because Neon restricts it on the branch. */
export class RestrictedActionError extends Error {
  constructor(
    readonly branch: Pick<Branch, 'id' | 'name'>,
    readonly action: RestrictableAction,
    readonly restriction: BranchRestrictedAction,
  ) {
    super(
      `Neon restricts '${restriction.name}' on branch '${branch.name}' (${branch.id}): ` +
        `${restriction.reason || 'no reason given'}; refusing to ${RESTRICTABLE[action].doing}. ` +
        `Nothing was changed.`,
    )
    this.name = 'RestrictedActionError'
  }
}

/**
 * Refuses, before any request, what Neon's `restricted_actions` says the branch does not allow,
 * quoting Neon's reason: an anonymized branch cannot be restored, and a request Neon would refuse
 * anyway is better refused with Neon's own explanation than sent. Throws RestrictedActionError.
 */
export function refuseRestricted(
  branch: Pick<Branch, 'id' | 'name' | 'restricted_actions'>,
  action: RestrictableAction,
): void {
  const restriction = restrictionOf(branch, action)
  if (restriction) throw new RestrictedActionError(branch, action, restriction)
}
