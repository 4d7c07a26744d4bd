// Runs the simulator standalone (`npm run sim`) for local runs of the action and for the self-test
// workflow (.github/workflows/self-test.yml).
//
// Usage: npm run sim -- [--port N] [--api-key KEY] [--project-id ID] [--json]
//                       [--latency-ms N] [--operation-ms N] [--branch-limit N|free]
//                       [--neon-auth] [--data-api] [--no-branch-recovery]
//
// --neon-auth enables Neon Auth on the project's default branch: the branches the action makes from
// it have their own (Neon's docs, "Branching authentication"), so `get_auth_url: true` gets a URL.
// --data-api enables the Data API on every branch as it is made (a set-up, not Neon's behaviour:
// WorldOptions.dataApiOnNewBranches), so `get_data_api_url: true` gets one.
// --no-branch-recovery: an account not offered branch recovery (a Neon preview): deletes are final.
//
// Contract (the self-test workflow, .env.example and test/workflows/ rely on it):
// - Everything is printed only once the simulator is ready: the HTTP server listens on 127.0.0.1
//   (port `--port`, default any free one) and, with PG_SIM_BACKEND=1, its real PostgreSQL runs.
//   Plain output is `KEY=VALUE` lines (NEON_API_HOST, NEON_API_KEY, NEON_PROJECT_ID,
//   NEON_DEFAULT_BRANCH_ID and, with PostgreSQL, SIM_PG_ADDRESS_URL) and then, last, the readiness
//   line `Neon API simulator listening on http://127.0.0.1:<port>`. With --json: one JSON line instead.
// - SIGINT or SIGTERM: the simulator (and its PostgreSQL cluster) is shut down and the process exits 0.
// - A start that fails (port taken, no PostgreSQL installed, a bad flag) prints the reason on stderr
//   and exits 1, without a readiness line.
//
// SIM_PG_ADDRESS_URL serves `GET ?host=<an endpoint's host>` → `{"host":"127.0.0.1","port":N}`: where
// that endpoint's Postgres really listens. A client keeps the action's connection string unchanged
// and is pointed there the way libpq allows, e.g. `PGHOSTADDR=127.0.0.1 PGPORT=N psql "$db_url"`
// (Neon's hosts are public DNS names; the simulator's are not resolvable).

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startNeonSimulator, type NeonSimulator } from './index.js'
import { openApi } from './openapi.js'

// Every operation action Neon's API description lists (OperationAction), for --operation-ms.
const ACTIONS = (openApi().components.schemas['OperationAction'] as { enum: string[] }).enum

const VALUE_FLAGS = [
  '--port',
  '--api-key',
  '--project-id',
  '--latency-ms',
  '--operation-ms',
  '--branch-limit',
]
const BOOLEAN_FLAGS = ['--json', '--neon-auth', '--data-api', '--no-branch-recovery']

function fail(message: string): never {
  process.stderr.write(`neon simulator: ${message}\n`)
  process.exit(1)
}

function parseArgs(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (BOOLEAN_FLAGS.includes(arg)) flags.set(arg, 'true')
    else if (VALUE_FLAGS.includes(arg)) {
      const value = argv[++i]
      if (value === undefined) fail(`${arg} needs a value`)
      flags.set(arg, value)
    } else fail(`unknown argument '${arg}' (known: ${[...VALUE_FLAGS, ...BOOLEAN_FLAGS].join(', ')})`)
  }
  return flags
}

function nonNegativeInt(flags: Map<string, string>, name: string, max: number): number | undefined {
  const raw = flags.get(name)
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n > max) fail(`${name} must be an integer from 0 to ${max}, got '${raw}'`)
  return n
}

