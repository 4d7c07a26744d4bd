// create without the look-up where the branch is almost surely new (createsFirst: `ephemeral`, a
// pull request `opened`; not `reopened`, whose look-up finds the deleted branch to recover): the
// create comes first and a 409 means adoption. These
// tests hold it to the guarantees of the look-up-first create, in-process on the virtual clock;
// test/e2e/create-first.e2e.test.ts runs the same cases through dist/index.js.
import { afterEach, describe, expect, it } from 'vitest'
import { getInputs } from '../../src/inputs.js'
import { createMode, createsFirst } from '../../src/modes/create.js'
import { ModeError } from '../../src/modes/types.js'
import type { RunContext } from '../../src/github/context.js'
import {
  LOCKED_MESSAGE,
  startNeonSimulator,
  type NeonSimulator,
  type SimulatorOptions,
} from '../sim/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor, prContext } from '../helpers/mode-harness.js'

let sim: NeonSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function start(opts: SimulatorOptions = {}): Promise<{ sim: NeonSimulator; projectId: string }> {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 40, start_compute: 60 },
    clock: new FakeClock(),
    ...opts,
  })
  return { sim, projectId: sim.createProject({ id: 'hidden-river-50598307' }).id }
}

const NAME = 'preview/pr-12-feature/login'
const OPENED = prContext()
const OPENED_TARGET = prContext(12, 'feature/login', { eventName: 'pull_request_target' })
const PUSH = prContext(12, 'feature/login', { action: 'synchronize' })
const LIST = 'GET /projects/{project_id}/branches'
const POST = 'POST /projects/{project_id}/branches'

/** Requests by route and status from sim.log[from], operation polls left out (they follow the clock). */
function routes(s: NeonSimulator, from: number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const l of s.log.slice(from)) {
    if (l.route?.includes('/operations/')) continue
    const k = `${l.route} ${l.status}`
    out[k] = (out[k] ?? 0) + 1
  }
  return out
}

function live(s: NeonSimulator, projectId: string, name = NAME) {
  return Object.values(s.state.branches).filter(
    (b) => b.project_id === projectId && !b.deleted && b.name === name,
  )
}

function recorder() {
  const calls: string[] = []
  return {
    calls,
    ephemeral: {
      creating: (name: string, key: string) => calls.push(`creating ${name} ${key.length > 0}`),
      created: (b: { id: string }, ops: string[]) => calls.push(`created ${b.id} ${ops.length}`),
      nothing: () => calls.push('nothing'),
    },
  }
}

describe('createsFirst: which runs skip the look-up', () => {
  const inputs = (over: Record<string, string> = {}) =>
    getInputs((n) => ({ mode: 'create', api_key: 'k', project_id: 'p', ...over })[n] ?? '')
  const ctx = (eventName: string, action?: string): RunContext => ({
    ...prContext(),
    eventName,
    ...(action !== undefined ? { action } : { action: undefined }),
  })

  it('a pull request opened, and ephemeral, create first; every other event (reopened too) looks up', () => {
    for (const e of ['pull_request', 'pull_request_target']) {
      expect(createsFirst(inputs(), ctx(e, 'opened'), NAME)).toBe(true)
      // Closing deleted the branch: the look-up (with the deleted branches) finds it to recover.
      expect(createsFirst(inputs(), ctx(e, 'reopened'), NAME)).toBe(false)
      for (const a of ['synchronize', 'ready_for_review', 'labeled', 'edited', 'closed'])
        expect(createsFirst(inputs(), ctx(e, a), NAME)).toBe(false)
    }
    for (const e of ['push', 'workflow_dispatch', 'schedule', 'merge_group'])
      expect(createsFirst(inputs({ branch_name: 'x' }), ctx(e), 'x')).toBe(false)
    // An ephemeral name is the run's own, whatever the event.
    expect(createsFirst(inputs({ ephemeral: 'true' }), ctx('push'), 'ci/run-1-1-test')).toBe(true)
    expect(createsFirst(inputs({ ephemeral: 'true' }), ctx('pull_request', 'synchronize'), 'ci/x')).toBe(true)
  })

  it('a dry run never creates, and a br-… id is looked up by id: both look up first', () => {
    expect(createsFirst(inputs({ dry_run: 'true' }), ctx('pull_request', 'opened'), NAME)).toBe(false)
    expect(createsFirst(inputs({ dry_run: 'true', ephemeral: 'true' }), ctx('push'), 'ci/x')).toBe(false)
    expect(createsFirst(inputs(), ctx('pull_request', 'opened'), 'br-aged-sky-12345678')).toBe(false)
  })
})

