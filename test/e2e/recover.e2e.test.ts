// dist/index.js and deleted branches: a pull request closed and reopened gets its own branch back
// (same id, host and password), never someone else's of the same name; where Neon offers no
// recovery, a fresh branch and one notice; mode: recover by name and by id; delete and cleanup say
// until when each branch can be recovered (output, log, summary); the sweep never counts a deleted
// branch. The data kept across the close: test/e2e/real-postgres.test.ts. In-process:
// test/modes/recover.test.ts and test/modes/undo.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const REPO = 'octo-org/octo-repo'
const NAME = 'preview/pr-21-feature/undo'
const WORKFLOW_REF = `${REPO}/.github/workflows/preview.yml@refs/pull/21/merge`
const LIST = 'GET /projects/{project_id}/branches'
const RECOVER = 'POST /projects/{project_id}/branches/{branch_id}/recover'
let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 20, start_compute: 30, delete_timeline: 20, suspend_compute: 5 },
  })
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})
let projects = 0
beforeEach(() => {
  projectId = sim.createProject({ id: `undo-lake-${String(++projects).padStart(8, '0')}` }).id
})

function pr(
  action: string,
  inputs: Record<string, string> = {},
  o: { project?: string; number?: number } = {},
): Promise<ActionRun> {
  const number = o.number ?? 21
  return runAction({
    eventName: 'pull_request',
    payload: {
      action,
      number,
      pull_request: {
        number,
        head: { ref: 'feature/undo', sha: 'd'.repeat(40), repo: { full_name: REPO } },
        base: { ref: 'main', repo: { full_name: REPO } },
      },
    },
    repository: REPO,
    githubApiUrl: gh.url,
    env: { GITHUB_WORKFLOW_REF: WORKFLOW_REF },
    inputs: {
      mode: action === 'closed' ? 'delete' : 'create',
      api_key: sim.apiKey,
      project_id: o.project ?? projectId,
      api_host: sim.apiUrl,
      github_token: 'ghs_undotoken1234',
      ...inputs,
    },
  })
}

function dispatch(inputs: Record<string, string>, project = projectId): Promise<ActionRun> {
  return runAction({
    eventName: 'workflow_dispatch',
    payload: { inputs },
    repository: REPO,
    githubApiUrl: gh.url,
    env: { GITHUB_WORKFLOW_REF: `${REPO}/.github/workflows/neon-manual.yml@refs/heads/main` },
    inputs: { api_key: sim.apiKey, project_id: project, api_host: sim.apiUrl, comment: 'false', ...inputs },
  })
}

/** Requests by route and status for one project from log[from], operation polls left out. */
function routes(project: string, from: number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const l of sim.log.slice(from)) {
    if (!l.path.includes(`/projects/${project}/`)) continue
    if (l.route?.includes('/operations')) continue
    const k = `${l.route} ${l.status}`
    out[k] = (out[k] ?? 0) + 1
  }
  return out
}
const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0)
const notices = (run: ActionRun) => run.stdout.split('\n').filter((l) => l.startsWith('::notice::'))
const errorLine = (run: ActionRun) => run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? ''
const comment = (n = 21) => gh.commentBodies(REPO, n).at(-1) ?? ''
const same = (r: ActionRun) => ({
  id: r.outputs.branch_id,
  host: r.outputs.db_host,
  password: r.outputs.password,
  url: r.outputs.db_url,
})

