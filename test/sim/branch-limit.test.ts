// The simulator's per-project branch limit (BEHAVIOUR.md, "Limits of a project"): off by default,
// an option or the free plan's preset of 10, 422 BRANCHES_LIMIT_EXCEEDED past it, reported as
// owner.branches_limit, counted by /branches/count; every answer checked against Neon's OpenAPI.

import { afterEach, describe, expect, it } from 'vitest'
import { FREE_PLAN_BRANCH_LIMIT, startNeonSimulator, type NeonSimulator } from './index.js'
import { api, manualClock, type ApiResult } from './helpers.js'
import { ajvErrors, responseValidator } from './openapi.js'

let sim: NeonSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

const clock = manualClock()
const settle = (): void => clock.advance(60_000)

/** A request whose answer must match the OpenAPI schema for its route and status. */
async function call(s: NeonSimulator, method: string, path: string, body?: unknown): Promise<ApiResult> {
  const res = await api(s, method, path, body)
  const route = s.log.at(-1)?.route ?? ''
  const v = responseValidator(method, route.slice(route.indexOf(' ') + 1), res.status)
  if (res.status !== 204) {
    expect(v, `${route} ${res.status} has a schema`).not.toBeNull()
    expect(v!(res.body), v ? ajvErrors(v, 'response') : '').toBe(true)
  }
  return res
}

describe('branch limit', () => {
  it('is off by default: owner.branches_limit is far away and nothing is refused', async () => {
    sim = await startNeonSimulator({ clock })
    const p = sim.createProject()
    const got = await call(sim, 'GET', `/projects/${p.id}`)
    expect(got.body.project.owner.branches_limit).toBe(5000)
    for (let i = 0; i < 12; i++) {
      expect(
        (await call(sim, 'POST', `/projects/${p.id}/branches`, { branch: { name: `b${i}` } })).status,
      ).toBe(201)
      settle()
    }
    expect((await call(sim, 'GET', `/projects/${p.id}/branches/count`)).body).toEqual({ count: 13 })
  })

  it("the free plan's preset: 10 branches, the default one included, then 422 BRANCHES_LIMIT_EXCEEDED", async () => {
    sim = await startNeonSimulator({ clock, branchLimit: 'free' })
    expect(FREE_PLAN_BRANCH_LIMIT).toBe(10)
    const p = sim.createProject()
    const P = `/projects/${p.id}`
    const got = await call(sim, 'GET', P)
    expect(got.body.project.owner).toMatchObject({ branches_limit: 10, subscription_type: 'free_v2' })
    for (let i = 1; i < 10; i++) {
      expect((await call(sim, 'POST', `${P}/branches`, { branch: { name: `preview/${i}` } })).status).toBe(
        201,
      )
      settle()
    }
    expect((await call(sim, 'GET', `${P}/branches/count`)).body.count).toBe(10)
    const refused = await call(sim, 'POST', `${P}/branches`, { branch: { name: 'preview/11' } })
    expect(refused.status).toBe(422)
    expect(refused.body).toMatchObject({
      code: 'BRANCHES_LIMIT_EXCEEDED',
      message: 'branches limit of 10 exceeded, got 10',
      request_id: refused.headers.get('x-neon-ret-request-id'),
    })
    expect(sim.world.branchByName(p.id, 'preview/11')).toBeUndefined()
    // A name that exists is still a 409: the conflict is found first.
    expect((await call(sim, 'POST', `${P}/branches`, { branch: { name: 'preview/1' } })).status).toBe(409)

    // A delete frees a place at once (the branch stops counting when the DELETE is answered).
    const victim = sim.world.branchByName(p.id, 'preview/1')!
    expect((await call(sim, 'DELETE', `${P}/branches/${victim.id}`)).status).toBe(200)
    expect((await call(sim, 'GET', `${P}/branches/count`)).body.count).toBe(9)
    // The limit is checked before the lock: the delete is still running, so this is a 423 now...
    expect((await call(sim, 'POST', `${P}/branches`, { branch: { name: 'preview/11' } })).status).toBe(423)
    settle()
    // ...and a 201 once it is done.
    expect((await call(sim, 'POST', `${P}/branches`, { branch: { name: 'preview/11' } })).status).toBe(201)
    settle()
    expect((await call(sim, 'POST', `${P}/branches`, { branch: { name: 'preview/12' } })).status).toBe(422)
  })

  it('is per project: createProject({ branchLimit }) overrides the option, and seeding is not limited', async () => {
    sim = await startNeonSimulator({ clock, branchLimit: 3 })
    const small = sim.createProject({ branchLimit: 2 })
    const def = sim.createProject()
    expect((await call(sim, 'GET', `/projects/${small.id}`)).body.project.owner.branches_limit).toBe(2)
    expect((await call(sim, 'GET', `/projects/${def.id}`)).body.project.owner).toMatchObject({
      branches_limit: 3,
      subscription_type: 'launch',
    })
    // Seeding may start a project past its limit (a plan downgraded under a full project).
    for (const n of ['a', 'b', 'c']) sim.addBranch(small.id, { name: n })
    expect((await call(sim, 'GET', `/projects/${small.id}/branches/count`)).body.count).toBe(4)
    expect(
      (await call(sim, 'POST', `/projects/${small.id}/branches`, { branch: { name: 'd' } })).body.message,
    ).toBe('branches limit of 2 exceeded, got 4')
    expect(() => sim!.createProject({ branchLimit: 0 })).toThrow(/invalid branch limit/)
  })

  it("counts restore's preserved copy as a new branch", async () => {
    sim = await startNeonSimulator({ clock, branchLimit: 3 })
    const p = sim.createProject()
    const P = `/projects/${p.id}`
    const b = sim.addBranch(p.id, { name: 'preview/pr-1' })
    sim.addBranch(p.id, { name: 'child', parentId: b.id })
    const refused = await call(sim, 'POST', `${P}/branches/${b.id}/restore`, {
      source_branch_id: p.defaultBranchId,
      preserve_under_name: 'preview/pr-1-old',
    })
    expect(refused.status).toBe(422)
    expect(refused.body.code).toBe('BRANCHES_LIMIT_EXCEEDED')
  })

  it('an existing name at the limit: 409 by default, 422 with createCheckOrder limit-first (no source says which)', async () => {
    for (const [order, status] of [
      [undefined, 409],
      ['conflict-first', 409],
      ['limit-first', 422],
    ] as const) {
      sim = await startNeonSimulator({ clock, branchLimit: 2, ...(order ? { createCheckOrder: order } : {}) })
      const p = sim.createProject()
      sim.addBranch(p.id, { name: 'preview/pr-1' })
      const got = await call(sim, 'POST', `/projects/${p.id}/branches`, { branch: { name: 'preview/pr-1' } })
      expect(got.status, String(order)).toBe(status)
      // Below the limit an existing name is a 409 in either order, and a new name at it a 422.
      const fresh = await call(sim, 'POST', `/projects/${p.id}/branches`, {
        branch: { name: 'preview/pr-2' },
      })
      expect(fresh.status).toBe(422)
      await sim.close()
      sim = await startNeonSimulator({ clock, ...(order ? { createCheckOrder: order } : {}) })
      const q = sim.createProject()
      sim.addBranch(q.id, { name: 'preview/pr-1' })
      expect(
        (await call(sim, 'POST', `/projects/${q.id}/branches`, { branch: { name: 'preview/pr-1' } })).status,
      ).toBe(409)
      await sim.close()
      sim = undefined
    }
  })
})
