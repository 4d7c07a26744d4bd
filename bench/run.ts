/**
 * `npm run bench`: what the action adds on top of Neon's own operation time, measured by running
 * the committed dist/index.js (as a runner would) against the simulator with realistic settings:
 * 30 ms per request, create_branch 800 ms, start_compute 1,500 ms, create_timeline 800 ms,
 * delete_timeline 400 ms, the project locked while operations run, and Neon's rate limits
 * (700 requests a minute per key, 40 a second per route).
 *
 *   npm run bench                 15 runs per scenario, cleanup of 1,000 branches; writes the
 *                                 generated part of docs/benchmarks.md (bench/report.ts)
 *   npm run bench -- --quick      3 runs, cleanup of 100, a burst of 5 pull requests (what CI
 *                                 runs; timing never fails CI); prints only, unless --write
 *   --runs N                      N runs per scenario
 *
 * Prints a table and PASS/FAIL against the targets of issues 7 and 17. Nothing here is a unit test.
 */
import { spawn } from 'node:child_process'
import { statSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { OperationDurations } from '../src/neon/durations.js'
import { waitForOperations } from '../src/neon/operations.js'
import type { NeonClient } from '../src/neon/client.js'
import type { Operation } from '../src/neon/types.js'
import { startFakeGitHub } from '../test/fake-github/server.js'
import { FakeClock } from '../test/helpers/fake-clock.js'
import { ACTION_NODE, DIST, runAction, type ActionRun } from '../test/helpers/run-action.js'
import { Rng } from '../test/sim/ids.js'
import { NEON_RATE_LIMITS, startNeonSimulator, type NeonSimulator } from '../test/sim/index.js'
import { runBursts } from './burst.js'
import { runCleanupBench } from './cleanup.js'
import { writeReport, type ExitLagRow, type ScenarioRow, type TargetRow } from './report.js'
import { JITTER, LATENCY_MS, OPERATION_MS } from './settings.js'

const quick = process.argv.includes('--quick')
const runsArg = process.argv.indexOf('--runs')
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : quick ? 3 : 15
const WRITE = !quick || process.argv.includes('--write')
const DOC = new URL('../docs/benchmarks.md', import.meta.url)
const REPO = 'octo-org/bench'

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : NaN
}
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL')
const findings: string[] = []

interface Sample {
  wall: number
  opTime: number
  requests: number
  retries: number
  byRoute: Map<string, number>
  maxPollsInFlight: number
  /** Time with at least one Neon request in flight: the round trips of a run with no operation. */
  busyMs: number
}

/** Runs the action once and reads from the simulator what it cost. */
async function sample(
  sim: NeonSimulator,
  gh: { url: string },
  project: string,
  inputs: Record<string, string>,
  pr: number,
  event = 'pull_request',
  /** The pull request event's action: `opened` for a first create (which then creates first). */
  action = 'synchronize',
): Promise<{ run: ActionRun; s: Sample }> {
  const logStart = sim.log.length
  const opsBefore = new Set(sim.world.operations.keys())
  const t0 = Date.now()
  const run = await runAction({
    eventName: event,
    payload: {
      action,
      number: pr,
      pull_request: {
        number: pr,
        head: { ref: `feature/bench-${pr}`, sha: 'e'.repeat(40), repo: { full_name: REPO } },
        base: { ref: 'main', repo: { full_name: REPO } },
      },
    },
    repository: REPO,
    githubApiUrl: gh.url,
    inputs: { api_key: sim.apiKey, project_id: project, api_host: sim.apiUrl, comment: 'false', ...inputs },
  })
  const wall = Date.now() - t0
  if (run.code !== 0)
    throw new Error(
      `run failed:\n${run.stdout
        .split('\n')
        .filter((l) => l.startsWith('::error'))
        .join('\n')}`,
    )
  const log = sim.log.slice(logStart)
  const ops = [...sim.world.operations.values()].filter((o) => !opsBefore.has(o.id))
  const opTime = ops.length
    ? Math.max(...ops.map((o) => o.endAt)) - Math.min(...ops.map((o) => o.createdAt))
    : 0
  const byRoute = new Map<string, number>()
  for (const l of log) byRoute.set(String(l.route), (byRoute.get(String(l.route)) ?? 0) + 1)
  // Poll requests overlapping in time (each log entry knows when it started and how long it took).
  const polls = log.filter((l) => l.route?.includes('/operations/'))
  let maxPollsInFlight = 0
  for (const p of polls) {
    const overlapping = polls.filter((q) => q.at < p.at + p.ms && p.at < q.at + q.ms).length
    maxPollsInFlight = Math.max(maxPollsInFlight, overlapping)
  }
  let busyMs = 0
  let busyUntil = -Infinity
  for (const l of [...log].sort((x, y) => x.at - y.at)) {
    const from = Math.max(l.at, busyUntil)
    if (l.at + l.ms > from) busyMs += l.at + l.ms - from
    busyUntil = Math.max(busyUntil, l.at + l.ms)
  }
  // The same non-poll GET twice in one run, after a successful answer, is a request that answer
  // could have replaced (a retry after 429/503 is not).
  const answered = new Set<string>()
  for (const l of log) {
    if (l.method !== 'GET' || l.route?.includes('/operations/')) continue
    const key = `${l.path}?${new URLSearchParams(l.query).toString()}`
    if (answered.has(key)) findings.push(`${inputs.mode}: ${l.method} ${key} asked twice in one run`)
    if (l.status < 400) answered.add(key)
  }
  return {
    run,
    s: {
      wall,
      opTime,
      requests: log.length,
      retries: log.filter((l) => l.status === 423 || l.status === 429 || l.status >= 500).length,
      byRoute,
      maxPollsInFlight,
      busyMs,
    },
  }
}

