// The simulator's real-PostgreSQL backend reports a branch's real size as its `logical_size`: the sum
// of pg_database_size over the branch's databases (test/sim/usage.ts, pg/backend.ts). Needs
// PostgreSQL's server (see CONTRIBUTING.md): without it every test here fails, saying so.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait-for.js'
import { api } from './helpers.js'
import { startNeonSimulator, type NeonSimulator, type SimPostgres } from './index.js'
import { ajvErrors, responseValidator } from './openapi.js'

let sim: NeonSimulator
let pgsim: SimPostgres
let projectId: string
let startError: unknown

beforeAll(async () => {
  try {
    sim = await startNeonSimulator({ postgres: true, operationMs: { create_branch: 20, start_compute: 20 } })
  } catch (err) {
    startError = err
    return
  }
  pgsim = sim.postgres!
  projectId = sim.createProject({ id: 'pg-usage-12345678' }).id
}, 60_000)
beforeEach(() => {
  if (startError) throw startError
})
afterAll(async () => {
  await sim?.close()
})

/** The branch as GET answers it, checked against Neon's API description. */
async function getBranch(id: string): Promise<Record<string, unknown>> {
  const res = await api(sim, 'GET', `/projects/${projectId}/branches/${id}`)
  const v = responseValidator('GET', '/projects/{project_id}/branches/{branch_id}', 200)!
  const body = res.body as { branch: Record<string, unknown> }
  if (!v(body)) throw new Error(ajvErrors(v, 'response'))
  return body.branch
}

/** What PostgreSQL itself says the branch's databases take. */
async function realSize(branchId: string): Promise<number> {
  const real = pgsim.realDatabase(branchId, 'neondb')!
  const [row] = await pgsim.query<{ n: string }>('SELECT pg_database_size($1)::text AS n', [real])
  return Number(row!.n)
}

describe('logical_size from the real databases', () => {
  let branchId: string

  it("a branch's logical_size is its database's real size, and a child starts at its parent's", async () => {
    const root = sim.world.liveBranches(projectId)[0]!
    const made = await api(sim, 'POST', `/projects/${projectId}/branches`, {
      branch: { name: 'preview/pg-usage' },
      endpoints: [{ type: 'read_write' }],
    })
    expect(made.status).toBe(201)
    branchId = made.body.branch.id as string
    // The create's operations end once the backend has made the database (on the real clock).
    const op = made.body.operations[0].id as string
    await waitFor(() => sim.operationStatus(op) === 'finished', 'the create to finish')
    const b = await getBranch(branchId)
    expect(b.logical_size).toBe(await realSize(branchId))
    // A copy of the parent's database (CREATE DATABASE … TEMPLATE): within a page or so of its size.
    const parent = Number((await getBranch(root.id)).logical_size)
    expect(parent).toBe(await realSize(root.id))
    expect(Math.abs(Number(b.logical_size) - parent)).toBeLessThan(1 << 20)
  })

  it('grows with the rows written, as PostgreSQL measures it', async () => {
    const before = Number((await getBranch(branchId)).logical_size)
    const real = pgsim.realDatabase(branchId, 'neondb')!
    await pgsim.query(
      'CREATE TABLE filler AS SELECT g, repeat(md5(g::text), 20) AS t FROM generate_series(1, 20000) g',
      [],
      real,
    )
    await pgsim.query('CHECKPOINT')
    const after = Number((await getBranch(branchId)).logical_size)
    expect(after).toBe(await realSize(branchId))
    expect(after - before).toBeGreaterThan(5 << 20)
  })
})
