// `npm run local-action`: GitHub's @github/local-action (a client written by GitHub, not by us) runs
// the action's source with the committed .env.example, against the simulator, and prints the outputs
// the action set. The only change made to .env.example is the simulator's port (this test's is a free
// one: several checkouts may run at once on one machine).

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const EXAMPLE = readFileSync(join(ROOT, '.env.example'), 'utf8')
/** What .env.example says, read from it. */
const example = Object.fromEntries(
  EXAMPLE.split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
)
const EXAMPLE_HOST = '127.0.0.1:4010'

let sim: NeonSimulator
let dir: string

beforeAll(async () => {
  sim = await startNeonSimulator({ apiKeys: [example.INPUT_API_KEY!] })
  sim.createProject({ id: example.INPUT_PROJECT_ID! })
  dir = mkdtempSync(join(tmpdir(), 'npb-local-action-'))
})

afterAll(async () => {
  await sim?.close()
})

interface LocalActionRun {
  code: number
  stdout: string
  /** The "Action Outputs" table local-action prints at the end. */
  outputs: Record<string, string>
}

/** Runs `npm run local-action` with .env.example, its port pointed at this test's simulator. */
async function localAction(name: string, changes: Record<string, string> = {}): Promise<LocalActionRun> {
  let text = EXAMPLE.split(EXAMPLE_HOST).join(new URL(sim.url).host)
  for (const [k, v] of Object.entries(changes)) text = text.replace(new RegExp(`^${k}=.*$`, 'm'), `${k}=${v}`)
  const envFile = join(dir, `${name}.env`)
  writeFileSync(envFile, text)
  // Only what npm and node need: no INPUT_* or GITHUB_* from the machine running the tests.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(INPUT_|GITHUB_|RUNNER_|ACTIONS_)/.test(k)),
  )
  const child = spawn('npm', ['run', '--silent', 'local-action'], {
    cwd: ROOT,
    env: { ...env, LOCAL_ACTION_ENV: envFile, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stdout += c.toString()))
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)))
  const table = stdout.split('Action Outputs')[1] ?? ''
  const outputs = Object.fromEntries(
    [...table.matchAll(/^│ \d+\s+│ '([a-z_]+)'\s+│ '(.*?)'\s+│$/gm)].map((m) => [m[1]!, m[2]!]),
  )
  return { code, stdout, outputs }
}

describe('npm run local-action with .env.example, against the simulator', () => {
  it('.env.example points at the simulator command it documents', () => {
    expect(EXAMPLE).toContain(
      `npm run sim -- --port 4010 --api-key ${example.INPUT_API_KEY} --project-id ${example.INPUT_PROJECT_ID}`,
    )
    expect(example.INPUT_API_HOST).toBe(`http://${EXAMPLE_HOST}/api/v2`)
    expect(example.INPUT_MODE).toBe('create')
  })

  it('creates the branch and prints its outputs; a second run adopts it', async () => {
    const first = await localAction('create')
    expect(first.code, first.stdout).toBe(0)
    expect(first.stdout).toContain('Running Action')
    const branch = sim.world
      .liveBranches(example.INPUT_PROJECT_ID!)
      .find((b) => b.name === example.INPUT_BRANCH_NAME)
    expect(branch, first.stdout).toBeDefined()
    const endpoint = sim.world.readWriteEndpoint(branch!.id)
    expect(first.outputs).toMatchObject({
      branch_id: branch!.id,
      branch_name: 'preview/local-action',
      created: 'true',
      db_host: endpoint!.host,
      role: 'neondb_owner',
      database: 'neondb',
      endpoint_id: endpoint!.id,
      skipped: 'false',
    })
    // local-action, like the runner for job outputs, drops an output holding a masked value.
    for (const secret of ['db_url', 'db_url_pooled', 'password']) {
      expect(first.outputs).not.toHaveProperty(secret)
      expect(first.stdout).toContain(`Skip output ${secret} since it may contain secret.`)
    }
    const password = sim.rolePassword(example.INPUT_PROJECT_ID!, branch!.id, 'neondb_owner')
    expect(password).toBeTruthy()
    expect(first.stdout).not.toContain(password)
    expect(first.stdout).not.toContain(example.INPUT_API_KEY)

    const second = await localAction('adopt')
    expect(second.code, second.stdout).toBe(0)
    expect(second.outputs).toMatchObject({ branch_id: branch!.id, created: 'false' })
  }, 180_000)

  it('bad input fails before any request, naming the input', async () => {
    const before = sim.log.length
    const run = await localAction('bad', { INPUT_PROJECT_ID: 'NOT VALID' })
    expect(run.stdout).toMatch(/::error::Invalid input 'project_id'/)
    expect(run.stdout).toContain('No outputs were set!')
    expect(sim.log.length).toBe(before)
  }, 180_000)
})
