// Issue 22, finding 3: a branch annotated for another repository (github-repo, or github-commit-repo
// as Neon's own action writes it) is never adopted, reset, deleted or handed out, on every way the
// modes reach an existing branch: the look-up, a create first and its 409, a br-… id, the branch
// limit, a dry run, make-room, reset, delete and schema-diff.
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import { createMode } from '../../src/modes/create.js'
import { deleteMode } from '../../src/modes/delete.js'
import { ownership } from '../../src/modes/ownership.js'
import { resetMode } from '../../src/modes/reset.js'
import { schemaDiffMode } from '../../src/modes/schema-diff.js'
import type { ModeResult } from '../../src/modes/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { harness, inputsFor, prContext, REPO } from '../helpers/mode-harness.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

let sim: NeonSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const ago = (days: number) => new Date(NOW - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')
const NAME = 'preview/pr-12-feature/login'
const THEIRS = { 'github-repo': 'someone/else', 'github-pr-number': '12', 'github-head-ref': 'feature/login' }
// What Neon's own create-branch action writes (BEHAVIOUR.md, Branches, annotations).
const NEONS = { 'github-commit-repo': 'someone/else', 'github-pr-number': '12' }
const SYNC = prContext(12, 'feature/login', { action: 'synchronize' })
const OPENED = prContext(12, 'feature/login', { action: 'opened' })

async function start(branchLimit?: 'free'): Promise<{ s: NeonSimulator; projectId: string }> {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 20, start_compute: 30, delete_timeline: 15, suspend_compute: 5 },
    schedulingMs: 1,
    clock: new FakeClock(NOW),
  })
  const projectId = sim.createProject({
    id: 'shared-pond-22222222',
    ...(branchLimit ? { branchLimit } : {}),
  }).id
  return { s: sim, projectId }
}

/** Every request that changed something in Neon since `from`. */
const changes = (s: NeonSimulator, from = 0) =>
  s.log.slice(from).filter((l) => l.method !== 'GET' && l.status < 400)

async function rejection(p: Promise<ModeResult>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(Error)
  return (e as Error).message
}

/** The refusal names the other repository, the annotation, and a branch_name of this one's own. */
function expectRefusal(message: string, key = 'github-repo'): void {
  expect(message).toContain(`is annotated for repository someone/else (${key}), not ${REPO}`)
  expect(message).toContain("never adopts, resets or deletes another repository's branch")
  expect(message).toContain(
    'branch_name: preview/octo-repo/pr-${{ github.event.pull_request.number }}-${{ github.head_ref }}',
  )
  expect(message).toContain('Nothing was changed.')
}

