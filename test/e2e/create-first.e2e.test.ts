// dist/index.js creating first on a pull request `opened`/`reopened` and with `ephemeral` (a 409
// then means adoption): the requests it saves and costs, and the guarantees of the look-up it
// skips. The same cases run in-process on the virtual clock in test/modes/create-first.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { LOCKED_MESSAGE, startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { runAction, runPost, secretLeaks, type ActionRun } from '../helpers/run-action.js'

const REPO = 'octo-org/octo-repo'
const NAME = 'preview/pr-9-feature/first'
const POST = 'POST /projects/{project_id}/branches'
const LIST = 'GET /projects/{project_id}/branches'
let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 20, start_compute: 30, delete_timeline: 20 },
  })
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})
let projects = 0
beforeEach(() => {
  projectId = sim.createProject({ id: `first-lake-${String(++projects).padStart(8, '0')}` }).id
})

function act(
  action: string,
  inputs: Record<string, string> = {},
  o: { simulator?: NeonSimulator; project?: string } = {},
): Promise<ActionRun> {
  const s = o.simulator ?? sim
  return runAction({
    eventName: 'pull_request',
    payload: {
      action,
      number: 9,
      pull_request: {
        number: 9,
        head: { ref: 'feature/first', sha: 'c'.repeat(40), repo: { full_name: REPO } },
        base: { ref: 'main', repo: { full_name: REPO } },
      },
    },
    repository: REPO,
    githubApiUrl: gh.url,
    inputs: {
      mode: 'create',
      api_key: s.apiKey,
      project_id: o.project ?? projectId,
      api_host: s.apiUrl,
      comment: 'false',
      ...inputs,
    },
  })
}

/** Requests by route and status for one project from log[from], operation polls left out. */
function routes(project: string, from: number, s = sim): Record<string, number> {
  const out: Record<string, number> = {}
  for (const l of s.log.slice(from)) {
    if (!l.path.includes(`/projects/${project}/`) && !l.path.endsWith(`/projects/${project}`)) continue
    if (l.route?.includes('/operations/')) continue
    const k = `${l.route} ${l.status}`
    out[k] = (out[k] ?? 0) + 1
  }
  return out
}
const posts = (project: string, from = 0, s = sim) =>
  s.log.slice(from).filter((l) => l.route === POST && l.path.includes(`/projects/${project}/`))
const live = (project: string, s = sim) =>
  Object.values(s.state.branches).filter((b) => b.project_id === project && !b.deleted)
const errorLine = (run: ActionRun) => run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? ''
const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0)

describe('dist/index.js creates first: the requests', () => {
  it('new branch on opened: one fewer; existing on synchronize: unchanged; existing on opened: one more', async () => {
    const other = sim.createProject({ id: 'first-lake-other000' }).id
    let from = sim.log.length
    expect((await act('synchronize', {}, { project: other })).code).toBe(0)
    const newOnPush = routes(other, from)

    from = sim.log.length
    const opened = await act('opened')
    expect(opened.code).toBe(0)
    expect(opened.outputs.created).toBe('true')
    const newOnOpened = routes(projectId, from)
    // The create is the first request the action sends to Neon.
    expect(sim.log.slice(from).find((l) => l.path.includes(projectId))!.route).toBe(POST)
    expect(newOnPush).toEqual({ ...newOnOpened, [`${LIST} 200`]: 1 })

    from = sim.log.length
    const push = await act('synchronize')
    expect(push.outputs.created).toBe('false')
    const existingOnPush = routes(projectId, from)
    expect(existingOnPush[`${LIST} 200`]).toBe(1)
    expect(posts(projectId, from)).toEqual([])

    from = sim.log.length
    const rerun = await act('opened')
    expect(rerun.code).toBe(0)
    expect(rerun.outputs.created).toBe('false')
    expect(rerun.outputs.branch_id).toBe(opened.outputs.branch_id)
    const existingOnOpened = routes(projectId, from)
    expect(existingOnOpened).toEqual({ ...existingOnPush, [`${POST} 409`]: 1 })

    console.log(
      `dist/index.js requests (operation polls left out): new branch, look-up first ${total(newOnPush)}, ` +
        `on opened ${total(newOnOpened)}; existing branch on synchronize ${total(existingOnPush)}, ` +
        `on opened ${total(existingOnOpened)}`,
    )
  })
})

