import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMode } from '../../src/modes/create.js'
import { deleteMode } from '../../src/modes/delete.js'
import type { ModeError } from '../../src/modes/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { LOCKED_MESSAGE, startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { harness, inputsFor } from '../helpers/mode-harness.js'

let sim: NeonSimulator
let projectId: string

beforeEach(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 30, start_compute: 30, delete_timeline: 40 },
    clock: new FakeClock(),
  })
  projectId = sim.createProject({ id: 'delete-proj-1' }).id
})
afterEach(async () => {
  await sim.close()
})

const del = (over: Record<string, string> = {}) =>
  deleteMode(harness(sim).deps, inputsFor(projectId, sim.apiKey, { mode: 'delete', ...over }))
const create = () => createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey))
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ModeError,
  )
const live = () => Object.values(sim.state.branches).filter((b) => !b.deleted)
const deletes = () => sim.log.filter((l) => l.method === 'DELETE')

describe('delete', () => {
  it('deletes the PR branch and waits for its operations', async () => {
    const mine = await create()
    const r = await del()
    expect(r.deleted).toBe(true)
    expect(r.branch?.id).toBe(mine.branch?.id)
    expect(live().map((b) => b.name)).toEqual(['main'])
    const ops = Object.values(sim.state.operations).filter(
      (o) => o.branch_id === mine.branch?.id && o.action === 'delete_timeline',
    )
    expect(ops).toHaveLength(1)
    expect(sim.operationStatus(ops[0]!.id)).toBe('finished')
    expect(r.changes).toEqual([`deleted branch 'preview/pr-12-feature/login' (${mine.branch?.id})`])
  })

  it('a missing branch is success with deleted=false, twice in a row', async () => {
    await create()
    expect((await del()).deleted).toBe(true)
    const second = await del()
    expect(second.deleted).toBe(false)
    const third = await del()
    expect(third.deleted).toBe(false)
    expect(deletes()).toHaveLength(1)
  })

  it('treats a 204 (deleted by someone else between our look and our delete) as already gone', async () => {
    await create()
    sim.faults.add({ route: 'DELETE /projects/{project_id}/branches/{branch_id}', status: 204 })
    const h = harness(sim)
    const r = await deleteMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'delete' }))
    expect(r.deleted).toBe(false)
    expect(h.logs.join('\n')).toMatch(/was deleted by someone else a moment ago/)
  })

  it('accepts a branch id as branch_name', async () => {
    const mine = await create()
    const r = await del({ branch_name: mine.branch!.id })
    expect(r.deleted).toBe(true)
    expect(live().some((b) => b.id === mine.branch?.id)).toBe(false)
  })

  it('refuses the default and protected branches: non-zero, nothing deleted', async () => {
    sim.addBranch(projectId, { name: 'prod-guarded', protected: true })
    expect((await failure(del({ branch_name: 'main' })))?.message).toMatch(
      /default branch; refusing to delete it/,
    )
    expect((await failure(del({ branch_name: 'prod-guarded' })))?.message).toMatch(
      /protected branch; refusing to delete it/,
    )
    expect(deletes()).toEqual([])
    expect(live()).toHaveLength(2)
  })

  it('refuses a branch with children, naming them; nothing is deleted', async () => {
    const mine = await create()
    sim.addBranch(projectId, { name: 'kid-a', parentId: mine.branch!.id })
    sim.addBranch(projectId, { name: 'kid-b', parentId: mine.branch!.id })
    const err = await failure(del())
    expect(err?.message).toMatch(
      /has child branches: 'kid-[ab]' \(br-[a-z0-9-]+\), 'kid-[ab]' \(br-[a-z0-9-]+\)/,
    )
    expect(err?.message).toMatch(/Nothing was deleted/)
    expect(deletes()).toEqual([])
  })

  it('dry run reports and changes nothing', async () => {
    const mine = await create()
    const before = sim.snapshot()
    const r = await del({ dry_run: 'true' })
    expect(sim.snapshot()).toEqual(before)
    expect(r.deleted).toBe(false)
    expect(r.branch?.id).toBe(mine.branch?.id)
    expect(r.changes).toEqual([expect.stringMatching(/^would delete branch/)])
  })

  it('rides out 423 and 429 on the delete', async () => {
    await create()
    sim.faults.add({
      route: 'DELETE /projects/{project_id}/branches/{branch_id}',
      status: 423,
      times: 2,
      body: {
        code: '',
        message: LOCKED_MESSAGE,
      },
    })
    sim.faults.add({
      route: 'DELETE /projects/{project_id}/branches/{branch_id}',
      status: 429,
      times: 1,
      headers: { 'Retry-After': '0' },
      body: { code: '', message: 'too many requests' },
    })
    const h = harness(sim)
    const r = await deleteMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'delete' }))
    expect(r.deleted).toBe(true)
    expect(h.neon.stats.retries).toBe(3)
  })

  it('a failed delete operation surfaces its error', async () => {
    await create()
    sim.failNextOperation({ action: 'delete_timeline' }, 'pageserver refused to delete timeline')
    const err = await failure(del())
    expect(err?.message).toMatch(
      /Neon operation delete_timeline \(.*\) ended 'failed': pageserver refused to delete timeline/,
    )
    expect(err?.changes).toEqual([expect.stringMatching(/^deleted branch/)])
  })
})
