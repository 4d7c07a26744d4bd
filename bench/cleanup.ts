/**
 * `npm run bench:cleanup`: the scheduled sweep over a simulated project of 1,000 branches, 300 of
 * them stale (of mixed kinds), run through the committed dist/index.js as a runner would. Neon
 * holds the project lock for D ms per delete, so N deletes cannot take less than N·D: the figure
 * that matters is how close the sweep gets to that bound, and how many requests it spends.
 *
 *   npm run bench:cleanup                  full size
 *   npm run bench:cleanup -- --quick       100 branches, 30 stale (CI)
 */
import { startFakeGitHub } from '../test/fake-github/server.js'
import { runAction } from '../test/helpers/run-action.js'
import { NEON_RATE_LIMITS, startNeonSimulator } from '../test/sim/index.js'

const DELETE_MS = 400
const LATENCY_MS = 30
const REPO = 'octo-org/big-repo'
const DAY = 86_400_000
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

/** What one sweep cost, for the targets and for docs/benchmarks.md. */
export interface CleanupBenchResult {
  total: number
  stale: number
  deleted: number
  deleteMs: number
  wallMs: number
  boundMs: number
  ratio: number
  perBranch: number
  requests: number
  byRoute: Map<string, number>
  retried: number
  githubRequests: number
}

/** Runs the sweep bench and returns what it cost (it also prints the details). */
export async function runCleanupBench(quick: boolean): Promise<CleanupBenchResult> {
  const TOTAL = quick ? 100 : 1000
  const STALE = quick ? 30 : 300
  const sim = await startNeonSimulator({
    latencyMs: LATENCY_MS,
    operationMs: { delete_timeline: DELETE_MS, suspend_compute: 0 },
    schedulingMs: 0,
    rateLimit: NEON_RATE_LIMITS,
  })
  const gh = await startFakeGitHub()
  const project = sim.createProject({ id: 'bench-cleanup-1' })
  const now = Date.now()
  // Stale, of mixed kinds: closed PRs, merged PRs, missing PRs, tied by name only to a closed PR and
  // old (since issue 22 a young one is kept: a name alone does not make a branch ours), and untied
  // old ones.
  let pr = 1
  for (let i = 0; i < STALE; i++) {
    const kind = i % 5
    const n = pr++
    if (kind === 0) gh.addPull(REPO, { number: n, state: 'closed' })
    if (kind === 1) gh.addPull(REPO, { number: n, state: 'closed', merged: true })
    if (kind === 3) gh.addPull(REPO, { number: n, state: 'closed' })
    sim.addBranch(project.id, {
      name: kind === 4 ? `preview/nightly-${i}` : `preview/pr-${n}-stale`,
      annotations: kind <= 2 ? { 'github-pr-number': String(n), 'github-repo': REPO } : {},
      updatedAt: iso(now - (kind === 3 || kind === 4 ? 30 : 1) * DAY),
      withEndpoint: false,
    })
  }
  // To keep: open PRs, young untied branches, other repositories, outside the prefix, protected.
  for (let i = 0; i < TOTAL - STALE - 1; i++) {
    const kind = i % 5
    const n = pr++
    if (kind === 0) gh.addPull(REPO, { number: n, state: 'open' })
    sim.addBranch(project.id, {
      name: [
        `preview/pr-${n}-open`,
        `preview/young-${i}`,
        `preview/pr-${n}-theirs`,
        `feature/${i}`,
        `preview/guarded-${i}`,
      ][kind]!,
      annotations:
        kind === 0
          ? { 'github-pr-number': String(n), 'github-repo': REPO }
          : kind === 2
            ? { 'github-pr-number': String(n), 'github-repo': 'someone/else' }
            : {},
      protected: kind === 4,
      updatedAt: iso(now - (kind === 1 ? 1 : 60) * DAY),
      withEndpoint: false,
    })
  }

  const t0 = Date.now()
  const run = await runAction({
    eventName: 'schedule',
    payload: { schedule: '0 3 * * *' },
    repository: REPO,
    githubApiUrl: gh.url,
    inputs: {
      mode: 'cleanup',
      api_key: sim.apiKey,
      project_id: project.id,
      api_host: sim.apiUrl,
      github_token: 'ghs_benchtoken',
      timeout: '600',
    },
  })
  const wall = Date.now() - t0
  if (run.code !== 0) {
    console.error(
      run.stdout
        .split('\n')
        .filter((l) => l.startsWith('::error'))
        .join('\n'),
    )
    throw new Error('cleanup run failed')
  }
  const deleted = (JSON.parse(run.outputs.deleted_branches ?? '[]') as string[]).length
  const bound = deleted * DELETE_MS
  const byRoute = new Map<string, number>()
  for (const l of sim.log) byRoute.set(String(l.route), (byRoute.get(String(l.route)) ?? 0) + 1)
  const retried = sim.log.filter((l) => l.status === 423 || l.status === 429 || l.status >= 500).length

  console.log(
    `cleanup: ${TOTAL} branches, ${STALE} stale; delete holds the lock ${DELETE_MS} ms; latency ${LATENCY_MS} ms`,
  )
  console.log(`  deleted            ${deleted}`)
  console.log(`  wall time          ${(wall / 1000).toFixed(1)} s`)
  console.log(`  N·D lower bound    ${(bound / 1000).toFixed(1)} s`)
  console.log(
    `  wall / N·D         ${(wall / bound).toFixed(2)}  (target ≤ 1.5: ${wall / bound <= 1.5 ? 'PASS' : 'FAIL'})`,
  )
  console.log(
    `  Neon requests      ${sim.log.length} (${(sim.log.length / deleted).toFixed(2)} per deleted branch; target ≤ 3: ${sim.log.length / deleted <= 3 ? 'PASS' : 'FAIL'})`,
  )
  for (const [route, n] of [...byRoute].sort((a, b) => b[1] - a[1]))
    console.log(`    ${String(n).padStart(5)}  ${route}`)
  console.log(`  answered 423/429/5xx ${retried}`)
  console.log(`  GitHub requests    ${gh.requests.length}`)
  if (deleted !== STALE) {
    throw new Error(`expected ${STALE} deletions, got ${deleted}`)
  }
  await sim.close()
  await gh.close()
  return {
    total: TOTAL,
    stale: STALE,
    deleted,
    deleteMs: DELETE_MS,
    wallMs: wall,
    boundMs: bound,
    ratio: wall / bound,
    perBranch: sim.log.length / deleted,
    requests: sim.log.length,
    byRoute,
    retried,
    githubRequests: gh.requests.length,
  }
}

if (process.argv[1]?.endsWith('cleanup.ts')) await runCleanupBench(process.argv.includes('--quick'))
