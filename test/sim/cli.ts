// Runs the simulator standalone: prints its URL, an API key and a seeded project id, then waits for SIGINT/SIGTERM.
// Usage: node --import tsx test/sim/cli.ts [--json] [--latency-ms N] [--operation-ms N] [--branch-limit N|free]

import { startNeonSimulator } from './index.js'

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const ACTIONS = [
  'create_compute',
  'create_timeline',
  'start_compute',
  'suspend_compute',
  'apply_config',
  'check_availability',
  'delete_timeline',
  'create_branch',
  'tenant_ignore',
  'tenant_attach',
  'tenant_detach',
  'tenant_reattach',
  'replace_safekeeper',
  'disable_maintenance',
  'apply_storage_config',
  'prepare_secondary_pageserver',
  'switch_pageserver',
  'detach_parent_branch',
  'timeline_archive',
  'timeline_unarchive',
  'start_reserved_compute',
  'sync_dbs_and_roles_from_compute',
]
const operationMs = flag('--operation-ms')
const latencyMs = flag('--latency-ms')
const branchLimit = flag('--branch-limit')
const sim = await startNeonSimulator({
  ...(branchLimit !== undefined
    ? { branchLimit: branchLimit === 'free' ? 'free' : Number(branchLimit) }
    : {}),
  ...(latencyMs !== undefined ? { latencyMs: Number(latencyMs) } : {}),
  ...(operationMs !== undefined
    ? { operationMs: Object.fromEntries(ACTIONS.map((a) => [a, Number(operationMs)])) }
    : {}),
})
const project = sim.createProject({ name: 'demo' })
const info = {
  url: sim.url,
  apiUrl: sim.apiUrl,
  apiKey: sim.apiKey,
  projectId: project.id,
  defaultBranchId: project.defaultBranchId,
}
if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(info)}\n`)
} else {
  process.stdout.write(
    [
      `Neon API simulator listening on ${sim.url}`,
      `NEON_API_HOST=${sim.apiUrl}`,
      `NEON_API_KEY=${sim.apiKey}`,
      `NEON_PROJECT_ID=${project.id}`,
      `default branch: ${project.defaultBranchId}`,
      '',
    ].join('\n'),
  )
}

let closing = false
const stop = (): void => {
  if (closing) return
  closing = true
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
