// create recovering a deleted branch, and mode: recover, in-process on the virtual clock against the
// simulator (soft delete kept 7 days, include_deleted, POST …/recover). Through dist/index.js:
// test/e2e/recover.e2e.test.ts.
import { afterEach, describe, expect, it } from 'vitest'
import { createMode } from '../../src/modes/create.js'
import { deleteMode } from '../../src/modes/delete.js'
import { recoverMode } from '../../src/modes/recover.js'
import { ModeError, type ModeResult } from '../../src/modes/types.js'
import type { RunContext } from '../../src/github/context.js'
import { startNeonSimulator, type NeonSimulator, type SimulatorOptions } from '../sim/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor, prContext, REPO } from '../helpers/mode-harness.js'

let sim: NeonSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function start(opts: SimulatorOptions = {}): Promise<{ s: NeonSimulator; projectId: string }> {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 40, start_compute: 60, delete_timeline: 30 },
    clock: new FakeClock(),
    ...opts,
  })
  return { s: sim, projectId: sim.createProject({ id: 'hidden-river-50598307' }).id }
}

const NAME = 'preview/pr-12-feature/login'
const at = (action: string, extra: Partial<RunContext> = {}) =>
  prContext(12, 'feature/login', { action, ...extra })
const OPENED = at('opened')
const CLOSED = at('closed')
const REOPENED = at('reopened')
const PUSH = at('synchronize')
const DISPATCH: RunContext = {
  eventName: 'workflow_dispatch',
  repository: REPO,
  serverUrl: 'https://github.com',
  apiUrl: 'https://api.github.com',
}
const LIST = 'GET /projects/{project_id}/branches'
const POST = 'POST /projects/{project_id}/branches'
const RECOVER = 'POST /projects/{project_id}/branches/{branch_id}/recover'

/** Requests by route and status from s.log[from], operation polls left out (they follow the clock). */
function routes(s: NeonSimulator, from: number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const l of s.log.slice(from)) {
    if (l.route?.includes('/operations')) continue
    const k = `${l.route} ${l.status}`
    out[k] = (out[k] ?? 0) + 1
  }
  return out
}
const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0)
const notices = (logs: string[]) => logs.filter((l) => l.startsWith('notice: '))

async function create(
  s: NeonSimulator,
  projectId: string,
  ctx: RunContext,
  over: Record<string, string> = {},
) {
  const h = harness(s, ctx)
  const r = await createMode(h.deps, inputsFor(projectId, s.apiKey, over))
  return { r, logs: h.logs }
}

/** A pull request's branch, made on opened and deleted on closed: its id, host and password. */
async function openedThenClosed(s: NeonSimulator, projectId: string) {
  const { r } = await create(s, projectId, OPENED)
  const del = await deleteMode(harness(s, CLOSED).deps, inputsFor(projectId, s.apiKey, { mode: 'delete' }))
  expect(del.deleted).toBe(true)
  await s.clock.sleep(3600_000)
  return { made: r, del }
}

function connection(r: ModeResult) {
  return { id: r.branch!.id, host: r.connection!.urls.host, password: r.connection!.password }
}