describe('dist/index.js: a pull request closed and reopened gets its branch back', () => {
  it('same branch id, host and password; recovered=true; the delete said until when; the requests', async () => {
    const opened = await pr('opened')
    expect(opened.code).toBe(0)
    expect(opened.outputs.created).toBe('true')
    expect(opened.outputs.recovered).toBe('false')

    const closed = await pr('closed')
    expect(closed.code).toBe(0)
    expect(closed.outputs.deleted).toBe('true')
    const until = JSON.parse(closed.outputs.recoverable_until!) as Record<string, string>
    expect(Object.keys(until)).toEqual([NAME])
    const deletedAt = Date.parse(
      sim.state.branches[opened.outputs.branch_id!]!.updated_at, // the delete's time
    )
    expect(Date.parse(until[NAME]!) - deletedAt).toBe(7 * 86_400_000)
    expect(closed.stdout).toContain(
      `Branch '${NAME}' (${opened.outputs.branch_id}) can be recovered until ${until[NAME]}`,
    )
    expect(closed.summary).toContain('<h4>Undo a delete</h4>')
    expect(closed.summary).toContain(
      `gh workflow run preview.yml --repo octo-org/octo-repo -f mode=recover -f branch&#95;name=${opened.outputs.branch_id}`,
    )
    expect(comment()).toContain(
      `| Recoverable | until \`${until[NAME]}\`: reopen this pull request to get it back`,
    )

    const from = sim.log.length
    const reopened = await pr('reopened')
    expect(reopened.code).toBe(0)
    expect(reopened.outputs.recovered).toBe('true')
    expect(reopened.outputs.created).toBe('false')
    expect(same(reopened)).toEqual(same(opened))
    expect(reopened.outputs.expires_at).toMatch(/Z$/)
    expect(sim.state.branches[opened.outputs.branch_id!]!.expires_at).toBe(reopened.outputs.expires_at)
    expect(reopened.summary).toMatch(
      /recovered the branch deleted at \d{4}-\d\d-\d\dT[\d:]+Z; its data and URL are as they were/,
    )
    expect(comment()).toMatch(
      /♻️ recovered and ready[\s\S]*recovered the branch deleted at `[\dT:Z-]+`; its data and URL are as they were/,
    )
    expect(notices(reopened)).toEqual([])
    expect(secretLeaks(reopened, [reopened.outputs.password!, reopened.outputs.db_url!])).toEqual([])
    const recovers = routes(projectId, from)

    // The same reopen on a project that offers no recovery: it creates.
    const plain = sim.createProject({ id: 'undo-plain-00000001', branchRecovery: false }).id
    await pr('opened', {}, { project: plain })
    await pr('closed', {}, { project: plain })
    const from2 = sim.log.length
    const fresh = await pr('reopened', {}, { project: plain })
    expect(fresh.outputs.created).toBe('true')
    const creates = routes(plain, from2)

    expect(recovers).toEqual({
      [`${LIST} 200`]: 1,
      [`${RECOVER} 200`]: 1,
      'GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password 200': 1,
      'GET /projects/{project_id}/branches/{branch_id}/databases 200': 1,
      'PATCH /projects/{project_id}/branches/{branch_id} 200': 1,
    })
    expect(creates).toEqual({
      [`${LIST} 200`]: 1,
      'POST /projects/{project_id}/branches 201': 1,
    })
    // All of them, as the action counts them (its summary), operation reads included.
    const counted = (r: ActionRun) => Number(/<td>Neon API requests<\/td><td>(\d+) /.exec(r.summary)?.[1])
    const reads = (p: string, f: number) => {
      const ops = sim.log.slice(f).filter((l) => l.path.includes(`/projects/${p}/operations`))
      return {
        history: ops.filter((l) => !/operations\/[^/]+$/.test(l.path)).length,
        polls: ops.filter((l) => /operations\/[^/]+$/.test(l.path)).length,
      }
    }
    expect(counted(reopened)).toBe(total(recovers))
    expect(reads(projectId, from)).toEqual({ history: 0, polls: 0 })
    expect(counted(fresh)).toBe(total(creates) + reads(plain, from2).history + reads(plain, from2).polls)
    console.log(
      `dist/index.js on reopened: a reopen that recovers makes ${counted(reopened)} Neon requests ` +
        `${JSON.stringify(recovers)}; one that creates makes ${counted(fresh)}: ${JSON.stringify(creates)} ` +
        `and ${JSON.stringify(reads(plain, from2))} operation reads`,
    )
  })

  it('a recoverable branch of the same name from another repository or pull request is not taken', async () => {
    for (const annotations of [
      { 'github-repo': 'someone/else', 'github-pr-number': '21' },
      { 'github-repo': REPO, 'github-pr-number': '99' },
    ]) {
      const theirs = sim.addBranch(projectId, { name: NAME, annotations })
      sim.world.softDelete(theirs, sim.clock.now(), 'user')
    }
    const from = sim.log.length
    const run = await pr('reopened')
    expect(run.code).toBe(0)
    expect(run.outputs.created).toBe('true')
    expect(run.outputs.recovered).toBe('false')
    expect(sim.log.slice(from).filter((l) => l.route === RECOVER)).toEqual([])
    expect(run.stdout).toContain('is annotated for repository someone/else')
    expect(run.stdout).toContain('belongs to pull request #99')
    expect(notices(run)).toHaveLength(1)
    expect(
      Object.values(sim.state.branches).filter(
        (b) => b.project_id === projectId && b.name === NAME && b.deleted,
      ),
    ).toHaveLength(2)
  })

  it('no recovery offered: a fresh branch and exactly one notice, never a failure', async () => {
    const plain = sim.createProject({ id: 'undo-plain-00000002', branchRecovery: { refuseWith: 403 } }).id
    const opened = await pr('opened', {}, { project: plain })
    const closed = await pr('closed', {}, { project: plain })
    expect(JSON.parse(closed.outputs.recoverable_until!)).toEqual({ [NAME]: null })
    expect(closed.stdout).toContain('can be recovered for up to 7 days, where Neon offers recovery')
    expect(closed.summary).toContain('for up to 7 days, where Neon offers recovery')
    const run = await pr('reopened', {}, { project: plain })
    expect(run.code).toBe(0)
    expect(run.outputs.created).toBe('true')
    expect(run.outputs.branch_id).not.toBe(opened.outputs.branch_id)
    expect(notices(run)).toEqual([
      expect.stringMatching(
        /^::notice::Branch 'preview\/pr-21-feature\/undo' is not there, and Neon lists no deleted branch/,
      ),
    ])
  })
})

