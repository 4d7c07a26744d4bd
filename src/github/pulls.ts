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

/** The Octokit calls this needs, so tests can pass a fake and main passes the real client. */
export interface PullsApi {
  rest: {
    pulls: {
      get(p: { owner: string; repo: string; pull_number: number }): Promise<{
        data: { state: string; merged?: boolean | null; merged_at?: string | null }
      }>
      /** `GET /repos/{owner}/{repo}/pulls?state=all&per_page=1`: the proof that the token reads pull requests. */
      list(p: { owner: string; repo: string; state: 'all'; per_page: number }): Promise<unknown>
    }
  }
}

/**
 * A 404 that cannot be believed: GitHub answers 404 for what the token may not see as for what does
 * not exist, and this token was not shown to read this repository's pull requests (or workflow
 * runs) in this run. Whatever depends on that answer is kept. `permission` is what the workflow's
 * `permissions:` (or a fine-grained token) must grant.
 */
export class UnverifiedNotFound extends Error {
  constructor(
    readonly what: string,
    readonly permission: string,
    why: string,
  ) {
    const kind = permission === 'actions: read' ? 'workflow runs' : 'pull requests'
    super(
      `GitHub answered 404 for ${what}, but this token was not shown to read this repository's ${kind} ` +
        `(${why}), so the 404 may only mean that it may not see it; it needs '${permission}'`,
    )
    this.name = 'UnverifiedNotFound'
  }
}

/**
 * Whether the token reads a kind of thing in this repository, shown once per run: any 200 for one of
 * them shows it (`saw`); else, at the first 404, one listing (`probe`) must answer 200. Returns why
 * not, or undefined when a 404 can be believed. The probe is made at most once (its promise is kept).
 */
export function readProof(route: string, probe: () => Promise<unknown>) {
  let seen = false
  let proof: Promise<string | undefined> | undefined
  return {
    saw(): void {
      seen = true
    },
    async unproven(): Promise<string | undefined> {
      if (seen) return undefined
      proof ??= probe().then(
        () => undefined,
        (e: unknown) => {
          const status = (e as { status?: number }).status
          return `${route} answered ${status ? `HTTP ${status}` : escapeControl((e as Error).message)}`
        },
      )
      return proof
    },
  }
}

/**
 * Looks pull requests up through the REST API, each number once per run (cached), with a bounded
 * number in flight so a sweep of hundreds of branches neither crawls nor trips GitHub's secondary
 * rate limits. A 404 means the pull request does not exist (deleted, or a number from elsewhere)
 * only once the token was shown to read this repository's pull requests (readProof); otherwise it
 * is an UnverifiedNotFound, and the caller keeps what depends on it.
 */
export function restPullLookup(api: PullsApi, repository: string, concurrency = 8): PullRequestLookup {
  const [owner = '', repo = ''] = repository.split('/')
  const cache = new Map<number, Promise<PullState | Error>>()
  let requests = 0
  const route = `GET /repos/${repository}/pulls?state=all&per_page=1`
  const proof = readProof(route, () => {
    requests++
    return api.rest.pulls.list({ owner, repo, state: 'all', per_page: 1 })
  })

  const one = async (n: number): Promise<PullState | Error> => {
    requests++
    try {
      const { data } = await api.rest.pulls.get({ owner, repo, pull_number: n })
      proof.saw()
      if (data.state === 'open') return 'open'
      return data.merged || data.merged_at ? 'merged' : 'closed'
    } catch (e) {
      if ((e as { status?: number }).status === 404) {
        const why = await proof.unproven()
        return why ? new UnverifiedNotFound(`pull request #${n}`, 'pull-requests: read', why) : 'missing'
      }
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
