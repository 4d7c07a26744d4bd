import { getInputs, type Inputs } from '../../src/inputs.js'
import type { RunContext } from '../../src/github/context.js'
import { NeonClient } from '../../src/neon/client.js'
import { DEFAULT_RETRY_POLICY } from '../../src/neon/retry.js'
import type { Logger, ModeDeps } from '../../src/modes/types.js'
import type { NeonSimulator } from '../sim/index.js'

export const REPO = 'octo-org/octo-repo'

export function prContext(
  number = 12,
  headRef = 'feature/login',
  extra: Partial<RunContext> = {},
): RunContext {
  return {
    eventName: 'pull_request',
    repository: REPO,
    action: 'opened',
    pullRequest: { number, headRef, headSha: 'a'.repeat(40), headRepo: REPO, title: 'Add login' },
    serverUrl: 'https://github.com',
    apiUrl: 'https://api.github.com',
    ...extra,
  }
}

export interface Harness {
  deps: ModeDeps
  neon: NeonClient
  logs: string[]
  secrets: string[]
}

/**
 * Deps for calling a mode in-process against the simulator, with a logger that records. The mode
 * runs on the simulator's own clock: virtual time when the simulator was started with a
 * `FakeClock`, so polls and retries cost nothing and no test depends on the machine's speed.
 */
export function harness(
  sim: NeonSimulator,
  context: RunContext = prContext(),
  apiKey = sim.apiKey,
  /** The step's deadline (epoch ms on the simulator's clock), shared by client and mode as main.ts does. */
  deadline?: number,
): Harness {
  const logs: string[] = []
  const secrets: string[] = []
  const neon = new NeonClient({
    apiKey,
    apiHost: sim.apiUrl,
    userAgent: 'neon-preview-branch/test',
    clock: sim.clock,
    retry: { ...DEFAULT_RETRY_POLICY, baseMs: 20, capMs: 100 },
    requestTimeoutMs: 2000,
    onSecret: (s) => secrets.push(s),
    ...(deadline !== undefined ? { deadline } : {}),
  })
  const log: Logger = {
    info: (m) => logs.push(`info: ${m}`),
    notice: (m) => logs.push(`notice: ${m}`),
    warning: (m) => logs.push(`warning: ${m}`),
    debug: (m) => logs.push(`debug: ${m}`),
  }
  return {
    neon,
    logs,
    secrets,
    deps: {
      neon,
      clock: sim.clock,
      context,
      log,
      setSecret: (s) => secrets.push(s),
      poll: { initialMs: 10, maxMs: 50 },
      ...(deadline !== undefined ? { deadline } : {}),
    },
  }
}

/** Validated inputs as the action would read them, with overrides by input name. */
export function inputsFor(projectId: string, apiKey: string, over: Record<string, string> = {}): Inputs {
  const values: Record<string, string> = { mode: 'create', api_key: apiKey, project_id: projectId, ...over }
  return getInputs((name) => values[name] ?? '')
}
