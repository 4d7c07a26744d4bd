/**
 * Issue 24 through the committed dist/index.js: the `auth_url` and `data_api_url` outputs (enabled,
 * not enabled, a failed read), shown in the comment and the summary; a schema-only branch said so;
 * and a reset Neon restricts, refused before anything is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_branchservicestoken7'
const AUTH = 'GET /projects/{project_id}/branches/{branch_id}/auth'
const DATA_API = 'GET /projects/{project_id}/branches/{branch_id}/data-api/{database_name}'
let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 40, start_compute: 60, create_timeline: 40, delete_timeline: 40 },
  })
  gh = await startFakeGitHub()
  const p = sim.createProject({ id: 'services-12345678' })
  projectId = p.id
  // Neon Auth on the default branch: a branch made from it has its own (Neon's docs, "Branching
  // authentication").
  sim.enableNeonAuth(projectId, p.defaultBranchId)
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

const pr = (number: number, action: string, headRef = 'feature/auth') => ({
  action,
  number,
  pull_request: {
    number,
    title: 'Sign in',
    state: 'open',
    head: { ref: headRef, sha: 'e'.repeat(40), repo: { full_name: REPO } },
    base: { ref: 'main', repo: { full_name: REPO } },
  },
})

function step(mode: string, payload: unknown, inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    eventName: 'pull_request',
    payload,
    githubApiUrl: gh.url,
    repository: REPO,
    inputs: {
      mode,
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: TOKEN,
      ...inputs,
    },
  })
}

const BOTH = { get_auth_url: 'true', get_data_api_url: 'true' }
const comment = (number: number): string =>
  gh.commentBodies(REPO, number).find((b) => b.startsWith('<!-- neon-preview-branch: ')) ?? ''
const notices = (run: ActionRun): string[] => run.stdout.split('\n').filter((l) => l.startsWith('::notice::'))
/** The URL the simulator serves a branch's service at: the label after its endpoint id, then the rest. */
const serviceUrl = (branchId: string, label: string, path: string): string => {
  const [ep, ...rest] = sim.world.readWriteEndpoint(branchId)!.host.split('.')
  return `https://${ep}.${label}.${rest.join('.')}/${path}`
}

