import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import {
  MAX_COMMENT_CHARS,
  parseSections,
  renderComment,
  SECTION,
  statusOf,
  type CommentView,
} from '../../src/github/comment-body.js'
import { renderSchemaSection } from '../../src/github/schema-section.js'
import type { ModeResult, SchemaComparison } from '../../src/modes/types.js'
import { renderSummary } from '../../src/summary.js'
import { countChanges, cutLines, schemaPatch } from '../../src/util/schema-patch.js'
import { createdResult, prContextFor, resetResult } from '../helpers/results.js'

const NOW = Date.parse('2030-01-01T00:00:00Z')
const PROJECT = 'wispy-lake-12345678'
const TARGET = 'preview/pr-7-feature/login'
const md = new MarkdownIt({ html: true })

function comparison(diff: string, database = 'neondb'): SchemaComparison {
  return {
    database,
    base: { id: 'br-main-aaa-111', name: 'main' },
    branch: { id: 'br-pr-bbb-222', name: TARGET },
    diff,
    ...countChanges(diff),
  }
}

function schemaResult(c: SchemaComparison): ModeResult {
  return {
    mode: 'schema-diff',
    branch: {
      id: c.branch.id,
      name: c.branch.name,
      parentId: c.base.id,
      parentName: 'main',
      expiresAt: null,
    },
    schema: c,
    changes: [],
    timings: { totalMs: 120, wait: { polls: 0, waitedMs: 0 } },
  }
}

function view(over: Partial<CommentView>): CommentView {
  return {
    status: 'ready',
    projectId: PROJECT,
    target: TARGET,
    mode: 'schema-diff',
    context: prContextFor(),
    now: NOW,
    producer: 'neon-preview-branch 0.1.0',
    ...over,
  }
}

const createdBody = renderComment(view({ status: 'created', mode: 'create', result: createdResult() }))

function bigDiff(lines: number, width = 60): string {
  const body = Array.from({ length: lines }, (_, i) => `+CREATE TABLE t${i} (${'x'.repeat(width)} int);`)
  return schemaPatch(
    'neondb',
    { branchId: 'a' },
    { branchId: 'b' },
    '',
    `${body.map((l) => l.slice(1)).join('\n')}\n`,
  )
}

describe('schemaPatch (neonctl schema_diff.js)', () => {
  it('is createPatch without its Index and === lines, with neonctl headers; empty when equal', () => {
    const p = schemaPatch('neondb', { branchId: 'br-a' }, { branchId: 'br-b', lsn: '0/1' }, 'a\n', 'b\n')
    expect(p).toBe(
      '--- Database: neondb\t(Branch: br-a)\n+++ Database: neondb\t(Branch: br-b at 0/1)\n@@ -1,1 +1,1 @@\n-a\n+b\n',
    )
    expect(schemaPatch('neondb', { branchId: 'a' }, { branchId: 'b' }, 'same\n', 'same\n')).toBe('')
    expect(countChanges(p)).toEqual({ added: 1, removed: 1 })
  })

  it('cutLines keeps whole lines within the limit and counts what it cut', () => {
    expect(cutLines('ab\ncd\nef', 5)).toEqual({ kept: 'ab\ncd', keptLines: 2, cutLines: 1, cutChars: 3 })
    expect(cutLines('ab\ncd', 1)).toEqual({ kept: '', keptLines: 0, cutLines: 2, cutChars: 5 })
  })
})

