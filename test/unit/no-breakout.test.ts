/**
 * Issue 22, finding 1: the job summary and the pull request comment hold text a pull request
 * controls (its migrations, so the schema diff) and text Neon sends (error messages). Rendered as
 * GitHub renders them (CommonMark with HTML, GFM autolinks: markdown-it with html and linkify),
 * none of it may become an image, a link or a list outside its block.
 */
import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import { renderComment, type CommentView } from '../../src/github/comment-body.js'
import type { ModeResult, SchemaComparison } from '../../src/modes/types.js'
import { renderSummary } from '../../src/summary.js'
import { countChanges, schemaPatch } from '../../src/util/schema-patch.js'
import { prContextFor } from '../helpers/results.js'

const md = new MarkdownIt({ html: true, linkify: true })
const PROJECT = 'wispy-lake-12345678'
const TARGET = 'preview/pr-7-feature/login'

// pg_dump prints an empty line between statements: in a unified diff those are one-space context
// lines, which CommonMark reads as blank lines.
const BASE = 'CREATE TABLE a (id integer);\n\nCREATE TABLE b (id integer);\n\n'
const EVIL_STATEMENTS = [
  "COMMENT ON TABLE b IS '![x](https://evil.example/pixel.png) [click](https://evil.example/phish)';",
  '',
  '- a list item?',
  '* another',
  '',
  '<img src="https://evil.example/raw.png">',
  '',
  '</pre></details><img src="https://evil.example/after.png">',
  '',
  'see www.evil.example/autolink and https://evil.example/bare',
  '',
].join('\n')
const HOSTILE_DIFF = schemaPatch(
  'neondb',
  { branchId: 'br-main-aaa-111' },
  { branchId: 'br-pr-bbb-222' },
  BASE,
  `${BASE}${EVIL_STATEMENTS}\n`,
)
const HOSTILE_ERROR =
  'GET /projects/p/branches: HTTP 500: boom\n\n![x](https://evil.example/e.png)\n\n- item\n\n' +
  '[click](https://evil.example/phish) www.evil.example\r\r<img src=https://evil.example/cr.png>'

function comparison(diff: string): SchemaComparison {
  return {
    database: 'neondb',
    base: { id: 'br-main-aaa-111', name: 'main' },
    branch: { id: 'br-pr-bbb-222', name: TARGET },
    diff,
    ...countChanges(diff),
  }
}

function schemaResult(): ModeResult {
  return {
    mode: 'schema-diff',
    branch: { id: 'br-pr-bbb-222', name: TARGET, parentId: 'br-main-aaa-111', expiresAt: null },
    schema: comparison(HOSTILE_DIFF),
    changes: [],
    timings: { totalMs: 120, wait: { polls: 0, waitedMs: 0 } },
  }
}

/** What the rendered HTML lets a reader click or see: images, links to evil, list items. */
function escapes(html: string): string[] {
  const found: string[] = []
  for (const m of html.matchAll(/<img\b[^>]*>/gi)) found.push(m[0])
  for (const m of html.matchAll(/<a\b[^>]*>/gi)) if (/evil/.test(m[0])) found.push(m[0])
  for (const m of html.matchAll(/<li>/gi)) found.push(m[0])
  return found
}

