import type { Inputs } from '../inputs.js'
import { InputError } from '../inputs.js'
import type { RunContext } from './context.js'
import { ephemeralBranchName, previewBranchName } from './naming.js'

/**
 * The branch a run works on: the `branch_name` input when given; with `ephemeral`, the name derived
 * from the run and job (never the pull request's preview name, which would collide with the
 * preview); else the name derived from the pull request. Outside a pull request event there is
 * nothing to derive from, so the input is required; this is checked before any API call.
 */
export function resolveBranchName(
  inputs: Pick<Inputs, 'branchName'> & { ephemeral?: boolean },
  ctx: RunContext,
): string {
  if (inputs.branchName) return inputs.branchName
  if (inputs.ephemeral) {
    if (!ctx.runId) {
      throw new InputError(
        'branch_name',
        "Input 'branch_name' is required with 'ephemeral: true' outside GitHub Actions: GITHUB_RUN_ID is not " +
          'set, so no ci/run-<run id>-<attempt>-<job> name can be derived.',
      )
    }
    return ephemeralBranchName(ctx.runId, ctx.runAttempt ?? '1', ctx.job)
  }
  if (ctx.pullRequest) return previewBranchName(ctx.pullRequest.number, ctx.pullRequest.headRef)
  throw new InputError(
    'branch_name',
    `Input 'branch_name' is required on '${ctx.eventName || 'unknown'}' events: ` +
      'only pull_request and pull_request_target events name a branch by themselves.',
  )
}
