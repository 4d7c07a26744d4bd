/**
 * Issue 30, through the committed dist/index.js: what a pull request controls (masking rules, the
 * schema) cannot stall the step past its `timeout`, nor decide what is masked, nor be echoed.
 * Each of these fails on the code before issue 30: the rules file and the schema change ran for
 * minutes (past these tests' generous timeouts), the duplicate key was silently taken, the parser's
 * message quoted the rules, api_host was echoed whole, and `password 'changes'` became
 * `::add-mask::changes`. No test here measures the machine's speed: each is bounded by what the
 * action does (an input error, a diff given up), with vitest's timeout far above the step's.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { runAction, type ActionRun } from '../helpers/run-action.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_prcontenttoken4242'
let sim: NeonSimulator
let gh: FakeGitHub

beforeAll(async () => {
  sim = await startNeonSimulator({ operationMs: { create_branch: 10, start_compute: 10 } })
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

function run(
  project: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ActionRun> {
  return runAction({
    eventName: 'pull_request',
    payload: {
      action: 'synchronize',
      number: 7,
      pull_request: {
        number: 7,
        state: 'open',
        head: { ref: 'feature/x', sha: 'c'.repeat(40), repo: { full_name: REPO } },
        base: { ref: 'main', repo: { full_name: REPO } },
      },
    },
    repository: REPO,
    githubApiUrl: gh.url,
    inputs: {
      api_key: sim.apiKey,
      project_id: project,
      api_host: sim.apiUrl,
      github_token: TOKEN,
      ...inputs,
    },
    env,
  })
}

const errorOf = (r: ActionRun): string =>
  decodeURIComponent(
    (r.stdout.split('\n').find((l) => l.startsWith('::error')) ?? '')
      .replace(/^::error[^:]*::/, '')
      .replace(/%0A/g, '\n')
      .replace(/%25/g, '%'),
  )

/** A workspace holding one rules file. */
function workspace(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'npb-ws30-'))
  writeFileSync(join(dir, name), text)
  return dir
}

describe('masking rules: bounded work, strict reading, nothing echoed (items 1 and 3)', () => {
  it('a 1 MiB rules file of quotes on one line ends at once, within timeout: 10, naming the input', async () => {
    const project = sim.createProject({ id: 'rules-one-line-30' }).id
    const text = `- table: x${"'x".repeat((1 << 19) - 8)}\n`
    expect(text.length).toBeLessThanOrEqual(1 << 20)
    const before = sim.log.length
    const r = await run(
      project,
      { mode: 'create', timeout: '10', masking_rules_file: 'rules.yml' },
      { GITHUB_WORKSPACE: workspace('rules.yml', text) },
    )
    expect(r.code).toBe(1)
    expect(errorOf(r)).toMatch(
      /^Invalid input 'masking_rules_file' \('rules\.yml'\): the rules are not YAML this action reads: line 1: the line is longer than 16,384 characters/,
    )
    expect(sim.log.length).toBe(before)
  }, 120_000)

  it('a 1 MiB rules file of long lines of quotes is read in one pass, within timeout: 10', async () => {
    const project = sim.createProject({ id: 'rules-many-lines-30' }).id
    const line = `- table: x${"'x".repeat(8_000)}\n  column: c\n  value: v\n`
    const text = line.repeat(Math.floor((1 << 20) / line.length))
    const before = sim.log.length
    const r = await run(
      project,
      { mode: 'create', timeout: '10', masking_rules_file: 'rules.yml' },
      { GITHUB_WORKSPACE: workspace('rules.yml', text) },
    )
    expect(r.code).toBe(1)
    // Read to the end: what is refused is the first rule's table name, not the YAML.
    expect(errorOf(r)).toMatch(
      /^Invalid input 'masking_rules_file' \('rules\.yml'\): rule 1 \(line 1\): 'table'/,
    )
    expect(sim.log.length).toBe(before)
  }, 120_000)

  it('a key given twice in JSON rules is an input error naming masking_rules and the key', async () => {
    const project = sim.createProject({ id: 'rules-duplicate-30' }).id
    const before = sim.log.length
    const r = await run(project, {
      mode: 'create',
      masking_rules: '[{"table": "users", "column": "email", "value": "x", "column": "nickname"}]',
    })
    expect(r.code).toBe(1)
    expect(errorOf(r)).toMatch(
      /^Invalid input 'masking_rules': the rules are not valid JSON: line 1, column 54: the key 'column' is given twice in one object/,
    )
    expect(sim.log.length).toBe(before)
  })

  it("invalid JSON rules: the action's line and column, nothing of the rules in the log or the summary", async () => {
    const project = sim.createProject({ id: 'rules-bad-json-30' }).id
    const r = await run(project, {
      mode: 'create',
      masking_rules: '[{"table": "patients", "column": ssn_of_the_customer}]',
    })
    expect(r.code).toBe(1)
    expect(errorOf(r)).toContain('the rules are not valid JSON: line 1, column 34: expected a value')
    for (const text of [r.stdout, r.stderr, r.summary]) {
      expect(text).not.toContain('ssn_of_the_customer')
      expect(text).not.toMatch(/Unexpected token|in JSON at position/)
    }
  })

  it('api_host refused for its query string is not echoed', async () => {
    const secret = 'ghp_FAKE-query-token-ABCDEFGHIJKLMNOPQRSTUVWXYZ'
    const project = sim.createProject({ id: 'api-host-30' }).id
    const r = await run(project, { mode: 'create', api_host: `${sim.apiUrl}?access_token=${secret}` })
    expect(r.code).toBe(1)
    expect(errorOf(r)).toMatch(/^Invalid input 'api_host': .*it has a query string/)
    for (const text of [r.stdout, r.stderr, r.summary]) expect(text).not.toContain(secret)
  })
})

