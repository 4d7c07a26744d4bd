/**
 * The sticky comment against the fake GitHub API, through a real Octokit with the retry and
 * throttling plugins: bodies rendered from ModeResult objects as main.ts renders them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { upsertStickyComment, type CommentLog } from '../../src/github/comment.js'
import { commentMarker, renderComment, statusOf, type CommentView } from '../../src/github/comment-body.js'
import { createGitHubClient } from '../../src/github/octokit.js'
import type { ModeResult } from '../../src/modes/types.js'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import {
  createdResult,
  DB_URL,
  DB_URL_POOLED,
  deletedResult,
  PASSWORD,
  prContextFor,
  resetResult,
} from '../helpers/results.js'

const REPO = 'octo-org/octo-repo'
const PROJECT = 'wispy-lake-12345678'
const TOKEN = 'ghs_commenttoken0123'
let gh: FakeGitHub
let logs: string[]
let pr = 100

beforeAll(async () => {
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await gh.close()
})
beforeEach(() => {
  logs = []
  gh.faults.length = 0
  pr++
})

const log: CommentLog = {
  info: (m) => logs.push(`info: ${m}`),
  warning: (m) => logs.push(`warning: ${m}`),
  debug: (m) => logs.push(`debug: ${m}`),
}

function client(throttle = false) {
  return createGitHubClient({
    token: TOKEN,
    baseUrl: gh.url,
    userAgent: 'neon-preview-branch/test',
    log: { debug: log.debug, warning: log.warning },
    retryAfterBaseValue: 1,
    throttle,
  })
}

function body(result: ModeResult | undefined, branch = 'preview/pr-7-feature/login', error?: string): string {
  const v: CommentView = {
    status: result ? statusOf(result) : 'failed',
    projectId: PROJECT,
    target: branch,
    mode: result?.mode ?? 'create',
    ...(result ? { result } : {}),
    ...(error ? { error } : {}),
    context: prContextFor(pr),
    now: Date.parse('2030-01-01T00:00:00Z'),
    producer: 'neon-preview-branch 0.1.0',
  }
  return renderComment(v)
}

function upsert(text: string, branch = 'preview/pr-7-feature/login', octokit = client().octokit) {
  return upsertStickyComment({
    octokit,
    repository: REPO,
    issueNumber: pr,
    marker: commentMarker(PROJECT, branch),
    body: text,
    log,
  })
}

const writes = () => gh.requests.filter((r) => r.method !== 'GET' && r.path.includes(`/issues/`))

describe('sticky comment', () => {
  it('is created once, then updated in place across create → reset → delete', async () => {
    const first = await upsert(body(createdResult()))
    expect(first.status).toBe('created')
    const again = await upsert(body(createdResult(undefined, false)))
    expect(again).toMatchObject({ status: 'updated', id: first.status === 'created' ? first.id : -1 })
    await upsert(body(resetResult()))
    const last = await upsert(body(deletedResult()))
    expect(last.status).toBe('updated')
    const bodies = gh.commentBodies(REPO, pr)
    expect(bodies).toHaveLength(1)
    expect(bodies[0]).toContain('🗑️ deleted')
    expect(
      gh.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/issues/${pr}/comments`)),
    ).toHaveLength(1)
  })

  it('does not write when the body is unchanged', async () => {
    await upsert(body(createdResult()))
    const before = writes().length
    expect((await upsert(body(createdResult()))).status).toBe('unchanged')
    expect(writes().length).toBe(before)
  })

  it('finds its comment behind two pages of unrelated comments', async () => {
    for (let i = 0; i < 150; i++) gh.addComment(REPO, pr, `LGTM ${i}`, 'monalisa')
    await upsert(body(createdResult()))
    for (let i = 150; i < 260; i++) gh.addComment(REPO, pr, `nit ${i}`, 'monalisa')
    const out = await upsert(body(resetResult()))
    expect(out.status).toBe('updated')
    const marked = gh.commentBodies(REPO, pr).filter((b) => b.startsWith('<!-- neon-preview-branch'))
    expect(marked).toHaveLength(1)
    expect(marked[0]).toContain('reset from its parent')
    // It paged: page 2 (and 3) were asked for.
    const pages = gh.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/issues/${pr}/comments`))
    expect(pages.map((r) => r.query.page ?? '1')).toContain('3')
    expect(pages.every((r) => r.query.per_page === '100')).toBe(true)
  })

  it('collapses duplicates left by concurrent runs: keeps the oldest, updated, deletes the rest', async () => {
    const marker = commentMarker(PROJECT, 'preview/pr-7-feature/login')
    gh.addComment(REPO, pr, 'unrelated', 'monalisa')
    const oldest = gh.addComment(REPO, pr, `${marker}\nold run A`)
    gh.addComment(REPO, pr, `${marker}\nold run B`)
    gh.addComment(REPO, pr, `${marker}\nold run C`)
    const out = await upsert(body(createdResult(undefined, false)))
    expect(out).toMatchObject({ status: 'updated', id: oldest.id, removedDuplicates: 2 })
    const all = gh.comments.get(`${REPO}#${pr}`)!
    expect(all.map((c) => c.body.startsWith(marker))).toEqual([false, true])
    expect(all[1]!.id).toBe(oldest.id)
    expect(all[1]!.body).toContain('🟢 ready')
  })

  it('after creating, converges with a racing run that created its own at the same moment', async () => {
    const marker = commentMarker(PROJECT, 'preview/pr-7-feature/login')
    // The racing run's comment appears between our listing and our create.
    let racer = 0
    const octokit = client().octokit
    octokit.hook.before('request', (o) => {
      if (o.method === 'POST' && String(o.url).endsWith('/comments') && racer === 0)
        racer = gh.addComment(REPO, pr, `${marker}\nracing run`).id
    })
    const out = await upsert(body(createdResult()), undefined, octokit)
    expect(out).toMatchObject({ status: 'created', id: racer, removedDuplicates: 1 })
    const marked = gh.commentBodies(REPO, pr).filter((b) => b.startsWith(marker))
    expect(marked).toHaveLength(1)
    expect(marked[0]).toContain('created and ready')
  })

  it('leaves alone a reply that quotes the comment (the marker is not at its start)', async () => {
    const marker = commentMarker(PROJECT, 'preview/pr-7-feature/login')
    gh.addComment(REPO, pr, `> ${marker}\n> ready\n\nthanks!`, 'monalisa')
    await upsert(body(createdResult()))
    const all = gh.commentBodies(REPO, pr)
    expect(all).toHaveLength(2)
    expect(all[0]).toContain('thanks!')
  })

  it('two instances with different branch names on one pull request keep two comments', async () => {
    await upsert(body(createdResult('preview/pr-7-api'), 'preview/pr-7-api'), 'preview/pr-7-api')
    await upsert(body(createdResult('preview/pr-7-web'), 'preview/pr-7-web'), 'preview/pr-7-web')
    await upsert(body(resetResult('preview/pr-7-api'), 'preview/pr-7-api'), 'preview/pr-7-api')
    const bodies = gh.commentBodies(REPO, pr)
    expect(bodies).toHaveLength(2)
    expect(bodies[0]).toContain('preview/pr-7-api')
    expect(bodies[0]).toContain('reset from its parent')
    expect(bodies[1]).toContain('preview/pr-7-web')
    expect(bodies[1]).toContain('created and ready')
    // A name that is a prefix of another never matches it.
    await upsert(body(createdResult('preview/pr-7'), 'preview/pr-7'), 'preview/pr-7')
    expect(gh.commentBodies(REPO, pr)).toHaveLength(3)
  })

  it('a hostile head ref is stored escaped', async () => {
    const hostile = 'feat/<img src=x onerror=alert(1)>@octocat_**x**`y`'
    await upsert(body(createdResult(hostile), hostile), hostile)
    const stored = gh.commentBodies(REPO, pr)[0]!
    const withoutCode = stored
      .replace(/^(`{3,}).*\n[\s\S]*?\n\1$/gm, '')
      .replace(/(`+)[\s\S]*?\1/g, '')
      .replace(/^<!--.*-->$/m, '')
    expect(withoutCode).not.toMatch(/<img|@octocat|\*\*x/)
    expect(stored.split('\n')[0]).toBe(
      '<!-- neon-preview-branch: wispy-lake-12345678/feat/%3Cimg src=x onerror=alert(1)%3E%40octocat_**x**`y` -->',
    )
  })

  it('a 403 only warns, naming what failed and the permission to grant', async () => {
    gh.faults.push({
      method: 'POST',
      path: /\/comments$/,
      status: 403,
      message: 'Resource not accessible by integration',
      times: 5,
    })
    const out = await upsert(body(createdResult()))
    expect(out.status).toBe('failed')
    const warning = logs.find((l) => l.startsWith('warning:'))!
    expect(warning).toMatch(
      new RegExp(
        `Could not create a comment on pull request ${REPO}#${pr}: HTTP 403: Resource not accessible`,
      ),
    )
    expect(warning).toContain("'pull-requests: write'")
    // 403 without rate-limit headers is not retried.
    expect(gh.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${pr}/comments`))).toHaveLength(
      1,
    )
  })

  it('a 404 on listing (no access to the repository) only warns', async () => {
    gh.faults.push({ method: 'GET', path: /\/comments$/, status: 404, message: 'Not Found' })
    const out = await upsert(body(createdResult()))
    expect(out).toMatchObject({ status: 'failed', error: expect.stringMatching(/list the comments/) })
  })

  it('5xx is retried a bounded number of times, then warns', async () => {
    gh.faults.push({ method: 'GET', path: /\/comments$/, status: 502, times: 1 })
    expect((await upsert(body(createdResult()))).status).toBe('created')
    gh.faults.push({ method: 'PATCH', status: 500, times: 100 })
    const out = await upsert(body(resetResult()))
    expect(out.status).toBe('failed')
    // 1 try + 2 retries.
    expect(gh.requests.filter((r) => r.method === 'PATCH' && r.status === 500)).toHaveLength(3)
  })

  it('a rate limit (secondary, or remaining 0) is waited out and retried by the throttling plugin', async () => {
    gh.faults.push({
      method: 'POST',
      path: /\/comments$/,
      status: 403,
      message: 'You have exceeded a secondary rate limit',
      headers: { 'retry-after': '1' },
      times: 1,
    })
    gh.faults.push({
      method: 'GET',
      path: /\/comments$/,
      status: 403,
      message: 'API rate limit exceeded',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000)) },
      times: 1,
    })
    const out = await upsert(body(createdResult()), undefined, client(true).octokit)
    expect(out.status).toBe('created')
    expect(logs.filter((l) => /rate limit .*retrying/.test(l))).toHaveLength(2)
  })

  it('a secondary limit that outlasts the retries warns without the permission hint: the token is fine', async () => {
    gh.faults.push({
      method: 'POST',
      path: /\/comments$/,
      status: 403,
      message: 'You have exceeded a secondary rate limit',
      headers: { 'retry-after': '0' },
      times: 10,
    })
    const out = await upsert(body(createdResult()), undefined, client(true).octokit)
    expect(out.status).toBe('failed')
    const warning = logs.find((l) => l.startsWith('warning:') && l.includes('Could not create'))!
    expect(warning).toContain('secondary rate limit')
    expect(warning).not.toContain('pull-requests: write')
  })

  it('no secret is ever sent in a comment body', async () => {
    await upsert(body(createdResult()))
    await upsert(body(undefined, undefined, 'create failed: HTTP 500'))
    for (const r of gh.requests) {
      const sent = JSON.stringify(r.body ?? '')
      for (const s of [PASSWORD, DB_URL, DB_URL_POOLED, TOKEN]) expect(sent).not.toContain(s)
    }
    for (const bodies of gh.comments.values()) {
      for (const c of bodies)
        for (const s of [PASSWORD, TOKEN, 'postgresql://']) expect(c.body).not.toContain(s)
    }
    // The token goes in the Authorization header only.
    expect(gh.requests.at(-1)?.authorization).toBe(`token ${TOKEN}`)
  })
})

describe("only the action's own comment (issue 22, finding 6)", () => {
  const marker = () => commentMarker(PROJECT, 'preview/pr-7-feature/login')
  const comment = (id: number) => gh.comments.get(`${REPO}#${pr}`)!.find((c) => c.id === id)

  it.each([
    ['a user who posted the marker', 'mallory'],
    ['a user whose login looks like the bot', { login: 'github-actions', type: 'User' as const }],
    [
      'a user claiming the bot login with another type',
      { login: 'github-actions[bot]', type: 'User' as const },
    ],
    ["another app's bot", 'someone-elses-app[bot]'],
  ])('never edits or deletes a marked comment by %s, even the oldest', async (_, author) => {
    const planted = gh.addComment(REPO, pr, `${marker()}\nI am the sticky comment now`, author)
    const first = await upsert(body(createdResult()))
    expect(first.status).toBe('created')
    const again = await upsert(body(resetResult()))
    expect(again).toMatchObject({ status: 'updated', removedDuplicates: 0 })
    expect(comment(planted.id)?.body).toBe(`${marker()}\nI am the sticky comment now`)
    const ours = gh.comments.get(`${REPO}#${pr}`)!.filter((c) => c.id !== planted.id)
    expect(ours).toHaveLength(1)
    expect(ours[0]!.user).toEqual({ login: 'github-actions[bot]', type: 'Bot' })
    expect(ours[0]!.body).toContain('reset from its parent')
    // Nothing was ever sent to the planted comment.
    expect(gh.requests.filter((r) => r.path.endsWith(`/comments/${planted.id}`))).toEqual([])
    expect(logs.join('\n')).toMatch(/Left alone 1 comment\(s\) that carry this action's marker/)
  })

  it('asks GitHub who the token is once per update, beside the listing (GraphQL viewer)', async () => {
    const before = gh.requests.length
    await upsert(body(createdResult()))
    await upsert(body(resetResult()))
    const graphql = gh.requests.slice(before).filter((r) => r.path === '/graphql')
    expect(graphql).toHaveLength(2)
    expect(graphql.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true)
  })

  it("with a personal token, that user's comments are the action's own, and the bot's are not", async () => {
    const pat = 'ghp_personaltoken0123'
    gh.identities.set(pat, { login: 'octocat', type: 'User' })
    const botComment = gh.addComment(REPO, pr, `${marker()}\nwritten with the GITHUB_TOKEN`)
    const octokit = createGitHubClient({
      token: pat,
      baseUrl: gh.url,
      userAgent: 'neon-preview-branch/test',
      log: { debug: log.debug, warning: log.warning },
      retryAfterBaseValue: 1,
      throttle: false,
    }).octokit
    expect((await upsert(body(createdResult()), undefined, octokit)).status).toBe('created')
    expect((await upsert(body(resetResult()), undefined, octokit)).status).toBe('updated')
    expect(comment(botComment.id)?.body).toBe(`${marker()}\nwritten with the GITHUB_TOKEN`)
    const mine = gh.comments.get(`${REPO}#${pr}`)!.filter((c) => c.user.login === 'octocat')
    expect(mine).toHaveLength(1)
    expect(mine[0]!.body).toContain('reset from its parent')
  })

  it('when GitHub will not say who the token is, the comment it creates tells; its own duplicates collapse, others stay', async () => {
    const planted = gh.addComment(REPO, pr, `${marker()}\nplanted`, 'mallory')
    const older = gh.addComment(REPO, pr, `${marker()}\nan earlier run's`)
    gh.faults.push({ method: 'POST', path: /^\/graphql$/, status: 403, message: 'Forbidden', times: 10 })
    const out = await upsert(body(createdResult(undefined, false)))
    expect(out).toMatchObject({ status: 'created', id: older.id, removedDuplicates: 1 })
    const left = gh.comments.get(`${REPO}#${pr}`)!
    expect(left.map((c) => c.id)).toEqual([planted.id, older.id])
    expect(comment(planted.id)?.body).toBe(`${marker()}\nplanted`)
    expect(comment(older.id)?.body).toContain('🟢 ready')
  })
})
