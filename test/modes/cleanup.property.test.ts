import { Octokit } from '@octokit/rest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { restPullLookup } from '../../src/github/pulls.js'
import { cleanupMode } from '../../src/modes/cleanup/index.js'
import { startFakeGitHub } from '../fake-github/server.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { heldPulls } from '../helpers/held-pulls.js'
import { harness, inputsFor, REPO } from '../helpers/mode-harness.js'

/**
 * Property: over randomly generated branch trees (seeded, so a failure can be replayed), cleanup
 * deletes exactly the branches the rules allow, computed here by an oracle written independently
 * of the implementation: eligible(b) and every child of b deletable.
 */

const DAY = 86_400_000
const PREFIX = 'preview/'
const MAX_AGE_DAYS = 7

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type PrState = 'open' | 'closed' | 'merged' | 'missing'

interface Spec {
  name: string
  parent?: number
  protected: boolean
  ageDays: number
  /**
   * `theirs-name`: another repository's by annotation (no PR number), with a `pr-<n>` in its name.
   * Issue 29: `pr-only`: a `github-pr-number` annotation and no repository annotation (a tie of
   * name strength); `ours-renamed`: ours by `github-repo-id`, the repository's old name annotated;
   * `theirs-id`: this repository's name but another `github-repo-id` (another repository's).
   */
  tie: 'ours' | 'theirs' | 'theirs-name' | 'name' | 'none' | 'pr-only' | 'ours-renamed' | 'theirs-id'
  pr: number
}

/** This run's repository id (GITHUB_REPOSITORY_ID), for the ties by id. */
const REPO_ID = '4242'

function annotationsOf(s: Spec): Record<string, string> {
  const pr = String(s.pr)
  switch (s.tie) {
    case 'ours':
      return { 'github-pr-number': pr, 'github-repo': REPO }
    case 'theirs':
      return { 'github-pr-number': pr, 'github-commit-repo': 'elsewhere/repo' }
    case 'theirs-name':
      return { 'github-repo': 'elsewhere/repo' }
    case 'pr-only':
      return { 'github-pr-number': pr }
    case 'ours-renamed':
      return { 'github-pr-number': pr, 'github-repo': 'octo-org/old-name', 'github-repo-id': REPO_ID }
    case 'theirs-id':
      return { 'github-pr-number': pr, 'github-repo': REPO, 'github-repo-id': '9999' }
    default:
      return {}
  }
}

function generate(seed: number): { specs: Spec[]; prs: Map<number, PrState> } {
  const r = rng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const prs = new Map<number, PrState>()
  for (let n = 1; n <= 12; n++) prs.set(n, pick(['open', 'closed', 'merged', 'missing'] as const))
  const specs: Spec[] = []
  const count = 15 + Math.floor(r() * 20)
  for (let i = 0; i < count; i++) {
    const tie = pick([
      'ours',
      'theirs',
      'theirs-name',
      'name',
      'none',
      'pr-only',
      'ours-renamed',
      'theirs-id',
    ] as const)
    const pr = 1 + Math.floor(r() * 12)
    const inPrefix = r() < 0.8
    const base = tie === 'name' || tie === 'theirs-name' ? `pr-${pr}-b${i}` : `b${i}`
    specs.push({
      name: `${inPrefix ? PREFIX : 'other/'}${base}`,
      parent: i > 0 && r() < 0.4 ? Math.floor(r() * i) : undefined,
      protected: r() < 0.1,
      ageDays: Math.round(r() * 15 * 10) / 10,
      tie,
      pr,
    })
  }
  return { specs, prs }
}

/**
 * `canReadPulls`: false for a token that sees the repository but not its pull requests (issue 29):
 * every look-up answers 404, which it cannot be shown to tell from "may not see", so every branch
 * whose verdict rests on a look-up is kept.
 */
