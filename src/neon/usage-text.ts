/**
 * Usage figures (usage.ts) in units people read: sizes in binary units with one decimal (`1.5 GiB`),
 * compute as CU-hours (`compute_time_seconds / 3600`, one decimal), active time in hours. No price:
 * what a figure costs depends on the plan. Pure; the text holds no untrusted input (numbers only).
 */
import type { Freed, Usage } from './usage.js'

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const

/** `0 B`, `512 B`, `12.0 KiB`, `1.5 GiB`, `2.0 TiB`: binary units, one decimal from KiB up. */
export function formatBytes(bytes: number): string {
  if (!(bytes >= 1024)) return `${Math.max(0, Math.round(bytes))} B`
  let value = bytes / 1024
  let unit = 0
  // Up while the value, rounded to one decimal, would read 1024.0 or more.
  while (unit < UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024
    unit++
  }
  return `${oneDecimal(value)} ${UNITS[unit]}`
}

/** One decimal; a figure above 0 that would read `0.0` reads `< 0.1` (it is not nothing). */
function oneDecimal(n: number): string {
  return n > 0 && n < 0.05 ? '< 0.1' : n.toFixed(1)
}

/** Compute time as CU-hours: `compute_time_seconds / 3600`, e.g. `2.0 CU-hours`. */
export function formatCuHours(computeSeconds: number): string {
  return `${oneDecimal(computeSeconds / 3600)} CU-hours`
}

/** Seconds as hours, e.g. `3.1 h`. */
export function formatHours(seconds: number): string {
  return `${oneDecimal(seconds / 3600)} h`
}

/**
 * The figures in one line, e.g. `1.5 GiB logical size, 2.0 CU-hours of compute, 3.1 h active,
 * 120.0 MiB written, 5.0 MiB transferred`; only the figures Neon gave; undefined when none.
 */
export function describeUsage(u: Usage | undefined): string | undefined {
  if (!u) return undefined
  const parts: string[] = []
  if (u.logical_size_bytes !== undefined) parts.push(`${formatBytes(u.logical_size_bytes)} logical size`)
  if (u.compute_time_seconds !== undefined) parts.push(`${formatCuHours(u.compute_time_seconds)} of compute`)
  if (u.active_time_seconds !== undefined) parts.push(`${formatHours(u.active_time_seconds)} active`)
  if (u.written_data_bytes !== undefined) parts.push(`${formatBytes(u.written_data_bytes)} written`)
  if (u.data_transfer_bytes !== undefined) parts.push(`${formatBytes(u.data_transfer_bytes)} transferred`)
  return parts.length > 0 ? parts.join(', ') : undefined
}

/**
 * The usage row of the comment and the summary, or undefined when Neon gave no figure. A deleted
 * branch's row says what the preview used (the figures read just before the delete).
 */
export function usageRow(u: Usage | undefined, deleted: boolean): [string, string] | undefined {
  const text = describeUsage(u)
  if (text === undefined) return undefined
  return ['Usage', deleted ? `This preview used ${text}` : `${text} so far (as Neon last measured it)`]
}

/** A sweep's totals, e.g. `3 branches: 1.5 GiB logical size, …`. */
export function describeFreed(f: Freed): string {
  const what = `${f.branches} ${f.branches === 1 ? 'branch' : 'branches'}`
  const figures = describeUsage(f)
  return figures === undefined ? what : `${what}: ${figures}`
}