function report(name: string, samples: Sample[]): { overhead: number; requests: number; row: ScenarioRow } {
  const walls = samples.map((s) => s.wall)
  const overheads = samples.map((s) => s.wall - s.opTime)
  const routes = new Map<string, number>()
  for (const s of samples)
    for (const [r, n] of s.byRoute) routes.set(r, (routes.get(r) ?? 0) + n / samples.length)
  const req = median(samples.map((s) => s.requests))
  console.log(
    `${name.padEnd(22)} wall median ${String(Math.round(median(walls))).padStart(5)} ms, max ${String(Math.max(...walls)).padStart(5)} ms | ` +
      `Neon ops ${String(Math.round(median(samples.map((s) => s.opTime)))).padStart(5)} ms | overhead median ${String(Math.round(median(overheads))).padStart(4)} ms | ` +
      `requests ${req} (retries ${median(samples.map((s) => s.retries))})`,
  )
  for (const [r, n] of [...routes].sort((a, b) => b[1] - a[1]))
    console.log(`${''.padEnd(26)}${n.toFixed(1).padStart(5)}  ${r}`)
  const polls = median(
    samples.map((s) =>
      [...s.byRoute].filter(([r]) => r.includes('/operations/')).reduce((a, [, n]) => a + n, 0),
    ),
  )
  return {
    overhead: median(overheads),
    requests: req,
    row: {
      name,
      wallMedian: median(walls),
      wallMax: Math.max(...walls),
      opTime: median(samples.map((s) => s.opTime)),
      overhead: median(overheads),
      requests: polls ? `${req} (${polls} polls)` : String(req),
      retries: median(samples.map((s) => s.retries)),
    },
  }
}

/** Wall time of a command, from spawn to exit. */
function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint()
    const c = spawn(cmd, args, { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' })
    c.on('close', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6))
  })
}

/**
 * The poller of dist (waitForOperations, fake clock) over one operation of about `durationMs`,
 * `runs` times: each run's duration drawn ±JITTER around it, and, `withHistory`, the project's 20
 * earlier operations of that action drawn the same way, as the list of recent operations gives
 * them. The fake answers as the simulator does: `running` with total_duration_ms the time run so far.
 */
async function pollerOn(durationMs: number, withHistory: boolean, runs: number): Promise<ExitLagRow> {
  const rng = new Rng(durationMs + (withHistory ? 1 : 0))
  const draw = (): number => Math.round(durationMs * (1 + JITTER * (2 * rng.next() - 1)))
  const lags: number[] = []
  const polls: number[] = []
  let perMinute = 0
  for (let run = 0; run < runs; run++) {
    const clock = new FakeClock()
    const start = clock.now()
    const history = Array.from({ length: 20 }, () => draw())
    const duration = draw()
    const at: number[] = []
    let seenAt = 0
    const record = (status: Operation['status'], ms: number): Operation => ({
      id: '00000000-0000-4000-8000-000000000001',
      project_id: 'p',
      action: 'start_compute',
      status,
      failures_count: 0,
      created_at: '',
      updated_at: '',
      total_duration_ms: ms,
    })
    const client = {
      async getOperation(): Promise<Operation> {
        at.push(clock.now())
        const ran = clock.now() - start
        if (ran >= duration && !seenAt) seenAt = clock.now()
        return ran >= duration ? record('finished', duration) : record('running', ran)
      },
    } as unknown as NeonClient
    const durations = new OperationDurations(async () =>
      withHistory ? history.map((ms) => record('finished', ms)) : [],
    )
    await waitForOperations(client, 'p', [record('running', 0)], {
      clock,
      deadline: start + durationMs * 3 + 10_000,
      durations,
    })
    lags.push(seenAt - start - duration)
    polls.push(at.length)
    perMinute = Math.max(perMinute, ...at.map((t) => at.filter((u) => u >= t && u < t + 60_000).length))
  }
  return {
    durationS: durationMs / 1000,
    history: withHistory,
    polls: median(polls),
    lagMs: median(lags),
    lagMaxMs: Math.max(...lags),
    perMinute,
  }
}

