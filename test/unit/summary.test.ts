import { describe, expect, it } from 'vitest'
import { renderSummary } from '../../src/summary.js'
import { escapeHtml } from '../../src/util/escape.js'
import type { ModeResult } from '../../src/modes/types.js'
import { createdResult, DB_URL, deletedResult, PASSWORD } from '../helpers/results.js'

describe('renderSummary', () => {
  it('create: mode, branch, what changed, timings, Neon requests and retries, comment', () => {
    const html = renderSummary({
      mode: 'create',
      autoBecause: 'pull_request opened',
      result: createdResult(),
      neon: { requests: 12, retries: 2 },
      github: { requests: 3 },
      comment: { status: 'created', id: 1, removedDuplicates: 0 },
    })
    expect(html).toContain('<h3>Neon preview branch: create</h3>')
    expect(html).toContain('<td>create (chosen by auto for pull_request opened)</td>')
    expect(html).toContain('<td>preview/pr-7-feature/login (br-misty-sun-a1b2c3d4)</td>')
    expect(html).toContain('<td>yes, by this run</td>')
    expect(html).toContain('<td>Time to ready</td><td>3.1 s</td>')
    expect(html).toContain('<td>Waiting on Neon</td><td>1.8 s, 4 polls</td>')
    expect(html).toContain('<td>Neon API requests</td><td>12 (2 retries)</td>')
    expect(html).toContain('<td>GitHub API requests</td><td>3</td>')
    expect(html).toContain('<td>Pull request comment</td><td>created</td>')
    expect(html).not.toContain(PASSWORD)
    expect(html).not.toContain(DB_URL)
  })

  it('delete: says whether it deleted', () => {
    expect(renderSummary({ mode: 'delete', result: deletedResult() })).toContain(
      '<td>Deleted</td><td>yes</td>',
    )
    expect(renderSummary({ mode: 'delete', result: deletedResult(undefined, false) })).toContain(
      'no, it was already gone',
    )
  })

  it('cleanup: the verdict table, escaped', () => {
    const r: ModeResult = {
      mode: 'cleanup',
      deletedBranches: ['preview/pr-1-a'],
      verdicts: [
        {
          branch: 'preview/pr-1-a',
          branchId: 'br-a',
          pr: 1,
          prState: 'merged',
          ageDays: 3.5,
          verdict: 'deleted',
          reason: 'PR #1 is merged',
        },
        { branch: 'preview/<b>x</b>', branchId: 'br-b', ageDays: 1, verdict: 'kept', reason: 'young' },
      ],
      failures: ["'preview/pr-2' (br-c): HTTP 500"],
      changes: ["deleted 'preview/pr-1-a' (br-a)"],
      timings: { totalMs: 1000, wait: { polls: 1, waitedMs: 100 } },
    }
    const html = renderSummary({ mode: 'cleanup', autoBecause: 'schedule', result: r })
    expect(html).toContain('<h4>Cleanup verdicts (2 candidate branches)</h4>')
    expect(html).toContain(
      '<tr><td>preview/pr-1-a (br-a)</td><td>#1 (merged)</td><td>3.5</td><td>deleted</td><td>PR #1 is merged</td></tr>',
    )
    expect(html).toContain('<td>preview/&lt;b&gt;x&lt;/b&gt; (br-b)</td><td>-</td>')
    expect(html).not.toContain('<b>x')
    expect(html).toContain('finished with failures')
    expect(html).toContain('<li>&#39;preview/pr-2&#39; (br-c): HTTP 500</li>')
  })

  it('failure: the error, escaped; skipped: why', () => {
    const failed = renderSummary({ mode: 'reset', target: 'preview/pr-7', error: 'reset failed: <nope>' })
    expect(failed).toContain('❌ failed')
    expect(failed).toContain('<td>Branch</td><td>preview/pr-7</td>')
    expect(failed).toContain('<pre>reset failed: &lt;nope&gt;</pre>')
    const skipped = renderSummary({ mode: 'create', skipped: 'a fork' })
    expect(skipped).toContain('⏭️ skipped')
    expect(skipped).toContain('<td>Why</td><td>a fork</td>')
    expect(renderSummary({ error: 'bad input' })).toContain('<h3>Neon preview branch: not started</h3>')
  })

  it('escapeHtml covers element content and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    )
  })
})

