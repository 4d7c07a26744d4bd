/**
 * `timeout` bounds everything the step does (issue 22, item 10; issue 21), seen as the runner sees
 * it through the committed dist/index.js: a Retry-After that would pass it fails the step at once,
 * and a project lock held past it fails the step naming the lock, the wait and what holds it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { runAction } from '../helpers/run-action.js'
import { api } from '../sim/helpers.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const REPO = 'octo-org/octo-repo'
let sim: NeonSimulator
let gh: FakeGitHub

beforeAll(async () => {
  // A create holds the project for ten minutes: longer than any `timeout` below.
  sim = await startNeonSimulator({ operationMs: { create_branch: 600_000, start_compute: 10 } })
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

function run(project: string, action: string, inputs: Record<string, string>) {
  return runAction({
    eventName: 'pull_request',
    payload: {
      action,
      number: 7,
      pull_request: {
        number: 7,
        head: { ref: 'feature/x', sha: 'c'.repeat(40), repo: { full_name: REPO } },
        base: { ref: 'main', repo: { full_name: REPO } },
      },
    },
    repository: REPO,
    githubApiUrl: gh.url,
    inputs: { api_key: sim.apiKey, project_id: project, api_host: sim.apiUrl, comment: 'false', ...inputs },
  })
}

const error = (stdout: string) =>
  decodeURIComponent(
    (stdout.split('\n').find((l) => l.startsWith('::error')) ?? '')
      .replace(/%0A/g, '\n')
      .replace(/%25/g, '%'),
  )

describe('the timeout input bounds the whole step', () => {
  it('fails at once when Neon asks to wait past it (Retry-After), naming the request', async () => {
    const project = sim.createProject({ id: 'deadline-retry-1' }).id
    sim.faults.add({
      route: 'GET /projects/{project_id}/branches',
      status: 429,
      headers: { 'Retry-After': '120' },
      body: { code: '', message: 'rate limit exceeded' },
    })
    const logStart = sim.log.length
    const r = await run(project, 'synchronize', { mode: 'create', timeout: '30' })
    expect(r.code).not.toBe(0)
    const message = error(r.stdout)
    expect(message).toMatch(
      new RegExp(
        `GET /projects/${project}/branches: HTTP 429 Too Many Requests: rate limit exceeded \\(request id [^)]+\\)\\.`,
      ),
    )
    expect(message).toContain(
      "Neon asked to wait 120.0 s before trying again (Retry-After), which would pass the step's deadline (the 'timeout' input); not tried again",
    )
    expect(
      sim.log.slice(logStart).filter((l) => l.route === 'GET /projects/{project_id}/branches'),
    ).toHaveLength(1)
  })

  it('fails when the project lock is held past it, naming the lock, the wait and what holds it', async () => {
    const project = sim.createProject({ id: 'deadline-lock-1' }).id
    const held = await api(sim, 'POST', `/projects/${project}/branches`, { branch: { name: 'long-running' } })
    expect(held.status).toBe(201)
    const r = await run(project, 'opened', { mode: 'create', timeout: '3' })
    expect(r.code).not.toBe(0)
    const message = error(r.stdout)
    expect(message).toMatch(
      new RegExp(
        `POST /projects/${project}/branches: HTTP 423 Locked: project already has running conflicting operations`,
      ),
    )
    expect(message).toMatch(/Waited \d+\.\d s for the project lock \(\d+ tr(y|ies) refused with 423\)/)
    expect(message).toContain(`it is held by create_branch (${held.body.branch.id as string}, running`)
    expect(message).toContain("the next try would come after the step's deadline (the 'timeout' input)")
    expect(r.summary).toContain('<td>Waited for the project lock</td>')
    // Nothing was created, and nothing is left for the user to clean up.
    expect(
      sim.world
        .liveBranches(project)
        .map((b) => b.name)
        .sort(),
    ).toEqual(['long-running', 'main'])
  })
})