function expectedDeleted(specs: Spec[], prs: Map<number, PrState>, canReadPulls = true): Set<string> {
  const state = (s: Spec): PrState | 'unknown' => (canReadPulls ? prs.get(s.pr)! : 'unknown')
  const eligible = (s: Spec): boolean => {
    if (!s.name.startsWith(PREFIX) || s.protected) return false
    // Another repository's: never (issue 22); the id decides alone when both sides have one (issue 29).
    if (s.tie === 'theirs' || s.tie === 'theirs-name' || s.tie === 'theirs-id') return false
    if (s.tie === 'ours' || s.tie === 'ours-renamed') return state(s) !== 'open' && state(s) !== 'unknown'
    // A tie by name (or by a PR number without any repository annotation: issue 29) keeps an open
    // pull request's branch, and dooms none before the maximum age.
    if (s.tie === 'name' || s.tie === 'pr-only')
      return state(s) !== 'open' && state(s) !== 'unknown' && s.ageDays > MAX_AGE_DAYS
    return s.ageDays > MAX_AGE_DAYS
  }
  const memo = new Map<number, boolean>()
  const deletable = (i: number): boolean => {
    if (memo.has(i)) return memo.get(i)!
    const s = specs[i]!
    const ok = eligible(s) && specs.every((c, j) => c.parent !== i || deletable(j))
    memo.set(i, ok)
    return ok
  }
  return new Set(specs.filter((_, i) => deletable(i)).map((s) => s.name))
}

/** The fake GitHub's pull requests, as `prs` says (a `missing` one is not there: 404). */
function addPulls(prs: Map<number, PrState>): void {
  for (const [n, state] of prs) {
    if (state !== 'missing')
      gh.addPull(REPO, { number: n, state: state === 'open' ? 'open' : 'closed', merged: state === 'merged' })
  }
}