describe('dist/index.js creates first: the guarantees', () => {
  it('a parent_branch that does not exist fails naming it, with no create sent', async () => {
    const run = await act('opened', { parent_branch: 'no-such' })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain(`parent_branch 'no-such' does not exist in project ${projectId}`)
    expect(posts(projectId)).toEqual([])
    expect(live(projectId).map((b) => b.name)).toEqual(['main'])
  })

  it('a point outside the history window fails naming the input, with no create sent', async () => {
    const past = new Date(Date.now() - 3 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    const run = await act('reopened', { parent_branch: `main@${past}` })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain("Invalid input 'parent_branch'")
    expect(errorLine(run)).toContain('outside the history Neon can branch from')
    expect(posts(projectId)).toEqual([])
  })

  it('the default and a protected branch are refused after the 409, and nothing is created', async () => {
    sim.addBranch(projectId, { name: 'prod-copy', protected: true })
    const main = await act('opened', { branch_name: 'main' })
    expect(main.code).toBe(1)
    expect(errorLine(main)).toMatch(/'main' \(br-[a-z0-9-]+\) is the project's default branch; refusing/)
    const prot = await act('opened', { branch_name: 'prod-copy' })
    expect(prot.code).toBe(1)
    expect(errorLine(prot)).toMatch(/'prod-copy' \(br-[a-z0-9-]+\) is a protected branch; refusing/)
    expect(posts(projectId).map((l) => l.status)).toEqual([409, 409])
    expect(live(projectId)).toHaveLength(2)
  })

  it('a dry run on opened looks up and sends no create', async () => {
    const run = await act('opened', { dry_run: 'true' })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/Dry run: would create branch 'preview\/pr-9-feature\/first'/)
    expect(sim.log.filter((l) => l.path.includes(projectId) && l.method !== 'GET')).toEqual([])
  })
})

describe('dist/index.js creates first at the branch limit', () => {
  for (const order of ['conflict-first', 'limit-first'] as const) {
    it(`${order}: the existing branch is adopted, nothing deleted, with fail and with make-room`, async () => {
      const s = await startNeonSimulator({
        operationMs: { create_branch: 20, start_compute: 30 },
        branchLimit: 3,
        createCheckOrder: order,
      })
      try {
        const p = s.createProject({ id: 'full-lake-12345678' }).id
        const existing = s.addBranch(p, { name: NAME })
        s.addBranch(p, { name: 'preview/old-branch', updatedAt: '2020-01-01T00:00:00Z' })
        for (const on of ['fail', 'make-room']) {
          const from = s.log.length
          const run = await act('opened', { on_branch_limit: on }, { simulator: s, project: p })
          expect(run.code).toBe(0)
          expect(run.outputs.created).toBe('false')
          expect(run.outputs.branch_id).toBe(existing.id)
          expect(JSON.parse(run.outputs.deleted_branches ?? '[]')).toEqual([])
          const got = routes(p, from, s)
          expect(got[`${POST} ${order === 'conflict-first' ? 409 : 422}`]).toBe(1)
          expect(Object.keys(got).some((k) => k.startsWith('DELETE') || k.includes('/count'))).toBe(false)
        }
        expect(live(p, s)).toHaveLength(3)
      } finally {
        await s.close()
      }
    })
  }

  it('limit-first, a new name: the look-up finds nothing, and fail fails as before', async () => {
    const s = await startNeonSimulator({
      operationMs: { create_branch: 20, start_compute: 30 },
      branchLimit: 2,
      createCheckOrder: 'limit-first',
    })
    try {
      const p = s.createProject({ id: 'full-lake-22345678' }).id
      s.addBranch(p, { name: 'preview/old-branch', updatedAt: '2020-01-01T00:00:00Z' })
      const run = await act('opened', {}, { simulator: s, project: p })
      expect(run.code).toBe(1)
      expect(errorLine(run)).toContain('the project is at its branch limit: 2 of 2 branches')
      expect(s.log.filter((l) => l.route === LIST).map((l) => l.query.search)).toEqual([NAME, undefined])
    } finally {
      await s.close()
    }
  })
})

describe('dist/index.js creates first: races and faults', () => {
  it('two runs on opened at once: one branch, both succeed with its id and URL', async () => {
    const [a, b] = await Promise.all([act('opened'), act('opened')])
    expect([a.code, b.code]).toEqual([0, 0])
    expect(a.outputs.branch_id).toBe(b.outputs.branch_id)
    expect([a.outputs.created, b.outputs.created].sort()).toEqual(['false', 'true'])
    expect(a.outputs.db_url).toBe(b.outputs.db_url)
    expect(live(projectId).filter((x) => x.name === NAME)).toHaveLength(1)
    expect(
      posts(projectId)
        .map((l) => l.status)
        .sort(),
    ).toEqual([201, 409])
  })

  it('rides out 423, 429 and 503 on the create; a 409 after a lost answer (502) adopts the branch', async () => {
    sim.faults.add({ route: POST, status: 423, times: 2, body: { code: '', message: LOCKED_MESSAGE } })
    sim.faults.add({ route: POST, status: 429, times: 1, headers: { 'Retry-After': '0' } })
    sim.faults.add({ route: POST, status: 503, times: 1 })
    const run = await act('opened')
    expect(run.code).toBe(0)
    expect(run.outputs.created).toBe('true')
    expect(posts(projectId).map((l) => l.status)).toEqual([423, 423, 429, 503, 201])

    const p2 = sim.createProject({ id: 'lost-lake-12345678' }).id
    sim.faults.add({
      route: POST,
      status: 502,
      times: 1,
      before: () => void sim.addBranch(p2, { name: NAME }),
    })
    const lost = await act('opened', {}, { project: p2 })
    expect(lost.code).toBe(0)
    expect(lost.outputs.branch_id).toBe(live(p2).find((b) => b.name === NAME)!.id)
    expect(posts(p2).map((l) => l.status)).toEqual([502, 409])
    expect(secretLeaks(lost, [sim.apiKey, lost.outputs.password ?? ''])).toEqual([])
  })

  it('ephemeral: a 409 after a lost answer on a branch with our key is ours, and the post step deletes it', async () => {
    sim.faults.add({
      route: POST,
      status: 502,
      times: 1,
      before: () => {
        const body = sim.log.at(-1)!.body as {
          branch: { name: string }
          annotation_value: Record<string, string>
        }
        sim.addBranch(projectId, { name: body.branch.name, annotations: body.annotation_value })
      },
    })
    const main = await act('synchronize', { ephemeral: 'true', branch_name: 'ci/lost-answer' })
    expect(main.code).toBe(0)
    expect(main.outputs.created).toBe('true')
    expect(posts(projectId).map((l) => l.status)).toEqual([502, 409])
    expect(JSON.parse(main.state.ephemeral_branch!)).toMatchObject({ branchId: main.outputs.branch_id })
    const post = await runPost(main)
    expect(post.code).toBe(0)
    expect(live(projectId).map((b) => b.name)).toEqual(['main'])
  })
})