describe('cleanup verdict table bound', () => {
  it('lists every acted-on branch and bounds the kept ones, saying how many are left out', async () => {
    const { renderSummary, MAX_VERDICT_ROWS } = await import('../../src/summary.js')
    const verdict = (i: number, v: 'deleted' | 'kept') => ({
      branch: `preview/b-${i}`,
      branchId: `br-x-${i}`,
      ageDays: 9,
      verdict: v,
      reason: v === 'kept' ? 'PR is open' : 'PR is closed',
    })
    const verdicts = [
      ...Array.from({ length: 20 }, (_, i) => verdict(i, 'deleted')),
      ...Array.from({ length: MAX_VERDICT_ROWS + 500 }, (_, i) => verdict(1000 + i, 'kept')),
    ]
    const html = renderSummary({
      mode: 'cleanup',
      result: {
        mode: 'cleanup',
        verdicts,
        deletedBranches: [],
        changes: [],
        timings: { totalMs: 1, wait: { polls: 0, waitedMs: 0 } },
      },
    })
    const verdictTable = html.split('<table>')[2] ?? ''
    expect(verdictTable.match(/<tr>/g)?.length).toBe(1 + MAX_VERDICT_ROWS) // header + bounded rows
    for (let i = 0; i < 20; i++) expect(html).toContain(`preview/b-${i} (br-x-${i})`)
    expect(html).toContain(`… and 520 more kept branches, not listed.`)
    expect(html.length).toBeLessThan(1024 * 1024)
  })
})

describe('renderSummary: the branch limit', () => {
  it('says the limit and what make-room deleted, or that it would', () => {
    const made = (verdict: 'deleted' | 'would delete'): ModeResult => ({
      ...createdResult(),
      branchLimit: {
        limit: 10,
        count: 10,
        madeRoom: [
          {
            branch: 'preview/pr-3',
            branchId: 'br-a',
            pr: 3,
            prState: 'closed',
            ageDays: 9,
            verdict,
            reason: 'PR #3 is closed',
          },
        ],
      },
    })
    expect(renderSummary({ mode: 'create', result: made('deleted') })).toContain(
      '<td>Branch limit</td><td>at the limit (10 of 10): deleted preview/pr-3 (PR #3 is closed)</td>',
    )
    expect(renderSummary({ mode: 'create', result: made('would delete'), dryRun: true })).toContain(
      'would delete preview/pr-3 (PR #3 is closed)',
    )
    expect(renderSummary({ mode: 'create', result: createdResult() })).not.toContain('Branch limit')
  })
})

describe('renderSummary: Neon Auth, the Data API and schema-only branches (issue 24)', () => {
  it('shows the URLs asked for, escaped, and "schema only"', () => {
    const r = createdResult()
    const html = renderSummary({
      mode: 'create',
      result: {
        ...r,
        branch: { ...r.branch!, schemaOnly: true },
        authUrl: 'https://ep-a.neonauth.example/neondb/auth?<b>',
        dataApiUrl: null,
      },
    })
    expect(html).toContain('<td>Neon Auth</td><td>https://ep-a.neonauth.example/neondb/auth?&lt;b&gt;</td>')
    expect(html).toContain('<td>Data API</td><td>not enabled for the branch&#39;s database</td>')
    expect(html).toContain('<td>Data</td><td>schema only: the parent&#39;s schema, none of its rows</td>')
    expect(renderSummary({ mode: 'create', result: createdResult() })).not.toMatch(
      /Neon Auth|Data API|schema only/,
    )
  })
})
