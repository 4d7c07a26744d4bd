/**
 * The job summary's section on what a sweep freed (cleanup's `freed`): the totals, and the largest
 * branches deleted by logical size. Branch names come from Neon and are not ours to trust: each is
 * escaped for HTML and Markdown (util/escape.ts), and no value brings a line break into the table.
 */
import type { FreedReport } from './neon/usage.js'
import { describeFreed, formatBytes, formatCuHours, formatHours } from './neon/usage-text.js'
import { escapeMarkdownHtml } from './util/escape.js'

/** The section, as lines of HTML for summary.ts. */
export function freedHtml(f: FreedReport, dryRun: boolean): string[] {
  const e = escapeMarkdownHtml
  const title = dryRun ? 'What the sweep would free' : 'What the sweep freed'
  if (f.total.branches === 0) {
    return [`<h4>${title}</h4>`, `<p>No branch ${dryRun ? 'would be' : 'was'} deleted.</p>`]
  }
  const out = [
    `<h4>${title}</h4>`,
    `<p>${e(describeFreed(f.total))}. Neon's figures as the sweep listed the branches: measured by ` +
      `Neon, with some lag; no price is computed.</p>`,
  ]
  if (f.largest.length === 0) return out
  const figure = (n: number | undefined, fmt: (n: number) => string): string =>
    n === undefined ? '-' : fmt(n)
  const rows = f.largest.map(
    ({ name, id, usage: u }) =>
      `<tr><td>${e(name)} (${e(id)})</td><td>${e(figure(u.logical_size_bytes, formatBytes))}</td>` +
      `<td>${e(figure(u.compute_time_seconds, formatCuHours))}</td>` +
      `<td>${e(figure(u.active_time_seconds, formatHours))}</td>` +
      `<td>${e(figure(u.written_data_bytes, formatBytes))}</td>` +
      `<td>${e(figure(u.data_transfer_bytes, formatBytes))}</td></tr>`,
  )
  out.push(
    `<table><tr><th>Largest ${dryRun ? 'to delete' : 'deleted'} (by logical size)</th><th>Logical size</th>` +
      `<th>Compute</th><th>Active</th><th>Written</th><th>Transferred</th></tr>${rows.join('')}</table>`,
  )
  return out
}
