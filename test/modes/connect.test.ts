// The reads that make an adopted branch usable go out together; what is missing is still created
// one thing at a time, the role before the database it owns.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMode } from '../../src/modes/create.js'
import { harness, inputsFor, prContext } from '../helpers/mode-harness.js'
import { startNeonSimulator, type NeonSimulator, type RequestLogEntry } from '../sim/index.js'

let sim: NeonSimulator
let projectId: string

beforeEach(async () => {
  // Real time and 40 ms per answer: requests that are in flight together overlap in the log,
  // requests made one after another never can, however fast or slow the machine is.
  sim = await startNeonSimulator({ latencyMs: 40, operationMs: { create_branch: 5, start_compute: 5 } })
  projectId = sim.createProject({ id: 'quiet-lake-1' }).id
})
afterEach(async () => {
  await sim.close()
})

const synchronize = () => prContext(12, 'feature/login', { action: 'synchronize' })
const overlap = (a: RequestLogEntry, b: RequestLogEntry): boolean => a.at < b.at + b.ms && b.at < a.at + a.ms

describe('making an adopted branch usable', () => {
  it('asks for its computes, the password and the databases at once, and moves the expiry beside them', async () => {
    sim.addBranch(projectId, { name: 'preview/pr-12-feature/login', withEndpoint: true })
    const before = sim.log.length
    const r = await createMode(harness(sim, synchronize()).deps, inputsFor(projectId, sim.apiKey))
    expect(r.created).toBe(false)
    const log = sim.log.slice(before)
    const reads = [
      'GET /projects/{project_id}/branches/{branch_id}/endpoints',
      'GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password',
      'GET /projects/{project_id}/branches/{branch_id}/databases',
    ].map((route) => {
      const entry = log.find((l) => l.route === route)
      expect(entry, route).toBeDefined()
      return entry!
    })
    expect(overlap(reads[0]!, reads[1]!)).toBe(true)
    expect(overlap(reads[1]!, reads[2]!)).toBe(true)
    expect(overlap(reads[0]!, reads[2]!)).toBe(true)
    const patch = log.find((l) => l.route === 'PATCH /projects/{project_id}/branches/{branch_id}')!
    expect(overlap(patch, reads[0]!)).toBe(true)
    expect(r.branch?.expiresAt).toBe(sim.state.branches[r.branch!.id]!.expires_at)
    expect(r.connection?.password).toBe(sim.rolePassword(projectId, r.branch!.id, 'neondb_owner'))
  })

  it('creates a missing role before the database it owns, after the reads', async () => {
    sim.addBranch(projectId, { name: 'preview/pr-12-feature/login', withEndpoint: true })
    const before = sim.log.length
    const r = await createMode(
      harness(sim, synchronize()).deps,
      inputsFor(projectId, sim.apiKey, { role: 'app_user', database: 'app_db' }),
    )
    const log = sim.log.slice(before)
    const at = (route: string) => log.findIndex((l) => l.route === route)
    const role = at('POST /projects/{project_id}/branches/{branch_id}/roles')
    const db = at('POST /projects/{project_id}/branches/{branch_id}/databases')
    expect(role).toBeGreaterThan(
      at('GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password'),
    )
    expect(db).toBeGreaterThan(role)
    expect(log[role]!.at + log[role]!.ms).toBeLessThanOrEqual(log[db]!.at)
    expect(r.changes).toEqual(
      expect.arrayContaining(["created role 'app_user'", "created database 'app_db'"]),
    )
    expect(r.connection?.urls.dbUrl).toContain('app_user:')
  })

  it('a failed read fails the run naming it, after the others have settled', async () => {
    sim.addBranch(projectId, { name: 'preview/pr-12-feature/login', withEndpoint: true })
    sim.faults.add({
      route: 'GET /projects/{project_id}/branches/{branch_id}/databases',
      status: 403,
      body: { code: '', message: 'forbidden for this key' },
    })
    // The computes answer well after the refusal: the failure must wait for them all the same.
    sim.faults.add({ route: 'GET /projects/{project_id}/branches/{branch_id}/endpoints', delayMs: 300 })
    const before = sim.log.length
    const err = await createMode(harness(sim, synchronize()).deps, inputsFor(projectId, sim.apiKey)).catch(
      (e: unknown) => e as Error,
    )
    expect(err).toBeInstanceOf(Error)
    const message = (err as Error).message
    expect(message).toMatch(/databases/)
    expect(message).toMatch(/403/)
    expect(message).toMatch(/forbidden for this key/)
    const reads = sim.log.slice(before).filter((l) => l.method === 'GET' && l.route?.includes('{branch_id}/'))
    expect(reads.map((l) => l.route?.split('/').pop())).toEqual(
      expect.arrayContaining(['endpoints', 'reveal_password', 'databases']),
    )
    // Every read had its answer when the run failed: nothing left in flight.
    expect(reads.every((l) => l.status !== 0)).toBe(true)
  })
})
