import type { PullState, PullsApi } from '../../src/github/pulls.js'
import type { Clock } from '../../src/util/clock.js'

/** What a fake pull request look-up answers: a state, or `error` (GitHub answers 502). */
export type FakePullAnswer = PullState | 'error'

/** The Octokit call restPullLookup makes, answered from `answers` (a 404 for `missing`, as GitHub). */
async function answer(n: number, answers: ReadonlyMap<number, FakePullAnswer>) {
  const s = answers.get(n) ?? 'missing'
  if (s === 'missing') throw Object.assign(new Error('Not Found'), { status: 404 })
  if (s === 'error') throw Object.assign(new Error('Bad Gateway'), { status: 502 })
  return { data: { state: s === 'open' ? 'open' : 'closed', merged: s === 'merged' } }
}

/**
 * A GitHub whose pull request answers are held back until the test releases them, so a test can
 * see what the sweep does while look-ups are out. Hand `api` to restPullLookup: the cache and the
 * bounded concurrency under test stay the real ones.
 */
export function heldPulls(answers: ReadonlyMap<number, FakePullAnswer>) {
  const gates = new Map<number, () => void>()
  const released = new Set<number>()
  const asked: number[] = []
  const answered: number[] = []
  const api: PullsApi = {
    rest: {
      pulls: {
        get: async ({ pull_number: n }) => {
          asked.push(n)
          if (!released.has(n)) await new Promise<void>((r) => gates.set(n, r))
          answered.push(n)
          return answer(n, answers)
        },
        // The token reads this repository's pull requests: a 404 is believed (pulls.ts, readProof).
        list: async () => ({ data: [] }),
      },
    },
  }
  const release = (...ns: number[]): void => {
    for (const n of ns) {
      released.add(n)
      gates.get(n)?.()
    }
  }
  /** Look-ups asked and not answered yet. */
  const inFlight = (): number => asked.length - answered.length
  return { api, asked, answered, release, inFlight, releaseAll: () => release(...answers.keys()) }
}

/** A GitHub that answers every pull request look-up after `delayMs` of the (virtual) clock. */
export function slowPulls(answers: ReadonlyMap<number, FakePullAnswer>, clock: Clock, delayMs: number) {
  let requests = 0
  const api: PullsApi = {
    rest: {
      pulls: {
        get: async ({ pull_number: n }) => {
          requests++
          await clock.sleep(delayMs)
          return answer(n, answers)
        },
        // The token reads this repository's pull requests: a 404 is believed (pulls.ts, readProof).
        list: async () => ({ data: [] }),
      },
    },
  }
  return {
    api,
    get requests() {
      return requests
    },
  }
}
