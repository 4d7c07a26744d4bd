// Deleted branches and their recovery in the simulator (routes/recovery.ts, World.softDelete):
// soft delete kept 7 days on the virtual clock, include_deleted with `recovery`, POST …/recover with
// the same hosts and passwords and no expiry, the refusals, and projects that offer no recovery.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startNeonSimulator, RECOVERY_WINDOW_MS, type NeonSimulator, type SimProject } from './index.js'
import { api, manualClock } from './helpers.js'

const clock = manualClock()
let sim: NeonSimulator
let project: SimProject
const P = (): string => `/projects/${project.id}`
const settle = (): void => clock.advance(60_000)
const DAY = 86_400_000

beforeAll(async () => {
  sim = await startNeonSimulator({ clock })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(() => {
  sim.reset()
  clock.set(Date.parse('2025-09-10T12:00:00Z'))
  project = sim.createProject()
})

interface Listed {
  id: string
  name: string
  recovery?: { deleted_at: string; recoverable_until: string; deletion_method: string }
}
async function list(query = ''): Promise<Listed[]> {
  const r = await api(sim, 'GET', `${P()}/branches${query}`)
  expect(r.status).toBe(200)
  return r.body.branches as Listed[]
}
const withDeleted = (search?: string) =>
  list(`?include_deleted=true${search ? `&search=${encodeURIComponent(search)}` : ''}`)

/** A branch made through the API (its endpoint, role and database), ready. */
async function made(name: string, extra: Record<string, unknown> = {}) {
  const r = await api(sim, 'POST', `${P()}/branches`, {
    branch: { name, ...extra },
    endpoints: [{ type: 'read_write' }],
    annotation_value: { 'github-repo': 'o/r', 'github-pr-number': '7' },
  })
  expect(r.status).toBe(201)
  settle()
  return { id: r.body.branch.id as string, host: r.body.endpoints[0].host as string }
}

async function remove(id: string, query = ''): Promise<void> {
  expect((await api(sim, 'DELETE', `${P()}/branches/${id}${query}`)).status).toBe(200)
  settle()
}

describe('a deleted branch', () => {
  it('is listed with include_deleted=true only, with recovery {deleted_at, recoverable_until +7 d, user}', async () => {
    const b = await made('preview/pr-7')
    const deletedAt = clock.now()
    await remove(b.id)
    expect((await list()).map((x) => x.id)).not.toContain(b.id)
    expect((await list('?include_deleted=false')).map((x) => x.id)).not.toContain(b.id)
    const listed = (await withDeleted()).find((x) => x.id === b.id)
    expect(listed?.recovery).toEqual({
      deleted_at: new Date(deletedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      recoverable_until: new Date(deletedAt + 7 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      deletion_method: 'user',
    })
    // Live branches carry no recovery field; the annotations of the deleted one are listed too.
    expect((await withDeleted()).find((x) => x.name === 'main')?.recovery).toBeUndefined()
    const page = await api(sim, 'GET', `${P()}/branches?include_deleted=true&search=pr-7`)
    expect(page.body.annotations[b.id].value['github-pr-number']).toBe('7')
    // Still gone for everything else: get, count, a second delete.
    expect((await api(sim, 'GET', `${P()}/branches/${b.id}`)).status).toBe(404)
    expect((await api(sim, 'GET', `${P()}/branches/count`)).body.count).toBe(1)
    expect((await api(sim, 'DELETE', `${P()}/branches/${b.id}`)).status).toBe(204)
  })

  it('deleted by its expiry is listed with deletion_method ttl, deleted at its expires_at', async () => {
    const expires = new Date(clock.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    const b = await made('short', { expires_at: expires })
    clock.advance(2 * 3600_000)
    const listed = (await withDeleted('short')).find((x) => x.id === b.id)
    expect(listed?.recovery?.deletion_method).toBe('ttl')
    expect(listed?.recovery?.deleted_at).toBe(expires)
  })

  it('is recoverable until 7 days after its delete on the virtual clock, and gone for good after', async () => {
    const a = await made('a')
    const b = await made('b')
    await remove(a.id)
    await remove(b.id)
    clock.advance(RECOVERY_WINDOW_MS - 2 * 60_000 - 1)
    // a was deleted a minute before b: a's window has ended one millisecond from now, b's not.
    expect((await withDeleted()).map((x) => x.name).sort()).toEqual(['a', 'b', 'main'])
    clock.advance(1)
    expect((await withDeleted()).map((x) => x.name).sort()).toEqual(['b', 'main'])
    expect((await api(sim, 'POST', `${P()}/branches/${a.id}/recover`)).status).toBe(404)
    expect(sim.state.branches[a.id]?.purged).toBe(true)
    expect((await api(sim, 'POST', `${P()}/branches/${b.id}/recover`)).status).toBe(200)
  })

  it('deleted with hard_delete=true is gone at once', async () => {
    const b = await made('hard')
    await remove(b.id, '?hard_delete=true')
    expect((await withDeleted()).map((x) => x.id)).not.toContain(b.id)
    expect((await api(sim, 'POST', `${P()}/branches/${b.id}/recover`)).status).toBe(404)
  })
})

describe('POST …/recover', () => {
  it('answers {branch, endpoints}: same id, same host, idle, same passwords, no expiry', async () => {
    const expires = new Date(clock.now() + 5 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')
    const b = await made('preview/pr-7', { expires_at: expires })
    const password = (await api(sim, 'GET', `${P()}/branches/${b.id}/roles/neondb_owner/reveal_password`))
      .body.password as string
    await remove(b.id)
    clock.advance(3 * DAY)
    const r = await api(sim, 'POST', `${P()}/branches/${b.id}/recover`)
    expect(r.status).toBe(200)
    expect(Object.keys(r.body).sort()).toEqual(['branch', 'endpoints'])
    expect(r.body.branch.id).toBe(b.id)
    expect(r.body.branch.name).toBe('preview/pr-7')
    expect(r.body.branch.current_state).toBe('ready')
    expect(r.body.branch.expires_at).toBeUndefined()
    expect(r.body.branch.ttl_interval_seconds).toBeUndefined()
    expect(r.body.branch.recovery).toBeUndefined()
    expect(r.body.endpoints.map((e: { host: string }) => e.host)).toEqual([b.host])
    expect(r.body.endpoints[0].current_state).toBe('idle')
    // Live again, with its password and its annotations; no longer listed as deleted.
    const got = await api(sim, 'GET', `${P()}/branches/${b.id}`)
    expect(got.status).toBe(200)
    expect(got.body.annotation.value['github-pr-number']).toBe('7')
    expect(
      (await api(sim, 'GET', `${P()}/branches/${b.id}/roles/neondb_owner/reveal_password`)).body.password,
    ).toBe(password)
    expect((await withDeleted()).filter((x) => x.id === b.id).map((x) => x.recovery)).toEqual([undefined])
    expect((await api(sim, 'GET', `${P()}/branches/${b.id}/endpoints`)).body.endpoints[0].host).toBe(b.host)
    // And it can be deleted and recovered again.
    await remove(b.id)
    expect((await api(sim, 'POST', `${P()}/branches/${b.id}/recover`)).status).toBe(200)
  })

  it('refuses a name taken by a live branch (409), a live branch (400), an unknown one (404)', async () => {
    const old = await made('preview/pr-7')
    await remove(old.id)
    const fresh = await made('preview/pr-7')
    const clash = await api(sim, 'POST', `${P()}/branches/${old.id}/recover`)
    expect(clash.status).toBe(409)
    expect(clash.body.message).toBe('branch already exists; branch_name:"preview/pr-7"')
    // Two deleted branches of one name: either can come back once the name is free, not both.
    await remove(fresh.id)
    expect((await withDeleted('preview/pr-7')).filter((x) => x.recovery).length).toBe(2)
    expect((await api(sim, 'POST', `${P()}/branches/${fresh.id}/recover`)).status).toBe(200)
    expect((await api(sim, 'POST', `${P()}/branches/${old.id}/recover`)).status).toBe(409)
    const live = await api(sim, 'POST', `${P()}/branches/${fresh.id}/recover`)
    expect(live.status).toBe(400)
    expect(live.body.message).toContain('is not deleted')
    expect((await api(sim, 'POST', `${P()}/branches/br-no-such-12345678/recover`)).status).toBe(404)
  })

  it('refuses a child whose parent is deleted, past the branch limit (422), and while locked (423)', async () => {
    const parent = await made('parent')
    const child = await api(sim, 'POST', `${P()}/branches`, {
      branch: { name: 'child', parent_id: parent.id },
    })
    settle()
    await remove(child.body.branch.id as string)
    await remove(parent.id)
    const orphan = await api(sim, 'POST', `${P()}/branches/${child.body.branch.id}/recover`)
    expect(orphan.status).toBe(400)
    expect(orphan.body.message).toContain('recover the parent first')
    sim.world.project(project.id)!.branchesLimit = 1
    const full = await api(sim, 'POST', `${P()}/branches/${parent.id}/recover`)
    expect(full.status).toBe(422)
    expect(full.body.code).toBe('BRANCHES_LIMIT_EXCEEDED')
    delete sim.world.project(project.id)!.branchesLimit
    await api(sim, 'POST', `${P()}/branches`, { branch: { name: 'busy' } })
    expect((await api(sim, 'POST', `${P()}/branches/${parent.id}/recover`)).status).toBe(423)
    settle()
    expect((await api(sim, 'POST', `${P()}/branches/${parent.id}/recover`)).status).toBe(200)
    expect((await api(sim, 'POST', `${P()}/branches/${child.body.branch.id}/recover`)).status).toBe(200)
  })
})

describe('a project that does not offer branch recovery', () => {
  it('deletes for good, lists nothing deleted, and refuses recover with 404 or the status asked', async () => {
    const off = sim.createProject({ id: 'plain-lake-12345678', branchRecovery: false })
    const Q = `/projects/${off.id}`
    const b = sim.addBranch(off.id, { name: 'x' })
    expect((await api(sim, 'DELETE', `${Q}/branches/${b.id}`)).status).toBe(200)
    settle()
    const listed = await api(sim, 'GET', `${Q}/branches?include_deleted=true`)
    expect(listed.body.branches.map((x: { name: string }) => x.name)).toEqual(['main'])
    expect((await api(sim, 'POST', `${Q}/branches/${b.id}/recover`)).status).toBe(404)
    expect(sim.state.branches[b.id]?.purged).toBe(true)

    sim.setBranchRecovery(off.id, { refuseWith: 403 })
    const refused = await api(sim, 'POST', `${Q}/branches/${b.id}/recover`)
    expect(refused.status).toBe(403)
    expect(refused.body.message).toBe('branch recovery is not available for this project')
  })

  it('switched off, drops what was recoverable; switched on, deletes softly again', async () => {
    const a = await made('a')
    await remove(a.id)
    sim.setBranchRecovery(project.id, false)
    expect((await withDeleted()).map((x) => x.name)).toEqual(['main'])
    sim.setBranchRecovery(project.id, true)
    expect((await api(sim, 'POST', `${P()}/branches/${a.id}/recover`)).status).toBe(404)
    const b = await made('b')
    await remove(b.id)
    expect((await api(sim, 'POST', `${P()}/branches/${b.id}/recover`)).status).toBe(200)
    expect(() => sim.setBranchRecovery(project.id, { refuseWith: 500 })).toThrow(/a 4xx/)
  })
})