describe('the schema: bounded diff, nothing masked at its word (items 1 and 4)', () => {
  function schemaProject(id: string, base: string, branch: string): string {
    const project = sim.createProject({ id }).id
    const main = sim.world.liveBranches(project)[0]!.id
    sim.setSchema(project, main, 'neondb', base)
    const b = sim.addBranch(project, { name: 'preview/pr-7' })
    sim.setSchema(project, b.id, 'neondb', branch)
    return project
  }

  it('a 20,000-line change ends within timeout: 10, saying the diff was too large, with the sizes', async () => {
    const lines = (tag: string) =>
      Array.from({ length: 20_000 }, (_, i) => `CREATE TABLE public.t${i} (c_${tag} integer);`).join('\n') +
      '\n'
    const project = schemaProject('schema-large-30', lines('a'), lines('b'))
    const r = await run(project, { mode: 'schema-diff', branch_name: 'preview/pr-7', timeout: '10' })
    expect(r.code, r.stdout).toBe(0)
    expect(r.outputs.schema_changed).toBe('true')
    expect(r.outputs.schema_diff).toBe('')
    expect(r.summary).toContain('the schemas differ, but the diff was too large to compute')
    expect(r.summary).toMatch(/the base(&#39;|')s schema has 20,000 lines \([\d,]+ characters\)/)
    const body = gh.commentBodies(REPO, 7).at(-1) ?? ''
    expect(body).toContain('**the schemas differ, but the diff was too large to compute**')
    expect(body).toMatch(/the branch's 20,000 lines \([\d,]+ characters\)/)
  }, 120_000)

  it('a change that moves every line ends within timeout: 10, saying it was too large', async () => {
    // No line is new, so only jsdiff itself can tell: it stops at the deadline or at the limit of
    // changed lines, whichever comes first (which one depends on the machine; the outcome does not).
    const base = Array.from({ length: 30_000 }, (_, i) => `CREATE INDEX i${i} ON public.t (c${i});`)
    const project = schemaProject(
      'schema-moved-30',
      base.join('\n') + '\n',
      [...base].reverse().join('\n') + '\n',
    )
    const r = await run(project, { mode: 'schema-diff', branch_name: 'preview/pr-7', timeout: '10' })
    expect(r.code, r.stdout).toBe(0)
    expect(r.outputs.schema_changed).toBe('true')
    expect(r.summary).toContain('the schemas differ, but the diff was too large to compute')
  }, 120_000)

  it("`password 'changes'` in a migration is redacted, and never becomes ::add-mask::", async () => {
    const base = 'CREATE TABLE public.users (id integer);\n'
    const branch =
      base +
      "CREATE USER MAPPING FOR app SERVER remote OPTIONS (\n    password 'changes',\n    \"user\" 'app'\n);\n"
    const project = schemaProject('schema-mask-30', base, branch)
    const r = await run(project, { mode: 'schema-diff', branch_name: 'preview/pr-7' })
    expect(r.code, r.stdout).toBe(0)
    expect(r.masked).not.toContain('changes')
    expect(r.outputs.schema_diff).toContain("+    password '***',")
    expect(r.outputs.schema_diff).not.toContain("'changes'")
    const body = gh.commentBodies(REPO, 7).at(-1) ?? ''
    expect(body).toContain('#### Schema changes')
    expect(body).not.toContain("'changes'")
    expect(r.summary).toContain('<h4>Schema changes</h4>')
  })
})
