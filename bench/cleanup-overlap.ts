/**
 * `npm run bench:cleanup-overlap`: what issue 17's overlap saves. The sweep of the 350-branch layout
 * (test/helpers/large-project.ts), and the same with 200 more branches tied to pull requests, run
 * in-process on virtual time: GitHub answers each pull request look-up after LOOKUP_MS, Neon's
 * delete operation takes DELETE_MS, polling is the action's default. Printed for the sequential
 * sweep (judge everything, then delete: the sweep before issue 17) and the overlapped one.
 *
 * Virtual time is an event clock (test/helpers/event-clock.ts), not the tests' FakeClock: FakeClock moves time
 * the moment anyone sleeps, so a Neon request in flight while a GitHub look-up sleeps would be
 * charged that sleep. Here time moves only when nothing is in flight (every request to the
 * simulator is counted), to the earliest wake-up asked for, so concurrent work overlaps as it
 * would with a real clock and each HTTP round trip costs nothing. Nothing here reads the wall clock.
 */
import { restPullLookup } from '../src/github/pulls.js'
import { cleanupMode, type CleanupOptions } from '../src/modes/cleanup/index.js'
import { EventClock } from '../test/helpers/event-clock.js'
import { slowPulls, type FakePullAnswer } from '../test/helpers/held-pulls.js'
import { seedLargeSweep, SWEEP_REPO } from '../test/helpers/large-project.js'
import { harness, inputsFor } from '../test/helpers/mode-harness.js'
import { startNeonSimulator } from '../test/sim/index.js'

const LOOKUP_MS = 150
const DELETE_MS = 400
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const DAY = 86_400_000

interface Figures {
  totalMs: number
  firstDeleteMs: number
  deleted: number
  neon: number
  byRoute: Map<string, number>
  github: number
}

async function sweep(extraTied: number, opts: CleanupOptions): Promise<Figures> {
  const clock = new EventClock(NOW)
  const sim = await startNeonSimulator({
    operationMs: { delete_timeline: DELETE_MS },
    schedulingMs: 0,
    clock,
  })
  const unwrap = clock.wrapFetch()
  try {
    const project = sim.createProject({ id: 'bench-overlap-1' }).id
    const answers = new Map<number, FakePullAnswer>()
    const addPull = (_repo: string, pr: { number: number; state?: string; merged?: boolean }) => {
      answers.set(pr.number, pr.state === 'open' ? 'open' : pr.merged ? 'merged' : 'closed')
    }
    seedLargeSweep(sim, project, { addPull }, NOW)
    // Branches of pull requests, half of them closed: stale only once GitHub has said so.
    for (let i = 0; i < extraTied; i++) {
      const n = 1000 + i
      addPull(SWEEP_REPO, { number: n, state: i % 2 ? 'open' : 'closed' })
      sim.addBranch(project, {
        name: `preview/pr-${n}`,
        annotations: { 'github-pr-number': String(n), 'github-repo': SWEEP_REPO },
        updatedAt: new Date(NOW - 2 * DAY).toISOString(),
        withEndpoint: false,
      })
    }
    const h = harness(sim, { ...harness(sim).deps.context, eventName: 'schedule', pullRequest: undefined })
    delete h.deps.poll // the action's own polling cadence
    const gh = slowPulls(answers, clock, LOOKUP_MS)
    h.deps.pulls = restPullLookup(gh.api, SWEEP_REPO)
    const t0 = clock.now()
    const r = await clock.drive(
      cleanupMode(h.deps, inputsFor(project, sim.apiKey, { mode: 'cleanup', timeout: '3600' }), opts),
    )
    if (r.failures) throw new Error(`sweep failed: ${r.failures.join('; ')}`)
    const byRoute = new Map<string, number>()
    for (const l of sim.log) byRoute.set(String(l.route), (byRoute.get(String(l.route)) ?? 0) + 1)
    const firstDelete = sim.log.find((l) => l.method === 'DELETE')
    return {
      totalMs: clock.now() - t0,
      firstDeleteMs: firstDelete ? firstDelete.at - t0 : NaN,
      deleted: r.deletedBranches!.length,
      neon: sim.log.length,
      byRoute,
      github: gh.requests,
    }
  } finally {
    unwrap()
    await sim.close()
  }
}

for (const [label, extra] of [
  ['350-branch layout (3 pull requests)', 0],
  ['350-branch layout + 200 branches of pull requests (100 closed)', 200],
] as const) {
  const before = await sweep(extra, { overlap: false })
  const after = await sweep(extra, {})
  console.log(`${label}; look-up ${LOOKUP_MS} ms, delete ${DELETE_MS} ms (virtual)`)
  const row = (name: string, b: string | number, a: string | number) =>
    console.log(`  ${name.padEnd(28)} ${String(b).padStart(10)} ${String(a).padStart(10)}`)
  row('', 'sequential', 'overlapped')
  row('sweep, virtual ms', before.totalMs, after.totalMs)
  row('first DELETE at, virtual ms', before.firstDeleteMs, after.firstDeleteMs)
  row('branches deleted', before.deleted, after.deleted)
  row('Neon requests', before.neon, after.neon)
  for (const route of new Set([...before.byRoute.keys(), ...after.byRoute.keys()]))
    row(
      `  ${route.replace('/projects/{project_id}', '')}`,
      before.byRoute.get(route) ?? 0,
      after.byRoute.get(route) ?? 0,
    )
  row('GitHub requests', before.github, after.github)
}
