/**
 * Anonymized branches through the committed dist/index.js, as the runner runs it: masking rules
 * inline and from a file, nothing handed out before Neon says `anonymized`, a failed masking, the
 * pushes after the first (same rules, other rules), reset, bad rules, ephemeral, and what the
 * comment and the summary say (never the rules). Also prints the requests a create and a push cost.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import {
  runAction,
  runPost,
  secretLeaks,
  startAction,
  type ActionRun,
  type RunActionOptions,
} from '../helpers/run-action.js'
import { anonState } from '../sim/anonymization.js'
import { api } from '../sim/helpers.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_anonymizedtoken42'
let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string
let workspace: string

// Words that appear only in the rules: none may reach the comment or the summary.
const RULE_WORDS = [
  'customer_accounts',
  'contact_email',
  'mobile_phone',
  'dummy_free_email',
  'partial(',
  'REDACTED-VALUE',
]
const RULES = `
- table: customer_accounts
  column: contact_email
  function: anon.dummy_free_email()
- table: customer_accounts
  column: mobile_phone
  function: anon.partial(mobile_phone, 2, 'XXX-XXXX', 2)
- table: crm.leads
  column: notes
  value: REDACTED-VALUE
`

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 60, start_compute: 80, delete_timeline: 40, suspend_compute: 20 },
    // Long enough that a step that did not wait for it would be seen to end before it.
    anonymizationMs: { initializeMs: 150, baseMs: 600, perRuleMs: 100 },
  })
  gh = await startFakeGitHub()
  projectId = sim.createProject({ id: 'masked-data-12345678' }).id
  workspace = mkdtempSync(join(tmpdir(), 'npb-anon-ws-'))
  mkdirSync(join(workspace, 'db'))
  writeFileSync(join(workspace, 'db', 'masking-rules.yml'), RULES)
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

const payload = (number: number, action: string) => ({
  action,
  number,
  pull_request: {
    number,
    title: 'Masked data',
    head: { ref: `feature-${number}`, sha: 'd'.repeat(40), repo: { full_name: REPO } },
    base: { ref: 'main', repo: { full_name: REPO } },
  },
  repository: { full_name: REPO },
})

function options(number: number, action: string, inputs: Record<string, string>): RunActionOptions {
  return {
    eventName: 'pull_request',
    payload: payload(number, action),
    githubApiUrl: gh.url,
    repository: REPO,
    env: { GITHUB_WORKSPACE: workspace },
    inputs: {
      mode: 'create',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: TOKEN,
      ...inputs,
    },
  }
}
const act = (number: number, action: string, inputs: Record<string, string>) =>
  runAction(options(number, action, inputs))

const branch = (name: string) =>
  Object.values(sim.state.branches).find((b) => b.name === name && b.project_id === projectId && !b.deleted)
const byRoute = (from: number, to = sim.log.length) => {
  const m: Record<string, number> = {}
  for (const l of sim.log.slice(from, to))
    m[`${l.route} ${l.status}`] = (m[`${l.route} ${l.status}`] ?? 0) + 1
  return m
}
const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0)
const comment = (pr: number) => gh.commentBodies(REPO, pr).at(-1) ?? ''

function expectNoRuleText(run: ActionRun, pr: number): void {
  for (const w of RULE_WORDS) {
    expect(run.summary).not.toContain(w)
    expect(comment(pr)).not.toContain(w)
  }
}

describe('create with masking_rules, through dist/index.js', () => {
  let first: ActionRun

  it('writes no output until Neon says anonymized, then every output; the step ends after it', async () => {
    const from = sim.log.length
    const started = startAction(options(21, 'opened', { masking_rules: RULES }))
    // Watch the output file while the step runs: whenever it holds anything, the masking is done.
    let sawOutputsEarly = false
    let sawMasking = false
    const watch = setInterval(() => {
      const b = branch('preview/pr-21-feature-21')
      const state = b ? anonState(sim.world, sim.world.branches.get(b.id)!)?.state : undefined
      if (state === 'anonymizing') sawMasking = true
      if (readFileSync(started.files.output, 'utf8') !== '' && state !== 'anonymized') sawOutputsEarly = true
    }, 5)
    first = await started.result
    clearInterval(watch)
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(sawMasking).toBe(true)
    expect(sawOutputsEarly).toBe(false)
    const b = branch('preview/pr-21-feature-21')!
    expect(anonState(sim.world, sim.world.branches.get(b.id)!)?.state).toBe('anonymized')
    const o = first.outputs
    expect(o).toMatchObject({ anonymized: 'true', masked_columns: '3', created: 'true', branch_id: b.id })
    expect(o.db_url).toContain(o.db_host)
    // No line of the log holds the host (nor, ever, the password); ::add-mask:: lines are the
    // masking itself, done the moment Neon's create answer (holding connection_uris) arrived, and
    // the runner never shows them.
    const shown = first.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'))
    expect(shown.filter((l) => l.includes(o.db_host!))).toEqual([])
    expect(secretLeaks(first, [o.password ?? '', o.db_url ?? '', o.db_url_pooled ?? ''])).toEqual([])
    const created = byRoute(from)
    expect(created['POST /projects/{project_id}/branch_anonymized 201']).toBe(1)
    console.log(
      `anonymized create (opened): ${total(created)} Neon requests, ` +
        `${created['GET /projects/{project_id}/branches/{branch_id}/anonymized_status 200']} of them status polls\n` +
        JSON.stringify(created, null, 1),
    )
  })

  it('the comment and the summary say "anonymized, 3 columns masked" and never print a rule', () => {
    expect(first.summary).toContain('<td>Data</td><td>anonymized, 3 columns masked</td>')
    expect(comment(21)).toContain('| Data | anonymized, 3 columns masked |')
    expectNoRuleText(first, 21)
  })

  it('a push with the same rules: no PATCH, no new masking run', async () => {
    const from = sim.log.length
    const push = await act(21, 'synchronize', { masking_rules: RULES })
    expect(push.code).toBe(0)
    const seen = byRoute(from)
    expect(Object.keys(seen).filter((k) => k.startsWith('PATCH') && k.includes('masking_rules'))).toEqual([])
    expect(Object.keys(seen).filter((k) => k.includes('/anonymize '))).toEqual([])
    expect(push.outputs).toMatchObject({ anonymized: 'true', masked_columns: '3', created: 'false' })
    expectNoRuleText(push, 21)
    console.log(`push with the same rules: ${total(seen)} Neon requests\n${JSON.stringify(seen, null, 1)}`)
  })

  it('a push with other rules: PATCH, a new masking run waited for, and the warning', async () => {
    const id = branch('preview/pr-21-feature-21')!.id
    const before = (await api(sim, 'GET', `/projects/${projectId}/branches/${id}/anonymized_status`)).body
      .last_run
    const from = sim.log.length
    const two = RULES.split('- table: crm.leads')[0]!
    const push = await act(21, 'synchronize', { masking_rules: two })
    expect(push.code).toBe(0)
    const seen = byRoute(from)
    expect(seen['PATCH /projects/{project_id}/branches/{branch_id}/masking_rules 200']).toBe(1)
    expect(seen['POST /projects/{project_id}/branches/{branch_id}/anonymize 200']).toBe(1)
    const after = (await api(sim, 'GET', `/projects/${projectId}/branches/${id}/anonymized_status`)).body
    expect(after.state).toBe('anonymized')
    expect(after.last_run.started_at >= before.completed_at).toBe(true)
    expect(push.outputs).toMatchObject({ anonymized: 'true', masked_columns: '2' })
    expect(push.stdout).toMatch(/::warning::.*no original value comes back/)
    expect(comment(21)).toContain('anonymized, 2 columns masked (masked again by this run)')
    expectNoRuleText(push, 21)
    console.log(`push with other rules: ${total(seen)} Neon requests\n${JSON.stringify(seen, null, 1)}`)
  })

  it('reset re-creates the branch: new id, host and password, said in the outputs, comment and summary', async () => {
    const old = first.outputs
    const reset = await act(21, 'synchronize', { mode: 'reset', masking_rules_file: 'db/masking-rules.yml' })
    expect(reset.stderr).toBe('')
    expect(reset.code).toBe(0)
    const o = reset.outputs
    expect(o.branch_id).not.toBe(old.branch_id)
    expect(o.db_host).not.toBe(old.db_host)
    expect(o).toMatchObject({
      created: 'true',
      anonymized: 'true',
      masked_columns: '3',
      branch_name: 'preview/pr-21-feature-21',
    })
    expect(sim.state.branches[old.branch_id!]?.deleted).toBe(true)
    expect(reset.summary).toContain('<td>Re-created</td><td>yes: Neon cannot reset an anonymized branch')
    expect(comment(21)).toContain(`new branch id (it was \`${old.branch_id}\`), host and password`)
    expect(reset.stdout).toMatch(/::notice::Branch 'preview\/pr-21-feature-21' was re-created as br-/)
    expectNoRuleText(reset, 21)
  })
})

describe('failures', () => {
  it('a masking that ends in error fails the step, deletes the branch, outputs no URL; the status message is only in the log', async () => {
    sim.failNextAnonymization(
      'anonymization',
      'ERROR: invalid input syntax for type integer: "contact_email-xyz"',
    )
    const run = await act(22, 'opened', { masking_rules: RULES })
    expect(run.code).toBe(1)
    expect(run.outputs.db_url).toBeUndefined()
    expect(run.outputs.db_host).toBeUndefined()
    expect(run.outputs.password).toBeUndefined()
    expect(branch('preview/pr-22-feature-22')).toBeUndefined()
    expect(run.stdout).toMatch(/::error::.*ended in 'error': ERROR: invalid input syntax for type integer/)
    expect(run.stdout).toContain('The branch was deleted')
    expect(run.summary).toContain('The branch was deleted')
    expect(comment(22)).toContain('The branch was deleted')
    expect(run.summary).not.toContain('invalid input syntax')
    expect(comment(22)).not.toContain('invalid input syntax')
    expectNoRuleText(run, 22)
  })

  it('malformed rules fail before any request, naming the rule', async () => {
    const neon = sim.log.length
    const github = gh.requests.length
    const run = await act(23, 'opened', {
      masking_rules: '- table: customer_accounts\n  column: contact_email\n',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(
      /::error::Invalid input 'masking_rules': rule 1 \(line 1\): neither 'function' nor 'value' is given/,
    )
    expect(sim.log.length).toBe(neon)
    expect(gh.requests.length).toBe(github)
    const file = await act(23, 'opened', { masking_rules_file: 'db/nope.yml' })
    expect(file.code).toBe(1)
    expect(file.stdout).toContain(`Input 'masking_rules_file': 'db/nope.yml' does not exist in the workspace`)
    expect(sim.log.length).toBe(neon)
  })

  it('a plain branch asked for masking is an error naming it, and nothing changes', async () => {
    const plain = await act(24, 'opened', {})
    expect(plain.outputs.anonymized).toBe('false')
    const from = sim.log.length
    const run = await act(24, 'synchronize', { masking_rules: RULES })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      `branch 'preview/pr-24-feature-24' (${plain.outputs.branch_id}) is not an anonymized branch`,
    )
    expect(sim.log.slice(from).filter((l) => l.method !== 'GET')).toEqual([])
  })
})

describe('ephemeral with masking rules', () => {
  it('the main step hands out a masked branch; the post step deletes it', async () => {
    const main = await runAction({
      eventName: 'push',
      githubApiUrl: gh.url,
      env: { GITHUB_WORKSPACE: workspace, GITHUB_RUN_ID: '777' },
      inputs: {
        mode: 'create',
        ephemeral: 'true',
        api_key: sim.apiKey,
        project_id: projectId,
        api_host: sim.apiUrl,
        masking_rules_file: 'db/masking-rules.yml',
      },
    })
    expect(main.stderr).toBe('')
    expect(main.code).toBe(0)
    expect(main.outputs).toMatchObject({ anonymized: 'true', masked_columns: '3' })
    const post = await runPost(main)
    expect(post.code).toBe(0)
    expect(sim.state.branches[main.outputs.branch_id!]?.deleted).toBe(true)
  })
})

describe('dry run with masking rules', () => {
  it('says it would create an anonymized branch with 3 rules, and changes nothing', async () => {
    const from = sim.log.length
    const run = await act(25, 'opened', { masking_rules: RULES, dry_run: 'true' })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(
      /::notice::Dry run: would create an anonymized branch 'preview\/pr-25-feature-25' from the default branch with 3 masking rules \(masking_rules\)/,
    )
    expect(sim.log.slice(from).filter((l) => l.method !== 'GET')).toEqual([])
    expect(run.outputs.anonymized).toBeUndefined()
  })
})
