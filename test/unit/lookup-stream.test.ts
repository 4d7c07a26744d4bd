import { describe, expect, it } from 'vitest'
import { lookUpAll, restPullLookup, type PullState } from '../../src/github/pulls.js'
import { restRunLookup } from '../../src/github/runs.js'
import { heldPulls } from '../helpers/held-pulls.js'

const tick = () => new Promise<void>((r) => setImmediate(r))

describe('look-ups report each answer as it lands', () => {
  it('tells each distinct pull request once, as it answers, with at most 8 in flight', async () => {
    const answers = new Map<number, PullState>(Array.from({ length: 12 }, (_, i) => [i + 1, 'closed']))
    const gh = heldPulls(answers)
    const lookup = restPullLookup(gh.api, 'o/r')
    const heard: number[] = []
    const all = lookup.states([3, 1, 2, 3, ...answers.keys()], (n) => heard.push(n))
    await tick()
    expect(gh.inFlight()).toBe(8)
    gh.release(1)
    await tick()
    await tick()
    expect(heard).toEqual([1])
    gh.releaseAll()
    const map = await all
    expect([...heard].sort((a, b) => a - b)).toEqual([...answers.keys()])
    expect(map.get(3)).toBe('closed')
    expect(lookup.requests).toBe(12)
  })

  it('a second call hears the answers of numbers the first asked for, without asking again', async () => {
    const gh = heldPulls(
      new Map<number, PullState>([
        [1, 'open'],
        [2, 'missing'],
      ]),
    )
    const lookup = restPullLookup(gh.api, 'o/r')
    const first = lookup.states([1])
    const heard: [number, PullState | Error][] = []
    const second = lookup.states([1, 2], (n, s) => heard.push([n, s]))
    gh.releaseAll()
    await Promise.all([first, second])
    expect(heard.sort()).toEqual([
      [1, 'open'],
      [2, 'missing'],
    ])
    expect(gh.asked).toEqual([1, 2])
  })

  it('workflow runs stream the same way, and a failed look-up is told as an Error', async () => {
    const lookup = restRunLookup(
      {
        rest: {
          actions: {
            listWorkflowRunsForRepo: async () => ({ data: { workflow_runs: [] } }),
            getWorkflowRun: async ({ run_id }) => {
              if (run_id === 9) throw Object.assign(new Error('boom'), { status: 500 })
              return { data: { status: run_id === 1 ? 'completed' : 'in_progress' } }
            },
          },
        },
      },
      'o/r',
    )
    const heard = new Map<string, unknown>()
    await lookup.states(['1', '2', '9', '1'], (id, s) => heard.set(id, s))
    expect(heard.get('1')).toBe('completed')
    expect(heard.get('2')).toBe('in progress')
    expect(heard.get('9')).toBeInstanceOf(Error)
    expect(lookup.requests).toBe(3)
  })

  it('lookUpAll answers every key, duplicates included, from one request each', async () => {
    let calls = 0
    const cache = new Map<string, Promise<number>>()
    const out = await lookUpAll(['a', 'b', 'a'], cache, async (k) => (calls++, k.length), 1)
    expect([...out]).toEqual([
      ['a', 1],
      ['b', 1],
    ])
    expect(calls).toBe(2)
  })
})
