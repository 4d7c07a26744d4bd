// Issue 29's rules where they live: recovery only on a reopen and by the one ownership rule
// (modes/recover.ts, modes/ownership.ts), a 404 believed only from a token shown to read that kind
// of thing (github/pulls.ts, github/runs.ts), a github-pr-number annotation without a repository
// annotation tying by name only (modes/cleanup/index.ts), hard_delete for unmasked data
// (modes/anonymized.ts, neon/client.ts), and no recovered branch handed out unmasked.
// Through dist/index.js: test/e2e/issue-29.e2e.test.ts.
import { afterEach, describe, expect, it } from 'vitest'
import type { RunContext } from '../../src/github/context.js'
import { restPullLookup, UnverifiedNotFound, type PullsApi } from '../../src/github/pulls.js'
import { restRunLookup, type RunsApi } from '../../src/github/runs.js'
import { tieOf } from '../../src/modes/cleanup/index.js'
import { createMode } from '../../src/modes/create.js'
import { ephemeralPost } from '../../src/modes/ephemeral-post.js'
import {
  annotatedForOtherRepository,
  recoverMode,
  recoversOnThisEvent,
  tiedToThisRun,
} from '../../src/modes/recover.js'
import type { Branch } from '../../src/neon/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor, prContext, REPO } from '../helpers/mode-harness.js'
import { api } from '../sim/helpers.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const annotation = (value: Record<string, string>) => ({
  object: { type: 'console/branch', id: 'br-x' },
  value,
})
const here = (repository: string, repositoryId?: string, action = 'synchronize'): RunContext => ({
  ...prContext(7, 'feature', { action }),
  repository,
  ...(repositoryId ? { repositoryId } : {}),
})

describe('recovery by the one ownership rule (recover.ts through ownership.ts)', () => {
  const shop = { 'github-repo': 'acme/shop', 'github-repo-id': '111', 'github-pr-number': '7' }

  it('the id decides alone when both sides have one: another id is another repository, whatever the name', () => {
    expect(annotatedForOtherRepository(annotation(shop), here('acme/shop', '222'))).toBe('acme/shop')
    expect(tiedToThisRun(annotation(shop), here('acme/shop', '222'))).toBe(false)
  })

  it('a renamed repository (same id, the old name annotated) keeps its branches', () => {
    expect(annotatedForOtherRepository(annotation(shop), here('acme/store', '111'))).toBeUndefined()
    expect(tiedToThisRun(annotation(shop), here('acme/store', '111'))).toBe(true)
  })

  it('without ids, names decide, as for look-up and adopt', () => {
    expect(annotatedForOtherRepository(annotation({ 'github-repo': 'a/b' }), here(REPO))).toBe('a/b')
    expect(tiedToThisRun(annotation({ 'github-repo': REPO, 'github-pr-number': '7' }), here(REPO))).toBe(true)
    // A pull request number alone makes no branch this repository's.
    expect(tiedToThisRun(annotation({ 'github-pr-number': '7' }), here(REPO))).toBe(false)
  })

  it('create recovers by itself only on a pull request reopened', () => {
    expect(recoversOnThisEvent(here(REPO, undefined, 'reopened'))).toBe(true)
    for (const action of ['synchronize', 'opened', 'edited', 'ready_for_review'])
      expect(recoversOnThisEvent(here(REPO, undefined, action))).toBe(false)
    expect(recoversOnThisEvent({ ...here(REPO), eventName: 'workflow_dispatch' })).toBe(false)
    expect(
      recoversOnThisEvent({ ...here(REPO, undefined, 'reopened'), eventName: 'pull_request_target' }),
    ).toBe(true)
  })
})