describe('the job summary (issue 22, finding 1)', () => {
  it('a hostile schema diff stays inside its <pre>: no image, no link, no list', () => {
    const summary = renderSummary({ mode: 'schema-diff', result: schemaResult() })
    const html = md.render(summary)
    expect(escapes(html)).toEqual([])
    // Every line of the diff is inside the one <pre>, as text.
    const pre = /<pre lang="diff">([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? ''
    expect(pre).toContain('![x](https://evil.example/pixel.png)')
    expect(pre).toContain('+- a list item?')
    expect(pre).toContain('+&lt;/pre&gt;&lt;/details&gt;&lt;img')
    expect(pre.split('\n').length).toBe(HOSTILE_DIFF.replace(/\n$/, '').split('\n').length)
    // And the block is closed: what follows is ours.
    expect(html).toMatch(/<\/pre>\s*<\/details>/)
  })

  it('a hostile error message stays inside its <pre>', () => {
    const html = md.render(renderSummary({ mode: 'create', target: TARGET, error: HOSTILE_ERROR }))
    expect(escapes(html)).toEqual([])
    expect(html).toContain('![x](https://evil.example/e.png)')
  })

  it('line breaks in table cells and failures (cleanup reasons, Neon messages) cannot end the table', () => {
    const r: ModeResult = {
      mode: 'cleanup',
      deletedBranches: [],
      verdicts: [
        {
          branch: 'preview/x\n\n![b](https://evil.example/name.png)',
          branchId: 'br-a',
          ageDays: 9,
          verdict: 'failed',
          reason: `not updated for 9 d; delete failed: ${HOSTILE_ERROR}`,
        },
      ],
      failures: [`'preview/x' (br-a): ${HOSTILE_ERROR}`],
      changes: [`deleted ${HOSTILE_ERROR}`],
      timings: { totalMs: 1000, wait: { polls: 1, waitedMs: 100 } },
    }
    const html = md.render(renderSummary({ mode: 'cleanup', result: r }))
    // One list item: the failure list is ours; nothing else is a list, an image or a link.
    expect(escapes(html)).toEqual(['<li>'])
    expect(html).toContain('[click](https://evil.example/phish)')
  })
})

function commentView(over: Partial<CommentView>): CommentView {
  return {
    status: 'ready',
    projectId: PROJECT,
    target: TARGET,
    mode: 'schema-diff',
    context: prContextFor(),
    now: Date.parse('2030-01-01T00:00:00Z'),
    producer: 'neon-preview-branch 0.1.0',
    ...over,
  }
}

describe('the pull request comment (issue 22, finding 1)', () => {
  it('a hostile schema diff stays inside its fenced block', () => {
    const html = md.render(renderComment(commentView({ result: schemaResult() })))
    expect(escapes(html)).toEqual([])
    const code = /<pre><code class="language-diff">([\s\S]*?)<\/code><\/pre>/.exec(html)?.[1] ?? ''
    expect(code).toContain('![x](https://evil.example/pixel.png)')
    expect(code).toContain('www.evil.example/autolink')
  })

  it('a hostile error message, in the branch section and in the schema section, stays in its block', () => {
    for (const mode of ['create', 'schema-diff']) {
      const html = md.render(renderComment(commentView({ status: 'failed', mode, error: HOSTILE_ERROR })))
      expect(escapes(html)).toEqual([])
      expect(html).toContain('![x](https://evil.example/e.png)')
    }
  })
})

// Issue 29, finding 5: Neon's text (annotations, which anyone who can write to the Neon project
// sets) rendered in the comment of a delete that left another repository's branch alone.
const HOSTILE_ANNOTATION =
  'other/repo ![x](https://evil.example/x.png) @octocat\n\n# heading [l](https://evil.example/l)'

function refusedDelete(): ModeResult {
  return {
    mode: 'delete',
    branch: { id: '', name: TARGET, expiresAt: null },
    deleted: false,
    notDeleted: `it is annotated for repository ${HOSTILE_ANNOTATION}, not this one`,
    changes: [],
    timings: { totalMs: 100, wait: { polls: 0, waitedMs: 0 } },
  }
}

describe('a github-repo annotation from Neon (issue 29, finding 5)', () => {
  it('in the comment: no image, no link, no heading, no live mention', () => {
    const body = renderComment(commentView({ status: 'deleted', mode: 'delete', result: refusedDelete() }))
    const html = md.render(body)
    expect(escapes(html)).toEqual([])
    expect(html).not.toMatch(/<h[1-6]>\s*heading/)
    // In a code span: GitHub makes no mention, link or image of what is inside one.
    expect(html).toContain(
      'not deleted: <code>it is annotated for repository other/repo ![x](https://evil.example/x.png) @octocat',
    )
  })

  it('in the summary: inert text in its table cell', () => {
    const html = md.render(renderSummary({ mode: 'delete', result: refusedDelete() }))
    expect(escapes(html)).toEqual([])
    expect(html).not.toMatch(/<h[1-6]>\s*heading/)
  })
})