describe('the Schema changes section', () => {
  it('schema-diff keeps the branch section create wrote, and adds the diff after it', () => {
    const c = comparison(schemaPatch('neondb', { branchId: 'a' }, { branchId: 'b' }, 'x\n', 'x\ny\n'))
    const body = renderComment(view({ result: schemaResult(c), existing: createdBody }))
    expect(parseSections(body).branch).toBe(parseSections(createdBody).branch)
    expect(body).toContain('🟢 created and ready')
    expect(body).toContain(
      '<details><summary><b>+1 −0</b>: 1 line added, 0 removed in <code>neondb</code></summary>',
    )
    expect(body).toContain('```diff\n--- Database: neondb')
    // After </details> the footer is Markdown again: its link is a link.
    const html = md.render(body)
    expect(html).toMatch(
      /<sub>Updated by neon-preview-branch 0\.1\.0 in <a href="[^"]+">this run<\/a>\.<\/sub>/,
    )
    // Rendering again against its own output changes nothing: the sections are read back exactly.
    expect(renderComment(view({ result: schemaResult(c), existing: body }))).toBe(body)
  })

  it('says "No schema changes" when equal', () => {
    const body = renderComment(view({ result: schemaResult(comparison('')), existing: createdBody }))
    expect(body).toContain(
      'No schema changes: `neondb` on `preview/pr-7-feature/login`, compared with `main`.',
    )
    expect(body).not.toContain('<details>')
  })

  it('without a comment yet, writes a branch section that claims nothing about the state', () => {
    const body = renderComment(view({ result: schemaResult(comparison('')) }))
    expect(body).toContain('### Neon preview branch `preview/pr-7-feature/login`\n')
    expect(body).not.toContain('State')
  })

  it('a failure goes in the schema section; the branch section stays', () => {
    const body = renderComment(
      view({ status: 'failed', error: "database 'app' does not exist", existing: createdBody }),
    )
    expect(body).toContain('🟢 created and ready')
    expect(body).toContain("**The schema comparison failed:**\n\n```\ndatabase 'app' does not exist\n```")
  })

  it('create adopting the branch keeps the schema section; a new branch, a reset or a delete drops it', () => {
    const c = comparison(schemaPatch('neondb', { branchId: 'a' }, { branchId: 'b' }, 'x\n', 'y\n'))
    const withSchema = renderComment(view({ result: schemaResult(c), existing: createdBody }))
    const adopted = createdResult(TARGET, false)
    const again = renderComment(
      view({ status: statusOf(adopted), mode: 'create', result: adopted, existing: withSchema }),
    )
    expect(again).toContain('🟢 ready')
    expect(parseSections(again).schema).toBe(parseSections(withSchema).schema)
    for (const [status, mode, result] of [
      ['created', 'create', createdResult()],
      ['reset', 'reset', resetResult()],
    ] as const) {
      const body = renderComment(view({ status, mode, result, existing: withSchema }))
      expect(body).not.toContain('Schema changes')
    }
  })

  it('reads a comment from before sections existed as its branch section', () => {
    const legacy =
      '<!-- neon-preview-branch: p/b -->\n### Neon preview branch `b`: 🟢 ready\n\n<sub>Updated by x.</sub>'
    expect(parseSections(legacy)).toEqual({ branch: '### Neon preview branch `b`: 🟢 ready' })
  })

  it('a diff cannot forge a section marker', () => {
    const diff = schemaPatch(
      'neondb',
      { branchId: 'a' },
      { branchId: 'b' },
      '',
      `${SECTION.footer}\n${SECTION.branch}\n`,
    )
    const body = renderComment(view({ result: schemaResult(comparison(diff)), existing: createdBody }))
    expect(body.split('\n').filter((l) => l === SECTION.branch)).toHaveLength(1)
    expect(parseSections(body).branch).toBe(parseSections(createdBody).branch)
  })

  it.each([10, 200, 2_000, 20_000])(
    'a diff of %i lines fits the comment whole or cut, and stays valid',
    (n) => {
      const c = comparison(bigDiff(n))
      const body = renderComment(view({ result: schemaResult(c), existing: createdBody }))
      expect(body.length).toBeLessThan(MAX_COMMENT_CHARS)
      const fence = md.parse(body, {}).find((t) => t.type === 'fence' && t.info === 'diff')
      expect(fence).toBeDefined()
      const shown = (fence?.content ?? '').replace(/\n$/, '')
      expect(c.diff.startsWith(`${shown}\n`)).toBe(true)
      const cut = /✂️ ([\d,]+) of/.exec(body)
      const total = c.diff.replace(/\n$/, '').split('\n').length
      if (`${shown}\n` === c.diff) expect(cut).toBeNull()
      else expect(Number(cut?.[1]?.replace(/,/g, ''))).toBe(total - shown.split('\n').length)
      expect(body.endsWith('</sub>')).toBe(true)
    },
  )

  it.each([0, 50, 400, 1_000, 5_000, 30_000])('never exceeds a budget of %i characters', (budget) => {
    const out = renderSchemaSection({ comparison: comparison(bigDiff(3_000)) }, budget)
    expect(out.length).toBeLessThanOrEqual(budget)
  })

  it('a hostile database name is inert in the summary line and the text', () => {
    const c = comparison(
      schemaPatch('x', { branchId: 'a' }, { branchId: 'b' }, '', 'y\n'),
      '</summary></details>@octocat`',
    )
    const body = renderComment(view({ result: schemaResult(c), existing: createdBody }))
    expect(body).toContain('<code>&lt;/summary&gt;&lt;/details&gt;@octocat`</code>')
    // Elsewhere it is in a code span: the only </details> GitHub would see as HTML is ours.
    const html = md
      .parse(body, {})
      .flatMap((t) => [t, ...(t.children ?? [])])
      .filter((t) => t.type === 'html_block' || t.type === 'html_inline')
      .map((t) => t.content)
      .join('')
    expect(html.match(/<\/details>/g)).toHaveLength(1)
    // GitHub links no mention inside <code>.
    expect(html.replace(/<code>.*?<\/code>/g, '')).not.toContain('@octocat')
  })
})

describe('the job summary', () => {
  it('shows the whole diff escaped, or that there were no changes', () => {
    const diff = schemaPatch(
      'neondb',
      { branchId: 'a' },
      { branchId: 'b' },
      '',
      'CREATE TABLE "</pre><b>x"();\n',
    )
    const html = renderSummary({ mode: 'schema-diff', result: schemaResult(comparison(diff)) })
    expect(html).toContain('<pre lang="diff">--- Database: neondb\t(Branch: a)')
    expect(html).toContain('+CREATE TABLE &quot;&lt;/pre&gt;&lt;b&gt;x&quot;();')
    expect(html.match(/<\/pre>/g)).toHaveLength(1)
    expect(renderSummary({ mode: 'schema-diff', result: schemaResult(comparison('')) })).toContain(
      '<p>No schema changes: <code>neondb</code>',
    )
  })

  it('cuts past 900 kB and says where the rest is', () => {
    const html = renderSummary({ mode: 'schema-diff', result: schemaResult(comparison(bigDiff(20_000))) })
    expect(Buffer.byteLength(html)).toBeLessThan(1024 * 1024)
    expect(html).toMatch(/✂️ [\d,]+ of 20,003 diff lines are not shown .* <code>schema_diff<\/code> output/)
  })
})
