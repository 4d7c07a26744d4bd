/**
 * The pull request experience through the committed dist/index.js: the sticky comment across a
 * pull request's life, the job summary, mode auto on real event payloads, and fork pull requests.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_prexperiencetoken42'
const MARKER_PREFIX = '<!-- neon-preview-branch: '
let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 40, start_compute: 60, create_timeline: 40, delete_timeline: 40 },
  })
  gh = await startFakeGitHub()
  projectId = sim.createProject({ id: 'pr-experience-12345678' }).id
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

type Payload = Record<string, unknown> & {
  pull_request?: Record<string, unknown> & { head: { ref: string } }
}

/** A fixture from test/fixtures/events, optionally moved to another pull request number and head ref. */
function fixture(name: string, number?: number, headRef?: string): Payload {
  const p = JSON.parse(
    readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8'),
  ) as Payload
  if (number !== undefined && p.pull_request) {
    p.number = number
    p.pull_request.number = number
  }
  if (headRef !== undefined && p.pull_request) p.pull_request.head.ref = headRef
  return p
}

function act(eventName: string, payload: unknown, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    eventName,
    payload,
    githubApiUrl: gh.url,
    repository: REPO,
    inputs: {
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: TOKEN,
      ...inputs,
    },
  })
}

/** Every secret there is: keys, tokens, every role password of the project, and the outputs. */
function allSecrets(...runs: ActionRun[]): string[] {
  const secrets = [sim.apiKey, TOKEN]
  for (const run of runs) {
    secrets.push(run.outputs.password ?? '', run.outputs.db_url ?? '', run.outputs.db_url_pooled ?? '')
  }
  for (const b of Object.values(sim.state.branches)) {
    if (b.project_id !== projectId) continue
    const pw = sim.rolePassword(projectId, b.id, 'neondb_owner')
    if (pw) secrets.push(pw, encodeURIComponent(pw))
  }
  return secrets.filter((s) => s.length > 0)
}

/** No secret in any stored comment, any body sent to GitHub, any summary, or printed unmasked. */
function expectNoSecrets(runs: ActionRun[]): void {
  const secrets = allSecrets(...runs)
  const comments = [...gh.comments.values()].flat().map((c) => c.body)
  const sent = gh.requests.map((r) => JSON.stringify(r.body ?? ''))
  for (const secret of secrets) {
    for (const text of [...comments, ...sent, ...runs.map((r) => r.summary)])
      expect(text).not.toContain(secret)
  }
  for (const text of comments) expect(text).not.toMatch(/postgres(ql)?:\/\/[^/\s]*:[^@\s]*@/)
  for (const run of runs) expect(secretLeaks(run, [sim.apiKey, TOKEN])).toEqual([])
}

const marked = (pr: number) => gh.commentBodies(REPO, pr).filter((b) => b.startsWith(MARKER_PREFIX))
const warnings = (run: ActionRun) => run.stdout.split('\n').filter((l) => l.startsWith('::warning::'))