describe('dist/index.js: mode recover (workflow_dispatch)', () => {
  it('by name and by id: the deleted branch back, with its host and password, handed out like create', async () => {
    const made = await dispatch({ mode: 'create', branch_name: 'dev/undo-me' })
    const del = await dispatch({ mode: 'delete', branch_name: 'dev/undo-me' })
    expect(del.summary).toContain(
      `gh workflow run neon-manual.yml --repo octo-org/octo-repo -f mode=recover -f branch&#95;name=${made.outputs.branch_id}`,
    )
    const byName = await dispatch({ mode: 'recover', branch_name: 'dev/undo-me' })
    expect(byName.code).toBe(0)
    expect(byName.outputs.recovered).toBe('true')
    expect(same(byName)).toEqual(same(made))
    expect(byName.outputs.expires_at).toMatch(/Z$/)
    expect(byName.summary).toContain('recovered the branch deleted at')
    expect(secretLeaks(byName, [byName.outputs.password!, byName.outputs.db_url!])).toEqual([])

    await dispatch({ mode: 'delete', branch_name: made.outputs.branch_id! })
    const byId = await dispatch({ mode: 'recover', branch_name: made.outputs.branch_id! })
    expect(byId.code).toBe(0)
    expect(byId.outputs.recovered).toBe('true')
    expect(same(byId)).toEqual(same(made))
  })

  it('nothing recoverable by that name fails listing the closest recoverable names; branch_name is required', async () => {
    for (const name of ['dev/alpha', 'dev/alpine', 'qa/zeta']) {
      const b = sim.addBranch(projectId, { name, annotations: { 'github-repo': REPO } })
      sim.world.softDelete(b, sim.clock.now(), 'user')
    }
    const run = await dispatch({ mode: 'recover', branch_name: 'dev/alpah' })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toMatch(
      /^::error::recover of branch 'dev\/alpah' failed: no deleted branch named 'dev\/alpah' can be recovered in project undo-lake-\d+\. The recoverable branches with the closest names \(3 of 3\): 'dev\/alpha' \(br-/,
    )
    expect(sim.log.filter((l) => l.route === RECOVER && l.path.includes(projectId))).toEqual([])

    const from = sim.log.length
    const missing = await dispatch({ mode: 'recover' })
    expect(missing.code).toBe(1)
    expect(errorLine(missing)).toContain("Input 'branch_name' is required on 'workflow_dispatch' events")
    expect(sim.log.length).toBe(from)
  })
})

describe('dist/index.js: cleanup says how to undo, and never counts deleted branches', () => {
  it('outputs and summary carry recoverable_until; soft-deleted branches are not judged, deleted or reported', async () => {
    const ago = (days: number) =>
      new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    gh.addPull(REPO, { number: 41, state: 'closed' })
    const stale = sim.addBranch(projectId, { name: 'preview/old', updatedAt: ago(20) })
    sim.addBranch(projectId, {
      name: 'preview/pr-41-x',
      annotations: { 'github-repo': REPO, 'github-pr-number': '41' },
    })
    // Deleted already, and stale by every rule: the sweep must not see them.
    for (const [name, annotations] of [
      ['preview/old-deleted', {}],
      ['preview/pr-41-deleted', { 'github-repo': REPO, 'github-pr-number': '41' }],
    ] as const) {
      const b = sim.addBranch(projectId, { name, updatedAt: ago(30), annotations })
      sim.world.softDelete(b, Date.now() - 86_400_000, 'user')
    }
    const from = sim.log.length
    const run = await runAction({
      eventName: 'schedule',
      payload: { schedule: '17 3 * * *' },
      repository: REPO,
      githubApiUrl: gh.url,
      env: { GITHUB_WORKFLOW_REF: `${REPO}/.github/workflows/sweep.yml@refs/heads/main` },
      inputs: {
        mode: 'cleanup',
        api_key: sim.apiKey,
        project_id: projectId,
        api_host: sim.apiUrl,
        github_token: 'ghs_sweeptoken123',
      },
    })
    expect(run.code).toBe(0)
    expect(JSON.parse(run.outputs.deleted_branches!).sort()).toEqual(['preview/old', 'preview/pr-41-x'])
    const until = JSON.parse(run.outputs.recoverable_until!) as Record<string, string>
    expect(Object.keys(until).sort()).toEqual(['preview/old', 'preview/pr-41-x'])
    for (const t of Object.values(until)) expect(t).toMatch(/^\d{4}-\d\d-\d\dT[\d:]+Z$/)
    expect(run.summary).toContain('<h4>Undo a delete</h4>')
    expect(run.summary).toContain(`-f branch&#95;name=${stale.id}`)
    expect(run.summary).not.toContain('preview/old-deleted')
    expect(run.summary).not.toContain('preview/pr-41-deleted')
    const sweepLists = sim.log.slice(from).filter((l) => l.route === LIST)
    // The sweep's listing never asks for deleted branches; the one after the deletes does.
    expect(sweepLists.map((l) => l.query['include_deleted'] ?? null)).toEqual([null, 'true'])
    expect(sim.log.slice(from).filter((l) => l.method === 'DELETE')).toHaveLength(2)
  })
})
