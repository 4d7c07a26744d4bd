// Pure logic of recovering deleted branches and of saying how to undo a delete: which deleted
// branch is ours, which refusals mean "create instead", the closest names, the undo command and
// its escaping (Markdown, HTML, shell), and how the comment and the summary read.
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { renderComment, statusOf } from '../../src/github/comment-body.js'
import { workflowFileOf } from '../../src/github/context.js'
import {
  annotatedForOtherRepository,
  distance,
  refusedRecovery,
  tiedToThisRun,
  whyNotOurs,
} from '../../src/modes/recover.js'
import { recoverableUntilOutput } from '../../src/modes/undo.js'
import { NeonApiError } from '../../src/neon/errors.js'
import { isDeleted, recoveryOf, type DeletedBranch } from '../../src/neon/recovery.js'
import type { Branch } from '../../src/neon/types.js'
import { recoverCommand, renderSummary, undoHtml } from '../../src/summary.js'
import { escapeMarkdownHtml } from '../../src/util/escape.js'
import { createdResult, deletedResult, prContextFor } from '../helpers/results.js'

const REPO = 'octo-org/octo-repo'
const ctx = prContextFor(7)
const annotation = (value: Record<string, string>) => ({
  object: { type: 'console/branch', id: 'br-x' },
  value,
})

describe('tiedToThisRun: only this repository and pull request', () => {
  it('ties by every repository annotation and the pull request number', () => {
    expect(tiedToThisRun(annotation({ 'github-repo': REPO, 'github-pr-number': '7' }), ctx)).toBe(true)
    // Neon's own action writes github-commit-repo only; the case of a repository does not matter on GitHub.
    expect(
      tiedToThisRun(annotation({ 'github-commit-repo': 'Octo-Org/Octo-Repo', 'github-pr-number': '7' }), ctx),
    ).toBe(true)
  })

  it('never another repository, another pull request, an ephemeral branch, nor one tied by its name only', () => {
    const others: Record<string, string>[] = [
      { 'github-repo': 'someone/else', 'github-pr-number': '7' },
      { 'github-repo': REPO, 'github-commit-repo': 'someone/else', 'github-pr-number': '7' },
      { 'github-repo': REPO, 'github-pr-number': '8' },
      { 'github-repo': REPO, 'github-pr-number': '7', 'github-ephemeral': 'true' },
      { 'github-repo': REPO },
      { 'github-pr-number': '7' },
      {},
    ]
    for (const value of others) expect(tiedToThisRun(annotation(value), ctx)).toBe(false)
    expect(tiedToThisRun(undefined, ctx)).toBe(false)
    expect(
      tiedToThisRun(annotation({ 'github-repo': REPO, 'github-pr-number': '7' }), { ...ctx, repository: '' }),
    ).toBe(false)
  })

  it('outside a pull request: this repository and no pull request number', () => {
    const dispatch = { ...ctx, eventName: 'workflow_dispatch', pullRequest: undefined }
    expect(tiedToThisRun(annotation({ 'github-repo': REPO }), dispatch)).toBe(true)
    expect(tiedToThisRun(annotation({ 'github-repo': REPO, 'github-pr-number': '7' }), dispatch)).toBe(false)
  })

  it('says why one is not ours in one line, whatever the annotations hold', () => {
    const found = {
      branch: {
        id: 'br-a-1',
        name: 'x\n::warning::name',
        recovery: { deleted_at: '2030-01-01T00:00:00Z', recoverable_until: '2030-01-08T00:00:00Z' },
      } as unknown as DeletedBranch,
      annotation: annotation({ 'github-repo': 'evil/repo\n::error::pwned' }),
    }
    const why = whyNotOurs(found, ctx)
    expect(why).toBe(
      "'x\\u000a::warning::name' (br-a-1, deleted at 2030-01-01T00:00:00Z) is annotated for repository evil/repo\\u000a::error::pwned (github-repo)",
    )
  })

  it('annotatedForOtherRepository names the other repository, or nothing', () => {
    expect(annotatedForOtherRepository(annotation({ 'github-commit-repo': 'a/b' }), ctx)).toBe('a/b')
    expect(annotatedForOtherRepository(annotation({ 'github-repo': REPO }), ctx)).toBeUndefined()
    expect(annotatedForOtherRepository(undefined, ctx)).toBeUndefined()
  })
})

