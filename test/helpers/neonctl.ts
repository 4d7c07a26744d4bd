import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { NeonSimulator } from '../sim/index.js'

const require = createRequire(import.meta.url)
/** Neon's own CLI (npm neonctl), as installed. */
export const NEONCTL_BIN = join(dirname(require.resolve('neonctl/package.json')), 'bin', 'cli.js')

/** The environment neonctl runs in: its own HOME and config, no colours, no browser login. */
export function neonctlEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    CI: 'true',
    NO_COLOR: '1',
    TERM: 'dumb',
    NEON_OAUTH_HOST: 'http://127.0.0.1:9', // never used: an API key is given
  }
}

/**
 * Runs neonctl against the simulator, unchanged: its own HOME, no colours, no analytics. Returns
 * what it printed on stdout; rejects with its stderr when it fails.
 */
export function neonctl(
  sim: NeonSimulator,
  projectId: string,
  args: string[],
  home = mkdtempSync(join(tmpdir(), 'neonctl-home-')),
): Promise<string> {
  const argv = [
    NEONCTL_BIN,
    ...args,
    '--api-host',
    sim.apiUrl,
    '--api-key',
    sim.apiKey,
    '--no-analytics',
    '--project-id',
    projectId,
  ]
  return new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      argv,
      { cwd: home, env: neonctlEnv(home), timeout: 120_000 },
      (err, out, errOut) => {
        if (err) reject(new Error(`neonctl ${args.join(' ')} failed: ${err.message}\n${errOut}\n${out}`))
        else resolve(out)
      },
    )
  })
}

/** The added and removed lines of a unified diff (file headers excluded), in order. */
export function changedLines(diff: string): string[] {
  return diff
    .split('\n')
    .filter((l) => (l.startsWith('+') && !l.startsWith('+++')) || (l.startsWith('-') && !l.startsWith('---')))
}
