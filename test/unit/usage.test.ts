import { describe, expect, it } from 'vitest'
import { renderComment, type CommentView } from '../../src/github/comment-body.js'
import type { ModeResult } from '../../src/modes/types.js'
import type { Branch } from '../../src/neon/types.js'
import { freedReport, sumUsage, usageField, usageOf } from '../../src/neon/usage.js'
import {
  describeFreed,
  describeUsage,
  formatBytes,
  formatCuHours,
  formatHours,
  usageRow,
} from '../../src/neon/usage-text.js'
import { renderSummary } from '../../src/summary.js'
import { createdResult, deletedResult, prContextFor } from '../helpers/results.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
const TiB = 1024 * GiB

/** A Branch as Neon lists it, with the figures given (and none of the others). */
function branch(name: string, figures: Record<string, unknown>): Branch {
  return {
    id: `br-${name.replace(/[^a-z0-9]/g, '-')}-1`,
    project_id: 'p-1',
    name,
    current_state: 'ready',
    state_changed_at: '2026-12-01T00:00:00Z',
    creation_source: 'console',
    created_at: '2026-12-01T00:00:00Z',
    updated_at: '2026-12-01T00:00:00Z',
    default: false,
    protected: false,
    ...figures,
  } as unknown as Branch
}

const FULL = {
  logical_size: 1.5 * GiB,
  written_data_bytes: 120 * MiB,
  data_transfer_bytes: 5 * MiB,
  compute_time_seconds: 7200,
  active_time_seconds: 11_160,
  cpu_used_sec: 7200,
}

describe('usageOf: the figures of a Branch Neon returned', () => {
  it('maps Neon’s fields to the output keys', () => {
    expect(usageOf(branch('a', FULL))).toEqual({
      logical_size_bytes: 1.5 * GiB,
      written_data_bytes: 120 * MiB,
      data_transfer_bytes: 5 * MiB,
      compute_time_seconds: 7200,
      active_time_seconds: 11_160,
    })
  })

  it('a figure Neon omits (or gives as no number) is absent, not 0', () => {
    const u = usageOf(branch('a', { compute_time_seconds: 10, logical_size: null, written_data_bytes: '5' }))
    expect(u).toEqual({ compute_time_seconds: 10 })
    expect('logical_size_bytes' in u).toBe(false)
    expect(usageOf(branch('a', { data_transfer_bytes: -1, active_time_seconds: Number.NaN }))).toEqual({})
    expect(usageField(branch('a', {}))).toEqual({})
    expect(usageField(branch('a', { active_time_seconds: 0 }))).toEqual({ usage: { active_time_seconds: 0 } })
  })
})

describe('sumUsage and freedReport: what a sweep freed', () => {
  it('sums each figure over the branches that report it; absent when none does', () => {
    const total = sumUsage([
      branch('a', { logical_size: 100, compute_time_seconds: 5 }),
      branch('b', { logical_size: 50, written_data_bytes: 7 }),
      branch('c', {}),
    ])
    expect(total).toEqual({
      branches: 3,
      logical_size_bytes: 150,
      compute_time_seconds: 5,
      written_data_bytes: 7,
    })
    expect('data_transfer_bytes' in total).toBe(false)
    expect(sumUsage([])).toEqual({ branches: 0 })
  })

  it('ranks the five largest by logical size (ties by name; branches without one not ranked)', () => {
    const bs = [
      branch('s1', { logical_size: 10 }),
      branch('s2', { logical_size: 70 }),
      branch('none', { compute_time_seconds: 99 }),
      branch('s3', { logical_size: 30 }),
      branch('s5', { logical_size: 50 }),
      branch('s4', { logical_size: 50 }),
      branch('s6', { logical_size: 20 }),
    ]
    const r = freedReport(bs)
    expect(r.largest.map((x) => x.name)).toEqual(['s2', 's4', 's5', 's3', 's6'])
    expect(r.total.branches).toBe(7)
    expect(r.total.logical_size_bytes).toBe(230)
    expect(r.total.compute_time_seconds).toBe(99)
  })
})

