/**
 * Issue 30, item 1: the schema diff is bounded (jsdiff's maxEditLength and timeout), and a diff cut
 * short says so, with the sizes, in the comment and the summary; item 5: the summary is redacted on
 * the plain text, before HTML escaping.
 */
import { describe, expect, it } from 'vitest'
import { renderSchemaSection } from '../../src/github/schema-section.js'
import type { ModeResult, SchemaComparison } from '../../src/modes/types.js'
import { renderSummary } from '../../src/summary.js'
import { redactStrings } from '../../src/util/redact-deep.js'
import {
  boundedSchemaPatch,
  MAX_DIFF_EDIT_LINES,
  schemaPatch,
  textSize,
} from '../../src/util/schema-patch.js'

const schema = (n: number, tag: string): string =>
  Array.from({ length: n }, (_, i) => `CREATE TABLE t${i} (c_${tag} integer);`).join('\n') + '\n'
const side = (id: string) => ({ branchId: id })

describe('boundedSchemaPatch', () => {
  it('is schemaPatch when within its limits', () => {
    const a = schema(50, 'a')
    const b = a.replace('t7 (c_a', 't7 (c_b')
    const limits = { timeoutMs: 60_000, maxEditLength: MAX_DIFF_EDIT_LINES }
    expect(boundedSchemaPatch('db', side('br-a'), side('br-b'), a, b, limits)).toBe(
      schemaPatch('db', side('br-a'), side('br-b'), a, b),
    )
    expect(boundedSchemaPatch('db', side('br-a'), side('br-b'), a, a, limits)).toBe('')
  })

  it('gives up past maxEditLength changed lines', () => {
    const limits = { timeoutMs: 600_000, maxEditLength: 100 }
    const a = schema(200, 'a')
    expect(boundedSchemaPatch('db', side('br-a'), side('br-b'), a, schema(200, 'b'), limits)).toBeUndefined()
  })

  it('gives up in jsdiff too, where no line is new but the order is (the quick bound cannot tell)', () => {
    const a = schema(200, 'a')
    const reversed = a.trimEnd().split('\n').reverse().join('\n') + '\n'
    const limits = { timeoutMs: 600_000, maxEditLength: 100 }
    expect(boundedSchemaPatch('db', side('br-a'), side('br-b'), a, reversed, limits)).toBeUndefined()
    expect(boundedSchemaPatch('db', side('br-a'), side('br-b'), a, reversed, { timeoutMs: 600_000 })).toBe(
      schemaPatch('db', side('br-a'), side('br-b'), a, reversed),
    )
  })

  it('does not start when nothing is left of the deadline', () => {
    const a = schema(3, 'a')
    const limits = { timeoutMs: 0, maxEditLength: MAX_DIFF_EDIT_LINES }
    expect(boundedSchemaPatch('db', side('br-a'), side('br-b'), a, schema(3, 'b'), limits)).toBeUndefined()
  })

  it('measures sizes in lines and characters', () => {
    expect(textSize('')).toEqual({ lines: 0, chars: 0 })
    expect(textSize('a\nbc\n')).toEqual({ lines: 2, chars: 5 })
    expect(textSize('a\nbc')).toEqual({ lines: 2, chars: 4 })
  })
})

const tooLarge: SchemaComparison = {
  database: 'neondb',
  base: { id: 'br-main-1', name: 'main' },
  branch: { id: 'br-pr-2', name: 'preview/pr-7' },
  diff: '',
  added: 0,
  removed: 0,
  tooLarge: {
    base: { lines: 20_000, chars: 812_345 },
    branch: { lines: 20_001, chars: 900_001 },
    maxChangedLines: MAX_DIFF_EDIT_LINES,
  },
}

describe('a diff too large to compute', () => {
  it('the comment says so and shows the sizes, not "No schema changes"', () => {
    const text = renderSchemaSection({ comparison: tooLarge }, 65_000)
    expect(text).toContain('the schemas differ, but the diff was too large to compute')
    expect(text).toContain("the base's schema has 20,000 lines (812,345 characters)")
    expect(text).toContain("the branch's 20,001 lines (900,001 characters)")
    expect(text).not.toContain('No schema changes')
  })

  it('the summary says so and shows the sizes', () => {
    const result = {
      mode: 'schema-diff',
      branch: {
        id: 'br-pr-2',
        name: 'preview/pr-7',
        parentId: 'br-main-1',
        parentName: 'main',
        expiresAt: null,
      },
      schema: tooLarge,
      changes: [],
      timings: { totalMs: 120, wait: { polls: 0, waitedMs: 0 } },
    } as unknown as ModeResult
    const html = renderSummary({ mode: 'schema-diff', result })
    expect(html).toContain('<b>the schemas differ, but the diff was too large to compute</b>')
    expect(html).toContain('20,000 lines (812,345 characters)')
    expect(html).not.toContain('No schema changes')
  })
})

describe('the summary is redacted before it is escaped', () => {
  const secret = 'tok&en<secret>"value'
  const redact = (t: string): string => t.split(secret).join('***')
  const view = { mode: 'create', error: `Neon said: ${secret} is wrong` }

  it('a secret holding & < > " is gone from the summary', () => {
    const html = renderSummary(redactStrings(view, redact))
    expect(html).toContain('Neon said: *** is wrong')
    expect(html).not.toContain('tok&amp;en')
  })

  it('(redacting the rendered HTML instead would have missed it)', () => {
    expect(redact(renderSummary(view))).toContain('tok&amp;en')
  })

  it('walks arrays and plain objects, and leaves other values alone', () => {
    const when = new Date(0)
    expect(redactStrings({ a: [secret, { b: secret }], n: 1, when }, redact)).toEqual({
      a: ['***', { b: '***' }],
      n: 1,
      when,
    })
  })
})
