/**
 * `npm run bench:ephemeral`: what one `ephemeral: true` branch costs, measured by running the
 * committed dist/index.js as the runner does (main with GITHUB_STATE, then post with the STATE_*
 * variables) against the simulator with the benchmark's realistic settings: 30 ms per request,
 * create_branch 800 ms, start_compute 1,500 ms, delete_timeline 400 ms, Neon's rate limits.
 *
 * Prints, for a job that passes and for one cancelled (SIGINT) while main polls:
 * - requests made by main and by post, by route;
 * - the time from the job's end (main exiting: the runner then starts the post step) to the branch
 *   being gone in the simulator (its delete operations finished).
 *
 *   npm run bench:ephemeral              5 runs of each
 *   npm run bench:ephemeral -- --quick   2 runs of each
 *
 * Timing is printed, never asserted: it depends on the machine.
 */
import { startFakeGitHub } from '../test/fake-github/server.js'
import { runAction, runPost, startAction, type ActionRun } from '../test/helpers/run-action.js'
import { waitFor } from '../test/helpers/wait-for.js'
import { NEON_RATE_LIMITS, startNeonSimulator, type NeonSimulator } from '../test/sim/index.js'

const RUNS = process.argv.includes('--quick') ? 2 : 5
const OPERATION_MS = { create_branch: 800, start_compute: 1500, delete_timeline: 400, suspend_compute: 0 }
const POLL_ROUTE = 'GET /projects/{project_id}/operations/{operation_id}'

interface Sample {
  main: Map<string, number>
  post: Map<string, number>
  /** From main's exit to the branch's last delete operation ending, in the simulator's time. */
  goneMs: number
  postWallMs: number
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2
}

function byRoute(sim: NeonSimulator, from: number, to: number): Map<string, number> {
  const m = new Map<string, number>()
  for (const l of sim.log.slice(from, to))
    m.set(`${l.route} ${l.status}`, (m.get(`${l.route} ${l.status}`) ?? 0) + 1)
  return m
}

async function one(
  sim: NeonSimulator,
  gh: { url: string },
  project: string,
  i: number,
  cancel: boolean,
): Promise<Sample> {
  const options = {
    eventName: 'push',
    githubApiUrl: gh.url,
    env: { GITHUB_RUN_ID: String(1000 + i), GITHUB_JOB: cancel ? 'cancelled' : 'test' },
    inputs: {
      mode: 'create',
      ephemeral: 'true',
      api_key: sim.apiKey,
      project_id: project,
      api_host: sim.apiUrl,
    },
  }
  const mainFrom = sim.log.length
  let main: ActionRun
  if (cancel) {
    const started = startAction(options)
    await waitFor(() => sim.log.slice(mainFrom).some((l) => l.route === POLL_ROUTE), 'main to poll')
    started.child.kill('SIGINT')
    main = await started.result
  } else {
    main = await runAction(options)
  }
  const jobEnd = Date.now()
  const mainTo = sim.log.length
  if (main.code !== (cancel ? 1 : 0)) throw new Error(`main exited ${main.code}:\n${main.stdout}`)
  const post = await runPost(main)
  const postWallMs = Date.now() - jobEnd
  if (post.code !== 0) throw new Error(`post exited ${post.code}:\n${post.stdout}`)
  const id = (JSON.parse(main.state.ephemeral_branch ?? '{}') as { branchId?: string }).branchId
  const deletes = [...sim.world.operations.values()].filter(
    (o) =>
      o.branchId === id &&
      (o.action === 'delete_timeline' || o.action === 'suspend_compute') &&
      o.createdAt >= jobEnd,
  )
  if (!id || sim.state.branches[id]?.deleted !== true || deletes.length === 0)
    throw new Error('the branch was not deleted')
  return {
    main: byRoute(sim, mainFrom, mainTo),
    post: byRoute(sim, mainTo, sim.log.length),
    goneMs: Math.max(...deletes.map((o) => o.endAt)) - jobEnd,
    postWallMs,
  }
}

function report(title: string, samples: Sample[]): void {
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
  console.log(`\n${title} (${samples.length} runs)`)
  for (const part of ['main', 'post'] as const) {
    console.log(`  ${part}: median ${median(samples.map((s) => total(s[part])))} requests`)
    const routes = new Map<string, number>()
    for (const s of samples)
      for (const [r, n] of s[part]) routes.set(r, (routes.get(r) ?? 0) + n / samples.length)
    for (const [r, n] of [...routes].sort((a, b) => b[1] - a[1]))
      console.log(`    ${n.toFixed(1).padStart(5)}  ${r}`)
  }
  console.log(
    `  job end → branch gone: median ${Math.round(median(samples.map((s) => s.goneMs)))} ms ` +
      `(max ${Math.max(...samples.map((s) => s.goneMs))} ms); post step wall median ` +
      `${Math.round(median(samples.map((s) => s.postWallMs)))} ms`,
  )
}

async function main(): Promise<void> {
  const sim = await startNeonSimulator({
    latencyMs: 30,
    operationMs: OPERATION_MS,
    rateLimit: NEON_RATE_LIMITS,
  })
  const gh = await startFakeGitHub()
  const project = sim.createProject({ id: 'bench-ephemeral-1' }).id
  try {
    for (const cancel of [false, true]) {
      const samples: Sample[] = []
      for (let i = 0; i < RUNS; i++) samples.push(await one(sim, gh, project, i, cancel))
      report(cancel ? 'A job cancelled (SIGINT) while main polls' : 'A job that passes', samples)
    }
    console.log(
      `\noperation times: ${JSON.stringify(OPERATION_MS)}, 30 ms per request; node ${process.version}`,
    )
  } finally {
    await sim.close()
    await gh.close()
  }
}

await main()
