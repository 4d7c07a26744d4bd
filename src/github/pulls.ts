/** Where a pull request stands, as far as cleanup is concerned. */
export type PullState = 'open' | 'closed' | 'merged' | 'missing'

/** Answers "is this pull request still open?" for many pull requests at once. */
export interface PullRequestLookup {
  /**
   * The state of each pull request of the workflow's repository. A look-up that failed is an Error
   * in the map, so the caller keeps that branch instead of guessing.
   */
  states(numbers: readonly number[]): Promise<Map<number, PullState | Error>>
  /** Requests made so far, for the summary and the benchmarks. */
  readonly requests: number
}

/** The one Octokit call this needs, so tests can pass a fake and main passes the real client. */
export interface PullsApi {
  rest: {
    pulls: {
      get(p: { owner: string; repo: string; pull_number: number }): Promise<{
        data: { state: string; merged?: boolean | null; merged_at?: string | null }
      }>
    }
  }
}

/**
 * Looks pull requests up through the REST API, each number once per run (cached), with a bounded
 * number in flight so a sweep of hundreds of branches neither crawls nor trips GitHub's secondary
 * rate limits. A 404 means the pull request does not exist (deleted, or a number from elsewhere).
 */
export function restPullLookup(api: PullsApi, repository: string, concurrency = 8): PullRequestLookup {
  const [owner = '', repo = ''] = repository.split('/')
  const cache = new Map<number, Promise<PullState | Error>>()
  let requests = 0

  const one = async (n: number): Promise<PullState | Error> => {
    requests++
    try {
      const { data } = await api.rest.pulls.get({ owner, repo, pull_number: n })
      if (data.state === 'open') return 'open'
      return data.merged || data.merged_at ? 'merged' : 'closed'
    } catch (e) {
      if ((e as { status?: number }).status === 404) return 'missing'
      const status = (e as { status?: number }).status
      return new Error(
        `GET /repos/${repository}/pulls/${n}: ${status ? `HTTP ${status}: ` : ''}${(e as Error).message}`,
      )
    }
  }

  return {
    get requests() {
      return requests
    },
    async states(numbers) {
      const todo = [...new Set(numbers)].filter((n) => !cache.has(n))
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < todo.length) {
          const n = todo[next++]!
          const p = one(n)
          cache.set(n, p)
          await p
        }
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker))
      const out = new Map<number, PullState | Error>()
      for (const n of numbers) out.set(n, await cache.get(n)!)
      return out
    },
  }
}
