import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMode } from '../../src/modes/create.js'
import { resetMode } from '../../src/modes/reset.js'
import { ModeError } from '../../src/modes/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { LOCKED_MESSAGE, startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { harness, inputsFor } from '../helpers/mode-harness.js'

let sim: NeonSimulator
let projectId: string
let defaultId: string

beforeEach(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 30, start_compute: 40, create_timeline: 30 },
    clock: new FakeClock(),
  })
  const p = sim.createProject({ id: 'reset-proj-1' })
  projectId = p.id
  defaultId = p.defaultBranchId
})
afterEach(async () => {
  await sim.close()
})

const reset = (over: Record<string, string> = {}) =>
  resetMode(harness(sim).deps, inputsFor(projectId, sim.apiKey, { mode: 'reset', ...over }))
const create = (over: Record<string, string> = {}) =>
  createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey, over))
const mutations = () => sim.log.filter((l) => l.method !== 'GET')
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ModeError,
  )

describe('reset', () => {
  it('restores the branch from its parent, waits, and keeps id, host and password', async () => {
    const before = await create()
    const r = await reset()
    expect(r.mode).toBe('reset')
    expect(r.branch?.id).toBe(before.branch?.id)
    expect(r.connection?.urls.host).toBe(before.connection?.urls.host)
    expect(r.connection?.password).toBe(before.connection?.password)
    expect(r.connection?.urls.dbUrl).toBe(before.connection?.urls.dbUrl)
    expect(r.branch?.parentName).toBe('main')
    const restore = sim.log.find(
      (l) => l.route === 'POST /projects/{project_id}/branches/{branch_id}/restore',
    )
    expect(restore?.body).toEqual({ source_branch_id: defaultId })
    // Every operation of the restore has finished by the time reset returns.
    const ops = Object.values(sim.state.operations).filter((o) => o.branch_id === r.branch?.id)
    for (const op of ops) expect(sim.operationStatus(op.id)).toBe('finished')
    expect(ops.map((o) => o.action)).toEqual(expect.arrayContaining(['create_timeline']))
    expect(r.changes[0]).toMatch(/^reset 'preview\/pr-12-feature\/login' \(br-[a-z0-9-]+\) to 'main' \(br-/)
    // A reset restarts the TTL: the expiry is pushed out again.
    expect(Date.parse(r.branch!.expiresAt!)).toBeGreaterThan(sim.clock.now() + 13 * 86400_000)
  })

  it('resets from parent_branch when given (by name), never from anything else', async () => {
    const staging = sim.addBranch(projectId, { name: 'staging' })
    await create()
    await reset({ parent_branch: 'staging' })
    const restore = sim.log.find((l) => l.route?.endsWith('/restore'))
    expect(restore?.body).toEqual({ source_branch_id: staging.id })
    const err = await failure(reset({ parent_branch: 'no-such-branch' }))
    expect(err?.message).toMatch(/parent_branch 'no-such-branch' does not exist/)
  })

  it('fails, naming the branch, when it does not exist, and changes nothing', async () => {
    const err = await failure(reset())
    expect(err?.message).toMatch(
      /branch 'preview\/pr-12-feature\/login' does not exist in project reset-proj-1/,
    )
    expect(mutations()).toEqual([])
  })

  it('refuses the default branch, a protected branch, and branches with no parent, before any mutation', async () => {
    sim.addBranch(projectId, { name: 'guarded', protected: true })
    sim.addBranch(projectId, { name: 'schema', initSource: 'schema-only' })
    // A root branch that is no longer the default: the project's first branch after a new default is set.
    const other = sim.addBranch(projectId, { name: 'new-main' })
    await fetch(`${sim.apiUrl}/projects/${projectId}/branches/${other.id}/set_as_default`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sim.apiKey}` },
    })
    const logBefore = sim.log.length
    expect((await failure(reset({ branch_name: 'new-main' })))?.message).toMatch(
      /is the project's default branch; refusing to reset it/,
    )
    expect((await failure(reset({ branch_name: 'guarded' })))?.message).toMatch(
      /is a protected branch; refusing to reset it/,
    )
    expect((await failure(reset({ branch_name: 'schema' })))?.message).toMatch(
      /is a schema-only branch with no parent; it cannot be reset/,
    )
    expect((await failure(reset({ branch_name: 'main' })))?.message).toMatch(
      /'main' \(br-[a-z0-9-]+\) is a root branch with no parent; it cannot be reset/,
    )
    expect(sim.log.slice(logBefore).filter((l) => l.method !== 'GET')).toEqual([])
  })

  it('needs preserve_under_name for a branch with children, and then moves them there', async () => {
    const mine = await create()
    const child = sim.addBranch(projectId, { name: 'child-of-preview', parentId: mine.branch!.id })
    const err = await failure(reset())
    expect(err?.message).toMatch(/has child branches \('child-of-preview'\); set 'preserve_under_name'/)
    expect(mutations().filter((l) => l.route?.endsWith('/restore'))).toEqual([])

    const r = await reset({ preserve_under_name: 'preview/pr-12-before-reset' })
    expect(r.branch?.id).toBe(mine.branch?.id)
    const preserved = Object.values(sim.state.branches).find((b) => b.name === 'preview/pr-12-before-reset')
    expect(preserved).toBeDefined()
    expect(sim.state.branches[child.id]?.parent_id).toBe(preserved?.id)
    expect(r.changes[0]).toMatch(/keeping its previous state as 'preview\/pr-12-before-reset'/)
  })

  it('refuses a preserve_under_name that is already taken', async () => {
    await create()
    sim.addBranch(projectId, { name: 'taken' })
    const err = await failure(reset({ preserve_under_name: 'taken' }))
    expect(err?.message).toMatch(/preserve_under_name 'taken' is already the name of a branch/)
  })

  it('dry run says what it would do and changes nothing', async () => {
    const mine = await create()
    const before = sim.snapshot()
    const r = await reset({ dry_run: 'true' })
    expect(sim.snapshot()).toEqual(before)
    expect(r.branch?.id).toBe(mine.branch?.id)
    expect(r.branch?.name).toBe(mine.branch?.name)
    expect(r.connection).toBeUndefined()
    expect(r.changes).toEqual([
      expect.stringMatching(/^would reset 'preview\/pr-12-feature\/login' .* to 'main'/),
    ])
  })

  it('rides out 423 and 429 on the restore and its polls', async () => {
    const mine = await create()
    sim.faults.add({
      route: 'POST /projects/{project_id}/branches/{branch_id}/restore',
      status: 423,
      times: 3,
      body: {
        code: '',
        message: LOCKED_MESSAGE,
      },
    })
    sim.faults.add({
      route: 'GET /projects/{project_id}/operations/{operation_id}',
      status: 429,
      times: 2,
      headers: { 'Retry-After': '0' },
      body: { code: '', message: 'too many requests' },
    })
    const h = harness(sim)
    const r = await resetMode(h.deps, inputsFor(projectId, sim.apiKey, { mode: 'reset' }))
    expect(r.branch?.id).toBe(mine.branch?.id)
    expect(h.neon.stats.retries).toBe(5)
    expect(sim.log.filter((l) => l.route?.endsWith('/restore') && l.status === 200)).toHaveLength(1)
  })

  it('a failed restore operation fails the run and says the reset was started', async () => {
    await create()
    sim.failNextOperation({ action: 'create_timeline' }, 'timeline creation failed on pageserver')
    const err = await failure(reset())
    expect(err?.message).toMatch(
      /Neon operation create_timeline \(.*\) ended 'failed': timeline creation failed/,
    )
    expect(err?.changes).toEqual([expect.stringMatching(/^reset 'preview\/pr-12-feature\/login'/)])
  })
})
