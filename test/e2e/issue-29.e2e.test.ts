// Issue 29, through the committed dist/index.js: nothing revived, deleted or handed out that should
// not be. Each finding of the issue has its test here; each failed on the dist/index.js of the
// main branch before the fix (checked by running this file against that bundle):
//   1. a deleted branch comes back on the next push; a branch deleted because its masking failed is
//      recoverable (by a reopen, or mode: recover);
//   2. recovery ignores github-repo-id (another repository's branch recovered; a renamed
//      repository's refused);
//   3. a GitHub 404 from a token that cannot read pull requests (workflow runs) dooms branches,
//      in the sweep and in make-room;
//   4. a github-pr-number annotation without any repository annotation is a full tie;
//   5. Neon's text (an annotation) reaches the comment unescaped;
//   6. deleting a branch does not revoke its password: reset_password does.
// The rules in the files they live in: test/unit/issue-29-rules.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import MarkdownIt from 'markdown-it'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'
import { api } from '../sim/helpers.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_issue29token0001'
/** A token that sees the repository but not its pull requests nor its workflow runs. */
const BLIND = 'ghs_issue29blindtoken'
const RECOVER = 'POST /projects/{project_id}/branches/{branch_id}/recover'
const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z')

let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 20, start_compute: 30, delete_timeline: 20, suspend_compute: 5 },
    anonymizationMs: { initializeMs: 20, baseMs: 60, perRuleMs: 10 },
  })
  gh = await startFakeGitHub()
  gh.blind.set(BLIND, new Set(['pulls', 'actions']))
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})
let projects = 0
beforeEach(() => {
  projectId = sim.createProject({ id: `issue-lake-${String(++projects).padStart(8, '0')}` }).id
})

function pr(
  action: string,
  n: number,
  inputs: Record<string, string> = {},
  o: { repository?: string; env?: Record<string, string> } = {},
): Promise<ActionRun> {
  const repository = o.repository ?? REPO
  return runAction({
    eventName: 'pull_request',
    payload: {
      action,
      number: n,
      pull_request: {
        number: n,
        head: { ref: `feature-${n}`, sha: 'd'.repeat(40), repo: { full_name: repository } },
        base: { ref: 'main', repo: { full_name: repository } },
      },
    },
    repository,
    githubApiUrl: gh.url,
    ...(o.env ? { env: o.env } : {}),
    inputs: {
      mode: action === 'closed' ? 'delete' : 'create',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: TOKEN,
      ...inputs,
    },
  })
}

function dispatch(
  inputs: Record<string, string>,
  o: { repository?: string; env?: Record<string, string> } = {},
): Promise<ActionRun> {
  return runAction({
    eventName: 'workflow_dispatch',
    payload: { inputs },
    repository: o.repository ?? REPO,
    githubApiUrl: gh.url,
    ...(o.env ? { env: o.env } : {}),
    inputs: { api_key: sim.apiKey, project_id: projectId, api_host: sim.apiUrl, comment: 'false', ...inputs },
  })
}

function sweep(token: string, extra: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    eventName: 'schedule',
    payload: { schedule: '17 3 * * *' },
    repository: REPO,
    githubApiUrl: gh.url,
    inputs: {
      mode: 'cleanup',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: token,
      ...extra,
    },
  })
}

const live = (p = projectId) =>
  Object.values(sim.state.branches)
    .filter((b) => b.project_id === p && !b.deleted)
    .map((b) => b.name)
    .sort()
const recoverable = async (p = projectId) =>
  (
    (await api(sim, 'GET', `/projects/${p}/branches?include_deleted=true`)).body.branches as {
      id: string
      name: string
      recovery?: unknown
    }[]
  ).filter((b) => b.recovery)
const recovers = (from: number) => sim.log.slice(from).filter((l) => l.route === RECOVER).length
const notices = (run: ActionRun) => run.stdout.split('\n').filter((l) => l.startsWith('::notice::'))
const warnings = (run: ActionRun) => run.stdout.split('\n').filter((l) => l.startsWith('::warning::'))
const errorLine = (run: ActionRun) => run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? ''

