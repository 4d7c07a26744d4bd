import { escapeControl } from '../util/log-text.js'

/** Where a pull request stands, as far as cleanup is concerned. */
export type PullState = 'open' | 'closed' | 'merged' | 'missing'

/** Answers "is this pull request still open?" for many pull requests at once. */
export interface PullRequestLookup {
  /**
   * The state of each pull request of the workflow's repository. A look-up that failed is an Error
   * in the map, so the caller keeps that branch instead of guessing. `onAnswer`, when given, hears
   * each number's answer the moment it arrives (once per distinct number, before the map resolves),
   * so cleanup can start deleting while the other look-ups are still out. A lookup may ignore it:
   * the caller settles from the map what it did not hear.
   */
  states(
    numbers: readonly number[],
    onAnswer?: (n: number, state: PullState | Error) => void,
  ): Promise<Map<number, PullState | Error>>
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
        `GET /repos/${repository}/pulls/${n}: ${status ? `HTTP ${status}: ` : ''}${escapeControl((e as Error).message)}`,
      )
    }
  }

  return {
    get requests() {
      return requests
    },
    async states(numbers, onAnswer) {
      return lookUpAll(numbers, cache, one, concurrency, onAnswer)
    },
  }
}

/**
 * The shared engine of the pull request and workflow run look-ups: each distinct key once per run
 * (the cache holds the promise, so a key asked twice, even concurrently, costs one request), at
 * most `concurrency` requests in flight, `onAnswer` told of each key's answer as it lands.
 */
export async function lookUpAll<K, V>(
  keys: readonly K[],
  cache: Map<K, Promise<V>>,
  one: (key: K) => Promise<V>,
  concurrency: number,
  onAnswer?: (key: K, value: V) => void,
): Promise<Map<K, V>> {
  const distinct = [...new Set(keys)]
  // Keys another call already asked for: their answers are told when those land.
  const told = distinct.filter((k) => cache.has(k)).map(async (k) => onAnswer?.(k, await cache.get(k)!))
  const todo = distinct.filter((k) => !cache.has(k))
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const k = todo[next++]!
      const p = one(k)
      cache.set(k, p)
      onAnswer?.(k, await p)
    }
  }
  await Promise.all([...told, ...Array.from({ length: Math.min(concurrency, todo.length) }, worker)])
  const out = new Map<K, V>()
  for (const k of keys) out.set(k, await cache.get(k)!)
  return out
}
