import type { Branch } from '../neon/types.js'
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