describe('formatting for people', () => {
  it('sizes in binary units, one decimal', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1024)).toBe('1.0 KiB')
    expect(formatBytes(300 * KiB)).toBe('300.0 KiB')
    // Below 1 MiB, but it would read 1024.0 KiB: one unit up.
    expect(formatBytes(MiB - 1)).toBe('1.0 MiB')
    expect(formatBytes(30_785_536)).toBe('29.4 MiB')
    expect(formatBytes(1.5 * GiB)).toBe('1.5 GiB')
    expect(formatBytes(12.34 * GiB)).toBe('12.3 GiB')
    expect(formatBytes(2 * TiB)).toBe('2.0 TiB')
    expect(formatBytes(3.25 * 1024 * TiB)).toBe('3.3 PiB')
  })

  it('compute as CU-hours (compute_time_seconds / 3600), active time in hours', () => {
    expect(formatCuHours(7200)).toBe('2.0 CU-hours')
    expect(formatCuHours(0)).toBe('0.0 CU-hours')
    // Not nothing: never shown as 0.0.
    expect(formatCuHours(60)).toBe('< 0.1 CU-hours')
    expect(formatCuHours(823_880_990)).toBe('228855.8 CU-hours')
    expect(formatHours(11_160)).toBe('3.1 h')
    expect(formatHours(0)).toBe('0.0 h')
  })

  it('one line of the figures given; none: no text, no row', () => {
    expect(describeUsage(usageOf(branch('a', FULL)))).toBe(
      '1.5 GiB logical size, 2.0 CU-hours of compute, 3.1 h active, 120.0 MiB written, 5.0 MiB transferred',
    )
    expect(describeUsage({ compute_time_seconds: 0 })).toBe('0.0 CU-hours of compute')
    expect(describeUsage({})).toBeUndefined()
    expect(usageRow({}, false)).toBeUndefined()
    expect(usageRow(undefined, true)).toBeUndefined()
    expect(usageRow({ logical_size_bytes: GiB }, true)).toEqual([
      'Usage',
      'This preview used 1.0 GiB logical size',
    ])
    expect(describeFreed({ branches: 1 })).toBe('1 branch')
    expect(describeFreed({ branches: 3, logical_size_bytes: 3 * GiB })).toBe(
      '3 branches: 3.0 GiB logical size',
    )
  })
})

const USAGE = usageOf(branch('a', FULL))

function view(result: ModeResult, over: Partial<CommentView> = {}): CommentView {
  return {
    status: 'created',
    projectId: 'wispy-lake-12345678',
    target: result.branch?.name ?? 'x',
    mode: result.mode,
    result,
    context: prContextFor(),
    now: Date.parse('2030-01-01T00:00:00Z'),
    producer: 'neon-preview-branch 0.1.0',
    ...over,
  }
}

describe('the usage row in the comment and the summary', () => {
  it('create: the figures so far; delete: what the preview used', () => {
    const made = renderComment(view({ ...createdResult(), usage: USAGE }))
    expect(made).toContain(
      '| Usage | 1.5 GiB logical size, 2.0 CU-hours of compute, 3.1 h active, 120.0 MiB written, 5.0 MiB transferred so far',
    )
    const gone = renderComment(
      view({ ...deletedResult(), usage: USAGE }, { status: 'deleted', mode: 'delete' }),
    )
    expect(gone).toContain('| Usage | This preview used 1.5 GiB logical size, 2.0 CU-hours of compute')
    expect(renderSummary({ mode: 'delete', result: { ...deletedResult(), usage: USAGE } })).toContain(
      '<td>Usage</td><td>This preview used 1.5 GiB logical size, 2.0 CU-hours of compute, 3.1 h active',
    )
    expect(renderSummary({ mode: 'create', result: { ...createdResult(), usage: USAGE } })).toContain(
      '<td>Usage</td><td>1.5 GiB logical size',
    )
  })

  it('no figures: no row', () => {
    expect(renderComment(view(createdResult()))).not.toContain('| Usage |')
    expect(renderComment(view({ ...createdResult(), usage: {} }))).not.toContain('| Usage |')
    expect(renderSummary({ mode: 'create', result: createdResult() })).not.toContain('<td>Usage</td>')
  })

  it('cleanup: the totals and the largest deleted, their names escaped', () => {
    const evil = 'preview/<img src=x onerror=alert(1)>[x](https://evil.example)'
    const bs = [
      branch('preview/a', { logical_size: 2 * GiB, compute_time_seconds: 3600 }),
      branch(evil, { logical_size: 3 * GiB, active_time_seconds: 7200 }),
    ]
    const result: ModeResult = {
      mode: 'cleanup',
      freed: freedReport(bs),
      changes: [],
      timings: { totalMs: 1, wait: { polls: 0, waitedMs: 0 } },
    }
    const html = renderSummary({ mode: 'cleanup', result })
    expect(html).toContain('<h4>What the sweep freed</h4>')
    expect(html).toContain('2 branches: 5.0 GiB logical size, 1.0 CU-hours of compute, 2.0 h active')
    expect(html).not.toContain('<img')
    expect(html).not.toContain('](https')
    expect(html).toContain('&#60;img src=x onerror=alert&#40;1&#41;&#62;')
    // The larger first.
    expect(html.indexOf('onerror')).toBeLessThan(html.indexOf('preview/a ('))
    const dry = renderSummary({ mode: 'cleanup', dryRun: true, result })
    expect(dry).toContain('<h4>What the sweep would free</h4>')
  })
})