describe('refusedRecovery: a 4xx means "create instead", anything else fails', () => {
  const err = (status: number) =>
    new NeonApiError({ method: 'POST', path: '/p', status, neonMessage: 'm', attempts: 1 })
  it.each([400, 401, 403, 404, 409, 422])('%i is a refusal', (s) =>
    expect(refusedRecovery(err(s))).toBe(true),
  )
  it.each([0, 408, 423, 429, 500, 503, 524])('%i is not', (s) => expect(refusedRecovery(err(s))).toBe(false))
  it('nor an error that is not Neon’s', () => expect(refusedRecovery(new Error('x'))).toBe(false))
})

describe('the recovery field of a listed branch', () => {
  const b = (extra: object): Branch => ({ id: 'br-a', name: 'a', ...extra }) as unknown as Branch
  it('is read only when well formed; any recovery field marks the branch as deleted', () => {
    const info = {
      deleted_at: '2026-01-01T00:00:00Z',
      recoverable_until: '2026-01-08T00:00:00Z',
      deletion_method: 'user',
    }
    expect(recoveryOf(b({ recovery: info }))).toEqual(info)
    expect(recoveryOf(b({ recovery: { deleted_at: 1 } }))).toBeUndefined()
    expect(recoveryOf(b({}))).toBeUndefined()
    expect(isDeleted(b({ recovery: { deleted_at: 1 } }))).toBe(true)
    expect(isDeleted(b({ recovery: null }))).toBe(false)
    expect(isDeleted(b({}))).toBe(false)
  })
})

describe('distance', () => {
  it('is Levenshtein over code points, case-insensitive', () => {
    expect(distance('kitten', 'sitting')).toBe(3)
    expect(distance('Preview/PR-1', 'preview/pr-1')).toBe(0)
    expect(distance('', 'abc')).toBe(3)
    expect(distance('😀a', '😀b')).toBe(1)
  })
})

describe('workflowFileOf', () => {
  it('takes the file name from GITHUB_WORKFLOW_REF', () => {
    expect(workflowFileOf('octo-org/octo-repo/.github/workflows/preview.yml@refs/pull/7/merge')).toBe(
      'preview.yml',
    )
    expect(workflowFileOf('octo-org/octo-repo/.github/workflows/my flow.yaml@refs/heads/main')).toBe(
      'my flow.yaml',
    )
    expect(workflowFileOf(undefined)).toBeUndefined()
    expect(workflowFileOf('nonsense')).toBeUndefined()
  })
})

