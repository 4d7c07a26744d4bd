/**
 * `npm run bench:recover`: what a pull request reopened after its close costs, measured by running
 * the committed dist/index.js as the runner does (opened → create, closed → delete, reopened →
 * create) against the simulator with the benchmark's realistic settings: 30 ms per request,
 * create_branch 800 ms, start_compute 1,500 ms, delete_timeline 400 ms, Neon's rate limits.
 *
 * Prints, for the reopen on a project that offers branch recovery (it recovers) and on one that
 * does not (it creates): the Neon requests by route, and the step's wall time, beside `node -e 0`
 * measured in the same run (the cost of starting Node at all on this machine, now).
 *
 *   npm run bench:recover              5 runs of each
 *   npm run bench:recover -- --quick   2 runs of each
 *
 * Timing is printed, never asserted: it depends on the machine.
 */
import { execFileSync } from 'node:child_process'
import { startFakeGitHub } from '../test/fake-github/server.js'
import { ACTION_NODE, runAction, type ActionRun } from '../test/helpers/run-action.js'
import { NEON_RATE_LIMITS, startNeonSimulator, type NeonSimulator } from '../test/sim/index.js'

const RUNS = process.argv.includes('--quick') ? 2 : 5
const OPERATION_MS = { create_branch: 800, start_compute: 1500, delete_timeline: 400, suspend_compute: 0 }
const REPO = 'octo-org/octo-repo'

interface Sample {
  routes: Map<string, number>
  wallMs: number
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2
}

function pr(sim: NeonSimulator, gh: { url: string }, project: string, n: number, action: string) {
  return runAction({
    eventName: 'pull_request',
    payload: {
      action,
      number: n,
      pull_request: {
        number: n,
        head: { ref: `feature-${n}`, sha: 'a'.repeat(40), repo: { full_name: REPO } },
        base: { ref: 'main', repo: { full_name: REPO } },
      },
    },
    repository: REPO,
    githubApiUrl: gh.url,
    inputs: {
      mode: action === 'closed' ? 'delete' : 'create',
      api_key: sim.apiKey,
      project_id: project,
      api_host: sim.apiUrl,
      comment: 'false',
    },
  })
}

async function one(sim: NeonSimulator, gh: { url: string }, project: string, n: number): Promise<Sample> {
  const check = (r: ActionRun, what: string) => {
    if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stdout}`)
    return r
  }
  check(await pr(sim, gh, project, n, 'opened'), 'opened')
  check(await pr(sim, gh, project, n, 'closed'), 'closed')
  const from = sim.log.length
  const t = Date.now()
  check(await pr(sim, gh, project, n, 'reopened'), 'reopened')
  const wallMs = Date.now() - t
  const routes = new Map<string, number>()
  for (const l of sim.log.slice(from))
    routes.set(`${l.route} ${l.status}`, (routes.get(`${l.route} ${l.status}`) ?? 0) + 1)
  return { routes, wallMs }
}

function report(title: string, samples: Sample[], nodeMs: number): void {
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
  console.log(`\n${title} (${samples.length} runs)`)
  console.log(`  median ${median(samples.map((s) => total(s.routes)))} Neon requests`)
  const routes = new Map<string, number>()
  for (const s of samples)
    for (const [r, n] of s.routes) routes.set(r, (routes.get(r) ?? 0) + n / samples.length)
  for (const [r, n] of [...routes].sort((a, b) => b[1] - a[1]))
    console.log(`    ${n.toFixed(1).padStart(5)}  ${r}`)
  const wall = median(samples.map((s) => s.wallMs))
  console.log(`  step wall time: median ${Math.round(wall)} ms (node -e 0: ${Math.round(nodeMs)} ms)`)
}

function nodeStartMs(): number {
  const xs: number[] = []
  for (let i = 0; i < 5; i++) {
    const t = Date.now()
    execFileSync(ACTION_NODE, ['-e', '0'])
    xs.push(Date.now() - t)
  }
  return median(xs)
}

async function main(): Promise<void> {
  const sim = await startNeonSimulator({
    latencyMs: 30,
    operationMs: OPERATION_MS,
    rateLimit: NEON_RATE_LIMITS,
  })
  const gh = await startFakeGitHub()
  try {
    const recovering = sim.createProject({ id: 'bench-recover-1' }).id
    const plain = sim.createProject({ id: 'bench-recover-2', branchRecovery: false }).id
    const recovered: Sample[] = []
    const created: Sample[] = []
    for (let i = 0; i < RUNS; i++) {
      recovered.push(await one(sim, gh, recovering, 100 + i))
      created.push(await one(sim, gh, plain, 200 + i))
    }
    const nodeMs = nodeStartMs()
    report('A reopen that recovers the deleted branch', recovered, nodeMs)
    report('A reopen that creates (the project offers no recovery)', created, nodeMs)
    console.log(
      `\noperation times: ${JSON.stringify(OPERATION_MS)}, 30 ms per request; node ${process.version}`,
    )
  } finally {
    await sim.close()
    await gh.close()
  }
}

await main()