describe('create first: the requests', () => {
  it('new branch on opened: one fewer (no look-up); existing on synchronize: unchanged; existing on opened: one more (the 409)', async () => {
    const { sim: s, projectId } = await start()
    const other = s.createProject({ id: 'other-river-50598307' }).id

    // Today's create of a new branch (look-up first, as on synchronize) against the one on opened.
    let from = s.log.length
    await createMode(harness(s, PUSH).deps, inputsFor(other, s.apiKey))
    const newOnPush = routes(s, from)
    from = s.log.length
    const h = harness(s, OPENED)
    const r = await createMode(h.deps, inputsFor(projectId, s.apiKey))
    expect(r.created).toBe(true)
    const newOnOpened = routes(s, from)
    // The create is the first request: nothing before Neon starts its work.
    expect(s.log[from]!.route).toBe(POST)
    expect(newOnPush).toEqual({ ...newOnOpened, [`${LIST} 200`]: 1 })
    expect(newOnOpened[`${LIST} 200`]).toBeUndefined()

    // The next push: looks up and adopts, as it always did (no create).
    from = s.log.length
    const push = await createMode(harness(s, PUSH).deps, inputsFor(projectId, s.apiKey))
    expect(push.created).toBe(false)
    const existingOnPush = routes(s, from)
    expect(existingOnPush[`${LIST} 200`]).toBe(1)
    expect(Object.keys(existingOnPush).some((k) => k.startsWith(POST))).toBe(false)

    // A re-run of the opened job: the create is answered 409, then the same adoption.
    from = s.log.length
    const rerun = await createMode(harness(s, OPENED).deps, inputsFor(projectId, s.apiKey))
    expect(rerun.created).toBe(false)
    expect(rerun.branch!.id).toBe(r.branch!.id)
    const existingOnOpened = routes(s, from)
    expect(existingOnOpened).toEqual({ ...existingOnPush, [`${POST} 409`]: 1 })

    const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0)
    console.log(
      `requests (operation polls left out): new branch, look-up first ${total(newOnPush)}, on opened ` +
        `${total(newOnOpened)}; existing branch on synchronize ${total(existingOnPush)}, on opened ` +
        `${total(existingOnOpened)}\n${JSON.stringify({ newOnPush, newOnOpened, existingOnPush, existingOnOpened }, null, 1)}`,
    )
  })
})

