/**
 * `ephemeral: true` through dist/index.js as the runner runs it: the main step with GITHUB_STATE,
 * then the post step with the STATE_* variables parsed from that file.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import {
  runAction,
  runPost,
  secretLeaks,
  startAction,
  type ActionRun,
  type RunActionOptions,
} from '../helpers/run-action.js'
import { waitFor } from '../helpers/wait-for.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_faketoken0123'
let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 60, start_compute: 80, delete_timeline: 40 },
  })
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})
beforeEach(() => {
  sim.reset()
  gh.requests.length = 0
  projectId = sim.createProject({ id: 'misty-field-12345678' }).id
})

const prPayload = {
  action: 'synchronize',
  number: 7,
  pull_request: {
    number: 7,
    head: { ref: 'feature/x', sha: 'b'.repeat(40), repo: { full_name: REPO } },
    base: { ref: 'main', repo: { full_name: REPO } },
  },
}

function job(inputs: Record<string, string> = {}, env: Record<string, string> = {}): RunActionOptions {
  return {
    eventName: 'pull_request',
    payload: prPayload,
    githubApiUrl: gh.url,
    env,
    inputs: {
      mode: 'create',
      ephemeral: 'true',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: TOKEN,
      ...inputs,
    },
  }
}

const live = () => Object.values(sim.state.branches).filter((b) => b.project_id === projectId && !b.deleted)
const liveNames = () => live().map((b) => b.name)
const mutations = (from: number) => sim.log.slice(from).filter((l) => l.method !== 'GET')
const unsettled = () =>
  Object.values(sim.state.operations).filter(
    (o) => !['finished', 'skipped', 'failed', 'cancelled'].includes(sim.operationStatus(o.id) ?? ''),
  )

function secretsOf(run: ActionRun): string[] {
  const s = [
    sim.apiKey,
    TOKEN,
    run.outputs.password ?? '',
    run.outputs.db_url ?? '',
    run.outputs.db_url_pooled ?? '',
  ]
  for (const b of Object.values(sim.state.branches)) {
    const pw = sim.rolePassword(projectId, b.id, 'neondb_owner')
    if (pw) s.push(pw)
  }
  return s
}

/** A secret must never be printed; only main handles passwords, so post is checked for the key alone. */
function expectNoLeak(main: ActionRun, post: ActionRun): void {
  expect(secretLeaks(main, secretsOf(main))).toEqual([])
  expect(secretLeaks(post, [sim.apiKey, TOKEN])).toEqual([])
  const printed = post.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'))
  for (const secret of secretsOf(main).filter(Boolean)) {
    expect(printed.filter((l) => l.includes(secret))).toEqual([])
    expect(post.summary).not.toContain(secret)
    expect(main.summary).not.toContain(secret)
  }
}