describe('finding 1: a deleted branch does not come back by itself', () => {
  it('a push after the branch was deleted by hand makes a new branch; one notice names mode: recover', async () => {
    const opened = await pr('opened', 31)
    expect(opened.code).toBe(0)
    const old = opened.outputs.branch_id!
    // Deleted in Neon's console, e.g. to revoke a password that leaked.
    await api(sim, 'DELETE', `/projects/${projectId}/branches/${old}`)
    const from = sim.log.length
    const push = await pr('synchronize', 31)
    expect(push.code).toBe(0)
    expect(push.outputs.recovered).toBe('false')
    expect(push.outputs.created).toBe('true')
    expect(push.outputs.branch_id).not.toBe(old)
    // (Its password is its parent's again, as a new branch's role is: deleting never revoked it.)
    expect(recovers(from)).toBe(0)
    expect(notices(push)).toEqual([expect.stringContaining(`mode: recover and branch_name: ${old}`)])
    // A reopen is where a user means it: closing deleted it, reopening brings it back.
    await pr('closed', 31)
    const reopened = await pr('reopened', 31)
    expect(reopened.outputs.recovered).toBe('true')
    expect(reopened.outputs.branch_id).toBe(push.outputs.branch_id)
  })

  it('a branch deleted because its masking failed is deleted for good: neither a reopen nor mode: recover brings it back', async () => {
    const rules = '- table: accounts\n  column: email\n  function: anon.dummy_free_email()\n'
    sim.failNextAnonymization('anonymization', 'ERROR: masking broke')
    const opened = await pr('opened', 32, { masking_rules: rules })
    expect(opened.code).toBe(1)
    expect(opened.outputs.db_url).toBeUndefined()
    expect(opened.stdout).toContain('deleted for good')
    const del = sim.log.find(
      (l) => l.method === 'DELETE' && l.path.includes(`/projects/${projectId}/branches/`),
    )
    expect(del?.query?.['hard_delete']).toBe('true')
    expect(await recoverable()).toEqual([])
    // Nothing to recover: a reopen (without rules) makes a new, empty branch; mode: recover finds nothing.
    const from = sim.log.length
    const reopened = await pr('reopened', 32)
    expect(reopened.outputs.recovered).toBe('false')
    expect(recovers(from)).toBe(0)
    await api(sim, 'DELETE', `/projects/${projectId}/branches/${reopened.outputs.branch_id}?hard_delete=true`)
    const recover = await dispatch({ mode: 'recover', branch_name: 'preview/pr-32-feature-32' })
    expect(recover.code).toBe(1)
    expect(recover.outputs.db_url).toBeUndefined()
    expect(recovers(from)).toBe(0)
  })
})

describe('finding 2: recovery follows the one ownership rule (github-repo-id decides)', () => {
  const env = (id: string) => ({ GITHUB_REPOSITORY_ID: id })

  it("mode: recover refuses another repository's branch, named alike but of another id", async () => {
    const b = sim.addBranch(projectId, {
      name: 'preview/shop-1',
      annotations: { 'github-repo': 'acme/shop', 'github-repo-id': '111', 'github-pr-number': '1' },
    })
    await api(sim, 'DELETE', `/projects/${projectId}/branches/${b.id}`)
    const from = sim.log.length
    const run = await dispatch(
      { mode: 'recover', branch_name: 'preview/shop-1' },
      { repository: 'acme/shop', env: env('222') },
    )
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain('is annotated for repository acme/shop (github-repo-id)')
    expect(run.outputs.db_url).toBeUndefined()
    expect(recovers(from)).toBe(0)
    expect((await recoverable()).map((x) => x.id)).toEqual([b.id])
  })

  it('a renamed repository (same id, old name in github-repo) recovers its own branch', async () => {
    const b = sim.addBranch(projectId, {
      name: 'preview/store-2',
      annotations: { 'github-repo': 'acme/shop', 'github-repo-id': '111', 'github-pr-number': '2' },
    })
    await api(sim, 'DELETE', `/projects/${projectId}/branches/${b.id}`)
    const run = await dispatch(
      { mode: 'recover', branch_name: 'preview/store-2' },
      { repository: 'acme/store', env: env('111') },
    )
    expect(run.code).toBe(0)
    expect(run.outputs.recovered).toBe('true')
    expect(run.outputs.branch_id).toBe(b.id)
  })
})

