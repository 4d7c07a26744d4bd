/**
 * `mode: auto`: the mode a workflow run's event asks for. Pure, so every event is unit-tested.
 */
import { INPUTS } from '../constants.js'
import { InputError, type Mode } from '../inputs.js'
import { isPullRequestEvent, type RunContext } from './context.js'

/** A mode auto may choose, and the event that made it choose so (for the log and the summary). */
export interface AutoChoice {
  mode: Extract<Mode, 'create' | 'delete' | 'cleanup'>
  /** e.g. `pull_request closed`, `schedule`. */
  because: string
}

/** Pull request actions after which the branch should exist and match the head commit. */
export const CREATE_ACTIONS: readonly string[] = ['opened', 'reopened', 'synchronize', 'ready_for_review']

/**
 * Picks the mode for `mode: auto`: pull_request and pull_request_target `opened`, `reopened`,
 * `synchronize`, `ready_for_review` → create; `closed` → delete; `schedule` → cleanup.
 *
 * Anything else (another event, or another pull request action such as `labeled` or `edited`)
 * throws an InputError asking for an explicit mode: guessing there could delete or reset a
 * database nobody asked to touch.
 */
export function chooseAutoMode(ctx: Pick<RunContext, 'eventName' | 'action'>): AutoChoice {
  const event = ctx.eventName
  if (isPullRequestEvent(event)) {
    const action = ctx.action ?? ''
    const because = `${event} ${action || '(no action)'}`
    if (CREATE_ACTIONS.includes(action)) return { mode: 'create', because }
    if (action === 'closed') return { mode: 'delete', because }
    throw new InputError(
      INPUTS.mode,
      `Input 'mode' is 'auto', but the '${event}' event with action '${action || '(none)'}' maps to no mode: ` +
        `auto creates on ${CREATE_ACTIONS.join(', ')} and deletes on closed. ` +
        `Set 'mode' explicitly (create, reset, delete, cleanup or schema-diff) for this event, ` +
        `or limit the workflow's 'types:' to those actions.`,
    )
  }
  if (event === 'schedule') return { mode: 'cleanup', because: 'schedule' }
  throw new InputError(
    INPUTS.mode,
    `Input 'mode' is 'auto', but auto only understands pull_request, pull_request_target and schedule ` +
      `events, not '${event || '(unknown)'}'. Set 'mode' explicitly (create, reset, delete, cleanup or schema-diff); ` +
      `outside a pull request also set 'branch_name'.`,
  )
}

/**
 * `mode: create` on a pull request `closed` event (issue 32): the pull request is done, and a create
 * there would make (or keep, with its expiry pushed out) a branch nobody will use. Fails before any
 * request, saying what the workflow meant. `ephemeral: true` is a branch for the job, deleted when
 * it ends: it is let through.
 */
export function refuseCreateOnClosed(
  mode: Mode,
  ephemeral: boolean,
  ctx: Pick<RunContext, 'eventName' | 'action'>,
): void {
  if (mode !== 'create' || ephemeral || !isPullRequestEvent(ctx.eventName) || ctx.action !== 'closed') return
  throw new InputError(
    INPUTS.mode,
    `Input 'mode' is 'create', but this is a '${ctx.eventName} closed' event: creating would make (or keep) ` +
      `a branch for a pull request that is over. Use 'mode: delete' for closed events (a job of its own, as in ` +
      `examples/pull-request.yml), or 'mode: auto', which creates on ` +
      `${CREATE_ACTIONS.join(', ')} and deletes on closed. Nothing was sent to Neon.`,
  )
}
