/**
 * Whether a workflow run is still going, for the cleanup of ephemeral branches: a branch whose run
 * has completed lost its post step (the runner machine died), and one whose run is in progress may
 * be in use right now.
 */
import { escapeControl } from '../util/log-text.js'
import { lookUpAll, readProof, UnverifiedNotFound } from './pulls.js'

/**
 * `completed`, or `missing` when GitHub does not know the run (deleted, or from elsewhere), which
 * counts as completed; anything else GitHub answers (queued, in_progress, waiting, requested,
 * pending) means the run is not over.
 */
export type RunState = 'completed' | 'missing' | 'in progress'

export interface WorkflowRunLookup {
  /** Each run id once per sweep; a failed look-up is an Error, so the caller keeps the branch. */
  /** `onAnswer` hears each run's answer as it arrives, as in PullRequestLookup.states. */
  states(
    runIds: readonly string[],
    onAnswer?: (runId: string, state: RunState | Error) => void,
  ): Promise<Map<string, RunState | Error>>
  readonly requests: number
}

/** The one Octokit call this needs (`GET /repos/{owner}/{repo}/actions/runs/{run_id}`). */
export interface RunsApi {
  rest: {
    actions: {
      getWorkflowRun(p: { owner: string; repo: string; run_id: number }): Promise<{
        data: { status?: string | null }
      }>
      /** `GET /repos/{owner}/{repo}/actions/runs?per_page=1`: the proof that the token reads workflow runs. */
      listWorkflowRunsForRepo(p: { owner: string; repo: string; per_page: number }): Promise<unknown>
    }
  }
}

/**
 * Looks runs up through the REST API, cached and a few at a time, like the pull request look-up; a
 * 404 is believed only once the token was shown to read this repository's runs (readProof).
 */
export function restRunLookup(api: RunsApi, repository: string, concurrency = 8): WorkflowRunLookup {
  const [owner = '', repo = ''] = repository.split('/')
  const cache = new Map<string, Promise<RunState | Error>>()
  let requests = 0
  const route = `GET /repos/${repository}/actions/runs?per_page=1`
  const proof = readProof(route, () => {
    requests++
    return api.rest.actions.listWorkflowRunsForRepo({ owner, repo, per_page: 1 })
  })

  const one = async (id: string): Promise<RunState | Error> => {
    requests++
    try {
      const { data } = await api.rest.actions.getWorkflowRun({ owner, repo, run_id: Number(id) })
      proof.saw()
      return data.status === 'completed' ? 'completed' : 'in progress'
    } catch (e) {
      const status = (e as { status?: number }).status
      if (status === 404) {
        const why = await proof.unproven()
        return why ? new UnverifiedNotFound(`workflow run ${id}`, 'actions: read', why) : 'missing'
      }
      return new Error(
        `GET /repos/${repository}/actions/runs/${id}: ${status ? `HTTP ${status}: ` : ''}${escapeControl((e as Error).message)}`,
      )
    }
  }

  return {
    get requests() {
      return requests
    },
    states(runIds, onAnswer) {
      return lookUpAll(runIds, cache, one, concurrency, onAnswer)
    },
  }
}