describe('the undo command and section', () => {
  const hostile = 'preview/`rm -rf ~`<img src=x onerror=alert(1)>*bold*_[link](http://x)|@admin\n\n# head'

  it('is one line, the branch by its id, every word shell-quoted, and runs as it reads', () => {
    const cmd = recoverCommand('br-misty-sun-a1b2c3d4', { repository: REPO, workflowFile: "o'dd flow.yml" })
    expect(cmd).toBe(
      `gh workflow run 'o'\\''dd flow.yml' --repo octo-org/octo-repo -f mode=recover -f branch_name=br-misty-sun-a1b2c3d4`,
    )
    // What a shell makes of it: exactly the words meant.
    const words = execFileSync('sh', ['-c', `printf '%s\\n' ${cmd.replace(/^gh /, '')}`], {
      encoding: 'utf8',
    })
    expect(words.trimEnd().split('\n')).toEqual([
      'workflow',
      'run',
      "o'dd flow.yml",
      '--repo',
      REPO,
      '-f',
      'mode=recover',
      '-f',
      'branch_name=br-misty-sun-a1b2c3d4',
    ])
    expect(recoverCommand('br-a-1', {})).toBe(
      'gh workflow run <workflow file> -f mode=recover -f branch_name=br-a-1',
    )
  })

  it('escapes a hostile name for HTML and Markdown: nothing of it is live', () => {
    const html = undoHtml([{ name: hostile, id: 'br-a-1', recoverableUntil: '2030-01-08T00:00:00Z' }], {
      repository: REPO,
      workflowFile: 'preview.yml',
    }).join('\n')
    for (const live of ['<img', '`rm', '*bold*', '_[link]', '](', '|@admin', '\n\n', '# head'])
      expect(html).not.toContain(live)
    expect(html).toContain('&#60;img src=x onerror=alert&#40;1&#41;&#62;')
    expect(html).toContain('until 2030-01-08T00:00:00Z')
    expect(html).toContain(
      // `_` shows as itself: an inert character reference.
      '<code>gh workflow run preview.yml --repo octo-org/octo-repo -f mode=recover -f branch&#95;name=br-a-1</code>',
    )
    expect(escapeMarkdownHtml('a&b')).toBe('a&#38;b')
  })

  it('says "up to 7 days, where Neon offers recovery" when Neon gave no date, and the output says null', () => {
    const reports = [{ name: 'a', id: 'br-a-1' }]
    expect(undoHtml(reports, {}).join('\n')).toContain('for up to 7 days, where Neon offers recovery')
    expect(recoverableUntilOutput(reports)).toBe('{"a":null}')
  })

  it('the summary of a delete and of a cleanup carries it; a dry run has none', () => {
    const del = {
      ...deletedResult(),
      recoverable: [
        {
          name: 'preview/pr-7-feature/login',
          id: 'br-misty-sun-a1b2c3d4',
          recoverableUntil: '2030-01-08T00:00:00Z',
        },
      ],
    }
    const html = renderSummary({ mode: 'delete', result: del, repository: REPO, workflowFile: 'preview.yml' })
    expect(html).toContain('<h4>Undo a delete</h4>')
    expect(html).toContain('branch&#95;name=br-misty-sun-a1b2c3d4')
    expect(renderSummary({ mode: 'delete', result: deletedResult(), dryRun: true })).not.toContain('Undo')
  })
})

describe('the comment and the summary of a recovery', () => {
  const recovered = {
    ...createdResult('preview/pr-7-feature/login', false),
    recovered: true,
    recovery: { deletedAt: '2030-01-01T10:00:00Z', deletionMethod: 'user' },
  }

  it('the comment says "recovered the branch deleted at …; its data and URL are as they were"', () => {
    expect(statusOf(recovered)).toBe('recovered')
    const body = renderComment({
      status: 'recovered',
      projectId: 'wispy-lake-12345678',
      target: 'preview/pr-7-feature/login',
      mode: 'create',
      result: recovered,
      context: ctx,
      now: Date.parse('2030-01-02T00:00:00Z'),
      producer: 'neon-preview-branch 0.1.0',
    })
    expect(body).toContain('♻️ recovered and ready')
    expect(body).toContain(
      'recovered the branch deleted at `2030-01-01T10:00:00Z`; its data and URL are as they were',
    )
  })

  it('the summary says it in the Created row', () => {
    expect(renderSummary({ mode: 'create', result: recovered })).toContain(
      '<td>no: recovered the branch deleted at 2030-01-01T10:00:00Z; its data and URL are as they were</td>',
    )
  })

  it('the comment of a delete says until when, and that reopening brings it back', () => {
    const body = renderComment({
      status: 'deleted',
      projectId: 'wispy-lake-12345678',
      target: 'preview/pr-7-feature/login',
      mode: 'delete',
      result: {
        ...deletedResult(),
        recoverable: [
          {
            name: 'preview/pr-7-feature/login',
            id: 'br-misty-sun-a1b2c3d4',
            recoverableUntil: '2030-01-08T00:00:00Z',
          },
        ],
      },
      context: ctx,
      now: Date.parse('2030-01-01T00:00:00Z'),
      producer: 'neon-preview-branch 0.1.0',
    })
    expect(body).toContain(
      '| Recoverable | until `2030-01-08T00:00:00Z`: reopen this pull request to get it back, data and URL as they were |',
    )
  })
})
