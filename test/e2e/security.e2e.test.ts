/**
 * Issue 22 through the committed dist/index.js, as the runner runs it: what the action sends, what
 * it prints, what it writes to the summary and the pull request comment, and what it deletes, when
 * the inputs, the state, Neon's names and the schema are hostile. Each block names its finding.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import MarkdownIt from 'markdown-it'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { runAction, runPost, secretLeaks, type ActionRun } from '../helpers/run-action.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_securitytoken2222'
const DAY = 86_400_000
let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 30, start_compute: 40, delete_timeline: 30, suspend_compute: 10 },
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
  gh.faults.length = 0
  gh.comments.clear()
  gh.pulls.clear()
  projectId = sim.createProject({ id: 'security-22222222' }).id
})

function prPayload(number: number, headRef: string, action = 'synchronize'): unknown {
  return {
    action,
    number,
    pull_request: {
      number,
      state: action === 'closed' ? 'closed' : 'open',
      head: { ref: headRef, sha: 'a1b2c3d'.padEnd(40, '0'), repo: { full_name: REPO } },
      base: { ref: 'main', repo: { full_name: REPO } },
    },
  }
}

function act(
  inputs: Record<string, string>,
  o: { eventName?: string; payload?: unknown; env?: Record<string, string> } = {},
): Promise<ActionRun> {
  return runAction({
    eventName: o.eventName ?? 'pull_request',
    payload: o.payload ?? prPayload(22, 'feature/x'),
    githubApiUrl: gh.url,
    repository: REPO,
    env: o.env ?? {},
    inputs: {
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: TOKEN,
      ...inputs,
    },
  })
}

const live = () => Object.values(sim.state.branches).filter((b) => b.project_id === projectId && !b.deleted)
const deletes = (from = 0) => sim.log.slice(from).filter((l) => l.method === 'DELETE')

/** Lines of stdout the runner would take for a workflow command (actions/runner ActionCommand.cs). */
function commandLines(run: ActionRun): string[] {
  return run.stdout.split(/\r\n|\r|\n/).filter((l) => l.trimStart().startsWith('::') || l.includes('##['))
}

const md = new MarkdownIt({ html: true, linkify: true })
/** Images, links to evil.example and list items in rendered Markdown. */
function escapes(html: string): string[] {
  return [
    ...[...html.matchAll(/<img\b[^>]*>/gi)].map((m) => m[0]),
    ...[...html.matchAll(/<a\b[^>]*>/gi)].map((m) => m[0]).filter((a) => a.includes('evil')),
    ...[...html.matchAll(/<li>/gi)].map((m) => m[0]),
  ]
}

describe('finding 2: api_host', () => {
  // Hosts that are not on the allowed list but reach this machine all the same, where a recorder
  // listens: were the check ever lost, the request would land here, never on the network.
  it.each(['http://0.0.0.0:{port}/api/v2', 'http://[::ffff:127.0.0.1]:{port}/api/v2'])(
    'plain http to %s fails naming the input, before any request',
    async (pattern) => {
      const elsewhere = await recorder()
      try {
        const host = pattern.replace('{port}', elsewhere.url.split(':').at(-1)!)
        const run = await act({ mode: 'create', api_host: host })
        expect(run.code).toBe(1)
        expect(run.stdout).toMatch(
          /^::error::Invalid input 'api_host': http:\/\/\S+: Plain http:\/\/ would send the API key in clear text/m,
        )
        expect(elsewhere.seen).toEqual([])
        expect(sim.log).toEqual([])
        expect(gh.requests).toEqual([])
      } finally {
        await elsewhere.close()
      }
    },
  )

  it('http to the loopback (the simulator here) is accepted', async () => {
    expect((await act({ mode: 'create', comment: 'false' })).code).toBe(0)
  })
})