describe('a passing job', () => {
  it('main creates and outputs as create does, post deletes it and waits until it is gone', async () => {
    const mainStart = sim.log.length
    const main = await runAction(job({ branch_name: 'ci/run-4242-1-shard-1' }))
    expect(main.stderr).toBe('')
    expect(main.code).toBe(0)
    const o = main.outputs
    expect(o.branch_name).toBe('ci/run-4242-1-shard-1')
    expect(o.created).toBe('true')
    expect(o.db_url).toMatch(/^postgresql:\/\/neondb_owner:.+@ep-.+\/neondb\?sslmode=require$/)
    expect(Object.keys(o).sort()).toEqual(
      [
        'anonymized',
        'branch_id',
        'branch_name',
        'compute_units',
        'created',
        'database',
        'db_host',
        'db_host_pooled',
        'db_url',
        'db_url_pooled',
        'endpoint_id',
        'expires_at',
        'parent_lsn',
        'parent_timestamp',
        'password',
        'recovered',
        'role',
        'skipped',
        'usage',
      ].sort(),
    )
    // The safety net: a 2-hour expiry, and the run's annotations.
    const ttl = Date.parse(o.expires_at!) - Date.now()
    expect(ttl).toBeGreaterThan(2 * 3600_000 - 120_000)
    expect(ttl).toBeLessThanOrEqual(2 * 3600_000)
    const a = sim.state.annotations[o.branch_id!]
    expect(a).toMatchObject({
      'github-ephemeral': 'true',
      'github-run-id': '4242',
      'github-run-attempt': '1',
      'github-job': 'test',
      'github-repo': REPO,
    })
    expect(a?.['github-pr-number']).toBeUndefined()
    expect(main.summary).toContain('the post step deletes it when the job ends')
    // No comment on the pull request without an explicit comment: true.
    expect(gh.requests).toEqual([])
    // What main left for the post step.
    expect(main.state.isPost).toBe('true')
    const record = JSON.parse(main.state.ephemeral_branch!) as Record<string, unknown>
    expect(record).toMatchObject({ projectId, name: o.branch_name, branchId: o.branch_id, operationIds: [] })
    expect(JSON.stringify(main.state)).not.toContain(sim.apiKey)

    const postStart = sim.log.length
    const post = await runPost(main)
    expect(post.stderr).toBe('')
    expect(post.code).toBe(0)
    expect(sim.state.branches[o.branch_id!]?.deleted).toBe(true)
    expect(liveNames()).toEqual(['main'])
    expect(unsettled()).toEqual([])
    expect(post.stdout).toContain(
      `Ephemeral Neon branch 'ci/run-4242-1-shard-1' (${o.branch_id}) deleted by the post step`,
    )
    expect(post.summary).toContain('deleted by the post step')
    // Post sets no outputs and saves no state of its own.
    expect(post.outputs).toEqual({})
    expect(post.state).toEqual({})
    // Post: the read of the branch (is it this job's? issue 22), the delete, one read of the
    // project's recent operations (when the delete should end), polls of its operation, and last
    // one listing of the deleted branch (until when it can be recovered); nothing else.
    const postRoutes = sim.log.slice(postStart).map((l) => l.route)
    expect(postRoutes.slice(0, 2)).toEqual([
      'GET /projects/{project_id}/branches/{branch_id}',
      'DELETE /projects/{project_id}/branches/{branch_id}',
    ])
    expect(postRoutes.filter((r) => r === 'GET /projects/{project_id}/operations')).toHaveLength(1)
    expect(postRoutes.at(-1)).toBe('GET /projects/{project_id}/branches')
    expect(sim.log.at(-1)?.query).toEqual({ search: o.branch_name, limit: '100', include_deleted: 'true' })
    expect(post.stdout).toMatch(/; it can be recovered until \d{4}-\d\d-\d\dT[\d:]+Z\./)
    expect(post.summary).toContain('<h4>Undo a delete</h4>')
    expect(
      postRoutes
        .slice(2, -1)
        .every(
          (r) =>
            r === 'GET /projects/{project_id}/operations/{operation_id}' ||
            r === 'GET /projects/{project_id}/operations',
        ),
    ).toBe(true)
    expect(mutations(mainStart).map((l) => l.route)).toEqual([
      'POST /projects/{project_id}/branches',
      'DELETE /projects/{project_id}/branches/{branch_id}',
    ])
    expectNoLeak(main, post)
  })

  it('names the branch ci/run-<run id>-<attempt>-<job> by default', async () => {
    const main = await runAction(
      job({}, { GITHUB_RUN_ID: '987654', GITHUB_RUN_ATTEMPT: '2', GITHUB_JOB: 'Unit Tests' }),
    )
    expect(main.code).toBe(0)
    expect(main.outputs.branch_name).toBe('ci/run-987654-2-unit-tests')
    const post = await runPost(main)
    expect(post.code).toBe(0)
    expect(liveNames()).toEqual(['main'])
  })

  it('writes the pull request comment when comment: true is given', async () => {
    const main = await runAction(job({ branch_name: 'ci/with-comment', comment: 'true' }))
    expect(main.code).toBe(0)
    expect(gh.commentBodies(REPO, 7).length).toBe(1)
    expect((await runPost(main)).code).toBe(0)
  })

  it('a branch already gone when the post step runs is a success', async () => {
    const main = await runAction(job({ branch_name: 'ci/gone-early' }))
    expect(main.code).toBe(0)
    const gone = await runAction(job({ mode: 'delete', ephemeral: 'false', branch_name: 'ci/gone-early' }))
    expect(gone.outputs.deleted).toBe('true')
    const post = await runPost(main)
    expect(post.code).toBe(0)
    expect(post.stdout).toContain('not deleted by the post step: it was already gone')
    expect(post.stdout).not.toContain('::error::')
  })
})

