import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub } from '../fake-github/server.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'

let sim: NeonSimulator
let gh: Awaited<ReturnType<typeof startFakeGitHub>>
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 60, start_compute: 80, create_timeline: 60, delete_timeline: 60 },
  })
  gh = await startFakeGitHub()
  projectId = sim.createProject({ id: 'lifecycle-12345678' }).id
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

const pr = (action: string, label?: string) => ({
  action,
  number: 31,
  ...(label ? { label: { name: label } } : {}),
  pull_request: {
    number: 31,
    title: 'Reset me',
    state: action === 'closed' ? 'closed' : 'open',
    head: { ref: 'fix/reset', sha: 'd'.repeat(40), repo: { full_name: 'octo-org/octo-repo' } },
    base: { ref: 'main', repo: { full_name: 'octo-org/octo-repo' } },
  },
})

function step(
  mode: string,
  eventName: string,
  payload: unknown,
  extra: Record<string, string> = {},
): Promise<ActionRun> {
  return runAction({
    eventName,
    payload,
    githubApiUrl: gh.url,
    inputs: {
      mode,
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      comment: 'false',
      ...extra,
    },
  })
}

function leaks(run: ActionRun): string[] {
  return secretLeaks(run, [
    sim.apiKey,
    run.outputs.password ?? '',
    run.outputs.db_url ?? '',
    run.outputs.db_url_pooled ?? '',
  ])
}

describe('dist/index.js: a pull request from create through reset to delete', () => {
  let created: ActionRun

  it('creates the branch', async () => {
    created = await step('create', 'pull_request', pr('opened'))
    expect(created.code).toBe(0)
    expect(created.outputs.created).toBe('true')
  })

  it('dry-run reset changes nothing and still names the branch', async () => {
    const before = sim.snapshot()
    const run = await step('reset', 'pull_request', pr('labeled', 'reset-db'), { dry_run: 'true' })
    expect(run.code).toBe(0)
    expect(sim.snapshot()).toEqual(before)
    expect(run.outputs.branch_id).toBe(created.outputs.branch_id)
    expect(run.outputs.branch_name).toBe(created.outputs.branch_name)
    expect(run.outputs.db_url).toBeUndefined()
    expect(run.stdout).toMatch(/Dry run: would reset 'preview\/pr-31-fix\/reset'/)
  })

  it('reset on a label keeps the id, host and password, and produces the same outputs as create', async () => {
    const run = await step('reset', 'pull_request', pr('labeled', 'reset-db'))
    expect(run.code).toBe(0)
    for (const k of [
      'branch_id',
      'branch_name',
      'db_url',
      'db_url_pooled',
      'db_host',
      'db_host_pooled',
      'password',
      'role',
      'database',
      'endpoint_id',
    ]) {
      expect(run.outputs[k], k).toBe(created.outputs[k])
    }
    expect(run.outputs.created).toBe('false')
    expect(run.outputs.expires_at).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(sim.log.filter((l) => l.route?.endsWith('/restore') && l.status === 200)).toHaveLength(1)
    expect(leaks(run)).toEqual([])
  })

  it('reset from workflow_dispatch with an explicit branch_name (by id)', async () => {
    const run = await step(
      'reset',
      'workflow_dispatch',
      { inputs: {} },
      { branch_name: created.outputs.branch_id! },
    )
    expect(run.code).toBe(0)
    expect(run.outputs.branch_name).toBe(created.outputs.branch_name)
  })

  it('delete on pull_request closed deletes it, and a re-run is a success with deleted=false', async () => {
    const run = await step('delete', 'pull_request', pr('closed'))
    expect(run.code).toBe(0)
    expect(run.outputs.deleted).toBe('true')
    expect(run.outputs.branch_id).toBe(created.outputs.branch_id)
    expect(sim.state.branches[created.outputs.branch_id!]?.deleted).toBe(true)
    const again = await step('delete', 'pull_request', pr('closed'))
    expect(again.code).toBe(0)
    expect(again.outputs.deleted).toBe('false')
    expect(again.stdout).toMatch(/::notice::Branch 'preview\/pr-31-fix\/reset' does not exist/)
  })

  it('reset of a branch that is gone fails naming it', async () => {
    const run = await step('reset', 'pull_request', pr('labeled', 'reset-db'))
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(
      /::error::reset of branch 'preview\/pr-31-fix\/reset' failed: branch 'preview\/pr-31-fix\/reset' does not exist/,
    )
  })

  it('delete of the default branch exits non-zero and deletes nothing', async () => {
    const run = await step('delete', 'workflow_dispatch', {}, { branch_name: 'main' })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(
      /::error::delete of branch 'main' failed: 'main' \(br-[a-z0-9-]+\) is the project's default branch; refusing to delete it/,
    )
    expect(Object.values(sim.state.branches).find((b) => b.name === 'main')?.deleted).toBe(false)
  })
})
