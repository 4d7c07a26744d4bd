import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub } from '../fake-github/server.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'

let sim: NeonSimulator
let gh: Awaited<ReturnType<typeof startFakeGitHub>>
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({ operationMs: { create_branch: 80, start_compute: 120 } })
  gh = await startFakeGitHub()
  projectId = sim.createProject({ id: 'wispy-lake-12345678' }).id
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

const prPayload = (action: string) => ({
  action,
  number: 7,
  pull_request: {
    number: 7,
    title: 'Feature: Login <script>',
    head: { ref: 'Feature/Login_Page', sha: 'b'.repeat(40), repo: { full_name: 'octo-org/octo-repo' } },
    base: { ref: 'main', repo: { full_name: 'octo-org/octo-repo' } },
  },
  repository: { full_name: 'octo-org/octo-repo' },
})

function create(extra: Record<string, string> = {}, action = 'opened'): Promise<ActionRun> {
  return runAction({
    eventName: 'pull_request',
    payload: prPayload(action),
    githubApiUrl: gh.url,
    inputs: {
      mode: 'create',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: 'ghs_faketoken0123',
      comment: 'false',
      ...extra,
    },
  })
}

/** Every secret the simulator holds for this project: passwords, and the URLs built from them. */
function allSecrets(run: ActionRun): string[] {
  const secrets = [
    sim.apiKey,
    'ghs_faketoken0123',
    run.outputs.password ?? '',
    run.outputs.db_url ?? '',
    run.outputs.db_url_pooled ?? '',
  ]
  for (const b of Object.values(sim.state.branches)) {
    if (b.project_id !== projectId) continue
    for (const role of ['neondb_owner']) {
      const pw = sim.rolePassword(projectId, b.id, role)
      if (pw) secrets.push(pw)
    }
  }
  return secrets
}

describe('dist/index.js, mode create, on a pull_request event', () => {
  let first: ActionRun

  it('creates the branch and writes every output through GITHUB_OUTPUT', async () => {
    first = await create()
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    const o = first.outputs
    // Lower-cased; `_` is allowed as it is.
    expect(o.branch_name).toBe('preview/pr-7-feature/login_page')
    expect(o.branch_id).toMatch(/^br-[a-z]+-[a-z]+-[a-z0-9]+$/)
    expect(o.created).toBe('true')
    expect(o.role).toBe('neondb_owner')
    expect(o.database).toBe('neondb')
    expect(o.endpoint_id).toMatch(/^ep-/)
    expect(o.db_host).toMatch(/^ep-[a-z0-9-]+\.c-2\.[a-z0-9-]+\.aws\.neon\.tech$/)
    expect(o.db_host_pooled).toBe(o.db_host!.replace(/^([^.]+)/, '$1-pooler'))
    const pw = sim.rolePassword(projectId, o.branch_id!, 'neondb_owner')
    expect(o.password).toBe(pw)
    expect(o.db_url).toBe(
      `postgresql://neondb_owner:${encodeURIComponent(pw!)}@${o.db_host}/neondb?sslmode=require`,
    )
    expect(o.db_url_pooled).toBe(
      `postgresql://neondb_owner:${encodeURIComponent(pw!)}@${o.db_host_pooled}/neondb?sslmode=require`,
    )
    expect(Date.parse(o.expires_at!)).toBeGreaterThan(Date.now() + 13 * 86400_000)
    expect(o.skipped).toBe('false')
    expect(sim.state.branches[o.branch_id!]?.current_state).toBe('ready')
  })

  it('masks every secret before anything else prints it, and prints it nowhere else', () => {
    expect(secretLeaks(first, allSecrets(first))).toEqual([])
    // The password is masked before the first output is written.
    const lines = first.stdout.split('\n')
    const maskAt = lines.findIndex((l) => l === `::add-mask::${first.outputs.password}`)
    expect(maskAt).toBeGreaterThanOrEqual(0)
    expect(first.summary).not.toContain(first.outputs.password)
    expect(first.summary).toContain(first.outputs.branch_id)
  })

  it('sends nothing to GitHub when comment is false', () => {
    expect(gh.requests).toEqual([])
  })

  it('adopts the same branch on the next push and refreshes its expiry', async () => {
    const again = await create({ expires_in: '20d' }, 'synchronize')
    expect(again.code).toBe(0)
    expect(again.outputs.created).toBe('false')
    expect(again.outputs.branch_id).toBe(first.outputs.branch_id)
    expect(again.outputs.db_url).toBe(first.outputs.db_url)
    expect(Date.parse(again.outputs.expires_at!)).toBeGreaterThan(Date.now() + 19 * 86400_000)
    expect(secretLeaks(again, allSecrets(again))).toEqual([])
  })

  it('fails on a bad input before any API call, naming the input', async () => {
    const before = sim.log.length
    const run = await create({ ssl: 'prefer' })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      "::error::Invalid input 'ssl': 'prefer'. Expected one of: require, verify-ca, verify-full, omit.",
    )
    expect(sim.log.length).toBe(before)
  })

  it('fails with Neon status, message and request id on a revoked key, and no stack trace', async () => {
    const run = await create({ api_key: 'revoked-key' })
    expect(run.code).toBe(1)
    const error = run.stdout.split('\n').find((l) => l.startsWith('::error::'))
    expect(error).toMatch(/HTTP 401 Unauthorized: .*request id/)
    expect(run.stdout).not.toMatch(/^\s+at .*\.js:\d+/m)
    expect(secretLeaks(run, ['revoked-key'])).toEqual([])
  })

  it('a mode that is not one of the seven fails naming the allowed ones, before any call', async () => {
    const before = sim.log.length
    const run = await create({ mode: 'sweep' })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(
      /::error::Invalid input 'mode': 'sweep'\. Expected one of: create, reset, delete, cleanup, schema-diff, recover, auto\./,
    )
    expect(sim.log.length).toBe(before)
  })
})