describe('a failing job', () => {
  it('main fails after creating the branch, and post still deletes it', async () => {
    sim.failNextOperation({ action: 'start_compute' }, 'compute failed to start')
    const main = await runAction(job({ branch_name: 'ci/failing' }))
    expect(main.code).toBe(1)
    expect(main.stdout).toMatch(/::error::create of branch 'ci\/failing' failed: .*compute failed to start/)
    expect(main.stdout).toContain('The post step deletes the branch when the job ends.')
    const id = (JSON.parse(main.state.ephemeral_branch!) as { branchId: string }).branchId
    expect(sim.state.branches[id]?.deleted).toBe(false)
    const post = await runPost(main)
    expect(post.code).toBe(0)
    expect(sim.state.branches[id]?.deleted).toBe(true)
    expect(liveNames()).toEqual(['main'])
  })

  it('a failing post names the branch, the Neon status and the request id, and fails the step', async () => {
    const main = await runAction(job({ branch_name: 'ci/post-fails' }))
    expect(main.code).toBe(0)
    sim.faults.add({ method: 'DELETE', status: 403 })
    const post = await runPost(main)
    expect(post.code).toBe(1)
    const error = post.stdout.split('\n').find((l) => l.startsWith('::error::'))
    expect(error).toMatch(
      /post step: deleting ephemeral branch 'ci\/post-fails' \(br-[^)]+\) failed: DELETE .*HTTP 403 Forbidden.*request id/,
    )
    expect(error).toContain("mode: cleanup' deletes it once this workflow run has completed")
    expect(secretLeaks(post, [sim.apiKey])).toEqual([])
  })
})