describe('dist/index.js: one sticky comment across a pull request’s life (mode auto)', () => {
  const PR = 51
  const runs: ActionRun[] = []

  it('opened → auto chooses create; the comment is created once, with no secret', async () => {
    const run = await act('pull_request', fixture('pull_request.opened', PR), { mode: 'auto' })
    runs.push(run)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("Mode: create (chosen by mode: auto for the 'pull_request opened' event)")
    expect(run.outputs.created).toBe('true')
    const bodies = marked(PR)
    expect(bodies).toHaveLength(1)
    const body = bodies[0]!
    expect(body.split('\n')[0]).toBe(
      `<!-- neon-preview-branch: ${projectId}/preview/pr-51-feature/login_page -->`,
    )
    expect(body).toContain('created and ready')
    expect(body).toContain(
      `https://console.neon.tech/app/projects/${projectId}/branches/${run.outputs.branch_id}`,
    )
    expect(body).toContain(
      `neonctl connection-string preview/pr-51-feature/login_page --project-id ${projectId}`,
    )
    expect(body).toMatch(/\| Time to ready \| \d+\.\d s \|/)
    expect(body).toContain(`https://github.com/${REPO}/commit/${'b'.repeat(40)}`)
    expect(body).toContain(`https://github.com/${REPO}/actions/runs/4242`)
    // The summary: mode and why, branch, timings, requests, and the comment.
    expect(run.summary).toContain('create (chosen by auto for pull_request opened)')
    expect(run.summary).toContain(`${run.outputs.branch_name} (${run.outputs.branch_id})`)
    expect(run.summary).toMatch(/<td>Neon API requests<\/td><td>\d+ \(\d+ retries\)<\/td>/)
    expect(run.summary).toMatch(/<td>Time to ready<\/td><td>\d+\.\d s<\/td>/)
    expect(run.summary).toContain('<td>Pull request comment</td><td>created</td>')
    expect(gh.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true)
  })

  it('synchronize → the same comment is updated in place for the new commit', async () => {
    const before = gh.comments.get(`${REPO}#${PR}`)![0]!.id
    const run = await act('pull_request', fixture('pull_request.synchronize', PR), { mode: 'auto' })
    runs.push(run)
    expect(run.code).toBe(0)
    expect(run.outputs.created).toBe('false')
    const all = gh.comments.get(`${REPO}#${PR}`)!
    expect(all).toHaveLength(1)
    expect(all[0]!.id).toBe(before)
    expect(all[0]!.body).toContain('🟢 ready')
    expect(all[0]!.body).toContain(`/commit/${'c'.repeat(40)}`)
    expect(run.summary).toContain('<td>Pull request comment</td><td>updated</td>')
  })

  it('a failing reset turns it to failed, with the error and a link to the run', async () => {
    sim.faults.add({
      route: 'POST /projects/{project_id}/branches/{branch_id}/restore',
      status: 500,
      times: 100,
    })
    const run = await act('pull_request', fixture('pull_request.labeled', PR), {
      mode: 'reset',
      timeout: '5',
    })
    runs.push(run)
    sim.faults.clear()
    expect(run.code).toBe(1)
    const body = marked(PR)[0]!
    expect(marked(PR)).toHaveLength(1)
    expect(body).toContain('🔴 failed')
    expect(body).toContain('**The reset step failed:**')
    expect(body).toMatch(/reset of branch 'preview\/pr-51-feature\/login_page' failed: .*HTTP 500/)
    expect(body).toContain(`See [the run log](https://github.com/${REPO}/actions/runs/4242)`)
    expect(run.summary).toContain('❌ failed')
    expect(run.summary).toMatch(/<pre>reset of branch/)
  })

  it('closed → auto chooses delete; the comment says deleted', async () => {
    const run = await act('pull_request', fixture('pull_request.closed', PR), { mode: 'auto' })
    runs.push(run)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("Mode: delete (chosen by mode: auto for the 'pull_request closed' event)")
    expect(run.outputs.deleted).toBe('true')
    expect(marked(PR)).toHaveLength(1)
    expect(marked(PR)[0]).toContain('🗑️ deleted')
    expect(run.summary).toContain('delete (chosen by auto for pull_request closed)')
    expect(run.summary).toContain('<td>Deleted</td><td>yes</td>')
  })

  it('exactly one comment was ever created, and no secret reached GitHub, a comment or a summary', () => {
    const posts = gh.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/issues/${PR}/comments`))
    expect(posts).toHaveLength(1)
    expectNoSecrets(runs)
  })
})

describe('dist/index.js: comments that cannot or should not be written', () => {
  it('a 403 on the comment is a warning; the step succeeds and sets its outputs', async () => {
    gh.faults.push({
      path: /\/issues\/52\/comments$/,
      status: 403,
      message: 'Resource not accessible by integration',
      times: 10,
    })
    const run = await act('pull_request', fixture('pull_request.opened', 52), { mode: 'create' })
    gh.faults.length = 0
    expect(run.code).toBe(0)
    expect(run.outputs.branch_id).toMatch(/^br-/)
    expect(warnings(run).join('\n')).toMatch(/Could not list the comments of pull request .*#52: HTTP 403/)
    expect(run.summary).toMatch(/not written \(warning\): Could not list the comments/)
    expectNoSecrets([run])
  })

  it('two instances with different branch names on one pull request keep two comments', async () => {
    const api = await act('pull_request', fixture('pull_request.opened', 53), {
      mode: 'create',
      branch_name: 'preview/pr-53-api',
    })
    const web = await act('pull_request', fixture('pull_request.opened', 53), {
      mode: 'create',
      branch_name: 'preview/pr-53-web',
    })
    const apiAgain = await act('pull_request', fixture('pull_request.synchronize', 53), {
      mode: 'create',
      branch_name: 'preview/pr-53-api',
    })
    for (const r of [api, web, apiAgain]) expect(r.code).toBe(0)
    const bodies = marked(53)
    expect(bodies).toHaveLength(2)
    expect(bodies[0]).toContain(`${projectId}/preview/pr-53-api -->`)
    expect(bodies[0]).toContain('🟢 ready')
    expect(bodies[1]).toContain(`${projectId}/preview/pr-53-web -->`)
    expectNoSecrets([api, web, apiAgain])
  })

  it('a hostile head ref cannot inject Markdown, HTML or a mention', async () => {
    const run = await act('pull_request', fixture('pull_request.opened', 54, 'x/<img_src=x>@octocat**hi**'), {
      mode: 'create',
    })
    expect(run.code).toBe(0)
    const body = marked(54)[0]!
    const outsideCode = body
      .replace(/^(`{3,}).*\n[\s\S]*?\n\1$/gm, '')
      .replace(/(`+)[\s\S]*?\1/g, '')
      .replace(/^<!--.*-->$/m, '')
    expect(outsideCode).not.toMatch(/<img|@octocat|\*\*hi/)
  })

  it('comment: false writes nothing; a dry run writes no comment', async () => {
    const before = gh.requests.length
    const off = await act('pull_request', fixture('pull_request.opened', 55), {
      mode: 'create',
      comment: 'false',
    })
    const dry = await act('pull_request', fixture('pull_request.opened', 56), {
      mode: 'create',
      dry_run: 'true',
    })
    expect(off.code).toBe(0)
    expect(dry.code).toBe(0)
    expect(gh.requests.length).toBe(before)
    expect(off.summary).toContain('off (comment: false)')
    expect(dry.summary).toContain('not written in a dry run')
  })

  it('workflow_dispatch with branch_name creates the branch and writes no comment (no pull request)', async () => {
    const before = gh.requests.length
    const run = await act('workflow_dispatch', fixture('workflow_dispatch'), {
      mode: 'create',
      branch_name: 'preview/manual-qa',
    })
    expect(run.code).toBe(0)
    expect(run.outputs.branch_name).toBe('preview/manual-qa')
    expect(gh.requests.length).toBe(before)
    expect(run.summary).toContain('preview/manual-qa')
  })
})

describe('dist/index.js: forks and mode auto on other events', () => {
  it('a fork pull request with no api_key is skipped: notice, skipped=true, exit 0, no Neon or GitHub request', async () => {
    const neonBefore = sim.log.length
    const ghBefore = gh.requests.length
    for (const mode of ['create', 'auto']) {
      const run = await act('pull_request', fixture('pull_request.opened.fork'), { mode, api_key: '' })
      expect(run.code).toBe(0)
      expect(run.outputs.skipped).toBe('true')
      expect(run.outputs.branch_id).toBeUndefined()
      expect(run.stdout).toMatch(
        /::notice::Skipping: pull request #9 comes from a fork \(monalisa\/octo-repo\)/,
      )
      expect(run.summary).toContain('⏭️ skipped')
    }
    expect(sim.log.length).toBe(neonBefore)
    expect(gh.requests.length).toBe(ghBefore)
  })

  it('an empty api_key on a pull request from the same repository still fails, before any call', async () => {
    const neonBefore = sim.log.length
    const run = await act('pull_request', fixture('pull_request.opened', 57), { mode: 'create', api_key: '' })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::Input 'api_key' is required but was empty/)
    expect(sim.log.length).toBe(neonBefore)
  })

  it('a fork pull request with a bad input still fails on the input', async () => {
    const run = await act('pull_request', fixture('pull_request.opened.fork'), {
      mode: 'create',
      api_key: '',
      ssl: 'prefer',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::Invalid input 'ssl'/)
  })

  it('schedule → auto chooses cleanup', async () => {
    const run = await act('schedule', fixture('schedule'), { mode: 'auto' })
    expect(run.stdout).toContain("Mode: cleanup (chosen by mode: auto for the 'schedule' event)")
    expect(run.summary).toContain('cleanup (chosen by auto for schedule)')
  })

  for (const [event, file] of [
    ['workflow_dispatch', 'workflow_dispatch'],
    ['pull_request', 'pull_request.labeled'],
  ] as const) {
    it(`${file} → auto fails asking for an explicit mode, before any Neon call`, async () => {
      const neonBefore = sim.log.length
      const ghBefore = gh.requests.length
      const run = await act(event, fixture(file, 58), { mode: 'auto' })
      expect(run.code).toBe(1)
      expect(run.stdout).toMatch(/::error::Input 'mode' is 'auto', but .*Set 'mode' explicitly/)
      expect(sim.log.length).toBe(neonBefore)
      expect(gh.requests.length).toBe(ghBefore)
      expect(run.summary).toContain('❌ failed')
    })
  }
})