/** A simulator with the settings every scenario is measured with. */
function benchSimulator(): Promise<NeonSimulator> {
  return startNeonSimulator({
    latencyMs: LATENCY_MS,
    operationMs: OPERATION_MS,
    operationJitter: JITTER,
    schedulingMs: 5,
    rateLimit: NEON_RATE_LIMITS,
  })
}

/**
 * Start-up, measured first, against a simulator of its own with the same settings, so that
 * nothing else the bench has done shares the process while it is measured.
 */
async function measureStartup(
  gh: { url: string },
  runs: number,
): Promise<{ firstRequest: number[]; validationExit: number[]; bare: number[] }> {
  const sim = await benchSimulator()
  const project = sim.createProject({ id: 'bench-startup-1' }).id
  const out = { firstRequest: [] as number[], validationExit: [] as number[], bare: [] as number[] }
  try {
    for (let i = 0; i < runs; i++) {
      const before = sim.log.length
      const t0 = Date.now()
      const run = sample(sim, gh, project, { mode: 'create' }, 900 + i)
      while (sim.log.length === before) await new Promise((r) => setTimeout(r, 1))
      out.firstRequest.push(sim.log[before]!.at - t0)
      await run
      out.validationExit.push(
        await timeCommand(ACTION_NODE, [DIST], {
          INPUT_MODE: 'create',
          INPUT_API_KEY: 'k',
          INPUT_PROJECT_ID: 'p-1',
          INPUT_SSL: 'nope',
        }),
      )
      out.bare.push(await timeCommand(ACTION_NODE, ['-e', '0']))
    }
  } finally {
    await sim.close()
  }
  console.log(
    `start-up: to the first API request ${Math.round(median(out.firstRequest))} ms; to exit on a validation error ${Math.round(median(out.validationExit))} ms; ` +
      `node -e 0 ${Math.round(median(out.bare))} ms; bundle ${(statSync(DIST).size / 1024).toFixed(0)} KiB\n`,
  )
  return out
}

