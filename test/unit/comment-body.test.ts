import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import {
  consoleLink,
  commentMarker,
  MAX_COMMENT_CHARS,
  renderComment,
  statusOf,
  truncateComment,
  type CommentView,
} from '../../src/github/comment-body.js'
import { codeBlock, codeSpan, shellQuote } from '../../src/util/escape.js'
import {
  createdResult,
  DB_URL,
  DB_URL_POOLED,
  deletedResult,
  PASSWORD,
  prContextFor,
  resetResult,
} from '../helpers/results.js'

const NOW = Date.parse('2030-01-01T00:00:00Z')
const PROJECT = 'wispy-lake-12345678'

function view(over: Partial<CommentView> = {}): CommentView {
  return {
    status: 'created',
    projectId: PROJECT,
    target: 'preview/pr-7-feature/login',
    mode: 'create',
    result: createdResult(),
    context: prContextFor(),
    now: NOW,
    producer: 'neon-preview-branch 0.1.0',
    ...over,
  }
}

describe('commentMarker', () => {
  it('is one hidden HTML comment per project and branch', () => {
    expect(commentMarker(PROJECT, 'preview/pr-7-x')).toBe(
      '<!-- neon-preview-branch: wispy-lake-12345678/preview/pr-7-x -->',
    )
    expect(commentMarker(PROJECT, 'a')).not.toBe(commentMarker(PROJECT, 'b'))
    expect(commentMarker('p1', 'a')).not.toBe(commentMarker('p2', 'a'))
  })

  it('a name cannot close the HTML comment early', () => {
    const m = commentMarker(PROJECT, 'x --> <b>@admin</b> %3E')
    expect(m.match(/-->/g)).toHaveLength(1)
    expect(m).not.toContain('<b>')
    expect(m).not.toContain('@admin')
    // Percent is encoded too, so two different names never share a marker.
    expect(m).not.toBe(commentMarker(PROJECT, 'x --%3E <b>@admin</b> %3E'))
  })
})

describe('renderComment', () => {
  it('created: marker first, name, console link, parent, state, expiry, commit, time to ready, neonctl', () => {
    const body = renderComment(view())
    expect(body.startsWith(commentMarker(PROJECT, 'preview/pr-7-feature/login'))).toBe(true)
    expect(body).toContain('created and ready')
    expect(body).toContain(
      `(https://console.neon.tech/app/projects/${PROJECT}/branches/br-misty-sun-a1b2c3d4)`,
    )
    expect(body).toMatch(/\| Parent \| `main` \|/)
    expect(body).toMatch(/\| Expires \| `2030-01-15T00:00:00Z` \(in 14 days\) \|/)
    expect(body).toContain('[`bbbbbbb`](https://github.com/octo-org/octo-repo/commit/' + 'b'.repeat(40) + ')')
    expect(body).toMatch(/\| Time to ready \| 3\.1 s \|/)
    expect(body).toContain(`neonctl connection-string preview/pr-7-feature/login --project-id ${PROJECT}`)
    expect(body).toContain('https://github.com/octo-org/octo-repo/actions/runs/4242')
  })

  it('ready, reset, deleted and failed each say where the branch stands', () => {
    expect(renderComment(view({ status: statusOf(createdResult(undefined, false)) }))).toMatch(
      /: 🟢 ready\n[\s\S]*existing branch adopted/,
    )
    expect(renderComment(view({ status: 'reset', mode: 'reset', result: resetResult() }))).toContain(
      'data reset from the parent',
    )
    const deleted = renderComment(view({ status: 'deleted', mode: 'delete', result: deletedResult() }))
    expect(deleted).toContain('deleted because the pull request closed')
    expect(deleted).not.toContain('neonctl')
    expect(deleted).not.toContain('console.neon.tech/app')
    expect(
      renderComment(view({ status: 'deleted', mode: 'delete', result: deletedResult(undefined, false) })),
    ).toContain('already gone')
    const failed = renderComment(
      view({ status: 'failed', mode: 'reset', result: undefined, error: 'reset failed: HTTP 423 Locked' }),
    )
    expect(failed).toContain('🔴 failed')
    expect(failed).toContain('**The reset step failed:**')
    expect(failed).toContain('```\nreset failed: HTTP 423 Locked\n```')
    expect(failed).toContain('See [the run log](https://github.com/octo-org/octo-repo/actions/runs/4242)')
  })

  it('statusOf maps each mode result', () => {
    expect(statusOf(createdResult())).toBe('created')
    expect(statusOf(createdResult(undefined, false))).toBe('ready')
    expect(statusOf(resetResult())).toBe('reset')
    expect(statusOf(deletedResult())).toBe('deleted')
  })

  it('never contains the password or a URL, though the result holds them', () => {
    for (const v of [
      view(),
      view({ status: 'reset', result: resetResult() }),
      view({ status: 'failed', error: 'boom' }),
    ]) {
      const body = renderComment(v)
      for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), DB_URL, DB_URL_POOLED, 'postgresql://']) {
        expect(body).not.toContain(secret)
      }
    }
  })

  it('a hostile name injects no Markdown, HTML or mention', () => {
    const hostile = 'x`<img src=x onerror=alert(1)>`@octocat **bold** [link](javascript:alert(1)) | cell'
    const body = renderComment(
      view({ target: hostile, result: createdResult(hostile), context: prContextFor(7, hostile) }),
    )
    // Every occurrence of the name is inside a code span whose fence is longer than its backtick runs.
    const spans = [...body.matchAll(/``( ?)(.*?)\1``/g)].map((m) => m[2])
    expect(spans.filter((s) => s === hostile.replace(/\|/g, '\\|') || s === hostile).length).toBeGreaterThan(
      0,
    )
    const outsideCode = body
      .replace(/^(`{3,}).*\n[\s\S]*?\n\1$/gm, '')
      .replace(/(`+)[\s\S]*?\1/g, '')
      .replace(/^<!--.*-->$/m, '')
    expect(outsideCode).not.toMatch(/<img|@octocat|\*\*bold|\[link\]/)
    // In the table the pipe is escaped, so the row keeps two cells.
    const branchRow = body.split('\n').find((l) => l.startsWith('| Branch |'))!
    expect(branchRow.replace(/\\\|/g, '').split('|')).toHaveLength(4)
    // The shell command quotes it.
    expect(body).toContain(`neonctl connection-string '${hostile}' --project-id ${PROJECT}`)
  })
})

