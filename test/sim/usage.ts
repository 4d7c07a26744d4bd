// The usage figures the simulator reports on every Branch object: the API description's `Branch`
// schema (npm @neondatabase/api-client, public-v2-for-users.gen.yaml) has `logical_size` (optional)
// and `cpu_used_sec`, `compute_time_seconds`, `active_time_seconds`, `written_data_bytes`,
// `data_transfer_bytes` (required). The model, figure by figure, and where it comes from:
//
// - active_time_seconds: the wall-clock time the branch's computes were active, deleted computes
//   included. Source: the description's Project.active_time_seconds, "Control plane observed
//   endpoints … being active this amount of wall-clock time" (the Branch schema gives the field no
//   description; the same name is read the same way, per branch). Measured on the simulator's clock
//   (the injected clock in tests), from each compute's state changes (activity marks, below).
// - compute_time_seconds (and the deprecated cpu_used_sec, equal to it as in every example of
//   branches-databases-roles-api.md: 82/82, 78/78, 68/68): CPU seconds, "An endpoint that uses 1 CPU
//   for 1 second is equal to compute_time=1" (Project.compute_time_seconds; Branch.cpu_used_sec says
//   the same per branch, "including deleted ones"). No source here says how many CPUs a compute unit
//   is (BEHAVIOUR.md, "Compute sizes", names only its RAM) nor models the load: the simulator takes
//   one CPU per CU and a compute running at its minimum size (autoscaling_limit_min_cu, as it is
//   now) whenever it is active. Its own choice, said here.
// - logical_size: "The logical size of the branch, in bytes" (Branch.logical_size). A child starts
//   at its parent's size (it holds its parent's data: World.newBranch copies it), a restore takes
//   its source's (routes/branches.ts), and the real-PostgreSQL backend reports the sum of
//   pg_database_size over the branch's databases once it has measured them. Omitted while the
//   branch is in `init`: Neon's example answer of POST /branches (branches-databases-roles-api.md,
//   `current_state: init`) has every other figure (all 0) and no `logical_size`, where the ready
//   branches of the list example carry one. A test can also have it omitted (setUsage).
// - written_data_bytes ("Amount of WAL that travelled through storage", Project) and
//   data_transfer_bytes ("Egress traffic from the Neon cloud to the client", Project): the simulator
//   models neither writes nor traffic, so they are 0 (a new branch's, as in Neon's create example)
//   plus what a test sets (sim.setUsage). No source says how they grow; the simulator does not guess.
//
// Not modelled, and said: the lag Neon's description gives the project's figures ("The value has
// some lag"), and their reset "at the beginning of each billing period" (Branch.cpu_used_sec,
// Project's figures): the simulator reports its figures at once and never resets them.

import type { EndpointState, SimBranch, SimEndpoint, World } from './state.js'

/**
 * A change of a compute's state: from `at`, or, with `opId`, from when that operation finishes,
 * provided it finishes before the next mark (as World.endpointState reads a transition).
 */
export interface ActivityMark {
  at: number
  state: EndpointState
  opId?: string
}

/** Figures a test sets on a branch (sim.setUsage), on top of (or instead of) what the model gives. */
export interface UsageSeed {
  /** `null`: Neon omits `logical_size`; a number: the size reported (the model's otherwise). */
  logicalSize?: number | null
  writtenDataBytes?: number
  dataTransferBytes?: number
  /** Added to what the branch's computes used on the simulator's clock (history before it). */
  computeTimeSeconds?: number
  activeTimeSeconds?: number
}

/** Milliseconds `e` was active up to `now` (or its deletion), from its activity marks. */
export function activeMs(w: World, e: SimEndpoint, now = w.now()): number {
  const marks = e.activity
  if (marks.length === 0) return 0
  const end = Math.min(now, e.deletedAt ?? now)
  let state = marks[0]!.state
  // The first mark is the compute's creation: a seeded compute may be dated back (addBranch).
  let since = e.createdAt
  let total = 0
  for (let i = 1; i < marks.length; i++) {
    const m = marks[i]!
    const until = marks[i + 1]?.at ?? now
    const at = effectiveAt(w, m, until)
    if (at === undefined || at > end) continue
    if (state === 'active') total += Math.max(0, at - since)
    state = m.state
    since = Math.max(since, at)
  }
  if (state === 'active') total += Math.max(0, end - since)
  return total
}

/** When a mark took effect, or undefined when it did not (its operation had not finished by `until`). */
function effectiveAt(w: World, m: ActivityMark, until: number): number | undefined {
  if (m.opId === undefined) return m.at
  const op = w.operations.get(m.opId)
  // Finished by `until`; a real backend still applying it holds it (World.opStatus).
  if (!op || op.outcome !== 'finished' || op.endAt > until || w.opStatus(op) !== 'finished') return undefined
  return op.endAt
}

/** The branch's computes, deleted ones included (cpu_used_sec: "including deleted ones"). */
function everyEndpoint(w: World, branchId: string): SimEndpoint[] {
  return [...w.endpoints.values()].filter((e) => e.branchId === branchId)
}

/** The usage fields of the branch's JSON, as of `now`. */
export function usageJson(w: World, b: SimBranch, now = w.now()): Record<string, number> {
  const seed = b.usage ?? {}
  let active = 0
  let cpu = 0
  for (const e of everyEndpoint(w, b.id)) {
    const ms = activeMs(w, e, now)
    active += ms
    cpu += ms * e.minCu
  }
  const compute = Math.floor(cpu / 1000) + (seed.computeTimeSeconds ?? 0)
  const size =
    seed.logicalSize === undefined ? (w.backend.logicalSize?.(b) ?? b.logicalSize) : seed.logicalSize
  const init = w.branchState(b, now).current === 'init'
  return {
    ...(size !== null && !init ? { logical_size: size } : {}),
    cpu_used_sec: compute,
    compute_time_seconds: compute,
    active_time_seconds: Math.floor(active / 1000) + (seed.activeTimeSeconds ?? 0),
    written_data_bytes: seed.writtenDataBytes ?? 0,
    data_transfer_bytes: seed.dataTransferBytes ?? 0,
  }
}