describe('create first: the guarantees of the look-up', () => {
  it('a parent_branch that does not exist fails naming it, and no create is sent', async () => {
    const { sim: s, projectId } = await start()
    const err = await createMode(
      harness(s, OPENED).deps,
      inputsFor(projectId, s.apiKey, { parent_branch: 'no-such' }),
    ).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(
      /parent_branch 'no-such' does not exist in project hidden-river-50598307/,
    )
    // The parent's look-up, then the name's (to adopt it had it existed): no create.
    expect(s.log.map((l) => `${l.route} ${l.query.search}`)).toEqual([`${LIST} no-such`, `${LIST} ${NAME}`])
  })

  it('an existing branch is adopted whatever the parent, as the look-up adopts it before resolving one', async () => {
    const { sim: s, projectId } = await start()
    const existing = s.addBranch(projectId, { name: NAME })
    const h = harness(s, OPENED)
    const r = await createMode(h.deps, inputsFor(projectId, s.apiKey, { parent_branch: 'since-deleted' }))
    expect(r.branch!.id).toBe(existing.id)
    expect(r.created).toBe(false)
    expect(h.logs.join('\n')).toMatch(
      /already exists; adopting it as it is \(a new one could not be made: parent_branch 'since-deleted' does not exist/,
    )
    expect(s.log.some((l) => l.route === POST)).toBe(false)
  })

  it('a point outside the history window fails naming the input before any create', async () => {
    const { sim: s, projectId } = await start()
    const past = new Date(s.clock.now() - 3 * 86400_000).toISOString()
    const err = await createMode(
      harness(s, OPENED).deps,
      inputsFor(projectId, s.apiKey, { parent_branch: `main@${past}` }),
    ).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(
      /Invalid input 'parent_branch'.*outside the history Neon can branch from/,
    )
    expect(s.log.some((l) => l.method !== 'GET')).toBe(false)
  })

  it('a parent given by name is resolved before the create and used', async () => {
    const { sim: s, projectId } = await start()
    const staging = s.addBranch(projectId, { name: 'staging' })
    const r = await createMode(
      harness(s, OPENED).deps,
      inputsFor(projectId, s.apiKey, { parent_branch: 'staging' }),
    )
    expect(r.created).toBe(true)
    expect(s.state.branches[r.branch!.id]!.parent_id).toBe(staging.id)
    expect(
      s.log.filter((l) => l.route !== null && !l.route.includes('/operations')).map((l) => l.route),
    ).toEqual([LIST, POST])
  })

  it('never takes over the default or a protected branch: the 409 is followed by the same refusal', async () => {
    const { sim: s, projectId } = await start()
    s.addBranch(projectId, { name: 'prod-copy', protected: true })
    const before = Object.keys(s.state.branches).length
    await expect(
      createMode(harness(s, OPENED).deps, inputsFor(projectId, s.apiKey, { branch_name: 'main' })),
    ).rejects.toThrow(/'main' \(br-[a-z0-9-]+\) is the project's default branch; refusing to use it/)
    await expect(
      createMode(
        harness(s, OPENED_TARGET).deps,
        inputsFor(projectId, s.apiKey, { branch_name: 'prod-copy' }),
      ),
    ).rejects.toThrow(/'prod-copy' \(br-[a-z0-9-]+\) is a protected branch; refusing to use it/)
    expect(s.log.filter((l) => l.route === POST).map((l) => l.status)).toEqual([409, 409])
    expect(Object.keys(s.state.branches)).toHaveLength(before)
    expect(s.log.filter((l) => l.method !== 'GET' && l.status < 400)).toEqual([])
  })

  it("after the 409, another repository's branch is refused, as the look-up refuses it (issue 22)", async () => {
    const { sim: s, projectId } = await start()
    s.addBranch(projectId, { name: NAME, annotations: { 'github-repo': 'someone/else' } })
    const h = harness(s, OPENED)
    await expect(createMode(h.deps, inputsFor(projectId, s.apiKey))).rejects.toThrow(
      /'preview\/pr-12-feature\/login' \(br-[a-z0-9-]+\) in project hidden-river-50598307 is annotated for repository someone\/else \(github-repo\), not octo-org\/octo-repo/,
    )
    expect(s.log.filter((l) => l.method !== 'GET').map((l) => `${l.route} ${l.status}`)).toEqual([
      `${POST} 409`,
    ])
  })

  it('a create refused for its point (400) adopts the existing branch and warns that it starts elsewhere', async () => {
    const { sim: s, projectId } = await start()
    const existing = s.addBranch(projectId, { name: NAME })
    const h = harness(s, OPENED)
    const r = await createMode(h.deps, inputsFor(projectId, s.apiKey, { parent_branch: 'main@0/1A2B3C4' }))
    expect(r.created).toBe(false)
    expect(r.branch!.id).toBe(existing.id)
    expect(s.log.filter((l) => l.route === POST).map((l) => l.status)).toEqual([400])
    const logs = h.logs.join('\n')
    expect(logs).toMatch(
      /already exists; adopting it as it is \(a new one could not be made: POST .* HTTP 400/,
    )
    expect(logs).toMatch(/warning: The existing branch .* was not made from main@0\/1A2B3C4/)
  })

  it('a dry run on opened still looks up and sends no create', async () => {
    const { sim: s, projectId } = await start()
    const r = await createMode(harness(s, OPENED).deps, inputsFor(projectId, s.apiKey, { dry_run: 'true' }))
    expect(r.changes).toEqual([expect.stringMatching(/^would create branch 'preview\/pr-12-feature\/login'/)])
    expect(s.log.some((l) => l.method !== 'GET')).toBe(false)
    expect(s.log.map((l) => l.route)).toContain(LIST)
  })
})

describe('create first at the branch limit', () => {
  for (const order of ['conflict-first', 'limit-first'] as const) {
    it(`${order}: the branch that exists is adopted, with make-room nothing is deleted, and nothing fails`, async () => {
      const { sim: s, projectId } = await start({ branchLimit: 3, createCheckOrder: order })
      const existing = s.addBranch(projectId, { name: NAME })
      s.addBranch(projectId, { name: 'preview/old-branch', updatedAt: '2020-01-01T00:00:00Z' })
      for (const on of ['fail', 'make-room']) {
        const from = s.log.length
        const r = await createMode(
          harness(s, OPENED).deps,
          inputsFor(projectId, s.apiKey, { on_branch_limit: on }),
        )
        expect(r.created).toBe(false)
        expect(r.branch!.id).toBe(existing.id)
        expect(r.deletedBranches ?? []).toEqual([])
        const got = routes(s, from)
        expect(got[`${POST} ${order === 'conflict-first' ? 409 : 422}`]).toBe(1)
        // No survey, no delete: the look-up found the name, and that ended it.
        expect(got['GET /projects/{project_id}/branches/count 200']).toBeUndefined()
        expect(Object.keys(got).some((k) => k.startsWith('DELETE'))).toBe(false)
      }
      expect(
        Object.values(s.state.branches).filter((b) => b.project_id === projectId && !b.deleted),
      ).toHaveLength(3)
    })
  }

  it('limit-first, a new name: the look-up finds nothing, and on_branch_limit decides as before', async () => {
    const { sim: s, projectId } = await start({ branchLimit: 2, createCheckOrder: 'limit-first' })
    s.addBranch(projectId, { name: 'preview/old-branch', updatedAt: '2020-01-01T00:00:00Z' })
    const err = (await createMode(harness(s, OPENED).deps, inputsFor(projectId, s.apiKey)).catch(
      (e: unknown) => e,
    )) as ModeError
    expect(err).toBeInstanceOf(ModeError)
    expect(err.message).toMatch(/the project is at its branch limit: 2 of 2 branches/)
    expect(s.log.filter((l) => l.route === LIST).map((l) => l.query.search)).toEqual([NAME, undefined])
    const made = await createMode(
      harness(s, OPENED).deps,
      inputsFor(projectId, s.apiKey, { on_branch_limit: 'make-room', cleanup_max_age: '1d' }),
    )
    expect(made.created).toBe(true)
    expect(made.deletedBranches).toEqual(['preview/old-branch'])
  })
})

describe('create first: races and faults', () => {
  it('two runs on opened: one branch, both succeed with the same id, one created it', async () => {
    const { sim: s, projectId } = await start()
    const [a, b] = await Promise.all([
      createMode(harness(s, OPENED).deps, inputsFor(projectId, s.apiKey)),
      createMode(harness(s, OPENED).deps, inputsFor(projectId, s.apiKey)),
    ])
    expect(a.branch!.id).toBe(b.branch!.id)
    expect([a.created, b.created].sort()).toEqual([false, true])
    expect(live(s, projectId)).toHaveLength(1)
    expect(a.connection!.urls.dbUrl).toBe(b.connection!.urls.dbUrl)
    expect(
      s.log
        .filter((l) => l.route === POST)
        .map((l) => l.status)
        .sort(),
    ).toEqual([201, 409])
  })

  it('rides out 423, 429 and 502 on the create, and a 409 on a retried create adopts what the first attempt made', async () => {
    const { sim: s, projectId } = await start()
    s.faults.add({ route: POST, status: 423, times: 3, body: { code: '', message: LOCKED_MESSAGE } })
    s.faults.add({ route: POST, status: 429, times: 1, headers: { 'Retry-After': '0' } })
    s.faults.add({ route: POST, status: 503, times: 1 })
    const h = harness(s, OPENED)
    const r = await createMode(h.deps, inputsFor(projectId, s.apiKey))
    expect(r.created).toBe(true)
    expect(s.log.filter((l) => l.route === POST).map((l) => l.status)).toEqual([423, 423, 423, 429, 503, 201])

    // The first attempt is done, its answer lost (502): the retry's 409 is our own branch.
    const p2 = s.createProject({ id: 'lost-answer-50598307' }).id
    s.faults.add({
      route: POST,
      status: 502,
      times: 1,
      before: () => void s.addBranch(p2, { name: NAME }),
    })
    const h2 = harness(s, OPENED)
    const r2 = await createMode(h2.deps, inputsFor(p2, s.apiKey))
    expect(live(s, p2)).toHaveLength(1)
    expect(r2.branch!.id).toBe(live(s, p2)[0]!.id)
    expect(r2.created).toBe(false)
    expect(r2.connection!.endpointId).toBeTruthy()
    expect(s.log.filter((l) => l.route === POST && l.path.includes(p2)).map((l) => l.status)).toEqual([
      502, 409,
    ])
  })

  it('a 500 on the create is not retried (it may have made the branch) and fails saying nothing was changed', async () => {
    const { sim: s, projectId } = await start()
    s.faults.add({
      route: POST,
      status: 500,
      times: 1,
      body: { code: 'INTERNAL', message: 'boom', request_id: 'rid-1' },
    })
    const err = (await createMode(harness(s, OPENED).deps, inputsFor(projectId, s.apiKey)).catch(
      (e: unknown) => e,
    )) as ModeError
    expect(err.message).toMatch(
      /POST \/projects\/hidden-river-50598307\/branches: HTTP 500 .*boom \(request id rid-1\)/,
    )
    expect(err.changes).toEqual([])
    expect(s.log.filter((l) => l.route === POST)).toHaveLength(1)
  })
})

describe('create first: ephemeral', () => {
  it('an existing name is a collision with the same message, nothing was changed, and the state says nothing was created', async () => {
    const { sim: s, projectId } = await start()
    const existing = s.addBranch(projectId, { name: 'ci/run-7-1-test' })
    const h = harness(s, PUSH)
    const rec = recorder()
    h.deps.ephemeral = rec.ephemeral
    const err = (await createMode(
      h.deps,
      inputsFor(projectId, s.apiKey, { ephemeral: 'true', branch_name: 'ci/run-7-1-test' }),
    ).catch((e: unknown) => e)) as ModeError
    expect(err).toBeInstanceOf(ModeError)
    expect(err.message).toContain(
      `branch 'ci/run-7-1-test' (${existing.id}) already exists in project hidden-river-50598307, and with 'ephemeral: true' a branch is never adopted`,
    )
    expect(err.message).toMatch(/Nothing was changed\.$/)
    expect(err.changes).toEqual([])
    expect(rec.calls).toEqual(['creating ci/run-7-1-test true', 'nothing'])
    expect(s.log.filter((l) => l.route !== null).map((l) => `${l.route} ${l.status}`)).toEqual([
      `${POST} 409`,
      `${LIST} 200`,
    ])
  })

  it('a 409 on a retried create of a branch carrying our key is our own: created, recorded for the post step', async () => {
    const { sim: s, projectId } = await start()
    // The first attempt made the branch, with the body it sent; its answer was lost (502).
    s.faults.add({
      route: POST,
      status: 502,
      times: 1,
      before: () => {
        const body = s.log.at(-1)!.body as {
          branch: { name: string }
          annotation_value: Record<string, string>
        }
        s.addBranch(projectId, { name: body.branch.name, annotations: body.annotation_value })
      },
    })
    const h = harness(s, PUSH)
    const rec = recorder()
    h.deps.ephemeral = rec.ephemeral
    const r = await createMode(
      h.deps,
      inputsFor(projectId, s.apiKey, { ephemeral: 'true', branch_name: 'ci/x' }),
    )
    expect(r.created).toBe(true)
    expect(rec.calls).toEqual(['creating ci/x true', `created ${r.branch!.id} 0`])
    expect(r.changes).toEqual([expect.stringMatching(/^created branch 'ci\/x' \(br-/)])
    expect(s.log.filter((l) => l.route === POST).map((l) => l.status)).toEqual([502, 409])
  })
})