describe('dist/index.js: auth_url and data_api_url', () => {
  let branchId: string

  it('enabled: Neon Auth inherited by the new branch gives auth_url; the Data API not yet enabled leaves data_api_url empty, with a notice', async () => {
    const run = await step('create', pr(61, 'opened'), BOTH)
    expect(run.code, run.stdout).toBe(0)
    branchId = run.outputs.branch_id!
    expect(run.outputs.auth_url).toBe(serviceUrl(branchId, 'neonauth', 'neondb/auth'))
    expect(run.outputs.data_api_url).toBe('')
    expect(notices(run).join('\n')).toMatch(
      /::notice::The Data API is not enabled for database 'neondb' on branch 'preview\/pr-61-feature\/auth' \(br-[a-z0-9-]+\): the data_api_url output is empty\./,
    )
    expect(comment(61)).toContain(`| Neon Auth | \`${run.outputs.auth_url}\` |`)
    expect(comment(61)).toContain("| Data API | not enabled for the branch's database |")
    expect(run.summary).toContain(`<td>Neon Auth</td><td>${run.outputs.auth_url}</td>`)
    expect(secretLeaks(run, [sim.apiKey, TOKEN, run.outputs.password!, run.outputs.db_url!])).toEqual([])
  })

  it('enabled, both: the next push adopts the branch and outputs both URLs, in the comment and the summary', async () => {
    sim.enableDataApi(projectId, branchId, 'neondb')
    const before = sim.log.length
    const run = await step('create', pr(61, 'synchronize'), BOTH)
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs.created).toBe('false')
    const dataApiUrl = serviceUrl(branchId, 'apirest', 'neondb/rest/v1')
    expect(run.outputs.data_api_url).toBe(dataApiUrl)
    expect(run.outputs.auth_url).toBe(serviceUrl(branchId, 'neonauth', 'neondb/auth'))
    expect(notices(run)).toEqual([])
    expect(comment(61)).toContain(`| Data API | \`${dataApiUrl}\` |`)
    expect(run.summary).toContain(`<td>Data API</td><td>${dataApiUrl}</td>`)
    const routes = sim.log.slice(before).map((l) => l.route)
    expect(routes.filter((r) => r === AUTH)).toHaveLength(1)
    expect(routes.filter((r) => r === DATA_API)).toHaveLength(1)
  })

  it('not asked: neither read is made and neither output is set', async () => {
    const before = sim.log.length
    const run = await step('create', pr(61, 'synchronize'))
    expect(run.code).toBe(0)
    expect('auth_url' in run.outputs).toBe(false)
    expect('data_api_url' in run.outputs).toBe(false)
    expect(sim.log.slice(before).some((l) => l.route === AUTH || l.route === DATA_API)).toBe(false)
    expect(comment(61)).not.toContain('| Neon Auth |')
  })

  it('404: a branch without Neon Auth gets an empty auth_url and a notice; the step succeeds', async () => {
    // A schema-only branch copies no rows of its parent, so not its Neon Auth either.
    const run = await step('create', pr(62, 'opened', 'feature/schema'), {
      ...BOTH,
      branch_type: 'schema-only',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs.auth_url).toBe('')
    expect(run.outputs.data_api_url).toBe('')
    expect(notices(run).join('\n')).toMatch(
      /::notice::Neon Auth is not enabled on branch 'preview\/pr-62-feature\/schema' \(br-[a-z0-9-]+\): the auth_url output is empty\./,
    )
    expect(run.outputs.db_url).toMatch(/^postgresql:\/\//)
    expect(comment(62)).toContain('| Neon Auth | not enabled on this branch |')
    // init_source: schema-only, in the comment and the summary.
    expect(comment(62)).toContain("| Data | schema only: the parent's schema, none of its rows |")
    expect(run.summary).toContain(
      '<td>Data</td><td>schema only: the parent&#39;s schema, none of its rows</td>',
    )
  })

  it('500: a failed read fails the step as other reads do, naming the request, the status and the request id', async () => {
    sim.faults.add({
      route: AUTH,
      status: 500,
      times: Infinity,
      // Retried without waiting, so the test does not sit through the backoff.
      headers: { 'Retry-After': '0' },
      body: { code: '', message: 'auth service unavailable' },
    })
    const before = sim.log.length
    const run = await step('create', pr(61, 'synchronize'), BOTH)
    sim.faults.clear()
    expect(run.code).toBe(1)
    const error = run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? ''
    expect(error).toContain(`create of branch 'preview/pr-61-feature/auth' failed`)
    expect(error).toMatch(new RegExp(`GET /projects/${projectId}/branches/${branchId}/auth`))
    expect(error).toContain('HTTP 500')
    expect(error).toContain('auth service unavailable')
    expect(error).toMatch(/request id [0-9a-f-]{36}/)
    const tries = sim.log.slice(before).filter((l) => l.route === AUTH)
    expect(tries.length).toBeGreaterThan(1)
    // No URL output for a run that failed, and the comment says it failed.
    expect('db_url' in run.outputs).toBe(false)
    expect('auth_url' in run.outputs).toBe(false)
    expect(comment(61)).toContain('🔴 failed')
  })
})

describe('dist/index.js: a reset Neon restricts', () => {
  it("is refused with Neon's reason before any request that changes something", async () => {
    const created = await step('create', pr(63, 'opened', 'feature/anon'), { comment: 'false' })
    expect(created.code).toBe(0)
    const reason = 'Branch is anonymized; restoring it would bring back unmasked data'
    sim.setRestrictedActions(projectId, created.outputs.branch_id!, [{ name: 'restore', reason }])
    const before = sim.log.length
    const run = await step('reset', pr(63, 'labeled', 'feature/anon'), { comment: 'false' })
    expect(run.code).toBe(1)
    const error = run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? ''
    expect(error).toContain(
      `reset of branch 'preview/pr-63-feature/anon' failed: Neon restricts 'restore' on branch 'preview/pr-63-feature/anon' (${created.outputs.branch_id}): ${reason}; refusing to reset it. Nothing was changed.`,
    )
    expect(sim.log.slice(before).filter((l) => l.method !== 'GET')).toEqual([])
  })
})
