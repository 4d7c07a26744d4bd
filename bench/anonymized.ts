/**
 * `npm run bench:anonymized`: what an anonymized branch costs, measured by running the committed
 * dist/index.js as the runner does against the simulator on the real clock, with the benchmark's
 * settings: 30 ms per request, create_branch 800 ms, start_compute 1,500 ms, Neon's rate limits,
 * and a masking that takes 1 s to initialize and 3 s + 0.5 s per rule to run (no source gives
 * Neon's durations; these are of the order a small table takes).
 *
 * Prints, for a pull request's first run (opened: an anonymized create), a push with the same
 * rules, and a push with other rules:
 * - the Neon requests, by route;
 * - the time from Neon's `anonymized` (the simulator's state, to the millisecond) to the step's
 *   exit, beside the time `node -e 0` takes to start and exit on this machine in the same run.
 *
 *   npm run bench:anonymized              5 runs of each
 *   npm run bench:anonymized -- --quick   2 runs of each
 *
 * Timing is printed, never asserted: it depends on the machine.
 */
import { spawnSync } from 'node:child_process'
import { startFakeGitHub } from '../test/fake-github/server.js'
import { ACTION_NODE, runAction } from '../test/helpers/run-action.js'
import { anonState } from '../test/sim/anonymization.js'
import { NEON_RATE_LIMITS, startNeonSimulator, type NeonSimulator } from '../test/sim/index.js'

const RUNS = process.argv.includes('--quick') ? 2 : 5
const OPERATION_MS = { create_branch: 800, start_compute: 1500, delete_timeline: 400, suspend_compute: 0 }
const MASKING_MS = { initializeMs: 1000, baseMs: 3000, perRuleMs: 500 }
const RULES = JSON.stringify([
  { table: 'users', column: 'email', function: 'anon.dummy_free_email()' },
  { table: 'users', column: 'phone', function: "anon.partial(phone, 2, 'XXX-XXXX', 2)" },
  { table: 'users', column: 'name', value: 'CONFIDENTIAL' },
])
const OTHER_RULES = JSON.stringify(JSON.parse(RULES).slice(0, 2))

interface Sample {
  routes: Map<string, number>
  /** From the simulator's `anonymized` to the process's exit. */
  exitLagMs: number
  wallMs: number
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2
}

function byRoute(sim: NeonSimulator, from: number): Map<string, number> {
  const m = new Map<string, number>()
  for (const l of sim.log.slice(from))
    m.set(`${l.route} ${l.status}`, (m.get(`${l.route} ${l.status}`) ?? 0) + 1)
  return m
}

async function one(
  sim: NeonSimulator,
  gh: { url: string },
  project: string,
  pr: number,
  action: string,
  rules: string,
): Promise<Sample> {
  const from = sim.log.length
  const started = Date.now()
  const run = await runAction({
    eventName: 'pull_request',
    githubApiUrl: gh.url,
    payload: {
      action,
      number: pr,
      pull_request: {
        number: pr,
        head: { ref: `bench-${pr}`, sha: 'e'.repeat(40), repo: { full_name: 'octo-org/octo-repo' } },
        base: { ref: 'main', repo: { full_name: 'octo-org/octo-repo' } },
      },
    },
    inputs: {
      mode: 'create',
      api_key: sim.apiKey,
      project_id: project,
      api_host: sim.apiUrl,
      comment: 'false',
      masking_rules: rules,
    },
  })
  const exited = Date.now()
  if (run.code !== 0) throw new Error(`the step exited ${run.code}:\n${run.stdout}`)
  const b = sim.world.branches.get(run.outputs.branch_id ?? '')
  const s = b ? anonState(sim.world, b) : undefined
  if (!s || s.state !== 'anonymized') throw new Error('the branch is not anonymized')
  return { routes: byRoute(sim, from), exitLagMs: exited - s.since, wallMs: exited - started }
}

function nodeStartExitMs(): number {
  const t = Date.now()
  spawnSync(ACTION_NODE, ['-e', '0'])
  return Date.now() - t
}

function report(title: string, samples: Sample[], nodeMs: number, withLag = true): void {
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
  console.log(`\n${title} (${samples.length} runs)`)
  console.log(`  median ${median(samples.map((s) => total(s.routes)))} Neon requests`)
  const routes = new Map<string, number>()
  for (const s of samples)
    for (const [r, n] of s.routes) routes.set(r, (routes.get(r) ?? 0) + n / samples.length)
  for (const [r, n] of [...routes].sort((a, b) => b[1] - a[1]))
    console.log(`    ${n.toFixed(1).padStart(5)}  ${r}`)
  const lags = samples.map((s) => s.exitLagMs)
  if (!withLag) {
    console.log(
      `  step wall median ${Math.round(median(samples.map((s) => s.wallMs)))} ms (nothing is masked)`,
    )
    return
  }
  console.log(
    `  Neon's 'anonymized' → step exit: median ${Math.round(median(lags))} ms (min ${Math.min(...lags)}, ` +
      `max ${Math.max(...lags)}); node -e 0 starts and exits in ${nodeMs} ms; step wall median ` +
      `${Math.round(median(samples.map((s) => s.wallMs)))} ms`,
  )
}

async function main(): Promise<void> {
  const sim = await startNeonSimulator({
    latencyMs: 30,
    operationMs: OPERATION_MS,
    anonymizationMs: MASKING_MS,
    rateLimit: NEON_RATE_LIMITS,
  })
  const gh = await startFakeGitHub()
  const project = sim.createProject({ id: 'bench-anonymized-1' }).id
  try {
    const create: Sample[] = []
    const same: Sample[] = []
    const other: Sample[] = []
    for (let i = 0; i < RUNS; i++) {
      create.push(await one(sim, gh, project, 100 + i, 'opened', RULES))
      same.push(await one(sim, gh, project, 100 + i, 'synchronize', RULES))
      other.push(await one(sim, gh, project, 100 + i, 'synchronize', OTHER_RULES))
    }
    const nodeMs = Math.round(median([nodeStartExitMs(), nodeStartExitMs(), nodeStartExitMs()]))
    report('Anonymized create (pull request opened, 3 rules)', create, nodeMs)
    report('A push with the same rules', same, nodeMs, false)
    report('A push with other rules (PATCH, masked again)', other, nodeMs)
    console.log(
      `\noperation times ${JSON.stringify(OPERATION_MS)}, masking ${JSON.stringify(MASKING_MS)}, ` +
        `30 ms per request; node ${process.version}`,
    )
  } finally {
    await sim.close()
    await gh.close()
  }
}

await main()