describe('a 404 believed only from a token shown to read pull requests (pulls.ts)', () => {
  const fake = (o: { list: number; pulls: Record<number, 'open' | 404> }) => {
    const calls: string[] = []
    const api: PullsApi = {
      rest: {
        pulls: {
          get: async ({ pull_number: n }) => {
            calls.push(`get ${n}`)
            const s = o.pulls[n] ?? 404
            if (s === 404) throw Object.assign(new Error('Not Found'), { status: 404 })
            return { data: { state: s } }
          },
          list: async () => {
            calls.push('list')
            if (o.list !== 200) throw Object.assign(new Error('Not Found'), { status: o.list })
            return { data: [] }
          },
        },
      },
    }
    return { api, calls }
  }

  it('a token that cannot list pull requests: every 404 is an UnverifiedNotFound naming pull-requests: read', async () => {
    const gh = fake({ list: 404, pulls: {} })
    const lookup = restPullLookup(gh.api, REPO, 1)
    const states = await lookup.states([1, 2])
    for (const n of [1, 2]) {
      const s = states.get(n)
      expect(s).toBeInstanceOf(UnverifiedNotFound)
      expect((s as UnverifiedNotFound).permission).toBe('pull-requests: read')
      expect((s as Error).message).toContain(
        `GET /repos/${REPO}/pulls?state=all&per_page=1 answered HTTP 404`,
      )
    }
    // The proof is asked for once per run.
    expect(gh.calls.filter((c) => c === 'list')).toHaveLength(1)
    expect(lookup.requests).toBe(3)
  })

  it('a token whose listing answers 200: a 404 means the pull request does not exist', async () => {
    const gh = fake({ list: 200, pulls: {} })
    expect((await restPullLookup(gh.api, REPO).states([3])).get(3)).toBe('missing')
  })

  it('a 200 for one pull request is proof enough: no listing', async () => {
    const gh = fake({ list: 404, pulls: { 1: 'open' } })
    const lookup = restPullLookup(gh.api, REPO, 1)
    const states = await lookup.states([1, 2])
    expect(states.get(1)).toBe('open')
    expect(states.get(2)).toBe('missing')
    expect(gh.calls).toEqual(['get 1', 'get 2'])
  })

  it('workflow runs: the same rule, naming actions: read', async () => {
    const runs = (list: number): RunsApi => ({
      rest: {
        actions: {
          getWorkflowRun: async () => {
            throw Object.assign(new Error('Not Found'), { status: 404 })
          },
          listWorkflowRunsForRepo: async () => {
            if (list !== 200) throw Object.assign(new Error('Not Found'), { status: list })
            return { data: { workflow_runs: [] } }
          },
        },
      },
    })
    const blind = (await restRunLookup(runs(404), REPO).states(['9'])).get('9')
    expect(blind).toBeInstanceOf(UnverifiedNotFound)
    expect((blind as UnverifiedNotFound).permission).toBe('actions: read')
    expect((await restRunLookup(runs(200), REPO).states(['9'])).get('9')).toBe('missing')
  })
})

describe('a github-pr-number annotation ties fully only on a branch that is ours (cleanup/index.ts, tieOf)', () => {
  const b = { name: 'preview/x', id: 'br-x' } as Branch
  it('ours: a tie by annotation; not known to be ours: a tie of name strength', () => {
    expect(tieOf(b, annotation({ 'github-pr-number': '7', 'github-repo': REPO }), 'preview/', true)).toEqual({
      pr: 7,
      by: 'annotation',
    })
    expect(tieOf(b, annotation({ 'github-pr-number': '7' }), 'preview/', false)).toEqual({
      pr: 7,
      by: 'name',
      unowned: true,
    })
  })
})

/**
 * An anonymized branch whose masking never ran (`start_anonymization: false`: Neon leaves it
 * `initialized`, its data an unmasked copy of its parent), with `annotations`; its id.
 */
async function neverMasked(
  sim: NeonSimulator,
  projectId: string,
  name: string,
  annotations: Record<string, string>,
): Promise<string> {
  const made = await api(sim, 'POST', `/projects/${projectId}/branch_anonymized`, {
    branch_create: { branch: { name }, endpoints: [{ type: 'read_write' }] },
    masking_rules: [
      {
        database_name: 'neondb',
        schema_name: 'public',
        table_name: 'a',
        column_name: 'b',
        masking_function: 'anon.dummy_free_email()',
      },
    ],
    start_anonymization: false,
    annotation_value: annotations,
  })
  return (made.body.branch as { id: string }).id
}

