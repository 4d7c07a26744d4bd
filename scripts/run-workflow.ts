// Runs a workflow's one job on this machine, step by step, as GitHub's runner would, so that
// `npm run self-test` does exactly what .github/workflows/self-test.yml does (it reads that file; there
// is no second copy of the steps to drift).
//
// Usage: tsx scripts/run-workflow.ts <workflow.yml> [--env NAME=VALUE]...
//   --env overrides a variable of the workflow's `env` (e.g. SIM_PORT=4010 for the simulator on a
//   fixed port; self-test.yml's own SIM_PORT is 0, a free one).
//
// What it does, and what it leaves to GitHub:
// - `run:` steps run with `bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`), with the
//   workflow's, the job's and the step's `env`, and RUNNER_TEMP, GITHUB_ENV, GITHUB_OUTPUT as files.
// - `uses: ./` runs the action's `runs.main` (dist/index.js) with Node (ACTION_NODE, default this
//   Node), with an INPUT_<NAME> variable for every input action.yml declares (`with:` or its default),
//   as the runner sets them; the event is workflow_dispatch, GITHUB_API_URL a closed loopback port.
// - Other `uses:` steps (actions/checkout, actions/setup-node) are skipped: this checkout and this
//   Node are used as they are. So is a step whose `if:` is false, with RUN_LOCALLY=true in `env`.
// - Expressions: `${{ env.X }}`, `${{ steps.<id>.outputs.<name> }}`, `${{ runner.temp }}`,
//   `${{ github.token }}` (empty here); `if:` also `always()`, `success()`, `failure()` and
//   `env.X == '…'` / `env.X != '…'`. Anything else fails the run, naming it.
// - `::add-mask::` values are masked in all later output, as the runner masks them; `::debug::` lines
//   are shown only with RUNNER_DEBUG=1.

import { spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { parseOutputFile } from '../test/helpers/run-action.js'

interface Step {
  id?: string
  name?: string
  if?: string
  uses?: string
  with?: Record<string, string | number | boolean>
  env?: Record<string, string | number | boolean>
  run?: string
}
interface Workflow {
  env?: Record<string, string | number | boolean>
  jobs: Record<string, { env?: Record<string, string | number | boolean>; steps: Step[] }>
}
interface ActionMetadata {
  inputs?: Record<string, { default?: string }>
  runs: { using: string; main: string }
}

function usage(message: string): never {
  process.stderr.write(`run-workflow: ${message}\nusage: run-workflow <workflow.yml> [--env NAME=VALUE]...\n`)
  process.exit(2)
}

const args = process.argv.slice(2)
const workflowPath = args.shift() ?? usage('no workflow given')
const overrides: Record<string, string> = {}
while (args.length > 0) {
  const flag = args.shift()
  const value = args.shift()
  if (flag !== '--env' || value === undefined || !value.includes('=')) usage(`bad argument ${flag ?? ''}`)
  overrides[value.slice(0, value.indexOf('='))] = value.slice(value.indexOf('=') + 1)
}

const workflow = parseYaml(readFileSync(workflowPath, 'utf8')) as Workflow
const jobNames = Object.keys(workflow.jobs ?? {})
if (jobNames.length !== 1) usage(`${workflowPath} must have exactly one job, has ${jobNames.length}`)
const job = workflow.jobs[jobNames[0]!]!
const workspace = resolve(dirname(workflowPath), '../..')
const temp = process.env.RUNNER_TEMP || mkdtempSync(join(tmpdir(), 'run-workflow-'))
mkdirSync(temp, { recursive: true })
const githubEnvFile = join(temp, 'github_env')
writeFileSync(githubEnvFile, '')

const str = (v: string | number | boolean | undefined): string => (v === undefined ? '' : String(v))
/** The `env` context: workflow, job, what steps appended to GITHUB_ENV, the overrides. */
const envContext: Record<string, string> = {
  ...Object.fromEntries(Object.entries(workflow.env ?? {}).map(([k, v]) => [k, str(v)])),
  ...Object.fromEntries(Object.entries(job.env ?? {}).map(([k, v]) => [k, str(v)])),
  ...overrides,
  RUN_LOCALLY: 'true',
}
const stepOutputs: Record<string, Record<string, string>> = {}
const masks = new Set<string>()

function lookup(expr: string, env: Record<string, string>): string {
  const e = expr.trim()
  let m: RegExpMatchArray | null
  if ((m = e.match(/^env\.([A-Za-z_][A-Za-z0-9_]*)$/))) return env[m[1]!] ?? ''
  if ((m = e.match(/^steps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)$/)))
    return stepOutputs[m[1]!]?.[m[2]!] ?? ''
  if (e === 'runner.temp') return temp
  if (e === 'github.token') return ''
  throw new Error(`unsupported expression \${{ ${e} }}`)
}

const interpolate = (text: string, env: Record<string, string>): string =>
  text.replace(/\$\{\{(.*?)\}\}/g, (_, expr: string) => lookup(expr, env))

