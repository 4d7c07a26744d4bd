/**
 * The simulated Neon every benchmark runs against: 30 ms a request, and typical operation durations
 * with a spread of ±10 %. No Neon document gives durations or their spread; these are typical figures.
 */
export const LATENCY_MS = 30
export const OPERATION_MS = {
  create_branch: 800,
  start_compute: 1500,
  create_timeline: 800,
  delete_timeline: 400,
  suspend_compute: 0,
}
/** Spread of every operation's duration (the simulator's operationJitter). */
export const JITTER = 0.1
