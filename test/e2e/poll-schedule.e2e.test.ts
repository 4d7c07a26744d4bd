// dist/index.js polling where Neon's operations should end, learned from the project's history.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { runAction, type ActionRun } from '../helpers/run-action.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await gh.close()
})
beforeEach(async () => {
  // Long enough that the fixed schedule (every 150 ms at first) polls a dozen times or more.
  sim = await startNeonSimulator({
    operationMs: { create_branch: 800, create_timeline: 800, start_compute: 1500, delete_timeline: 300 },
  })
  projectId = sim.createProject({ id: 'poll-e2e-1' }).id
})
afterEach(async () => {
  await sim.close()
})

function create(pr: number): Promise<ActionRun> {
  return runAction({
    eventName: 'pull_request',
    payload: {
      action: 'synchronize',
      number: pr,
      pull_request: {
        number: pr,
        head: { ref: `feature/${pr}`, sha: 'a'.repeat(40), repo: { full_name: 'octo-org/octo-repo' } },
        base: { ref: 'main', repo: { full_name: 'octo-org/octo-repo' } },
      },
    },
    githubApiUrl: gh.url,
    inputs: {
      mode: 'create',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      comment: 'false',
    },
  })
}

/** What one run asked of the simulator, by route. */
async function routesOf(
  run: () => Promise<ActionRun>,
): Promise<{ run: ActionRun; routes: Record<string, number> }> {
  const before = sim.log.length
  const r = await run()
  const routes: Record<string, number> = {}
  for (const l of sim.log.slice(before)) routes[l.route ?? l.path] = (routes[l.route ?? l.path] ?? 0) + 1
  return { run: r, routes }
}

const POLL = 'GET /projects/{project_id}/operations/{operation_id}'
const HISTORY = 'GET /projects/{project_id}/operations'

describe('dist/index.js: polling by the project history', () => {
  it('reads the history once per run, and with it polls a new branch a few times instead of a dozen', async () => {
    const first = await routesOf(() => create(1))
    expect(first.run.code, first.run.stdout).toBe(0)
    expect(first.routes[HISTORY]).toBe(1)
    // A fresh project has no start_compute in its history yet: the fixed schedule.
    const fixed = first.routes[POLL] ?? 0

    const second = await routesOf(() => create(2))
    expect(second.run.code, second.run.stdout).toBe(0)
    expect(second.routes[HISTORY]).toBe(1)
    const predicted = second.routes[POLL] ?? 0
    expect(predicted).toBeGreaterThanOrEqual(2) // one per operation at least
    expect(predicted).toBeLessThanOrEqual(8)
    expect(predicted).toBeLessThan(fixed)
    expect(second.run.outputs['created']).toBe('true')
  })

  it('an adopted branch with nothing to wait for reads no history', async () => {
    expect((await create(3)).code).toBe(0)
    const again = await routesOf(() => create(3))
    expect(again.run.code, again.run.stdout).toBe(0)
    expect(again.run.outputs['created']).toBe('false')
    expect(again.routes[HISTORY]).toBeUndefined()
    expect(again.routes[POLL]).toBeUndefined()
  })

  it('a failed history read costs polls, not the run', async () => {
    expect((await create(4)).code).toBe(0)
    sim.faults.add({
      route: 'GET /projects/{project_id}/operations',
      status: 500,
      times: Infinity,
      body: { code: '', message: 'internal error' },
    })
    const r = await routesOf(() => create(5))
    expect(r.run.code, r.run.stdout).toBe(0)
    expect(r.run.outputs['created']).toBe('true')
    // One try: a retry's wait is not worth what the history saves.
    expect(r.routes[HISTORY]).toBe(1)
  })
})
