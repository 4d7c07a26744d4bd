// .github/workflows/self-test.yml run on this machine by scripts/run-workflow.ts (`npm run self-test`):
// the simulator in the background with real PostgreSQL, the committed dist/index.js as `uses: ./`,
// psql through db_url, run exactly as written: the simulator takes a free port (SIM_PORT: '0'), so
// several checkouts may run at once on one machine, beside a simulator started on 4010 by hand.
// The runner itself is tested on small workflows: a failing step fails the job, `if: always()` still
// runs, an expression it does not know fails the run instead of being read as empty.

import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const RUNNER = join(ROOT, 'scripts/run-workflow.ts')
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs')
const temps: string[] = []

interface Run {
  code: number
  out: string
  temp: string
}

function runWorkflow(workflow: string, args: string[] = []): Promise<Run> {
  const temp = mkdtempSync(join(tmpdir(), 'npb-self-test-'))
  temps.push(temp)
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(INPUT_|GITHUB_|RUNNER_)/.test(k)),
  )
  const child = spawn(process.execPath, [TSX, RUNNER, workflow, ...args], {
    cwd: ROOT,
    env: { ...env, RUNNER_TEMP: temp },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr.on('data', (c: Buffer) => (out += c.toString()))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out, temp })))
}

afterAll(() => {
  // A run cut short must not leave its simulator behind: stop the one a run started and did not stop.
  for (const temp of temps) {
    const envFile = join(temp, 'github_env')
    const pid = existsSync(envFile) ? readFileSync(envFile, 'utf8').match(/^SIM_PID=(\d+)$/m)?.[1] : undefined
    if (pid && !existsSync(join(temp, 'sim.exit'))) {
      try {
        process.kill(Number(pid), 'SIGTERM')
      } catch {
        // already gone
      }
    }
  }
})

describe('the self-test workflow, run here', () => {
  const workflowFile = join(ROOT, '.github/workflows/self-test.yml')
  const steps = (
    parseYaml(readFileSync(workflowFile, 'utf8')) as {
      jobs: Record<string, { steps: { name?: string; uses?: string }[] }>
    }
  ).jobs['self-test']!.steps

  it('creates, connects with psql, resets, deletes, sweeps (dry run) and stops the simulator', async () => {
    const run = await runWorkflow(workflowFile)
    expect(run.code, run.out).toBe(0)
    expect(run.out).toContain('== job succeeded')
    // Every step of the workflow ran, but for the ones only GitHub runs.
    for (const step of steps) {
      const title = step.name ?? step.uses!
      if (step.uses && step.uses !== './') expect(run.out).toContain(`== ${title}: skipped`)
      else if (step.name === 'Install') expect(run.out).toContain(`== ${title}: skipped`)
      else {
        expect(run.out).toContain(`== ${title}\n`)
        expect(run.out).not.toContain(`== ${title}: failed`)
      }
    }
    expect(run.out).toMatch(/^Neon API simulator listening on http:\/\/127\.0\.0\.1:\d+$/m)
    expect(run.out).toContain('psql: 1 row written over TLS as neondb_owner')
    expect(run.out).toContain('psql: the table written before the reset is gone')
    expect(run.out).toContain("Dry run: would delete 'preview/self-test-leftover'")
    expect(run.out).toContain('the simulator exited 0 on SIGTERM')
    expect(readFileSync(join(run.temp, 'sim.exit'), 'utf8').trim()).toBe('0')
    // Connection strings appear only with their password masked, as on GitHub.
    expect(run.out).not.toMatch(/postgres(ql)?:\/\/[^:\s/]+:(?!\*\*\*@)[^@\s]+@/)
  }, 300_000)
})

describe('scripts/run-workflow.ts', () => {
  function workflow(name: string, body: object): string {
    const dir = mkdtempSync(join(tmpdir(), 'npb-wf-'))
    mkdirSync(join(dir, '.github/workflows'), { recursive: true })
    const file = join(dir, '.github/workflows', `${name}.yml`)
    writeFileSync(file, JSON.stringify(body))
    return file
  }

  it('a failing step fails the job; later steps are skipped but for if: always(); outputs and GITHUB_ENV carry over', async () => {
    const file = workflow('fail', {
      env: { GREETING: 'hello' },
      jobs: {
        j: {
          steps: [
            { id: 'a', run: 'echo "word=$GREETING" >>"$GITHUB_OUTPUT"; echo "LATER=set" >>"$GITHUB_ENV"' },
            { name: 'uses output', run: 'test "${{ steps.a.outputs.word }}" = hello && test "$LATER" = set' },
            { name: 'masked', run: 'echo "::add-mask::s3cret-value"; echo "the value is s3cret-value"' },
            { name: 'breaks', run: 'false' },
            { name: 'after a failure', run: 'echo should-not-run' },
            { name: 'always', if: 'always()', run: 'echo cleanup-ran' },
          ],
        },
      },
    })
    const run = await runWorkflow(file)
    expect(run.code, run.out).toBe(1)
    expect(run.out).not.toContain('== uses output: failed')
    expect(run.out).toContain('the value is ***')
    expect(run.out).not.toContain('s3cret-value')
    expect(run.out).toContain('== breaks: failed (exit 1)')
    expect(run.out).toContain('== after a failure: skipped')
    expect(run.out).not.toContain('should-not-run')
    expect(run.out).toContain('cleanup-ran')
    expect(run.out).toContain('== job failed')
  }, 60_000)

  it('an expression it does not evaluate fails the step, naming it', async () => {
    const file = workflow('expr', {
      jobs: { j: { steps: [{ name: 'ctx', run: 'echo "${{ github.event.pull_request.title }}"' }] } },
    })
    const run = await runWorkflow(file)
    expect(run.code).toBe(1)
    expect(run.out).toContain('unsupported expression ${{ github.event.pull_request.title }}')
  }, 60_000)
})