describe('finding 3: a 404 from a token that cannot read pull requests (runs) deletes nothing', () => {
  it('the sweep keeps every branch tied to a pull request, and an ephemeral branch of a run, and says why', async () => {
    const tie = (n: number) => ({ 'github-pr-number': String(n), 'github-repo': REPO })
    for (const n of [41, 42, 43]) {
      gh.addPull(REPO, { number: n, state: 'open' })
      sim.addBranch(projectId, { name: `preview/pr-${n}`, annotations: tie(n), updatedAt: ago(2) })
    }
    gh.addRun(REPO, { id: 4100, status: 'in_progress' })
    sim.addBranch(projectId, {
      name: 'ci/run-4100-1-test',
      annotations: {
        'github-repo': REPO,
        'github-ephemeral': 'true',
        'github-ephemeral-key': 'k',
        'github-run-id': '4100',
      },
      updatedAt: ago(2),
    })
    const before = live()
    const run = await sweep(BLIND)
    expect(run.code).toBe(0)
    expect(live()).toEqual(before)
    expect(JSON.parse(run.outputs.deleted_branches!)).toEqual([])
    const w = warnings(run).join('\n')
    expect(w).toMatch(/not shown to read this repository's pull requests.*kept 3 branch\(es\)/)
    expect(w).toContain("'permissions: pull-requests: read'")
    expect(w).toMatch(/not shown to read this repository's workflow runs.*kept 1 branch\(es\)/)
    expect(w).toContain("'permissions: actions: read'")
    // The proof asked for: one listing each, answered 404 for this token.
    const probes = gh.requests.filter((r) => /\/pulls$|\/actions\/runs$/.test(r.path))
    expect(probes.map((r) => `${r.path} ${r.status}`).sort()).toEqual([
      `/repos/${REPO}/actions/runs 404`,
      `/repos/${REPO}/pulls 404`,
    ])
    // With a token that reads them, the same sweep judges them: open pull requests, a running job.
    const seeing = await sweep(TOKEN)
    expect(seeing.code).toBe(0)
    expect(live()).toEqual(before)
    expect(warnings(seeing).join('\n')).not.toContain('not shown to read')
  })

  it("make-room never deletes an open pull request's branch on a 404 it cannot trust", async () => {
    const p = `issue-full-${String(++projects).padStart(8, '0')}`
    sim.createProject({ id: p, branchLimit: 'free' })
    for (let i = 0; i < 9; i++) {
      const n = 500 + i
      gh.addPull(REPO, { number: n, state: 'open' })
      sim.addBranch(p, {
        name: `preview/pr-${n}`,
        annotations: { 'github-pr-number': String(n), 'github-repo': REPO },
        updatedAt: ago(30 - i),
      })
    }
    projectId = p
    gh.addPull(REPO, { number: 520, state: 'open' })
    const before = live(p)
    const run = await pr('opened', 520, {
      on_branch_limit: 'make-room',
      github_token: BLIND,
      comment: 'false',
    })
    expect(run.code).toBe(1)
    expect(live(p)).toEqual(before)
    expect(errorLine(run)).toContain('branch limit')
    expect(warnings(run).join('\n')).toContain("'permissions: pull-requests: read'")
  })
})

describe('finding 4: a github-pr-number annotation without a repository annotation is no full tie', () => {
  it("a 1-day-old branch annotated only {github-pr-number: 7} survives this repository's PR 7 closing", async () => {
    gh.addPull(REPO, { number: 7, state: 'closed' })
    sim.addBranch(projectId, {
      name: 'preview/other-tool-7',
      annotations: { 'github-pr-number': '7' },
      updatedAt: ago(1),
    })
    sim.addBranch(projectId, {
      name: 'preview/ours-7',
      annotations: { 'github-pr-number': '7', 'github-repo': REPO },
      updatedAt: ago(1),
    })
    const run = await sweep(TOKEN)
    expect(run.code).toBe(0)
    expect(JSON.parse(run.outputs.deleted_branches!)).toEqual(['preview/ours-7'])
    expect(live()).toContain('preview/other-tool-7')
    expect(run.summary).toContain('without any repository annotation of this repository')
  })
})

describe("finding 5: Neon's text is escaped for where it goes", () => {
  it("a refused delete renders another repository's annotation inert in the comment", async () => {
    const hostile = 'other/repo ![x](https://evil.example/x.png) @octocat\n\n# heading'
    sim.addBranch(projectId, {
      name: 'preview/pr-55-feature-55',
      annotations: { 'github-repo': hostile, 'github-pr-number': '55' },
    })
    const run = await pr('closed', 55)
    expect(run.code).toBe(0)
    expect(run.outputs.deleted).toBe('false')
    const body = gh.commentBodies(REPO, 55).at(-1) ?? ''
    const html = new MarkdownIt({ html: true, linkify: true }).render(body)
    expect(html).not.toMatch(/<img|<a href="https:\/\/evil|<h1/)
    expect(body).toContain(
      '`it is annotated for repository other/repo ![x](https://evil.example/x.png) @octocat',
    )
    // The log line is one line: no workflow command from the annotation.
    expect(run.stdout).not.toMatch(/^# heading/m)
  })
})

describe('finding 6: reset_password revokes a leaked password in one step', () => {
  it('create with reset_password: true hands out a new password, masked, and Neon holds only it', async () => {
    const opened = await pr('opened', 61)
    const old = opened.outputs.password!
    const push = await pr('synchronize', 61, { reset_password: 'true' })
    expect(push.code).toBe(0)
    expect(push.outputs.branch_id).toBe(opened.outputs.branch_id)
    const fresh = push.outputs.password!
    expect(fresh).not.toBe(old)
    expect(push.outputs.db_url).toContain(encodeURIComponent(fresh))
    expect(sim.rolePassword(projectId, push.outputs.branch_id!, 'neondb_owner')).toBe(fresh)
    expect(push.masked).toContain(fresh)
    expect(push.stdout.indexOf(`::add-mask::${fresh}`)).toBeLessThan(
      push.stdout.indexOf('Reset the password'),
    )
    expect(secretLeaks(push, [fresh, old, sim.apiKey])).toEqual([])
    const reset = sim.log.filter((l) => l.route?.endsWith('/reset_password'))
    expect(reset).toHaveLength(1)
  })

  it('mode: reset with reset_password: true too', async () => {
    const opened = await pr('opened', 62)
    const reset = await pr('synchronize', 62, { mode: 'reset', reset_password: 'true' })
    expect(reset.code).toBe(0)
    expect(reset.outputs.password).not.toBe(opened.outputs.password)
    expect(sim.rolePassword(projectId, reset.outputs.branch_id!, 'neondb_owner')).toBe(reset.outputs.password)
  })

  it('a value other than true/false is an input error naming it, before any request', async () => {
    const from = sim.log.length
    const run = await pr('opened', 63, { reset_password: 'yes' })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain("Invalid input 'reset_password': 'yes'")
    expect(sim.log.length).toBe(from)
  })

  it('a rotation that fails after the request says so and hands out no URL', async () => {
    const opened = await pr('opened', 64)
    sim.failNextOperation({ action: 'apply_config', projectId }, 'config apply failed')
    const run = await pr('synchronize', 64, { reset_password: 'true' })
    expect(run.code).toBe(1)
    expect(run.outputs.db_url).toBeUndefined()
    expect(run.outputs.password).toBeUndefined()
    expect(errorLine(run)).toContain('was reset, but waiting for Neon to apply it failed')
    expect(errorLine(run)).toContain('no connection URL was handed out')
    expect(sim.rolePassword(projectId, opened.outputs.branch_id!, 'neondb_owner')).not.toBe(
      opened.outputs.password,
    )
  })
})