async function main(): Promise<void> {
  const loadStart = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
  console.log(
    `neon-preview-branch benchmark${quick ? ' (quick)' : ''}: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  )
  console.log(
    `simulator: ${LATENCY_MS} ms per request; operations ${JSON.stringify(OPERATION_MS)} ±${JITTER * 100} %; ${RUNS} runs per scenario\n`,
  )
  const sim = await benchSimulator()
  const gh = await startFakeGitHub()
  const startup = await measureStartup(gh, RUNS)
  const startupSamples = startup.firstRequest
  const validationSamples = startup.validationExit
  const bareSamples = startup.bare
  const project = sim.createProject({ id: 'bench-project-1' }).id

  const created: Sample[] = []
  const adopted: Sample[] = []
  const reset: Sample[] = []
  const deleted: Sample[] = []
  for (let i = 0; i < RUNS; i++) {
    const pr = 100 + i
    created.push((await sample(sim, gh, project, { mode: 'create' }, pr, 'pull_request', 'opened')).s)
    adopted.push((await sample(sim, gh, project, { mode: 'create' }, pr)).s)
    reset.push((await sample(sim, gh, project, { mode: 'reset' }, pr)).s)
    deleted.push((await sample(sim, gh, project, { mode: 'delete' }, pr)).s)
  }
  const c = report('create (new branch)', created)
  const a = report('create (adopted)', adopted)
  const adoptOverRoundTrips = median(adopted.map((s) => s.wall - s.busyMs))
  const r = report('reset', reset)
  const d = report('delete', deleted)

  sim.faults.add({
    status: 429,
    probability: 0.1,
    times: Infinity,
    headers: { 'Retry-After': '1' },
    body: { code: '', message: 'rate limit exceeded' },
  })
  sim.faults.add({
    status: 503,
    probability: 0.1,
    times: Infinity,
    body: { code: '', message: 'service unavailable' },
  })
  const faulty: Sample[] = []
  for (let i = 0; i < RUNS; i++) faulty.push((await sample(sim, gh, project, { mode: 'create' }, 500 + i)).s)
  sim.faults.clear()
  const f = report('create, 20% 429/503', faulty)

  const exitLag: ExitLagRow[] = []
  for (const withHistory of [true, false]) {
    for (const durationS of [2, 15, 60]) exitLag.push(await pollerOn(durationS * 1000, withHistory, RUNS))
  }
  const predicted = exitLag.filter((e) => e.history)
  const polls60 = predicted.find((e) => e.durationS === 60)!.polls
  const inFlight = Math.max(...[...created, ...adopted, ...reset, ...deleted].map((s) => s.maxPollsInFlight))
  await sim.close()

  console.log('')
  const cleanup = await runCleanupBench(quick)
  await gh.close()
  if (quick) {
    // A small burst (bench/burst.ts has the full one: `npm run bench:burst`).
    console.log('')
    await runBursts([5], DIST, 'burst')
  }

  const firstRequest = median(startupSamples)
  const bare = median(bareSamples)
  const worstLag = Math.max(...predicted.map((e) => e.lagMs))
  const worstRate = Math.max(...exitLag.map((e) => e.perMinute))
  const targets: TargetRow[] = [
    {
      target: "create (new branch): overhead over Neon's operations ≤ 150 ms",
      result: `${Math.round(c.overhead)} ms`,
      pass: c.overhead <= 150,
    },
    {
      target: 'create (adopted): overhead over its round trips ≤ 60 ms',
      result: `${Math.round(adoptOverRoundTrips)} ms (wall ${Math.round(a.row.wallMedian)} ms)`,
      pass: adoptOverRoundTrips <= 60,
    },
    {
      target: 'first Neon request ≤ 90 ms after spawn',
      result: `${Math.round(firstRequest)} ms (node -e 0: ${Math.round(bare)} ms)`,
      pass: firstRequest <= 90,
    },
    {
      target: 'exit ≤ 250 ms after the end, operations of 2, 15, 60 s (poll lag + 1 round trip)',
      result:
        predicted.map((e) => `${e.durationS} s: ${Math.round(e.lagMs + LATENCY_MS)} ms`).join(', ') +
        ' (median, with the history; see below without it)',
      pass: worstLag + LATENCY_MS <= 250,
    },
    { target: 'one poll in flight at a time', result: `max ${inFlight}`, pass: inFlight <= 1 },
    {
      target: '≤ 40 polls in any minute (operations of 2, 15, 60 s)',
      result: `most ${worstRate} (${polls60} over a 60 s operation)`,
      pass: worstRate <= 40,
    },
    { target: 'adopted create ≤ 6 requests', result: String(a.requests), pass: a.requests <= 6 },
    {
      target: 'no request an earlier answer could replace',
      result: findings.length === 0 ? 'none' : `${findings.length}`,
      pass: findings.length === 0,
    },
    { target: 'cleanup wall ≤ 1.5 × N·D', result: cleanup.ratio.toFixed(2), pass: cleanup.ratio <= 1.5 },
    {
      target: 'cleanup ≤ 3 requests per deleted branch',
      result: cleanup.perBranch.toFixed(2),
      pass: cleanup.perBranch <= 3,
    },
  ]
  console.log('\ntargets')
  for (const t of targets) console.log(`  ${verdict(t.pass)}  ${t.target}: ${t.result}`)

  if (WRITE) {
    const args = process.argv.slice(2)
    await writeReport(DOC, {
      date: new Date().toISOString().slice(0, 10),
      command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version.slice(1)}, ${process.platform} ${release()}`,
      load: `load average ${loadStart} at the start, ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')} at the end`,
      settings:
        `${LATENCY_MS} ms per request; operations ${Object.entries(OPERATION_MS)
          .map(([k, v]) => `\`${k}\` ${v} ms`)
          .join(', ')}, each ±${JITTER * 100} % (seeded); ` +
        "the project locked while operations run; Neon's rate limits (700 requests a minute per key, 40 a second per route)",
      runs: RUNS,
      scenarios: [c.row, a.row, r.row, d.row, { ...f.row, name: 'create, 10 % 429 + 10 % 503' }],
      startup: {
        firstRequest,
        validationExit: median(validationSamples),
        bare,
        bundleKiB: Math.round(statSync(DIST).size / 1024),
      },
      exitLag,
      cleanup: {
        lines: [
          ['branches (stale)', `${cleanup.total} (${cleanup.stale})`],
          ['wall time', `${(cleanup.wallMs / 1000).toFixed(1)} s`],
          [
            `N·D lower bound (${cleanup.deleted} × ${cleanup.deleteMs} ms)`,
            `${(cleanup.boundMs / 1000).toFixed(1)} s`,
          ],
          ['wall / N·D', cleanup.ratio.toFixed(2)],
          [
            'Neon requests',
            `${cleanup.requests} (${cleanup.perBranch.toFixed(2)} per deleted branch): ${[...cleanup.byRoute]
              .sort((x, y) => y[1] - x[1])
              .map(([route, n]) => `${n} \`${route}\``)
              .join(', ')}`,
          ],
          ['answered 423/429/5xx', String(cleanup.retried)],
          ['GitHub requests', String(cleanup.githubRequests)],
        ],
      },
      targets,
      notes: findings,
    })
    console.log(`\nwrote ${DOC.pathname}`)
  }
}

await main()
