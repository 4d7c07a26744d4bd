// GET …/schema and …/compare_schema without the PostgreSQL backend: the schema a test sets through
// sim.setSchema, inherited by branches made later, with a history for timestamps and LSNs.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { api, manualClock } from './helpers.js'
import { startNeonSimulator, type NeonSimulator } from './index.js'

const clock = manualClock()
let sim: NeonSimulator
let P: string
let main: string

beforeEach(async () => {
  sim = await startNeonSimulator({ clock })
  const p = sim.createProject({ id: 'schema-sim-1' })
  P = `/projects/${p.id}`
  main = p.defaultBranchId
})
afterEach(async () => {
  await sim.close()
})

const schema = async (branch: string, q = '') =>
  (await api(sim, 'GET', `${P}/branches/${branch}/schema?db_name=neondb${q}`)).body.sql as string

describe('schemas in the simulator', () => {
  it('answers the set schema, an empty one before any, and copies it into new branches', async () => {
    expect(await schema(main)).toBe('')
    const lsn1 = sim.setSchema('schema-sim-1', main, 'neondb', 'v1\n')
    const t1 = clock.now()
    clock.advance(60_000)
    const child = sim.addBranch('schema-sim-1', { name: 'child' })
    expect(await schema(child.id)).toBe('v1\n')
    sim.setSchema('schema-sim-1', main, 'neondb', 'v2\n')
    expect(await schema(main)).toBe('v2\n')
    // The child keeps what it had: the parent's later change is not its.
    expect(await schema(child.id)).toBe('v1\n')
    expect(await schema(main, `&timestamp=${new Date(t1).toISOString()}`)).toBe('v1\n')
    expect(await schema(main, `&timestamp=${new Date(t1 - 1).toISOString()}`)).toBe('')
    expect(await schema(main, `&lsn=${lsn1}`)).toBe('v1\n')
  })

  it('compare_schema is the diff from the base (default: the parent) to the branch, empty when equal', async () => {
    sim.setSchema('schema-sim-1', main, 'neondb', 'a\n')
    const child = sim.addBranch('schema-sim-1', { name: 'child' })
    const same = await api(sim, 'GET', `${P}/branches/${child.id}/compare_schema?db_name=neondb`)
    expect(same.body).toEqual({ diff: '' })
    sim.setSchema('schema-sim-1', child.id, 'neondb', 'a\nb\n')
    const r = await api(
      sim,
      'GET',
      `${P}/branches/${child.id}/compare_schema?db_name=neondb&base_branch_id=${main}`,
    )
    expect(r.body.diff).toBe(
      `--- Database: neondb\t(Branch: ${main})\n+++ Database: neondb\t(Branch: ${child.id})\n@@ -1,1 +1,2 @@\n a\n+b\n`,
    )
  })

  it('refuses what Neon refuses', async () => {
    const bad = async (path: string) => (await api(sim, 'GET', `${P}/branches/${path}`)).status
    expect(await bad(`${main}/schema`)).toBe(400)
    expect(await bad(`${main}/schema?db_name=neondb&lsn=0/1&timestamp=2025-01-01T00:00:00Z`)).toBe(400)
    expect(await bad(`${main}/schema?db_name=neondb&lsn=nope`)).toBe(400)
    expect(await bad(`${main}/schema?db_name=neondb&timestamp=yesterday`)).toBe(400)
    expect(await bad(`${main}/schema?db_name=other`)).toBe(404)
    expect(await bad(`br-none-none-123456/schema?db_name=neondb`)).toBe(404)
    // The root branch has no parent to compare with by default.
    expect(await bad(`${main}/compare_schema?db_name=neondb`)).toBe(400)
  })
})