describe('unmasked data is never recoverable, nor handed out after a recovery', () => {
  let sim: NeonSimulator | undefined
  afterEach(async () => {
    await sim?.close()
    sim = undefined
  })
  const RULES = '- table: accounts\n  column: email\n  function: anon.dummy_free_email()\n'

  it('a failed masking deletes the new branch with hard_delete=true: Neon lists nothing to recover', async () => {
    sim = await startNeonSimulator({
      clock: new FakeClock(),
      anonymizationMs: { initializeMs: 10, baseMs: 20, perRuleMs: 5 },
    })
    const projectId = sim.createProject({ id: 'masked-lake-12345678' }).id
    sim.failNextAnonymization('anonymization', 'boom')
    const h = harness(sim, prContext(7, 'feature', { action: 'opened' }))
    await expect(
      createMode(h.deps, inputsFor(projectId, sim.apiKey, { masking_rules: RULES })),
    ).rejects.toThrow(/deleted for good \(hard_delete/)
    const del = sim.log.filter((l) => l.method === 'DELETE')
    expect(del.map((l) => l.query['hard_delete'])).toEqual(['true'])
    const listed = await api(sim, 'GET', `/projects/${projectId}/branches?include_deleted=true`)
    expect((listed.body.branches as { recovery?: unknown }[]).filter((x) => x.recovery)).toEqual([])
  })

  it('mode: recover of an anonymized branch never masked hands out nothing, and deletes it for good', async () => {
    sim = await startNeonSimulator({ clock: new FakeClock() })
    const projectId = sim.createProject({ id: 'masked-lake-87654321' }).id
    const id = await neverMasked(sim, projectId, 'preview/unmasked', {
      'github-repo': REPO,
      anonymized: 'true',
    })
    await sim.clock.sleep(60_000)
    expect((await api(sim, 'DELETE', `/projects/${projectId}/branches/${id}`)).status).toBe(200)
    await sim.clock.sleep(60_000)
    const h = harness(sim, {
      ...prContext(),
      eventName: 'workflow_dispatch',
      action: undefined,
      pullRequest: undefined,
    })
    const from = sim.log.length
    const run = recoverMode(
      h.deps,
      inputsFor(projectId, sim.apiKey, { mode: 'recover', branch_name: 'preview/unmasked' }),
    )
    await expect(run).rejects.toThrow(/ended in 'initialized'.*deleted for good/)
    const after = sim.log.slice(from)
    expect(after.some((l) => l.route?.endsWith('/recover'))).toBe(true)
    expect(after.filter((l) => l.method === 'DELETE').map((l) => l.query['hard_delete'])).toEqual(['true'])
    // Gone for good: nothing to recover any more.
    const listed = await api(sim, 'GET', `/projects/${projectId}/branches?include_deleted=true`)
    expect((listed.body.branches as { id: string }[]).some((x) => x.id === id)).toBe(false)
  })

  it('the ephemeral post step deletes an anonymized branch not known to be masked for good, a masked one softly', async () => {
    sim = await startNeonSimulator({ clock: new FakeClock() })
    const projectId = sim.createProject({ id: 'masked-lake-11223344' }).id
    const key = '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b'
    const id = await neverMasked(sim, projectId, 'ci/run-1-1-test', {
      'github-ephemeral': 'true',
      'github-ephemeral-key': key,
      anonymized: 'true',
    })
    await sim.clock.sleep(60_000)
    const h = harness(sim, {
      ...prContext(),
      eventName: 'workflow_dispatch',
      action: undefined,
      pullRequest: undefined,
    })
    const r = await ephemeralPost(h.deps, {
      projectId,
      apiHost: sim.apiUrl,
      name: 'ci/run-1-1-test',
      key,
      timeoutMs: 60_000,
      branchId: id,
      operationIds: [],
    })
    expect(r.deleted).toBe(true)
    expect(r.recoverable).toBeUndefined()
    expect(sim.log.filter((l) => l.method === 'DELETE').map((l) => l.query['hard_delete'])).toEqual(['true'])
  })

  it('a dry run with reset_password says it would give the role a new password, and resets nothing', async () => {
    sim = await startNeonSimulator({ clock: new FakeClock() })
    const projectId = sim.createProject({ id: 'dry-lake-12345678' }).id
    const h = harness(sim, prContext(7, 'feature', { action: 'synchronize' }))
    await createMode(h.deps, inputsFor(projectId, sim.apiKey, { reset_password: 'true', dry_run: 'true' }))
    expect(h.logs.join('\n')).toContain("give role 'neondb_owner' a new password (reset_password)")
    expect(sim.log.some((l) => l.route?.endsWith('/reset_password'))).toBe(false)
  })

  it('reset_password (connect.ts): a new password, masked at once; a failure after the request hands out nothing', async () => {
    sim = await startNeonSimulator({ clock: new FakeClock() })
    const projectId = sim.createProject({ id: 'rotate-lake-12345678' }).id
    const ctx = prContext(7, 'feature', { action: 'opened' })
    const first = await createMode(harness(sim, ctx).deps, inputsFor(projectId, sim.apiKey))
    const h = harness(sim, { ...ctx, action: 'synchronize' })
    const masked: string[] = []
    h.deps.setSecret = (v: string) => masked.push(v)
    const r = await createMode(h.deps, inputsFor(projectId, sim.apiKey, { reset_password: 'true' }))
    const fresh = r.connection!.password
    expect(fresh).not.toBe(first.connection!.password)
    expect(sim.rolePassword(projectId, r.branch!.id, 'neondb_owner')).toBe(fresh)
    expect(masked).toContain(fresh)
    sim.failNextOperation({ action: 'apply_config', projectId }, 'boom')
    await expect(
      createMode(
        harness(sim, { ...ctx, action: 'synchronize' }).deps,
        inputsFor(projectId, sim.apiKey, { reset_password: 'true' }),
      ),
    ).rejects.toThrow(/was reset, but waiting for Neon to apply it failed .*no connection URL was handed out/)
  })
})
