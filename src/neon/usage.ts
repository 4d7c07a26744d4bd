/**
 * A branch's usage figures, as Neon reports them on every Branch object (the API description's
 * `Branch` schema: `logical_size`, `written_data_bytes`, `data_transfer_bytes`,
 * `compute_time_seconds`, `active_time_seconds`), read from a branch the run has already read: no
 * request of its own. Pure.
 *
 * Neon's description marks the last four required and `logical_size` optional; each is still read
 * defensively: a figure that is not a finite number ≥ 0 is left out (its key absent, never 0), and
 * reading usage never fails a run.
 */
import type { Branch } from './types.js'

/** The keys of the `usage` and `freed` outputs, in the order they are shown. */
export const USAGE_KEYS = [
  'logical_size_bytes',
  'written_data_bytes',
  'data_transfer_bytes',
  'compute_time_seconds',
  'active_time_seconds',
] as const

export type UsageKey = (typeof USAGE_KEYS)[number]

/** The figures Neon reported; a key is absent where Neon gave no (usable) figure. */
export type Usage = Partial<Record<UsageKey, number>>

/** Which field of Neon's Branch each key comes from. */
const FIELD: Record<UsageKey, keyof Branch> = {
  logical_size_bytes: 'logical_size',
  written_data_bytes: 'written_data_bytes',
  data_transfer_bytes: 'data_transfer_bytes',
  compute_time_seconds: 'compute_time_seconds',
  active_time_seconds: 'active_time_seconds',
}

/** The branch's figures; `{}` when it carries none. */
export function usageOf(branch: Branch): Usage {
  const out: Usage = {}
  for (const key of USAGE_KEYS) {
    const value: unknown = (branch as Partial<Branch>)[FIELD[key]]
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) out[key] = value
  }
  return out
}

/** Whether there is at least one figure to show. */
export function hasUsage(u: Usage | undefined): u is Usage {
  return u !== undefined && USAGE_KEYS.some((k) => u[k] !== undefined)
}

/** The `freed` output: how many branches, and each figure summed over those that report it. */
export type Freed = Usage & { branches: number }

/** One of the largest branches a sweep deleted (or would delete). */
export interface FreedBranch {
  name: string
  id: string
  usage: Usage
}

/** cleanup: what the deleted branches had used, and the largest of them by logical size. */
export interface FreedReport {
  total: Freed
  largest: FreedBranch[]
}

/** How many of the largest deleted branches the summary lists. */
export const LARGEST_SHOWN = 5

/**
 * Sums over `branches`: a figure is summed over the branches that report it, and absent when none
 * does (so a sweep of branches without `logical_size` does not claim to have freed 0 bytes).
 */
export function sumUsage(branches: readonly Branch[]): Freed {
  const total: Freed = { branches: branches.length }
  for (const b of branches) {
    const u = usageOf(b)
    for (const key of USAGE_KEYS) {
      const v = u[key]
      if (v !== undefined) total[key] = (total[key] ?? 0) + v
    }
  }
  return total
}

/** The totals and the `n` largest by logical size (those without one are not ranked). */
export function freedReport(branches: readonly Branch[], n = LARGEST_SHOWN): FreedReport {
  const ranked = branches
    .map((b) => ({ name: b.name, id: b.id, usage: usageOf(b) }))
    .filter((x) => x.usage.logical_size_bytes !== undefined)
    .sort(
      (a, b) =>
        (b.usage.logical_size_bytes ?? 0) - (a.usage.logical_size_bytes ?? 0) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
  return { total: sumUsage(branches), largest: ranked.slice(0, n) }
}

/** `{ usage }` for a result, when the branch carries at least one figure; `{}` otherwise. */
export function usageField(branch: Branch): { usage?: Usage } {
  const usage = usageOf(branch)
  return hasUsage(usage) ? { usage } : {}
}