/** A server that only records what reaches it: the host a forged state names. */
async function recorder(): Promise<{ url: string; seen: IncomingMessage[]; close(): Promise<void> }> {
  const seen: IncomingMessage[] = []
  const server = createServer((req, res) => {
    seen.push(req)
    res.writeHead(404).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

describe('finding 5: the post step trusts no state it did not write', () => {
  /** A real ephemeral main step: its environment and state are what a forged state replaces. */
  async function ephemeralMain(): Promise<{ main: ActionRun; record: Record<string, unknown> }> {
    const main = await act({ mode: 'create', ephemeral: 'true', branch_name: 'ci/run-1-1-own' })
    expect(main.code).toBe(0)
    return { main, record: JSON.parse(main.state.ephemeral_branch!) as Record<string, unknown> }
  }

  it('another API host: no request goes there (the key stays home), nothing is deleted', async () => {
    const forged = await recorder()
    try {
      const { main, record } = await ephemeralMain()
      const victim = sim.addBranch(projectId, { name: 'preview/victim' })
      const before = sim.log.length
      const post = await runPost(main, {
        STATE_ephemeral_branch: JSON.stringify({
          ...record,
          apiHost: `${forged.url}/api/v2`,
          branchId: victim.id,
        }),
      })
      expect(post.code).toBe(0)
      expect(forged.seen).toEqual([])
      expect(sim.log.length).toBe(before)
      expect(post.stdout).toMatch(
        /^::warning::Post step: the recorded ephemeral branch was not acted on: it names the API host "http:\/\/127\.0\.0\.1:\d+\/api\/v2", not this step's api_host/m,
      )
      expect(post.summary).toContain('nothing was deleted')
      expect(live().map((b) => b.name)).toEqual(expect.arrayContaining(['preview/victim', 'ci/run-1-1-own']))
      expect(secretLeaks(post, [sim.apiKey])).toEqual([])
    } finally {
      await forged.close()
    }
  })

  it("another branch id on the right host: Neon is asked first, and a branch without this job's key stays", async () => {
    const { main, record } = await ephemeralMain()
    const victim = sim.addBranch(projectId, { name: 'preview/victim' })
    const before = sim.log.length
    const post = await runPost(main, {
      STATE_ephemeral_branch: JSON.stringify({ ...record, branchId: victim.id, operationIds: [] }),
    })
    expect(post.code).toBe(0)
    expect(deletes(before)).toEqual([])
    expect(sim.log.slice(before).map((l) => l.route)).toEqual([
      'GET /projects/{project_id}/branches/{branch_id}',
    ])
    expect(post.stdout).toMatch(
      /^::warning::Branch 'preview\/victim' \(br-[a-z0-9-]+\) was not deleted: this job's main step did not create it/m,
    )
    expect(sim.state.branches[victim.id]?.deleted).toBe(false)
  })

  it("a protected or default branch is never deleted, even one carrying the job's key", async () => {
    const { main, record } = await ephemeralMain()
    const key = String(record.key)
    const guarded = sim.addBranch(projectId, {
      name: 'ci/guarded',
      protected: true,
      annotations: { 'github-ephemeral': 'true', 'github-ephemeral-key': key },
    })
    const before = sim.log.length
    const post = await runPost(main, {
      STATE_ephemeral_branch: JSON.stringify({ ...record, branchId: guarded.id, name: 'ci/guarded' }),
    })
    expect(post.code).toBe(0)
    expect(deletes(before)).toEqual([])
    expect(post.stdout).toMatch(/was not deleted: it is a protected branch/)
  })

  it.each([
    ['another project', { projectId: 'other-project-1' }, /it names the project "other-project-1"/],
    ['an id not of the br- form', { branchId: '../../../projects/x' }, /is not of Neon's br-… form/],
    ['a key main never writes', { key: 'x' }, /github-ephemeral-key is not of the form/],
    ['a name with a newline', { name: 'ci/x\n::error::pwned' }, /its branch name "ci\/x\\n::error::pwned"/],
  ])('%s: refused before any request', async (_, change, why) => {
    const { main, record } = await ephemeralMain()
    const before = sim.log.length
    const post = await runPost(main, { STATE_ephemeral_branch: JSON.stringify({ ...record, ...change }) })
    expect(post.code).toBe(0)
    expect(sim.log.length).toBe(before)
    expect(post.stdout).toMatch(why)
    expect(commandLines(post).filter((l) => l.includes('pwned') && !l.startsWith('::warning::'))).toEqual([])
  })

  it('its own record is still deleted: one read of the branch, then the delete', async () => {
    const { main } = await ephemeralMain()
    const post = await runPost(main)
    expect(post.code).toBe(0)
    expect(live().map((b) => b.name)).toEqual(['main'])
  })
})

describe("finding 9: Neon's names and messages never start a workflow command", () => {
  it('a stale branch named to inject commands is deleted and logged on one escaped line', async () => {
    const evil =
      'preview/old\n::error::pwned-by-name\n  ::stop-commands::pwnedtoken\r::warning::pwned-by-cr ##[add-mask]pwned-legacy'
    sim.addBranch(projectId, {
      name: evil,
      updatedAt: new Date(Date.now() - 30 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    })
    const failing = sim.addBranch(projectId, {
      name: 'preview/fails',
      updatedAt: new Date(Date.now() - 30 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    })
    sim.faults.add({
      method: 'DELETE',
      route: new RegExp(`/branches/${failing.id}$`),
      status: 500,
      times: 100,
      body: { code: '', message: 'boom\n::error::pwned-by-message\r\n##[add-mask]pwned-msg-legacy' },
    })
    const run = await act({ mode: 'cleanup' }, { eventName: 'schedule', payload: {} })
    expect(run.code).toBe(1) // the failing delete, reported at the end
    expect(JSON.parse(run.outputs.deleted_branches!)).toEqual([evil])
    // What the runner would run as commands: only the action's own, none that a name or a message made.
    const injected = commandLines(run).filter(
      (l) =>
        /^\s*::(error|warning|stop-commands)::pwned/.test(l) ||
        /^\s*::stop-commands::/.test(l) ||
        l.includes('##['),
    )
    expect(injected).toEqual([])
    expect(run.stdout).toContain(
      "Changed: deleted 'preview/old\\u000a::error::pwned-by-name\\u000a  ::stop-commands::pwnedtoken\\u000d::warning::pwned-by-cr ##\\u005badd-mask]pwned-legacy'",
    )
  })
})

describe('findings 1 and 11: a hostile schema in the summary, the comment and the output', () => {
  const BASE = 'CREATE TABLE a (id integer);\n\nCREATE TABLE b (id integer);\n\n'
  const HOSTILE = [
    "COMMENT ON TABLE b IS '![x](https://evil.example/pixel.png) [click](https://evil.example/phish)';",
    '',
    '- a list item?',
    '',
    '<img src="https://evil.example/raw.png">',
    '',
    'CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (',
    "    dbname 'app',",
    "    host 'db.example'",
    ');',
    '',
    'CREATE USER MAPPING FOR app SERVER remote OPTIONS (',
    "    password 'fdw-s3cret-pw',",
    '    "user" \'app\'',
    ');',
    '',
    "CREATE SUBSCRIPTION sub CONNECTION 'host=pub.example password=sub-s3cret-pw dbname=app' PUBLICATION p WITH (connect = false, slot_name = 'sub');",
    '',
  ].join('\n')

  it('stays inside its blocks, and shows *** for every password; nothing is masked at its word', async () => {
    const branch = sim.addBranch(projectId, { name: 'preview/pr-22-feature/x' })
    const main = sim.world.liveBranches(projectId).find((b) => b.name === 'main')!
    sim.setSchema(projectId, main.id, 'neondb', BASE)
    sim.setSchema(projectId, branch.id, 'neondb', `${BASE}${HOSTILE}\n`)
    const run = await act({ mode: 'schema-diff' })
    expect(run.code).toBe(0)
    expect(run.outputs.schema_changed).toBe('true')

    const comment = [...gh.comments.values()].flat()[0]!.body
    for (const [where, text] of [
      ['schema_diff', run.outputs.schema_diff!],
      ['comment', comment],
      ['summary', run.summary],
    ] as const) {
      expect(text, where).not.toContain('fdw-s3cret-pw')
      expect(text, where).not.toContain('sub-s3cret-pw')
      expect(text, where).toMatch(/password ('|&#39;)\*\*\*('|&#39;)/)
      expect(text, where).toContain('password=***')
    }
    // Issue 30: the schema is the pull request's text; what it holds is redacted by pattern, never
    // registered with ::add-mask:: (a migration would choose words to hide), and never printed.
    for (const secret of ['fdw-s3cret-pw', 'sub-s3cret-pw']) {
      expect(run.masked).not.toContain(secret)
      expect(`${run.stdout}\n${run.stderr}`).not.toContain(secret)
    }
    expect(secretLeaks(run, [sim.apiKey, TOKEN])).toEqual([])

    // GitHub's rendering (CommonMark with HTML, GFM autolinks): no image, link or list escapes.
    expect(escapes(md.render(run.summary))).toEqual([])
    expect(escapes(md.render(comment))).toEqual([])
    expect(md.render(run.summary)).toContain('![x](https://evil.example/pixel.png)')
  })
})

describe('finding 6: the sticky comment is only ever the action’s own', () => {
  it('a planted comment with the marker, even the oldest, is never edited or deleted', async () => {
    const marker = `<!-- neon-preview-branch: ${projectId}/preview/pr-22-feature/x -->`
    const planted = gh.addComment(
      REPO,
      22,
      `${marker}\n### Neon preview branch: ready\n[connect here](https://evil.example)`,
      'mallory',
    )
    const first = await act({ mode: 'create' })
    expect(first.code).toBe(0)
    const again = await act({ mode: 'create' })
    expect(again.code).toBe(0)
    const all = gh.comments.get(`${REPO}#22`)!
    expect(all.find((c) => c.id === planted.id)?.body).toContain('[connect here](https://evil.example)')
    const ours = all.filter((c) => c.id !== planted.id)
    expect(ours).toHaveLength(1)
    expect(ours[0]!.user).toEqual({ login: 'github-actions[bot]', type: 'Bot' })
    expect(gh.requests.filter((r) => r.path.endsWith(`/comments/${planted.id}`))).toEqual([])
    expect(again.summary).toContain('<td>Pull request comment</td><td>updated</td>')
  })
})

describe("finding 3: another repository's branch", () => {
  it('delete on a closed pull request leaves it, deleted=false, with a warning; the step passes', async () => {
    const theirs = sim.addBranch(projectId, {
      name: 'preview/pr-22-feature/x',
      annotations: { 'github-commit-repo': 'someone/else', 'github-pr-number': '22' },
    })
    const before = sim.log.length
    const run = await act({ mode: 'delete' }, { payload: prPayload(22, 'feature/x', 'closed') })
    expect(run.code).toBe(0)
    expect(run.outputs.deleted).toBe('false')
    expect(deletes(before)).toEqual([])
    expect(sim.state.branches[theirs.id]?.deleted).toBe(false)
    expect(run.stdout).toMatch(
      /^::warning::Branch 'preview\/pr-22-feature\/x' .* is annotated for repository someone\/else/m,
    )
    expect(run.summary).toContain('no: it is annotated for repository someone/else, not this one')
  })

  it('create fails naming the other repository and a branch_name of this one, handing out no URL', async () => {
    sim.addBranch(projectId, {
      name: 'preview/pr-22-feature/x',
      annotations: { 'github-repo': 'someone/else', 'github-pr-number': '22' },
    })
    const run = await act({ mode: 'create' })
    expect(run.code).toBe(1)
    expect(run.outputs.db_url).toBeUndefined()
    expect(run.stdout).toMatch(
      /^::error::create of branch 'preview\/pr-22-feature\/x' failed: branch 'preview\/pr-22-feature\/x' \(br-[a-z0-9-]+\) in project security-22222222 is annotated for repository someone\/else \(github-repo\), not octo-org\/octo-repo/m,
    )
    expect(run.stdout).toContain(
      'branch_name: preview/octo-repo/pr-${{ github.event.pull_request.number }}-${{ github.head_ref }}',
    )
  })
})