function condition(expr: string | undefined, failed: boolean, env: Record<string, string>): boolean {
  const e = (expr ?? 'success()')
    .trim()
    .replace(/^\$\{\{(.*)\}\}$/, '$1')
    .trim()
  if (e === 'always()') return true
  if (e === 'success()') return !failed
  if (e === 'failure()') return failed
  const m = e.match(/^(env\.[A-Za-z_][A-Za-z0-9_]*)\s*(==|!=)\s*'([^']*)'$/)
  if (!m) throw new Error(`unsupported if: ${e}`)
  const equal = lookup(m[1]!, env) === m[3]
  return !failed && (m[2] === '==' ? equal : !equal)
}

function mask(text: string): string {
  let out = text
  for (const m of [...masks].sort((a, b) => b.length - a.length)) if (m) out = out.split(m).join('***')
  return out
}

/** Runs a process, printing its output line by line, masked; `::add-mask::` lines add masks. */
function execute(command: string, argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done, reject) => {
    const child = spawn(command, argv, { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const pipe = (stream: NodeJS.ReadableStream, to: NodeJS.WriteStream) => {
      let pending = ''
      stream.on('data', (chunk: Buffer) => {
        pending += chunk.toString()
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          const added = line.match(/^::add-mask::(.*)$/)
          // Command data comes escaped (@actions/core's escapeData): the mask is the value itself.
          if (added) masks.add(added[1]!.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'))
          // The runner shows debug lines only when debug logging is on.
          else if (!line.startsWith('::debug::') || process.env.RUNNER_DEBUG === '1')
            to.write(`${mask(line)}\n`)
        }
      })
      stream.on('end', () => pending && to.write(`${mask(pending)}\n`))
    }
    pipe(child.stdout, process.stdout)
    pipe(child.stderr, process.stderr)
    child.on('error', reject)
    child.on('close', (code, signal) => done(code ?? (signal ? 128 : 1)))
  })
}

/** The process environment a step sees: this machine's, minus any stray INPUT_*, plus the contexts. */
function processEnv(stepEnv: Record<string, string>, outputFile: string): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_')))
  return {
    ...base,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: temp,
    GITHUB_ENV: githubEnvFile,
    GITHUB_OUTPUT: outputFile,
    ...stepEnv,
  }
}

async function runLocalAction(step: Step, env: Record<string, string>, outputFile: string): Promise<number> {
  const metadata = parseYaml(readFileSync(join(workspace, 'action.yml'), 'utf8')) as ActionMetadata
  const given = step.with ?? {}
  for (const key of Object.keys(given))
    if (!(key in (metadata.inputs ?? {}))) throw new Error(`input '${key}' is not declared in action.yml`)
  const inputs: Record<string, string> = {}
  for (const [name, spec] of Object.entries(metadata.inputs ?? {})) {
    const value = name in given ? str(given[name]) : (spec.default ?? '')
    inputs[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = interpolate(value, env)
  }
  const eventFile = join(temp, 'event.json')
  const summaryFile = join(temp, `summary-${step.id ?? 'step'}.md`)
  writeFileSync(eventFile, JSON.stringify({ inputs: {} }))
  writeFileSync(summaryFile, '')
  const node = process.env.ACTION_NODE || process.execPath
  return execute(node, [join(workspace, metadata.runs.main)], {
    ...processEnv(env, outputFile),
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: 'local/neon-preview-branch',
    GITHUB_SERVER_URL: 'https://github.com',
    // Nothing listens on port 9 (discard): a GitHub API call fails at once, and stays on this machine.
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_RUN_ID: '1',
    GITHUB_SHA: '0'.repeat(40),
    ...inputs,
  })
}

let failed = false
for (const [index, step] of job.steps.entries()) {
  const title = step.name ?? step.uses ?? step.run?.split('\n')[0] ?? `step ${index + 1}`
  const stepEnv = {
    ...envContext,
    ...Object.fromEntries(
      Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(str(v), envContext)]),
    ),
  }
  let code = 0
  try {
    if (!condition(step.if, failed, stepEnv)) {
      process.stdout.write(`== ${title}: skipped (if: ${step.if ?? 'success()'})\n`)
      continue
    }
    if (step.uses !== undefined && step.uses !== './') {
      process.stdout.write(`== ${title}: skipped (a GitHub-hosted action; this checkout and Node are used)\n`)
      continue
    }
    process.stdout.write(`== ${title}\n`)
    const outputFile = join(temp, `output-${index}`)
    writeFileSync(outputFile, '')
    if (step.uses === './') code = await runLocalAction(step, stepEnv, outputFile)
    else if (step.run !== undefined) {
      const script = join(temp, `step-${index}.sh`)
      writeFileSync(script, interpolate(step.run, stepEnv))
      code = await execute(
        'bash',
        ['--noprofile', '--norc', '-eo', 'pipefail', script],
        processEnv(stepEnv, outputFile),
      )
    } else throw new Error('a step needs `run` or `uses`')
    if (step.id) stepOutputs[step.id] = parseOutputFile(readFileSync(outputFile, 'utf8'))
    Object.assign(envContext, parseOutputFile(readFileSync(githubEnvFile, 'utf8')))
  } catch (err) {
    process.stderr.write(`run-workflow: ${title}: ${err instanceof Error ? err.message : String(err)}\n`)
    code = 1
  }
  if (code !== 0) {
    process.stdout.write(`== ${title}: failed (exit ${code})\n`)
    failed = true
  }
}
process.stdout.write(failed ? `== job failed\n` : `== job succeeded\n`)
process.exit(failed ? 1 : 0)