describe('cancellation', () => {
  it('SIGINT while main polls: main stops and exits, post waits for the operations and deletes the branch', async () => {
    // Operations long enough that main is certainly still waiting when the signal comes; the test
    // waits on the request log, never on a fixed sleep.
    const shared = sim
    sim = await startNeonSimulator({
      operationMs: { create_branch: 2500, start_compute: 2500, delete_timeline: 40 },
    })
    projectId = sim.createProject({ id: 'misty-field-12345678' }).id
    try {
      await cancelMidPoll()
    } finally {
      await sim.close()
      sim = shared
    }
  })

  async function cancelMidPoll(): Promise<void> {
    const started = startAction(job({ branch_name: 'ci/cancelled' }))
    await waitFor(
      () => sim.log.some((l) => l.route === 'GET /projects/{project_id}/operations/{operation_id}'),
      'main to poll an operation',
    )
    const branch = live().find((b) => b.name === 'ci/cancelled')!
    expect(unsettled().length).toBeGreaterThan(0)
    started.child.kill('SIGINT')
    const main = await started.result
    expect(main.code).toBe(1)
    expect(main.stdout).toContain('::warning::SIGINT: the job is being cancelled.')
    expect(main.stdout).toMatch(
      /::error::create of branch 'ci\/cancelled' failed: the step was cancelled \(SIGINT\)/,
    )
    // It stopped: nothing was set, and its operations are still running as it leaves.
    expect(main.outputs.db_url).toBeUndefined()
    const record = JSON.parse(main.state.ephemeral_branch!) as { branchId: string; operationIds: string[] }
    expect(record.branchId).toBe(branch.id)
    expect(record.operationIds.length).toBe(2)
    const logAtExit = sim.log.length

    const post = await runPost(main)
    expect(post.code).toBe(0)
    expect(post.stdout).toMatch(/deleted by the post step \(\d+ operations waited for/)
    expect(sim.state.branches[branch.id]?.deleted).toBe(true)
    expect(liveNames()).toEqual(['main'])
    expect(unsettled()).toEqual([])
    // The delete came after main's operations had finished, so Neon never had to refuse it.
    const del = sim.log.slice(logAtExit).find((l) => l.method === 'DELETE')!
    expect(del.status).toBe(200)
    for (const id of record.operationIds) {
      expect(sim.world.operations.get(id)!.endAt).toBeLessThanOrEqual(del.at)
    }
    expect(secretLeaks(post, [sim.apiKey])).toEqual([])
  }

  it('a post step whose main stopped with the create in flight deletes only a branch carrying its key', async () => {
    // As if main had been killed between saving "creating" and Neon's answer.
    const main = await runAction(job({ branch_name: 'ci/in-flight' }))
    expect(main.code).toBe(0)
    const record = JSON.parse(main.state.ephemeral_branch!) as Record<string, unknown>
    const pending = JSON.stringify({ ...record, branchId: undefined, operationIds: undefined })
    const stranger = await runPost(main, {
      STATE_ephemeral_branch: JSON.stringify({
        ...JSON.parse(pending),
        key: '00000000-0000-4000-8000-000000000000',
      }),
    })
    expect(stranger.code).toBe(0)
    expect(stranger.stdout).toContain("this job's main step did not create it")
    expect(liveNames()).toContain('ci/in-flight')
    const post = await runPost(main, { STATE_ephemeral_branch: pending })
    expect(post.code).toBe(0)
    expect(liveNames()).toEqual(['main'])
  })
})

describe('what the post step never deletes', () => {
  it('a branch the step adopted (ephemeral off) survives the post step', async () => {
    sim.addBranch(projectId, { name: 'ci/shared' })
    const main = await runAction(job({ branch_name: 'ci/shared', ephemeral: 'false', comment: 'false' }))
    expect(main.code).toBe(0)
    expect(main.outputs.created).toBe('false')
    expect(main.state).toEqual({ isPost: 'true' })
    const before = sim.log.length
    const post = await runPost(main)
    expect(post.code).toBe(0)
    expect(post.stdout).toContain('::debug::Post step: the main step recorded no ephemeral branch')
    expect(sim.log.length).toBe(before)
    expect(liveNames()).toContain('ci/shared')
  })

  it('a name collision fails before any change, shows the naming pattern, and the branch survives post', async () => {
    sim.addBranch(projectId, { name: 'ci/run-4242-1-test' })
    const before = sim.log.length
    const main = await runAction(job())
    expect(main.code).toBe(1)
    const error = main.stdout.split('\n').find((l) => l.startsWith('::error::'))!
    expect(error).toContain("branch 'ci/run-4242-1-test' (br-")
    expect(error).toContain('two jobs would share one database')
    expect(error).toContain(
      'branch_name: ci/run-${{ github.run_id }}-${{ github.run_attempt }}-${{ matrix.shard }}',
    )
    // The create goes first (an ephemeral name is the run's own) and is refused: nothing changed.
    expect(mutations(before).map((l) => `${l.route} ${l.status}`)).toEqual([
      'POST /projects/{project_id}/branches 409',
    ])
    // Recorded as being created, then, on the refusal, as nothing for the post step to delete.
    expect(main.state).toEqual({ isPost: 'true', ephemeral_branch: '' })
    const post = await runPost(main)
    expect(post.code).toBe(0)
    expect(liveNames()).toContain('ci/run-4242-1-test')
  })

  it('two matrix legs with distinct names: each post deletes its own branch only', async () => {
    const [leg1, leg2] = await Promise.all(
      [1, 2].map((shard) => runAction(job({ branch_name: `ci/run-4242-1-${shard}` }))),
    )
    expect([leg1!.code, leg2!.code]).toEqual([0, 0])
    expect(liveNames().sort()).toEqual(['ci/run-4242-1-1', 'ci/run-4242-1-2', 'main'])
    expect((await runPost(leg1!)).code).toBe(0)
    expect(liveNames().sort()).toEqual(['ci/run-4242-1-2', 'main'])
    expect((await runPost(leg2!)).code).toBe(0)
    expect(liveNames()).toEqual(['main'])
  })

  it('two matrix legs on the default name: the second is refused, and only the first is deleted', async () => {
    const leg1 = await runAction(job())
    const leg2 = await runAction(job())
    expect(leg1.code).toBe(0)
    expect(leg2.code).toBe(1)
    expect(leg2.stdout).toContain('is the same for every leg of a matrix')
    expect((await runPost(leg2)).code).toBe(0)
    expect(liveNames().sort()).toEqual(['ci/run-4242-1-test', 'main'])
    expect((await runPost(leg1)).code).toBe(0)
    expect(liveNames()).toEqual(['main'])
  })

  it('post with no state at all (main failed on its inputs) does nothing, quietly', async () => {
    const before = sim.log.length
    const main = await runAction(job({ mode: 'reset' }))
    expect(main.code).toBe(1)
    expect(main.stdout).toContain(
      "::error::Input 'ephemeral' is true, which is allowed only with 'mode: create'",
    )
    expect(sim.log.length).toBe(before)
    const post = await runPost(main)
    expect(post.code).toBe(0)
    expect(post.stdout).toContain('::debug::Post step: the main step recorded no ephemeral branch')
    expect(post.stdout).not.toContain('::error::')
    expect(post.summary).toBe('')
    expect(sim.log.length).toBe(before)
  })
})

describe('cleanup of ephemeral branches', () => {
  it('deletes those whose run has completed or is unknown, keeps running ones and failed look-ups, whatever the prefix', async () => {
    const eph = (runId: string, repo = REPO) => ({
      'github-ephemeral': 'true',
      'github-run-id': runId,
      'github-run-attempt': '1',
      'github-job': 'test',
      'github-repo': repo,
    })
    gh.addRun(REPO, { id: 100, status: 'completed', conclusion: 'failure' })
    gh.addRun(REPO, { id: 101, status: 'in_progress' })
    gh.addRun(REPO, { id: 103, status: 'queued' })
    gh.addRun(REPO, { id: 104 })
    gh.faults.push({
      method: 'GET',
      path: /\/actions\/runs\/104$/,
      status: 403,
      times: 5,
      message: 'Resource not accessible',
    })
    sim.addBranch(projectId, { name: 'ci/run-100-1-test', annotations: eph('100') })
    sim.addBranch(projectId, { name: 'ci/run-101-1-test', annotations: eph('101') })
    sim.addBranch(projectId, { name: 'db-for-run-102', annotations: eph('102') }) // unknown run
    sim.addBranch(projectId, { name: 'ci/run-103-1-test', annotations: eph('103') })
    sim.addBranch(projectId, { name: 'ci/run-104-1-test', annotations: eph('104') })
    sim.addBranch(projectId, { name: 'ci/other-repo', annotations: eph('100', 'someone/else') })
    sim.addBranch(projectId, { name: 'ci/not-ephemeral', annotations: { 'github-repo': REPO } })
    const sweep = await runAction({
      ...job({ mode: 'cleanup', ephemeral: 'false' }),
      eventName: 'schedule',
      payload: {},
    })
    expect(sweep.code).toBe(0)
    expect((JSON.parse(sweep.outputs.deleted_branches!) as string[]).sort()).toEqual([
      'ci/run-100-1-test',
      'db-for-run-102',
    ])
    expect(liveNames().sort()).toEqual([
      'ci/not-ephemeral',
      'ci/other-repo',
      'ci/run-101-1-test',
      'ci/run-103-1-test',
      'ci/run-104-1-test',
      'main',
    ])
    expect(sweep.stdout).toMatch(/::warning::Keeping 'ci\/run-104-1-test': .*HTTP 403/)
    expect(sweep.summary).toContain('the run is still in progress, kept')
    expect(sweep.summary).toContain('GitHub does not know the run (counted as completed)')
    const runLookups = gh.requests.filter((r) => r.path.includes('/actions/runs/')).map((r) => r.path)
    expect(runLookups.some((p) => p.endsWith('/100'))).toBe(true)
    expect(runLookups.every((p) => p.startsWith(`/repos/${REPO}/actions/runs/`))).toBe(true)
  })
})