describe('escaping helpers', () => {
  it('codeSpan fences past any backtick run and pads edge backticks', () => {
    expect(codeSpan('plain')).toBe('`plain`')
    expect(codeSpan('a`b')).toBe('``a`b``')
    expect(codeSpan('`x')).toBe('`` `x ``')
    expect(codeSpan('a\nb')).toBe('`a b`')
  })

  it('codeBlock cannot be closed from inside', () => {
    expect(codeBlock('a\n```\nb')).toBe('````\na\n```\nb\n````')
  })

  it("shellQuote leaves safe words alone and single-quotes the rest, escaping '", () => {
    expect(shellQuote('preview/pr-1-x')).toBe('preview/pr-1-x')
    expect(shellQuote("a b'c$(rm)")).toBe(`'a b'\\''c$(rm)'`)
  })
})

describe('truncation', () => {
  it('keeps a body under 65,536 characters, marker first, the cut marked', () => {
    const marker = commentMarker(PROJECT, 'x')
    const long = `${marker}\n${'a'.repeat(100_000)}`
    const cut = truncateComment(long)
    expect(cut.length).toBeLessThan(MAX_COMMENT_CHARS)
    expect(cut.startsWith(marker)).toBe(true)
    expect(cut).toMatch(/truncated/)
    expect(truncateComment('short')).toBe('short')
  })

  it('never splits a surrogate pair', () => {
    const cut = truncateComment('😀'.repeat(40_000), 101)
    expect(/[\ud800-\udbff]$/.test(cut.replace(/\n\n… \(truncated.*$/, ''))).toBe(false)
  })

  it('a huge error is shortened in the body, which stays under the limit', () => {
    const body = renderComment(view({ status: 'failed', result: undefined, error: 'E'.repeat(200_000) }))
    expect(body.length).toBeLessThan(MAX_COMMENT_CHARS)
    expect(body).toContain('more characters in the run log')
  })
})

describe('renderComment: made room at the branch limit', () => {
  it('names every branch make-room deleted, as code spans, with its pull request', () => {
    const result = {
      ...createdResult(),
      branchLimit: {
        limit: 10,
        count: 10,
        madeRoom: [
          {
            branch: 'preview/pr-3-<b>x</b>',
            branchId: 'br-a',
            pr: 3,
            prState: 'closed',
            ageDays: 9,
            verdict: 'deleted' as const,
            reason: 'PR #3 is closed',
          },
          {
            branch: 'preview/old',
            branchId: 'br-b',
            ageDays: 12,
            verdict: 'deleted' as const,
            reason: 'tied to no pull request',
          },
        ],
      },
    }
    const body = renderComment(view({ result }))
    expect(body).toContain(
      '| Made room | the project was at its branch limit (10 of 10); deleted `preview/pr-3-<b>x</b>` (PR #3 closed), `preview/old` |',
    )
    expect(renderComment(view())).not.toContain('Made room')
  })
})

describe('the console link (issue 22, finding 7)', () => {
  const md = new MarkdownIt({ html: true, linkify: true })
  const hrefs = (body: string): string[] =>
    [...md.render(body).matchAll(/<a href="([^"]*)"/g)].map((m) => m[1] ?? '')

  it.each([
    ['a target that only looks like an id', 'br-x)(www.evil.example', undefined],
    ['an id from Neon with a closing parenthesis', 'preview/pr-7-x', 'br-x)(www.evil.example'],
    ['an id with a space and a link in it', 'preview/pr-7-x', 'br-a [click](https://evil.example)'],
  ])('%s is shown as code and never linked, and makes no link of its own', (_, target, id) => {
    const result = createdResult(target)
    if (id !== undefined) result.branch = { ...result.branch!, id }
    const body = renderComment(
      view({ target, result: id === undefined ? undefined : result, status: 'failed', error: 'x' }),
    )
    const links = hrefs(body)
    expect(links.filter((h) => h.includes('evil'))).toEqual([])
    expect(links.filter((h) => h.includes('console.neon.tech'))).toEqual([])
  })

  it('links a real id, with ( ) and the like percent-encoded by construction', () => {
    expect(consoleLink(PROJECT, 'br-misty-sun-a1b2c3d4')).toBe(
      `https://console.neon.tech/app/projects/${PROJECT}/branches/br-misty-sun-a1b2c3d4`,
    )
    expect(consoleLink(PROJECT, 'br-x)(www.evil.example')).toBeUndefined()
    expect(consoleLink('Evil(project)', 'br-misty-sun-a1b2c3d4')).toBeUndefined()
    const body = renderComment(view())
    expect(hrefs(body)).toContain(
      `https://console.neon.tech/app/projects/${PROJECT}/branches/br-misty-sun-a1b2c3d4`,
    )
  })
})

describe('renderComment: Neon Auth, the Data API and schema-only branches (issue 24)', () => {
  const AUTH = 'https://ep-cool-darkness-123456.neonauth.c-2.us-east-2.aws.neon.tech/neondb/auth'
  const DATA = 'https://ep-cool-darkness-123456.apirest.c-2.us-east-2.aws.neon.tech/neondb/rest/v1'
  const withResult = (over: Partial<ReturnType<typeof createdResult>>) =>
    view({ result: { ...createdResult(), ...over } })

  it('shows the URLs asked for, or that the feature is not enabled', () => {
    const body = renderComment(withResult({ authUrl: AUTH, dataApiUrl: null }))
    expect(body).toContain(`| Neon Auth | \`${AUTH}\` |`)
    expect(body).toContain("| Data API | not enabled for the branch's database |")
    const other = renderComment(withResult({ authUrl: null, dataApiUrl: DATA }))
    expect(other).toContain('| Neon Auth | not enabled on this branch |')
    expect(other).toContain(`| Data API | \`${DATA}\` |`)
  })

  it('says nothing of either when not asked, nor once the branch is deleted', () => {
    expect(renderComment(view())).not.toMatch(/Neon Auth|Data API/)
    const deleted = renderComment(
      view({ status: 'deleted', mode: 'delete', result: { ...deletedResult(), authUrl: AUTH } }),
    )
    expect(deleted).not.toContain('Neon Auth')
  })

  it('says "schema only" for a branch Neon made with init_source: schema-only', () => {
    const r = createdResult()
    const body = renderComment(view({ result: { ...r, branch: { ...r.branch!, schemaOnly: true } } }))
    expect(body).toContain("| Data | schema only: the parent's schema, none of its rows |")
    expect(renderComment(view())).not.toContain('schema only')
  })

  it('a URL cannot break out of its code span or the table', () => {
    const body = renderComment(withResult({ authUrl: 'https://x.invalid/a|b`c' }))
    const row = body.split('\n').find((l) => l.startsWith('| Neon Auth |'))!
    // One cell boundary each side; the pipe inside is escaped.
    expect(row.replace(/\\\|/g, '').match(/\|/g)).toHaveLength(3)
  })
})
