import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import { createMode } from '../../src/modes/create.js'
import { deleteMode } from '../../src/modes/delete.js'
import { refuseRestricted, RestrictedActionError, restrictionOf } from '../../src/modes/guards.js'
import { resetMode } from '../../src/modes/reset.js'
import { ModeError } from '../../src/modes/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor } from '../helpers/mode-harness.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

// Neon's restricted_actions (the API description's Branch.restricted_actions): a reset or a delete
// Neon restricts on the branch is refused before it is sent, with Neon's reason (issue 24).

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const ago = (days: number) => new Date(NOW - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')
const ANON = 'Branch is anonymized: restoring it would bring back unmasked data'

let sim: NeonSimulator
let projectId: string

beforeEach(async () => {
  sim = await startNeonSimulator({ clock: new FakeClock(NOW) })
  projectId = sim.createProject({ id: 'restricted-proj-1' }).id
})
afterEach(async () => {
  await sim.close()
})

const run = (mode: 'create' | 'reset' | 'delete' | 'cleanup', over: Record<string, string> = {}) => {
  const { deps } = harness(sim)
  const inputs = inputsFor(projectId, sim.apiKey, { mode, ...over })
  return mode === 'create'
    ? createMode(deps, inputs)
    : mode === 'reset'
      ? resetMode(deps, inputs)
      : mode === 'delete'
        ? deleteMode(deps, inputs)
        : cleanupMode(deps, inputs)
}
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ModeError,
  )
/** Requests that could change something in Neon. */
const mutations = () => sim.log.filter((l) => l.method !== 'GET')

describe('refuseRestricted', () => {
  const branch = (names: string[]) => ({
    id: 'br-a-1',
    name: 'preview/pr-1',
    restricted_actions: names.map((name) => ({ name, reason: `no ${name}` })),
  })

  it("maps reset to Neon's `restore` and delete to `delete`, and quotes Neon's reason", () => {
    expect(() => refuseRestricted(branch(['restore']), 'reset')).toThrow(
      "Neon restricts 'restore' on branch 'preview/pr-1' (br-a-1): no restore; refusing to reset it. Nothing was changed.",
    )
    expect(() => refuseRestricted(branch(['delete']), 'delete')).toThrow(RestrictedActionError)
    expect(restrictionOf(branch(['restore']), 'reset')).toEqual({ name: 'restore', reason: 'no restore' })
  })

  it('lets through what is not restricted, and a branch without the field', () => {
    // An anonymized branch's compute cannot be deleted, but the branch itself can be.
    expect(() => refuseRestricted(branch(['restore', 'delete-rw-endpoint']), 'delete')).not.toThrow()
    expect(() => refuseRestricted(branch(['delete']), 'reset')).not.toThrow()
    expect(() => refuseRestricted({ id: 'br-a-1', name: 'x' }, 'reset')).not.toThrow()
  })
})

describe('a reset or delete Neon restricts', () => {
  it('reset: refused before the restore, with zero mutating requests, also as a dry run and to its own past', async () => {
    const created = await run('create')
    const id = created.branch!.id
    sim.setRestrictedActions(projectId, id, [{ name: 'restore', reason: ANON }])
    const before = mutations().length
    const self = {
      parent_branch: `^self@${new Date(sim.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
      preserve_under_name: 'preview/pr-12-before',
    }
    for (const over of [{}, { dry_run: 'true' }, self] as Record<string, string>[]) {
      const e = await failure(run('reset', over))
      expect(e).toBeInstanceOf(ModeError)
      expect(e?.message).toContain(
        `Neon restricts 'restore' on branch 'preview/pr-12-feature/login' (${id}): ${ANON}`,
      )
      expect(e?.message).toContain('refusing to reset it. Nothing was changed.')
      expect(e?.changes).toEqual([])
    }
    expect(mutations().length).toBe(before)
    expect(sim.log.some((l) => l.route?.endsWith('/restore'))).toBe(false)
  })

  it('delete: refused before the DELETE, the branch kept', async () => {
    const created = await run('create')
    sim.setRestrictedActions(projectId, created.branch!.id, [
      { name: 'delete', reason: 'kept for the audit' },
    ])
    const before = mutations().length
    const e = await failure(run('delete'))
    expect(e?.message).toMatch(
      /^delete of branch 'preview\/pr-12-feature\/login' failed: Neon restricts 'delete'/,
    )
    expect(e?.message).toContain('kept for the audit; refusing to delete it.')
    expect(mutations().length).toBe(before)
    expect(sim.state.branches[created.branch!.id]?.deleted).toBe(false)
  })

  it('an anonymized branch (restore and its compute restricted) is still deleted', async () => {
    const created = await run('create')
    sim.setRestrictedActions(projectId, created.branch!.id, [
      { name: 'restore', reason: ANON },
      { name: 'delete-rw-endpoint', reason: ANON },
    ])
    expect((await run('delete')).deleted).toBe(true)
  })

  it('cleanup keeps a stale branch whose delete is restricted, and its parent, saying why', async () => {
    const parent = sim.addBranch(projectId, { name: 'preview/old-parent', updatedAt: ago(30) })
    const child = sim.addBranch(projectId, {
      name: 'preview/old-child',
      parentId: parent.id,
      updatedAt: ago(30),
      restrictedActions: [{ name: 'delete', reason: 'kept for the audit' }],
    })
    const other = sim.addBranch(projectId, { name: 'preview/old-other', updatedAt: ago(30) })
    const r = await run('cleanup')
    const verdict = (id: string) => r.verdicts?.find((v) => v.branchId === id)
    expect(verdict(child.id)).toMatchObject({ verdict: 'kept' })
    expect(verdict(child.id)?.reason).toContain("kept: Neon restricts 'delete' on it (kept for the audit)")
    expect(verdict(parent.id)).toMatchObject({ verdict: 'kept' })
    expect(verdict(parent.id)?.reason).toContain("its child 'preview/old-child'")
    expect(verdict(other.id)).toMatchObject({ verdict: 'deleted' })
    const deleted = sim.log.filter((l) => l.method === 'DELETE').map((l) => l.path)
    expect(deleted).toEqual([`/api/v2/projects/${projectId}/branches/${other.id}`])
  })
})
