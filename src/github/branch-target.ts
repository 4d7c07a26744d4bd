import type { Inputs } from '../inputs.js'
import { InputError } from '../inputs.js'
import type { RunContext } from './context.js'
import { previewBranchName } from './naming.js'

/**
 * The branch a run works on: the `branch_name` input when given, else the name derived from the
 * pull request. Outside a pull request event there is nothing to derive from, so the input is
 * required; this is checked before any API call.
 */
export function resolveBranchName(inputs: Pick<Inputs, 'branchName'>, ctx: RunContext): string {
  if (inputs.branchName) return inputs.branchName
  if (ctx.pullRequest) return previewBranchName(ctx.pullRequest.number, ctx.pullRequest.headRef)
  throw new InputError(
    'branch_name',
    `Input 'branch_name' is required on '${ctx.eventName || 'unknown'}' events: ` +
      'only pull_request and pull_request_target events name a branch by themselves.',
  )
}
