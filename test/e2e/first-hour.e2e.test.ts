/**
 * A team's first hour (issue 32), through the committed dist/index.js: the mistakes a new user
 * makes fail saying what to do, and leave nothing lasting on the pull request. A wrong key or
 * project names the input and where to check it; `mode: create` on `closed` and Neon's input names
 * fail before any Neon request; a run that fails before it knows the branch writes no comment (the
 * log and the summary carry the error).
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { runAction, type ActionRun } from '../helpers/run-action.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_firsthourtoken42'
let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({ operationMs: { create_branch: 20, start_compute: 20 } })
  gh = await startFakeGitHub()
  projectId = sim.createProject({ id: 'first-hour-12345678' }).id
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

type Payload = { number: number; pull_request: { number: number; head: { ref: string } } }

/** A pull request event fixture, moved to pull request `n`. */
function event(action: string, n: number): Payload {
  const p = JSON.parse(
    readFileSync(new URL(`../fixtures/events/pull_request.${action}.json`, import.meta.url), 'utf8'),
  ) as Payload
  p.number = n
  p.pull_request.number = n
  return p
}

function act(action: string, n: number, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    eventName: 'pull_request',
    payload: event(action, n),
    githubApiUrl: gh.url,
    repository: REPO,
    inputs: {
      mode: 'create',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: TOKEN,
      ...inputs,
    },
  })
}

/** The `::error::` line the step failed with (setFailed), unescaped enough to read. */
function errorOf(run: ActionRun): string {
  const line = run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? ''
  return line.slice('::error::'.length).replace(/%0A/g, '\n').replace(/%25/g, '%')
}

describe("a team's first hour (issue 32)", () => {
  it('a wrong key fails naming api_key and how to check it; no comment is left', async () => {
    const run = await act('opened', 31, { api_key: 'napi_FAKE-wrong-key-0000000000000000' })
    expect(run.code).toBe(1)
    const error = errorOf(run)
    expect(error).toContain('HTTP 401 Unauthorized')
    expect(error).toContain("Check input 'api_key': Neon refused the API key.")
    expect(error).toContain('secrets.NEON_API_KEY')
    expect(error).toMatch(/revoked/)
    expect(error).toMatch(/project-scoped key/)
    expect(run.summary).toContain('Check input &#39;api_key&#39;: Neon refused the API key.')
    expect(run.summary).toContain('not written: the run failed before it knew the branch')
    expect(gh.commentBodies(REPO, 31)).toEqual([])
    expect(run.stdout.replace('::add-mask::napi_FAKE-wrong-key-0000000000000000', '')).not.toContain(
      'napi_wrongkey',
    )
  })

  it('an unknown project fails naming project_id and where to find it; no comment is left', async () => {
    const run = await act('opened', 32, { project_id: 'wrong-project-87654321' })
    expect(run.code).toBe(1)
    const error = errorOf(run)
    expect(error).toContain('HTTP 404 Not Found')
    expect(error).toContain("Check input 'project_id': Neon knows no such project for this API key.")
    expect(error).toContain('Neon console → your project → Settings')
    expect(error).toContain('`neonctl projects list`')
    expect(run.summary).toContain('Check input &#39;project_id&#39;: Neon knows no such project')
    expect(gh.commentBodies(REPO, 32)).toEqual([])
  })

  it('a failure once the branch is known still writes the failed comment', async () => {
    // A parent that does not exist: Neon took the key and the project, then refused the branch.
    const run = await act('opened', 33, { parent_branch: 'no-such-parent' })
    expect(run.code).toBe(1)
    expect(errorOf(run)).not.toContain('Check input')
    const bodies = gh.commentBodies(REPO, 33)
    expect(bodies).toHaveLength(1)
    expect(bodies[0]).toContain('failed')
  })

  it('a role the branch lacks is created, with a notice naming the roles it has', async () => {
    const run = await act('opened', 36, { role: 'neondb_ownr' })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(
      /^::notice::Role 'neondb_ownr' does not exist on branch 'preview\/pr-36-[^']+'; creating it\. The branch's roles are 'neondb_owner': if 'role' is a typo/m,
    )
    expect(run.outputs.role).toBe('neondb_ownr')
  })

  it('mode: create on a closed pull request fails before any request, naming delete and auto', async () => {
    const before = sim.log.length
    const run = await act('closed', 34, {})
    expect(run.code).toBe(1)
    const error = errorOf(run)
    expect(error).toContain("Input 'mode' is 'create', but this is a 'pull_request closed' event")
    expect(error).toContain("Use 'mode: delete'")
    expect(error).toContain("'mode: auto'")
    expect(sim.log.length).toBe(before)
    expect(gh.commentBodies(REPO, 34)).toEqual([])
    // mode: auto on the same event deletes, as before.
    const auto = await act('closed', 34, { mode: 'auto' })
    expect(auto.code).toBe(0)
    expect(auto.outputs.deleted).toBe('false')
  })

  it("Neon's input names fail before any request, naming ours", async () => {
    const before = sim.log.length
    const github = gh.requests.length
    const run = await act('opened', 35, { username: 'app_user' })
    expect(run.code).toBe(1)
    expect(errorOf(run)).toBe("input 'username' is create-branch-action's name; this action calls it 'role'.")
    const reset = await act('synchronize', 35, { mode: 'reset', cs_role_name: 'app_user' })
    expect(errorOf(reset)).toBe(
      "input 'cs_role_name' is reset-branch-action's name; this action calls it 'role'.",
    )
    expect(sim.log.length).toBe(before)
    expect(gh.commentBodies(REPO, 35)).toEqual([])
    expect(gh.requests.length).toBe(github)
  })
})