describe('create', () => {
  it('looking up first (synchronize): fails naming the other repository, hands out nothing', async () => {
    const { s, projectId } = await start()
    s.addBranch(projectId, { name: NAME, annotations: THEIRS })
    const h = harness(s, SYNC)
    const message = await rejection(createMode(h.deps, inputsFor(projectId, s.apiKey)))
    expectRefusal(message)
    expect(changes(s)).toEqual([])
    // No password was read, so none can have been handed out.
    expect(s.log.filter((l) => l.path.includes('reveal_password'))).toEqual([])
    expect(h.secrets).toEqual([])
  })

  it("creating first (opened): the 409 and its look-up find it Neon's action's, and nothing changes", async () => {
    const { s, projectId } = await start()
    s.addBranch(projectId, { name: NAME, annotations: NEONS })
    const message = await rejection(createMode(harness(s, OPENED).deps, inputsFor(projectId, s.apiKey)))
    expectRefusal(message, 'github-commit-repo')
    expect(s.log.filter((l) => l.method !== 'GET').map((l) => `${l.route} ${l.status}`)).toEqual([
      'POST /projects/{project_id}/branches 409',
    ])
  })

  it('by its br-… id: the annotation comes with the branch, and it is refused', async () => {
    const { s, projectId } = await start()
    const b = s.addBranch(projectId, { name: 'preview/any', annotations: THEIRS })
    const message = await rejection(
      createMode(harness(s, SYNC).deps, inputsFor(projectId, s.apiKey, { branch_name: b.id })),
    )
    expect(message).toContain(`'preview/any' (${b.id})`)
    expect(message).toContain('annotated for repository someone/else')
    expect(changes(s)).toEqual([])
  })

  it('at the branch limit, created first: the name is looked up and refused, nothing deleted', async () => {
    const { s, projectId } = await start('free')
    s.addBranch(projectId, { name: NAME, annotations: THEIRS })
    for (let i = 0; i < 8; i++) s.addBranch(projectId, { name: `preview/old-${i}`, updatedAt: ago(30) })
    const message = await rejection(
      createMode(harness(s, OPENED).deps, inputsFor(projectId, s.apiKey, { on_branch_limit: 'make-room' })),
    )
    expectRefusal(message)
    expect(s.log.filter((l) => l.method === 'DELETE')).toEqual([])
  })

  it('a dry run says it would fail, as the run would', async () => {
    const { s, projectId } = await start()
    s.addBranch(projectId, { name: NAME, annotations: THEIRS })
    expectRefusal(
      await rejection(createMode(harness(s, SYNC).deps, inputsFor(projectId, s.apiKey, { dry_run: 'true' }))),
    )
  })

  it("make-room never deletes another repository's stale branch, tied to a pull request or not", async () => {
    const { s, projectId } = await start('free')
    for (let i = 0; i < 8; i++) {
      s.addBranch(projectId, {
        name: `preview/theirs-${i}`,
        updatedAt: ago(30 + i),
        annotations: i % 2 ? { 'github-commit-repo': 'someone/else' } : { 'github-repo': 'SomeOne/Else' },
      })
    }
    s.addBranch(projectId, { name: 'preview/ours-old', updatedAt: ago(10) })
    const r = await createMode(
      harness(s, OPENED).deps,
      inputsFor(projectId, s.apiKey, { on_branch_limit: 'make-room' }),
    )
    expect(r.created).toBe(true)
    expect(r.deletedBranches).toEqual(['preview/ours-old'])
  })

  it('this repository under another spelling, or renamed (same github-repo-id), is still its own', async () => {
    const { s, projectId } = await start()
    s.addBranch(projectId, { name: NAME, annotations: { 'github-repo': 'Octo-Org/Octo-Repo' } })
    s.addBranch(projectId, {
      name: 'preview/renamed',
      annotations: { 'github-repo': 'octo-org/old-name', 'github-repo-id': '4711' },
    })
    const upper = await createMode(harness(s, SYNC).deps, inputsFor(projectId, s.apiKey))
    expect(upper.created).toBe(false)
    const renamed = await createMode(
      harness(s, { ...SYNC, repositoryId: '4711' }).deps,
      inputsFor(projectId, s.apiKey, { branch_name: 'preview/renamed' }),
    )
    expect(renamed.created).toBe(false)
    // …and another repository that took the old name is told apart by the id.
    const impostor = await rejection(
      createMode(
        harness(s, { ...SYNC, repository: 'octo-org/old-name', repositoryId: '999' }).deps,
        inputsFor(projectId, s.apiKey, { branch_name: 'preview/renamed' }),
      ),
    )
    expect(impostor).toContain('annotated for repository octo-org/old-name (github-repo-id)')
  })

  it('writes github-repo-id on what it creates, when the runner gives GITHUB_REPOSITORY_ID', async () => {
    const { s, projectId } = await start()
    const r = await createMode(
      harness(s, { ...OPENED, repositoryId: '4711' }).deps,
      inputsFor(projectId, s.apiKey),
    )
    expect(s.state.annotations[r.branch!.id]).toMatchObject({
      'github-repo': REPO,
      'github-commit-repo': REPO,
      'github-repo-id': '4711',
    })
  })
})