/** Seeds the branches `specs` describe, and a scheduled run's harness in this repository (REPO_ID). */
function seedBranches(sim: NeonSimulator, projectId: string, specs: Spec[]) {
  const ids: string[] = []
  for (const s of specs) {
    const b = sim.addBranch(projectId, {
      name: s.name,
      ...(s.parent !== undefined ? { parentId: ids[s.parent]! } : {}),
      protected: s.protected,
      updatedAt: new Date(sim.clock.now() - s.ageDays * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      withEndpoint: false,
      annotations: annotationsOf(s),
    })
    ids.push(b.id)
  }
  return harness(sim, {
    ...harness(sim).deps.context,
    eventName: 'schedule',
    pullRequest: undefined,
    repositoryId: REPO_ID,
  })
}

let gh: Awaited<ReturnType<typeof startFakeGitHub>>
beforeAll(async () => {
  gh = await startFakeGitHub()
})
afterAll(async () => {
  await gh.close()
})

describe('cleanup never deletes anything outside the rules (property, seeded)', () => {
  const seeds = Array.from({ length: 16 }, (_, i) => 1000 + i * 7919)
  it.each(seeds)('seed %i', async (seed) => {
    const { specs, prs } = generate(seed)
    const sim = await startNeonSimulator({
      operationMs: { delete_timeline: 2, suspend_compute: 1 },
      schedulingMs: 1,
      seed,
      clock: new FakeClock(),
    })
    try {
      const project = sim.createProject({ id: `prop-${seed}` })
      gh.pulls.clear()
      addPulls(prs)
      const h = seedBranches(sim, project.id, specs)
      const quiet = { debug() {}, info() {}, warn() {}, error() {} }
      h.deps.pulls = restPullLookup(new Octokit({ baseUrl: gh.url, auth: 'ghs_test', log: quiet }), REPO)
      const r = await cleanupMode(h.deps, inputsFor(project.id, sim.apiKey, { mode: 'cleanup' }))

      const expected = expectedDeleted(specs, prs)
      const gone = new Set(
        Object.values(sim.state.branches)
          .filter((b) => b.deleted)
          .map((b) => b.name),
      )
      expect(r.failures).toBeUndefined()
      expect([...gone].sort()).toEqual([...expected].sort())
      expect([...r.deletedBranches!].sort()).toEqual([...expected].sort())
      // The default branch and everything outside the prefix are always there.
      for (const s of specs)
        if (!s.name.startsWith(PREFIX) || s.protected) expect(gone.has(s.name)).toBe(false)
    } finally {
      await sim.close()
    }
  })
})

describe('cleanup with the look-ups answering in a random order while deletes run (property, seeded)', () => {
  const seeds = Array.from({ length: 12 }, (_, i) => 5000 + i * 104_729)
  it.each(seeds)('seed %i', async (seed) => {
    const { specs, prs } = generate(seed)
    const r = rng(seed ^ 0x5bd1e995)
    const sim = await startNeonSimulator({
      operationMs: { delete_timeline: 2, suspend_compute: 1 },
      schedulingMs: 1,
      seed,
      clock: new FakeClock(),
    })
    try {
      const project = sim.createProject({ id: `prop-order-${seed}` })
      const held = heldPulls(prs)
      const h = seedBranches(sim, project.id, specs)
      h.deps.pulls = restPullLookup(held.api, REPO)
      const result = cleanupMode(h.deps, inputsFor(project.id, sim.apiKey, { mode: 'cleanup' }))
      // Release the asked-for answers one at a time in a seeded order, letting deletes run between.
      const released = new Set<number>()
      for (let settled = false; !settled;) {
        const out = held.asked.filter((n) => !released.has(n))
        if (out.length > 0) {
          const n = out[Math.floor(r() * out.length)]!
          released.add(n)
          held.release(n)
        }
        for (let i = 0, k = Math.floor(r() * 6); i < k; i++) await sim.clock.sleep(5)
        settled = await Promise.race([result.then(() => true), sim.clock.sleep(1).then(() => false)])
      }
      const res = await result
      const expected = expectedDeleted(specs, prs)
      expect(res.failures).toBeUndefined()
      expect([...res.deletedBranches!].sort()).toEqual([...expected].sort())
      // Neon never refused a delete: no branch with children was ever asked to go.
      expect(sim.log.filter((l) => l.method === 'DELETE' && l.status >= 400)).toEqual([])
    } finally {
      await sim.close()
    }
  })
})

describe('cleanup with a token that cannot read pull requests keeps everything tied to them (issue 29, property, seeded)', () => {
  const BLIND = 'ghs_blind_to_pulls'
  const seeds = Array.from({ length: 8 }, (_, i) => 9000 + i * 7919)
  it.each(seeds)('seed %i', async (seed) => {
    const { specs, prs } = generate(seed)
    const sim = await startNeonSimulator({
      operationMs: { delete_timeline: 2, suspend_compute: 1 },
      schedulingMs: 1,
      seed,
      clock: new FakeClock(),
    })
    try {
      const project = sim.createProject({ id: `prop-blind-${seed}` })
      gh.pulls.clear()
      gh.blind.set(BLIND, new Set(['pulls']))
      // The pull requests exist (open ones too): only the token cannot see them.
      addPulls(prs)
      const h = seedBranches(sim, project.id, specs)
      const quiet = { debug() {}, info() {}, warn() {}, error() {} }
      h.deps.pulls = restPullLookup(new Octokit({ baseUrl: gh.url, auth: BLIND, log: quiet }), REPO)
      const r = await cleanupMode(h.deps, inputsFor(project.id, sim.apiKey, { mode: 'cleanup' }))
      const expected = expectedDeleted(specs, prs, false)
      expect([...r.deletedBranches!].sort()).toEqual([...expected].sort())
      // Nothing tied to a pull request went, whatever its state.
      const tied = specs.filter((s) => s.tie !== 'none' && s.tie !== 'theirs-name').map((s) => s.name)
      for (const name of r.deletedBranches!) expect(tied).not.toContain(name)
      const asked = specs.some(
        (s) =>
          s.name.startsWith(PREFIX) &&
          !s.protected &&
          (s.tie === 'ours' ||
            s.tie === 'ours-renamed' ||
            ((s.tie === 'name' || s.tie === 'pr-only') && s.ageDays > MAX_AGE_DAYS)),
      )
      if (asked) expect(h.logs.join('\n')).toContain("'permissions: pull-requests: read'")
    } finally {
      await sim.close()
    }
  })
})
