import { describe, expect, it } from 'vitest'
import { renderSummary } from '../../src/summary.js'
import { createdResult } from '../helpers/results.js'

describe('the summary row for the project lock', () => {
  const lock = (waits: number, tries: number, waitedMs: number, longestMs = waitedMs) => ({
    requests: 30,
    retries: tries,
    lock: { waits, tries, waitedMs, longestMs },
  })

  it('says how long the run waited for the project lock and how many tries Neon refused', () => {
    const html = renderSummary({ mode: 'create', result: createdResult(), neon: lock(1, 7, 41_200) })
    expect(html).toContain('<td>Waited for the project lock</td><td>41.2 s (7 tries refused with 423)</td>')
  })

  it('adds over how many requests, and the longest wait, when more than one waited (a sweep)', () => {
    const html = renderSummary({ mode: 'cleanup', neon: lock(3, 9, 12_000, 6_500) })
    expect(html).toContain(
      '<td>Waited for the project lock</td><td>12.0 s (9 tries refused with 423, over 3 requests; the longest wait 6.5 s)</td>',
    )
  })

  it('has no such row when nothing waited', () => {
    const html = renderSummary({ mode: 'create', result: createdResult(), neon: lock(0, 0, 0) })
    expect(html).not.toContain('project lock')
  })
})
