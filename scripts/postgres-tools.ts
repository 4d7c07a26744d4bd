// What the tests' real PostgreSQL (test/sim/pg) will use on this machine, found as the tests find it:
// the server from the npm package (or PG_SIM_BIN), and pg_dump and psql of its major version or
// later. Installs nothing; exits 1 naming what is missing. `.ci/steps.sh postgres` runs it.

import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { findBinDir, findClientTool } from '../test/sim/pg/binaries.js'

const version = (path: string): string =>
  execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim()

try {
  const bin = findBinDir()
  const server = version(join(bin, 'postgres'))
  const major = Number(/\(PostgreSQL\)\s+(\d+)/.exec(server)?.[1] ?? 0)
  console.log(`server: ${server} (${bin})`)
  for (const tool of ['pg_dump', 'psql'] as const) {
    const path = findClientTool(tool, bin, major)
    console.log(`${tool}: ${version(path)} (${path})`)
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
}