describe('create recovers the pull request deleted branch', () => {
  it('close then reopen: the same branch id, host and password, the expiry set again; the requests', async () => {
    const { s, projectId } = await start()
    const { made, del } = await openedThenClosed(s, projectId)
    expect(del.recoverable).toEqual([
      { name: NAME, id: made.branch!.id, recoverableUntil: expect.stringMatching(/Z$/) },
    ])

    const from = s.log.length
    const { r, logs } = await create(s, projectId, REOPENED)
    expect(r.recovered).toBe(true)
    expect(r.created).toBe(false)
    expect(connection(r)).toEqual(connection(made))
    expect(r.recovery?.deletedAt).toMatch(/Z$/)
    expect(r.recovery?.deletionMethod).toBe('user')
    // Recovery removed the expiry; create set it again (expires_in 14d by default).
    expect(r.branch!.expiresAt).toBe(
      new Date(Math.floor(s.clock.now() / 1000) * 1000 + 14 * 86_400_000)
        .toISOString()
        .replace(/\.000Z$/, 'Z'),
    )
    expect(s.state.branches[r.branch!.id]!.expires_at).toBe(r.branch!.expiresAt)
    expect(r.changes[0]).toMatch(/^recovered branch 'preview\/pr-12-feature\/login' \(br-.*\), deleted at /)
    expect(notices(logs)).toEqual([])
    // One listing (live and deleted at once), the recovery, then the adopted branch's reads and PATCH
    // side by side; the endpoint came with the recovery's answer, so it is not asked for.
    const reopen = routes(s, from)
    expect(reopen).toEqual({
      [`${LIST} 200`]: 1,
      [`${RECOVER} 200`]: 1,
      'GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password 200': 1,
      'GET /projects/{project_id}/branches/{branch_id}/databases 200': 1,
      'PATCH /projects/{project_id}/branches/{branch_id} 200': 1,
    })
    expect(s.log[from]!.query).toEqual({ search: NAME, limit: '100', include_deleted: 'true' })
    console.log(
      `in-process: a reopen that recovers makes ${total(reopen)} requests: ${JSON.stringify(reopen)}`,
    )
  })

  it('a push after the expiry ran out makes a new branch, and one notice names the recoverable one (issue 29)', async () => {
    const { s, projectId } = await start()
    const { r: made } = await create(s, projectId, OPENED, { expires_in: '1d' })
    await s.clock.sleep(2 * 86_400_000)
    const from = s.log.length
    const { r, logs } = await create(s, projectId, PUSH)
    // A push never revives a deleted branch: it may have been deleted to revoke a leaked password.
    expect(r.recovered).toBe(false)
    expect(r.created).toBe(true)
    expect(r.branch!.id).not.toBe(made.branch!.id)
    expect(s.log.slice(from).some((l) => l.route === RECOVER)).toBe(false)
    expect(notices(logs)).toEqual([
      expect.stringContaining(`mode: recover and branch_name: ${made.branch!.id}`),
    ])
  })

  it('takes the most recently deleted of several of its own, never one past its 7 days', async () => {
    const { s, projectId } = await start()
    const first = (await openedThenClosed(s, projectId)).made
    // A re-run of the opened job never recovers: a second branch of the name, deleted later.
    const second = (await create(s, projectId, OPENED)).r
    expect(second.created).toBe(true)
    await s.clock.sleep(60_000)
    await deleteMode(harness(s, CLOSED).deps, inputsFor(projectId, s.apiKey, { mode: 'delete' }))
    const { r } = await create(s, projectId, REOPENED)
    expect(r.branch!.id).toBe(second.branch!.id)
    expect(r.branch!.id).not.toBe(first.branch!.id)
    // 8 days on, nothing is recoverable: a new branch.
    await deleteMode(harness(s, CLOSED).deps, inputsFor(projectId, s.apiKey, { mode: 'delete' }))
    await s.clock.sleep(8 * 86_400_000)
    const late = await create(s, projectId, REOPENED)
    expect(late.r.created).toBe(true)
    expect(notices(late.logs)).toHaveLength(1)
  })

  it('never takes a deleted branch of the same name from another repository, another PR, an ephemeral job or none', async () => {
    const { s, projectId } = await start()
    const foreign: Record<string, string>[] = [
      { 'github-repo': 'someone/else', 'github-pr-number': '12' },
      { 'github-repo': REPO, 'github-commit-repo': 'someone/else', 'github-pr-number': '12' },
      { 'github-repo': REPO, 'github-pr-number': '13' },
      { 'github-repo': REPO },
      { 'github-repo': REPO, 'github-pr-number': '12', 'github-ephemeral': 'true' },
      {},
    ]
    for (const annotations of foreign) {
      const b = s.addBranch(projectId, { name: NAME, annotations })
      s.world.softDelete(b, s.clock.now(), 'user')
    }
    const from = s.log.length
    const { r, logs } = await create(s, projectId, REOPENED)
    expect(r.recovered).toBe(false)
    expect(r.created).toBe(true)
    expect(s.log.slice(from).some((l) => l.route === RECOVER)).toBe(false)
    const info = logs.find((l) => l.startsWith('info: Not recovering 6 deleted branch(es)'))!
    for (const why of [
      'is annotated for repository someone/else',
      'belongs to pull request #13',
      'belongs to no pull request',
      "is a CI job's ephemeral branch",
      'carries no repository annotation this run can check',
    ])
      expect(info).toContain(why)
    expect(notices(logs)).toEqual([
      expect.stringContaining('6 deleted branch(es) of that name belong to others'),
    ])
  })

  it('the same rule outside a pull request: this repository and no pull request', async () => {
    const { s, projectId } = await start()
    const mine = s.addBranch(projectId, { name: 'dev/x', annotations: { 'github-repo': REPO } })
    s.world.softDelete(mine, s.clock.now() - 1000, 'user')
    const pr = s.addBranch(projectId, {
      name: 'dev/x',
      annotations: { 'github-repo': REPO, 'github-pr-number': '3' },
    })
    s.world.softDelete(pr, s.clock.now(), 'user')
    const { r, logs } = await create(s, projectId, DISPATCH, { branch_name: 'dev/x' })
    // Not a reopen: a new branch, and the notice names this repository's deleted one (not the PR's).
    expect(r.created).toBe(true)
    expect(r.branch!.id).not.toBe(mine.id)
    expect(notices(logs)).toEqual([expect.stringContaining(`branch_name: ${mine.id}`)])
    expect(logs.join('\n')).toContain('belongs to pull request #3')
  })

  it('where Neon offers no recovery: a fresh branch and one notice, never a failure', async () => {
    const { s, projectId } = await start({ branchRecovery: false })
    const { made } = await openedThenClosed(s, projectId)
    const { r, logs } = await create(s, projectId, REOPENED)
    expect(r.created).toBe(true)
    expect(r.recovered).toBe(false)
    expect(r.branch!.id).not.toBe(made.branch!.id)
    expect(notices(logs)).toEqual([
      expect.stringMatching(
        /lists no deleted branch of this pull request to recover.*Creating a new branch\.$/,
      ),
    ])
    // The next push finds it live: no notice.
    expect(notices((await create(s, projectId, PUSH)).logs)).toEqual([])
  })

  it('a listing that refuses include_deleted (a 400) is asked again without it: the create goes on', async () => {
    const { s, projectId } = await start()
    const { made } = await openedThenClosed(s, projectId)
    s.faults.add({
      route: LIST,
      status: 400,
      body: { code: '', message: 'unknown parameter include_deleted' },
    })
    const from = s.log.length
    const { r, logs } = await create(s, projectId, REOPENED)
    expect(r.created).toBe(true)
    expect(r.branch!.id).not.toBe(made.branch!.id)
    const lists = s.log.slice(from).filter((l) => l.route === LIST)
    expect(lists.map((l) => [l.status, l.query['include_deleted'] ?? null])).toEqual([
      [400, 'true'],
      [200, null],
    ])
    expect(logs.join('\n')).toContain(
      'debug: Neon refused to list deleted branches, so none can be recovered',
    )
    expect(notices(logs)).toHaveLength(1)
  })

  it('a recovery refused with a 4xx: a fresh branch and one notice naming the refusal', async () => {
    const { s, projectId } = await start()
    const { made } = await openedThenClosed(s, projectId)
    s.faults.add({
      route: RECOVER,
      status: 403,
      body: { code: '', message: 'branch recovery is in preview' },
    })
    const { r, logs } = await create(s, projectId, REOPENED)
    expect(r.created).toBe(true)
    expect(r.branch!.id).not.toBe(made.branch!.id)
    const [notice, ...more] = notices(logs)
    expect(more).toEqual([])
    expect(notice).toMatch(/Neon refused to recover branch 'preview\/pr-12-feature\/login' \(br-/)
    expect(notice).toContain('HTTP 403 Forbidden: branch recovery is in preview (request id')
  })

  it('a recovery refused because another run took the name back first: the 409 of the create adopts it', async () => {
    const { s, projectId } = await start()
    const { made } = await openedThenClosed(s, projectId)
    // Another run recovers it the moment before ours asks.
    s.faults.add({
      route: RECOVER,
      before: () => {
        s.world.recover(s.world.branches.get(made.branch!.id)!)
      },
    })
    const { r, logs } = await create(s, projectId, REOPENED)
    expect(r.branch!.id).toBe(made.branch!.id)
    expect(r.created).toBe(false)
    expect(r.recovered).toBe(false)
    expect(connection(r)).toEqual(connection(made))
    expect(notices(logs)).toEqual([expect.stringContaining('is not deleted')])
    expect(logs.join('\n')).toContain('was created concurrently by another run; adopting it')
  })

  it("a recovery refused otherwise fails as other requests do: a 5xx after the retries, a 500, a 423 past the step's timeout", async () => {
    for (const [status, times, attempts] of [
      [503, Infinity, 8],
      [500, 1, 1],
      [423, Infinity, 1],
    ] as const) {
      const { s, projectId } = await start()
      await openedThenClosed(s, projectId)
      s.faults.add({ route: RECOVER, status, times })
      const from = s.log.length
      // A 423 is a wait for the project lock (issue 21), up to the step's deadline: one of 60 s here.
      const deadline = status === 423 ? s.clock.now() + 60_000 : undefined
      const h = harness(s, REOPENED, s.apiKey, deadline)
      const err = await createMode(h.deps, inputsFor(projectId, s.apiKey, { timeout: '60' })).catch(
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ModeError)
      const message = (err as Error).message
      expect(message).toMatch(
        new RegExp(
          `^create of branch 'preview/pr-12-feature/login' failed: POST /projects/hidden-river-50598307/branches/br-[a-z0-9-]+/recover: HTTP ${status} `,
        ),
      )
      expect(message).toContain('(request id ')
      if (attempts > 1) expect(message).toContain(`after ${attempts} attempts`)
      if (status === 423) expect(message).toMatch(/Waited \d+\.\d s for the project lock .*'timeout'/)
      expect(s.log.slice(from).filter((l) => l.route === POST)).toEqual([])
      await s.close()
      sim = undefined
    }
  })

  it('with masking rules: an anonymized branch comes back masked; a plain one is left deleted', async () => {
    const { s, projectId } = await start({
      anonymizationMs: { initializeMs: 500, baseMs: 2000, perRuleMs: 500 },
    })
    const rules = JSON.stringify([
      {
        database_name: 'neondb',
        schema_name: 'public',
        table_name: 'users',
        column_name: 'email',
        masking_function: 'anon.dummy_free_email()',
      },
    ])
    const masked = (await create(s, projectId, OPENED, { masking_rules: rules })).r
    expect(masked.anonymization).toBeDefined()
    await deleteMode(harness(s, CLOSED).deps, inputsFor(projectId, s.apiKey, { mode: 'delete' }))
    const back = await create(s, projectId, REOPENED, { masking_rules: rules })
    expect(back.r.recovered).toBe(true)
    expect(back.r.branch!.id).toBe(masked.branch!.id)
    expect(back.r.anonymization?.remasked).toBe(false)

    // A plain branch of another pull request, deleted: asked for masked data, it stays deleted.
    const other = at('reopened', { pullRequest: { ...OPENED.pullRequest!, number: 13 } })
    const plain = s.addBranch(projectId, {
      name: 'preview/pr-13-feature/login',
      annotations: { 'github-repo': REPO, 'github-pr-number': '13' },
    })
    s.world.softDelete(plain, s.clock.now(), 'user')
    const { r, logs } = await create(s, projectId, other, { masking_rules: rules })
    expect(r.recovered).toBe(false)
    expect(r.created).toBe(true)
    expect(r.anonymization).toBeDefined()
    expect(logs.join('\n')).toContain(
      `Not recovering deleted branch 'preview/pr-13-feature/login' (${plain.id}): it is not anonymized`,
    )
    expect(s.state.branches[plain.id]!.deleted).toBe(true)
  })

  it('on opened nothing is ever recovered: the create comes first, and include_deleted is never sent', async () => {
    const { s, projectId } = await start()
    const old = s.addBranch(projectId, {
      name: NAME,
      annotations: { 'github-repo': REPO, 'github-pr-number': '12' },
    })
    s.world.softDelete(old, s.clock.now(), 'user')
    const { r } = await create(s, projectId, OPENED)
    expect(r.created).toBe(true)
    expect(s.log.some((l) => l.query['include_deleted'] !== undefined || l.route === RECOVER)).toBe(false)
  })

  it('an ephemeral branch never recovers, and its dry run asks for live branches only', async () => {
    const { s, projectId } = await start()
    const ci = s.addBranch(projectId, { name: 'ci/x', annotations: { 'github-repo': REPO } })
    s.world.softDelete(ci, s.clock.now(), 'user')
    const dry = await create(s, projectId, DISPATCH, {
      ephemeral: 'true',
      branch_name: 'ci/x',
      dry_run: 'true',
    })
    expect(dry.r.changes[0]).toMatch(/^would create branch 'ci\/x'/)
    expect(s.log.some((l) => l.query['include_deleted'] !== undefined)).toBe(false)
  })

  it('a dry run says it would recover, and changes nothing', async () => {
    const { s, projectId } = await start()
    const { made } = await openedThenClosed(s, projectId)
    const from = s.log.length
    const { r, logs } = await create(s, projectId, REOPENED, { dry_run: 'true' })
    expect(r.branch!.id).toBe(made.branch!.id)
    expect(r.changes).toEqual([
      expect.stringMatching(/^would recover branch 'preview\/pr-12-feature\/login' \(br-.*\), deleted at /),
    ])
    expect(logs.join('\n')).toContain('Nothing was changed')
    expect(s.log.slice(from).filter((l) => l.method !== 'GET')).toEqual([])
    expect(s.state.branches[made.branch!.id]!.deleted).toBe(true)
  })
})

describe('mode: recover', () => {
  const recover = async (s: NeonSimulator, projectId: string, over: Record<string, string>) => {
    const h = harness(s, DISPATCH)
    const r = await recoverMode(h.deps, inputsFor(projectId, s.apiKey, { mode: 'recover', ...over }))
    return { r, logs: h.logs }
  }

  it('by name and by id: the same branch, host and password, handed out with an expiry', async () => {
    const { s, projectId } = await start()
    const { made } = await openedThenClosed(s, projectId)
    const byName = await recover(s, projectId, { branch_name: NAME })
    expect(byName.r.mode).toBe('recover')
    expect(byName.r.recovered).toBe(true)
    expect(connection(byName.r)).toEqual(connection(made))
    expect(byName.r.branch!.expiresAt).not.toBeNull()
    await deleteMode(harness(s, CLOSED).deps, inputsFor(projectId, s.apiKey, { mode: 'delete' }))
    const byId = await recover(s, projectId, { branch_name: made.branch!.id, expires_in: 'never' })
    expect(byId.r.recovered).toBe(true)
    expect(connection(byId.r)).toEqual(connection(made))
    expect(byId.r.branch!.expiresAt).toBeNull()
    // Run again (a re-run of the dispatch): the branch is live, handed out as it is.
    const again = await recover(s, projectId, { branch_name: made.branch!.id })
    expect(again.r.recovered).toBe(false)
    expect(connection(again.r)).toEqual(connection(made))
    expect(notices(again.logs)).toEqual([expect.stringContaining('is not deleted: nothing to recover')])
  })

  it('hands out what create hands out: the Data API and Neon Auth URLs when asked for', async () => {
    const { s, projectId } = await start()
    const { made } = await openedThenClosed(s, projectId)
    const b = s.world.branches.get(made.branch!.id)!
    s.world.recover(b)
    s.enableNeonAuth(projectId, b.id)
    s.enableDataApi(projectId, b.id, 'neondb')
    await deleteMode(harness(s, CLOSED).deps, inputsFor(projectId, s.apiKey, { mode: 'delete' }))
    const { r } = await recover(s, projectId, {
      branch_name: NAME,
      get_auth_url: 'true',
      get_data_api_url: 'true',
    })
    expect(r.recovered).toBe(true)
    expect(r.authUrl).toMatch(/^https:\/\/ep-/)
    expect(r.dataApiUrl).toMatch(/^https:\/\/ep-/)
  })

  it('nothing recoverable by that name: an error listing the closest recoverable names, nothing changed', async () => {
    const { s, projectId } = await start()
    for (const name of ['preview/pr-12-login', 'preview/pr-120-other', 'zzz/unrelated']) {
      const b = s.addBranch(projectId, { name, annotations: { 'github-repo': REPO } })
      s.world.softDelete(b, s.clock.now(), 'user')
    }
    const err = await recover(s, projectId, { branch_name: 'preview/pr-12-logn' }).catch((e: unknown) => e)
    const message = (err as Error).message
    expect(message).toMatch(
      /^recover of branch 'preview\/pr-12-logn' failed: no deleted branch named 'preview\/pr-12-logn' can be recovered in project hidden-river-50598307\. The recoverable branches with the closest names \(3 of 3\): 'preview\/pr-12-login' \(br-/,
    )
    expect(message.indexOf('preview/pr-12-login')).toBeLessThan(message.indexOf('preview/pr-120-other'))
    expect(message.indexOf('preview/pr-120-other')).toBeLessThan(message.indexOf('zzz/unrelated'))
    expect(message).toContain('recoverable until ')
    expect(s.log.filter((l) => l.method !== 'GET')).toEqual([])

    const { s: empty, projectId: p2 } = await start({ branchRecovery: false })
    const none = await recover(empty, p2, { branch_name: 'x' }).catch((e: unknown) => e)
    expect((none as Error).message).toContain('Neon lists no recoverable branch there at all')
  })

  it('refuses a name held by a live branch and a deleted one, and another repository branch', async () => {
    const { s, projectId } = await start()
    const { made } = await openedThenClosed(s, projectId)
    await create(s, projectId, OPENED) // a new live branch takes the name
    const clash = await recover(s, projectId, { branch_name: NAME }).catch((e: unknown) => e)
    expect((clash as Error).message).toContain(`and of 1 deleted one(s) (${made.branch!.id})`)
    // By id, the deleted one is named exactly, but Neon refuses: the name is taken.
    const byId = await recover(s, projectId, { branch_name: made.branch!.id }).catch((e: unknown) => e)
    expect((byId as Error).message).toMatch(/recover: HTTP 409 Conflict: branch already exists/)

    const theirs = s.addBranch(projectId, {
      name: 'theirs',
      annotations: { 'github-commit-repo': 'someone/else' },
    })
    s.world.softDelete(theirs, s.clock.now(), 'user')
    const foreign = await recover(s, projectId, { branch_name: 'theirs' }).catch((e: unknown) => e)
    expect((foreign as Error).message).toContain('is annotated for repository someone/else')
    expect(s.state.branches[theirs.id]!.deleted).toBe(true)
  })

  it('several deleted of one name: the most recently deleted, with a notice naming the others; a dry run changes nothing', async () => {
    const { s, projectId } = await start()
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const b = s.addBranch(projectId, { name: 'dev/x', annotations: {} })
      s.world.softDelete(b, s.clock.now() + i * 1000, 'user')
      ids.push(b.id)
    }
    const dry = await recover(s, projectId, { branch_name: 'dev/x', dry_run: 'true' })
    expect(dry.r.changes).toEqual([expect.stringContaining(`would recover branch 'dev/x' (${ids[2]})`)])
    expect(s.log.filter((l) => l.method !== 'GET')).toEqual([])
    const { r, logs } = await recover(s, projectId, { branch_name: 'dev/x' })
    expect(r.branch!.id).toBe(ids[2])
    expect(notices(logs).at(-1)).toContain(`The others: ${ids[1]}`)
  })
})