describe('reset, delete, schema-diff', () => {
  it('reset refuses before any change', async () => {
    const { s, projectId } = await start()
    s.addBranch(projectId, { name: NAME, annotations: THEIRS })
    expectRefusal(
      await rejection(resetMode(harness(s, SYNC).deps, inputsFor(projectId, s.apiKey, { mode: 'reset' }))),
    )
    expect(changes(s)).toEqual([])
  })

  it('delete leaves it, deleted=false, with a warning; the step does not fail', async () => {
    const { s, projectId } = await start()
    const b = s.addBranch(projectId, { name: NAME, annotations: NEONS })
    const h = harness(s, prContext(12, 'feature/login', { action: 'closed' }))
    const r = await deleteMode(h.deps, inputsFor(projectId, s.apiKey, { mode: 'delete' }))
    expect(r).toMatchObject({
      deleted: false,
      notDeleted: 'it is annotated for repository someone/else, not this one',
    })
    expect(r.branch).toEqual({ id: '', name: NAME, expiresAt: null })
    expect(s.state.branches[b.id]?.deleted).toBe(false)
    expect(s.log.filter((l) => l.method === 'DELETE')).toEqual([])
    expect(h.logs.join('\n')).toMatch(
      /warning: Branch 'preview\/pr-12-feature\/login' \(br-[a-z0-9-]+\) is annotated for repository someone\/else \(github-commit-repo\), not octo-org\/octo-repo: .* left alone \(deleted=false\)/,
    )
  })

  it("schema-diff refuses: another repository's schema is not this pull request's to show", async () => {
    const { s, projectId } = await start()
    s.addBranch(projectId, { name: NAME, annotations: THEIRS })
    const message = await rejection(
      schemaDiffMode(harness(s, SYNC).deps, inputsFor(projectId, s.apiKey, { mode: 'schema-diff' })),
    )
    expect(message).toContain('annotated for repository someone/else')
    expect(s.log.filter((l) => l.path.endsWith('/schema'))).toEqual([])
  })

  it('cleanup keeps it, old and untied as it may be', async () => {
    const { s, projectId } = await start()
    s.addBranch(projectId, {
      name: 'preview/theirs',
      updatedAt: ago(90),
      annotations: { 'github-repo': 'someone/else' },
    })
    const h = harness(s, { ...SYNC, eventName: 'schedule', pullRequest: undefined })
    const r = await cleanupMode(h.deps, inputsFor(projectId, s.apiKey, { mode: 'cleanup' }))
    expect(r.deletedBranches).toEqual([])
    expect(r.verdicts?.[0]).toMatchObject({
      verdict: 'kept',
      reason: expect.stringContaining('another repository'),
    })
  })
})

describe('ownership', () => {
  const here = { repository: REPO }
  const a = (value: Record<string, string>) => ({ object: { type: 'console/branch', id: 'br-x' }, value })
  it('reads github-repo and github-commit-repo, any case; either naming another makes it foreign', () => {
    expect(ownership(undefined, here)).toEqual({ kind: 'unknown' })
    expect(ownership(a({ 'github-pr-number': '1' }), here)).toEqual({ kind: 'unknown' })
    expect(ownership(a({ 'github-repo': 'OCTO-ORG/octo-repo' }), here)).toEqual({ kind: 'ours' })
    expect(ownership(a({ 'github-commit-repo': 'x/y' }), here)).toEqual({
      kind: 'foreign',
      repo: 'x/y',
      key: 'github-commit-repo',
    })
    expect(ownership(a({ 'github-repo': REPO, 'github-commit-repo': 'x/y' }), here).kind).toBe('foreign')
    // Without this run's repository (a local run), nothing can be told apart.
    expect(ownership(a({ 'github-repo': 'x/y' }), { repository: '' })).toEqual({ kind: 'unknown' })
  })
})
