// What the comment and the summary say about an anonymized branch: the data line and a re-create,
// and never a rule (rendering only; the e2e tests hold dist/index.js to the same).

import { describe, expect, it } from 'vitest'
import { renderComment, type CommentView } from '../../src/github/comment-body.js'
import { describeData } from '../../src/masking/describe.js'
import type { ModeResult } from '../../src/modes/types.js'
import { renderSummary } from '../../src/summary.js'
import { createdResult, prContextFor, resetResult } from '../helpers/results.js'

const anonymized = (over: Partial<ModeResult> = {}): ModeResult => ({
  ...createdResult(),
  anonymization: { maskedColumns: 3, rules: 3, remasked: false },
  ...over,
})
const view = (result: ModeResult, over: Partial<CommentView> = {}): CommentView => ({
  status: 'created',
  projectId: 'wispy-lake-12345678',
  target: 'preview/pr-7-feature/login',
  mode: 'create',
  result,
  context: prContextFor(),
  now: Date.parse('2030-01-01T00:00:00Z'),
  producer: 'neon-preview-branch 0.1.0',
  ...over,
})

describe('the data line', () => {
  it('says anonymized and how many columns, in the comment and the summary', () => {
    expect(describeData({ maskedColumns: 1, remasked: false })).toBe('anonymized, 1 column masked')
    expect(describeData({ remasked: false })).toBe('anonymized')
    expect(describeData({ maskedColumns: 2, remasked: true })).toBe(
      'anonymized, 2 columns masked (masked again by this run)',
    )
    expect(renderComment(view(anonymized()))).toContain('| Data | anonymized, 3 columns masked |')
    expect(renderSummary({ mode: 'create', result: anonymized() })).toContain(
      '<td>Data</td><td>anonymized, 3 columns masked</td>',
    )
  })

  it('is absent for a plain branch', () => {
    expect(renderComment(view(createdResult()))).not.toContain('| Data |')
    expect(renderSummary({ mode: 'create', result: createdResult() })).not.toContain('<td>Data</td>')
  })

  it('a re-created branch: the comment and the summary say its id, host and password changed', () => {
    const r: ModeResult = {
      ...resetResult(),
      created: true,
      recreated: { previousId: 'br-old-one-12345678' },
      anonymization: { maskedColumns: 3, remasked: false },
    }
    const body = renderComment(view(r, { status: 'reset', mode: 'reset' }))
    expect(body).toContain('re-created from the parent with freshly masked data')
    expect(body).toContain('new branch id (it was `br-old-one-12345678`), host and password')
    expect(body).not.toContain('same host and password')
    expect(renderSummary({ mode: 'reset', result: r })).toContain(
      'its branch id (it was br-old-one-12345678), host and password changed',
    )
  })
})
