import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url))

/**
 * The Node that runs the bundle: the one running the tests, or ACTION_NODE (CI points it at Node 24,
 * the runtime action.yml names, to run the end-to-end tests again there).
 */
export const ACTION_NODE = process.env.ACTION_NODE || process.execPath

export interface ActionRun {
  code: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** Values the action masked with ::add-mask::, in order. */
  masked: string[]
  /** What the run saved with core.saveState (the GITHUB_STATE file), the last value of each name. */
  state: Record<string, string>
  /** The environment it ran with (a post run repeats it, plus the STATE_* variables). */
  env: Record<string, string>
}

export interface RunActionOptions {
  inputs: Record<string, string>
  eventName: string
  payload?: unknown
  repository?: string
  githubApiUrl: string
  env?: Record<string, string>
  /** The bundle to run; default the committed dist/index.js (a benchmark may compare an older one). */
  script?: string
}

/** A run in progress, for tests that signal it. */
export interface StartedAction {
  child: ChildProcess
  /** Everything printed so far. */
  stdout(): string
  /** The command files the step appends to (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE). */
  files: { output: string; summary: string; state: string }
  result: Promise<ActionRun>
}

/**
 * Runs the committed dist/index.js as the runner does: inputs as INPUT_* variables, the event as a
 * file, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_STATE as files it appends to; then reads
 * those files back.
 */
export async function runAction(o: RunActionOptions): Promise<ActionRun> {
  return startAction(o).result
}

/** The main step's environment, as the runner builds it. */
function mainEnv(o: RunActionOptions, dir: string): Record<string, string> {
  const eventFile = join(dir, 'event.json')
  writeFileSync(eventFile, JSON.stringify(o.payload ?? {}))
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    GITHUB_ACTIONS: 'true',
    RUNNER_DEBUG: '1',
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_EVENT_NAME: o.eventName,
    GITHUB_REPOSITORY: o.repository ?? 'octo-org/octo-repo',
    GITHUB_API_URL: o.githubApiUrl,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'test',
    GITHUB_SHA: 'c0ffee'.padEnd(40, '0'),
    ...o.env,
  }
  for (const [k, v] of Object.entries(o.inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v
  return env
}

/** Starts dist/index.js as the main step; `result` settles when it exits. */
export function startAction(o: RunActionOptions): StartedAction {
  const dir = mkdtempSync(join(tmpdir(), 'npb-run-'))
  return spawnStep(mainEnv(o, dir), dir, o.script)
}

/**
 * Runs dist/index.js as the job's post step after `main`: the same environment (inputs included,
 * as the runner gives them), fresh command files, and every value main saved to GITHUB_STATE
 * handed over as a STATE_<name> variable.
 */
export async function runPost(main: ActionRun, env: Record<string, string> = {}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'npb-post-'))
  const stateEnv = Object.fromEntries(Object.entries(main.state).map(([k, v]) => [`STATE_${k}`, v]))
  const base = Object.fromEntries(Object.entries(main.env).filter(([k]) => !k.startsWith('STATE_')))
  return spawnStep({ ...base, ...stateEnv, ...env }, dir).result
}

function spawnStep(base: Record<string, string>, dir: string, script = DIST): StartedAction {
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  const stateFile = join(dir, 'state')
  for (const f of [outputFile, summaryFile, stateFile]) writeFileSync(f, '')
  const env = {
    ...base,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: stateFile,
  }
  const child = spawn(ACTION_NODE, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const result = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1))).then(
    (code): ActionRun => ({
      code,
      stdout,
      stderr,
      outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
      summary: readFileSync(summaryFile, 'utf8'),
      masked: [...stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1] ?? ''),
      state: parseOutputFile(readFileSync(stateFile, 'utf8')),
      env,
    }),
  )
  return {
    child,
    stdout: () => stdout,
    files: { output: outputFile, summary: summaryFile, state: stateFile },
    result,
  }
}

/**
 * Parses the runner's `name<<delimiter … delimiter` file format (and plain `name=value`), the
 * format of @actions/core's file commands (GITHUB_OUTPUT, GITHUB_STATE); a later value of a name
 * replaces an earlier one, as the runner does.
 */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const heredoc = line.match(/^([^=<]+)<<(.+)$/)
    if (heredoc) {
      const [, name, delim] = heredoc
      const value: string[] = []
      while (++i < lines.length && lines[i] !== delim) value.push(lines[i] ?? '')
      out[name!] = value.join('\n')
    } else if (line.includes('=')) {
      const at = line.indexOf('=')
      out[line.slice(0, at)] = line.slice(at + 1)
    }
  }
  return out
}

/**
 * Every secret must first appear in an ::add-mask:: line and never anywhere else in what the
 * action printed. Returns the offending lines (empty when clean).
 */
export function secretLeaks(run: ActionRun, secrets: string[]): string[] {
  const leaks: string[] = []
  const text = `${run.stdout}\n${run.stderr}`.split('\n')
  for (const secret of secrets.filter((s) => s.length > 0)) {
    const forms = new Set([secret, encodeURIComponent(secret)])
    let maskedYet = false
    for (const line of text) {
      if (line.startsWith('::add-mask::')) {
        if (forms.has(line.slice('::add-mask::'.length))) maskedYet = true
        continue
      }
      for (const f of forms) {
        if (line.includes(f))
          leaks.push(`${maskedYet ? 'masked but printed' : 'printed before masking'}: ${line}`)
      }
    }
    if (!maskedYet) leaks.push(`never masked: a secret of ${secret.length} characters`)
  }
  return leaks
}
