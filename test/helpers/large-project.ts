// Projects larger than one of Neon's branch pages (100 branches, whatever `limit` asks: BEHAVIOUR.md,
// Branches), laid out so that what matters sits past the first page in Neon's default order
// (updated_at, newest first): the stale branches are the oldest, so they come last.

import type { FakeGitHub } from '../fake-github/server.js'
import type { NeonSimulator } from '../sim/index.js'

const DAY = 86_400_000
const HOUR = 3_600_000

export const SWEEP_REPO = 'octo-org/octo-repo'

function at(now: number, msAgo: number): string {
  return new Date(now - msAgo).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export interface LargeSweep {
  /** Branches in the project, main included. */
  total: number
  /** What a sweep with the default inputs (prefix preview/, 7 days) must delete. */
  stale: string[]
  /** Candidates under preview/ that it must keep. */
  keptCandidates: string[]
}

/**
 * 350 branches for a sweep. Past the first page: 30 stale untied branches, a stale child of a stale
 * parent (both go, child first), and a stale parent whose child belongs to an open pull request
 * (both stay). On the first page: a branch of a closed pull request whose child, of an open pull
 * request, is old and so sits past it; the parent must stay, since Neon refuses to delete a branch
 * with children. The pull request states go to the fake GitHub.
 */
export function seedLargeSweep(
  sim: NeonSimulator,
  projectId: string,
  gh: Pick<FakeGitHub, 'addPull'>,
  now: number,
): LargeSweep {
  const annotate = (n: number) => ({ 'github-pr-number': String(n), 'github-repo': SWEEP_REPO })
  gh.addPull(SWEEP_REPO, { number: 1, state: 'open' })
  gh.addPull(SWEEP_REPO, { number: 3, state: 'closed' })
  gh.addPull(SWEEP_REPO, { number: 4, state: 'open' })
  const add = (
    name: string,
    msAgo: number,
    extra: { parentId?: string; annotations?: Record<string, string> } = {},
  ) =>
    sim.addBranch(projectId, {
      name,
      updatedAt: at(now, msAgo),
      createdAt: at(now, msAgo),
      withEndpoint: false,
      ...extra,
    })

  const stale: string[] = []
  const kept: string[] = []
  // Page 1: a closed PR's branch, recently pushed to...
  const closedParent = add('preview/pr-3-closed', 1 * HOUR, { annotations: annotate(3) })
  kept.push(closedParent.name)
  // ...whose child belongs to an open PR and was last updated long ago (the last pages).
  kept.push(
    add('preview/pr-4-open-child', 20 * DAY, { parentId: closedParent.id, annotations: annotate(4) }).name,
  )
  // Out of the prefix, recent: 273 of them fill the first pages.
  for (let i = 0; i < 273; i++) add(`keep/feature-${i}`, 2 * HOUR + i * 60_000)
  // Young preview branches tied to no PR: kept (≤ 7 days).
  for (let i = 0; i < 40; i++) kept.push(add(`preview/young-${i}`, 1 * DAY + i * HOUR).name)
  // Stale, untied, old: the last pages.
  for (let i = 0; i < 30; i++) stale.push(add(`preview/old-${i}`, 10 * DAY + i * HOUR).name)
  // A stale parent and its stale child: both go, the child first.
  const parent0 = add('preview/stale-parent-0', 31 * DAY)
  const child0 = add('preview/stale-child-0', 30 * DAY, { parentId: parent0.id })
  stale.push(child0.name, parent0.name)
  // A stale parent whose child is an open PR's branch: both stay.
  const parent1 = add('preview/stale-parent-1', 31 * DAY)
  kept.push(
    parent1.name,
    add('preview/pr-1-kept-child', 25 * DAY, { parentId: parent1.id, annotations: annotate(1) }).name,
  )
  const total = 1 + 2 + 273 + 40 + 30 + 4
  return { total, stale, keptCandidates: kept }
}

/**
 * `preview/pr-1` and 110 others that Neon's partial-match `search=preview/pr-1` also finds
 * (pr-10 … pr-19, pr-100 … pr-199), all more recent, so the one wanted is on the second page of
 * the search; its parent `dev` likewise hides among 120 `dev-…` branches. Returns their ids.
 */
export function seedCrowdedNames(
  sim: NeonSimulator,
  projectId: string,
  now: number,
): { dev: string; pr1: string } {
  const add = (name: string, msAgo: number, parentId?: string) =>
    sim.addBranch(projectId, {
      name,
      updatedAt: at(now, msAgo),
      createdAt: at(now, msAgo),
      withEndpoint: name === 'preview/pr-1',
      ...(parentId ? { parentId } : {}),
    })
  const dev = add('dev', 5 * DAY)
  for (let i = 0; i < 120; i++) add(`dev-${i}`, HOUR + i * 60_000)
  const pr1 = add('preview/pr-1', 3 * DAY, dev.id)
  for (const n of [
    ...Array.from({ length: 10 }, (_, i) => 10 + i),
    ...Array.from({ length: 100 }, (_, i) => 100 + i),
  ])
    add(`preview/pr-${n}`, HOUR + n * 60_000)
  return { dev: dev.id, pr1: pr1.id }
}