/** The loopback service behind SIM_PG_ADDRESS_URL (only with the PostgreSQL backend). */
async function startAddressService(sim: NeonSimulator): Promise<Server> {
  const pgsim = sim.postgres!
  const server = createServer((req, res) => {
    const host = new URL(req.url ?? '/', 'http://x').searchParams.get('host')
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.method !== 'GET' || !host) return answer(400, { message: 'GET ?host=<endpoint host>' })
    // Every API change so far applied for real first, as pgsim.resolve does.
    Promise.all([pgsim.address(host), pgsim.settled()]).then(
      ([address]) => answer(200, address),
      (err: unknown) => answer(404, { message: err instanceof Error ? err.message : String(err) }),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return server
}

const flags = parseArgs(process.argv.slice(2))
const port = nonNegativeInt(flags, '--port', 65535)
const latencyMs = nonNegativeInt(flags, '--latency-ms', 600_000)
const operationMs = nonNegativeInt(flags, '--operation-ms', 3_600_000)
const apiKey = flags.get('--api-key')
const projectId = flags.get('--project-id')
// A project's branch limit (BEHAVIOUR.md, "Limits of a project"): a number, or `free` for the free plan's 10.
const branchLimitRaw = flags.get('--branch-limit')
const branchLimit =
  branchLimitRaw === undefined || branchLimitRaw === 'free'
    ? branchLimitRaw
    : nonNegativeInt(flags, '--branch-limit', 1_000_000)

let sim: NeonSimulator
let addressService: Server | undefined
try {
  sim = await startNeonSimulator({
    ...(port !== undefined ? { port } : {}),
    ...(branchLimit !== undefined ? { branchLimit } : {}),
    // An account that is not offered branch recovery (a Neon preview): deletes are final.
    ...(flags.has('--no-branch-recovery') ? { branchRecovery: false } : {}),
    ...(apiKey !== undefined ? { apiKeys: [apiKey] } : {}),
    ...(flags.has('--data-api') ? { dataApiOnNewBranches: true } : {}),
    ...(latencyMs !== undefined ? { latencyMs } : {}),
    ...(operationMs !== undefined
      ? { operationMs: Object.fromEntries(ACTIONS.map((a) => [a, operationMs])) }
      : {}),
  })
} catch (err) {
  fail(`could not start: ${err instanceof Error ? err.message : String(err)}`)
}
let project
try {
  project = sim.createProject({ name: 'demo', ...(projectId !== undefined ? { id: projectId } : {}) })
  if (flags.has('--neon-auth')) sim.enableNeonAuth(project.id, project.defaultBranchId)
  if (sim.postgres) addressService = await startAddressService(sim)
} catch (err) {
  await sim.close()
  fail(`could not start: ${err instanceof Error ? err.message : String(err)}`)
}
const addressUrl = addressService
  ? `http://127.0.0.1:${(addressService.address() as AddressInfo).port}/address`
  : undefined

const info = {
  url: sim.url,
  apiUrl: sim.apiUrl,
  apiKey: sim.apiKey,
  projectId: project.id,
  defaultBranchId: project.defaultBranchId,
  ...(addressUrl ? { pgAddressUrl: addressUrl } : {}),
}
if (flags.has('--json')) {
  process.stdout.write(`${JSON.stringify(info)}\n`)
} else {
  process.stdout.write(
    [
      `NEON_API_HOST=${sim.apiUrl}`,
      `NEON_API_KEY=${sim.apiKey}`,
      `NEON_PROJECT_ID=${project.id}`,
      `NEON_DEFAULT_BRANCH_ID=${project.defaultBranchId}`,
      ...(addressUrl ? [`SIM_PG_ADDRESS_URL=${addressUrl}`] : []),
      // The readiness line, last.
      `Neon API simulator listening on ${sim.url}`,
      '',
    ].join('\n'),
  )
}

let closing = false
const stop = (): void => {
  if (closing) return
  closing = true
  addressService?.closeAllConnections()
  addressService?.close()
  sim.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`neon simulator: shutdown failed: ${String(err)}\n`)
      process.exit(1)
    },
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
