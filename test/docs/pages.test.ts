/**
 * README is the landing page and docs/ has a page per capability (issue 26). Each page opens with a
 * workflow the user can copy, which is exactly one of examples/ (so what the page shows is what the
 * examples' tests parse and lint); every page is one click from README; no relative link is broken.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const pages = readdirSync(new URL('docs/', root))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`)
// Pages that are not a capability: the generated reference, the benchmark's figures, the way over
// from Neon's actions.
const NOT_CAPABILITIES = new Set(['docs/reference.md', 'docs/benchmarks.md', 'docs/migrating.md'])
const capabilityPages = pages.filter((p) => !NOT_CAPABILITIES.has(p))
const markdown = ['README.md', ...pages]
const md = new MarkdownIt({ html: true })

/**
 * The example a page opens with: its title, then `<!-- example: examples/x.yml -->`, then the first
 * YAML block, which must be that file (modulo its trailing newline). Returns what is wrong, or [].
 */
function openingExampleProblems(page: string, readFile: (path: string) => string): string[] {
  const m = /^# [^\n]+\n\n<!-- example: (examples\/[a-z0-9-]+\.yml) -->\n\n```yaml\n([\s\S]*?)^```$/m.exec(
    page,
  )
  if (!m || page.indexOf(m[0]) !== 0)
    return ['does not open with its title, an `<!-- example: examples/x.yml -->` line and a ```yaml block']
  const file = m[1]!
  const block = m[2]!
  let example: string
  try {
    example = readFile(file)
  } catch {
    return [`names ${file}, which does not exist`]
  }
  return block.replace(/\n$/, '') === example.replace(/\n$/, '')
    ? []
    : [`its first YAML block is not ${file}`]
}

/** GitHub's anchors for a Markdown file's headings (lower case, punctuation dropped, `-` for spaces). */
function anchors(text: string): Set<string> {
  const found = new Set<string>()
  const seen = new Map<string, number>()
  const tokens = md.parse(text, {})
  tokens.forEach((t, i) => {
    if (t.type !== 'heading_open') return
    const inline = tokens[i + 1]!
    const plain = (inline.children ?? []).map((c) => c.content).join('')
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\- _]/gu, '')
      .replace(/ /g, '-')
    const n = seen.get(slug) ?? 0
    seen.set(slug, n + 1)
    found.add(n === 0 ? slug : `${slug}-${n}`)
  })
  return found
}

/** Every link target in a Markdown file (links and images, not text inside code). */
function links(text: string): string[] {
  const hrefs: string[] = []
  const walk = (tokens: ReturnType<typeof md.parse>) => {
    for (const t of tokens) {
      const href = t.attrGet('href') ?? t.attrGet('src')
      if ((t.type === 'link_open' || t.type === 'image') && href) hrefs.push(href)
      if (t.children) walk(t.children)
    }
  }
  walk(md.parse(text, {}))
  return hrefs
}

/** The broken relative links of one file: a missing file, or an anchor with no heading. */
function brokenLinks(file: string, text = read(file)): string[] {
  return links(text)
    .filter((href) => !/^[a-z]+:/i.test(href))
    .filter((href) => {
      const [path, anchor] = href.split('#') as [string, string | undefined]
      const target = path === '' ? file : normalize(join(dirname(file), decodeURI(path)))
      if (!existsSync(new URL(target, root))) return true
      if (anchor === undefined || !target.endsWith('.md')) return false
      return !anchors(target === file ? text : read(target)).has(decodeURIComponent(anchor))
    })
}

describe('docs/ pages (issue 26)', () => {
  it('there is a page for every capability README promises', () => {
    expect(capabilityPages.length).toBeGreaterThanOrEqual(15)
  })

  it.each(capabilityPages)('%s opens with a workflow that is exactly the example it names', (page) => {
    expect(openingExampleProblems(read(page), read)).toEqual([])
  })

  it.each(capabilityPages)('%s says what it does in numbered steps', (page) => {
    expect(read(page)).toMatch(/^## [^\n]+\n\n1\. /m)
  })

  it('the check can fail: a changed block, a missing example, no marker', () => {
    const page = read('docs/cleanup.md')
    expect(openingExampleProblems(page.replace("cron: '17 3 * * *'", "cron: '0 0 * * *'"), read)).toEqual([
      'its first YAML block is not examples/nightly-cleanup.yml',
    ])
    expect(
      openingExampleProblems(page.replace('examples/nightly-cleanup.yml', 'examples/gone.yml'), read),
    ).toEqual(['names examples/gone.yml, which does not exist'])
    expect(openingExampleProblems(page.replace(/<!-- example: .*? -->\n\n/, ''), read)).toHaveLength(1)
  })
})

/**
 * README's Quick start (issue 32): one of examples/, the whole life of a branch. Its YAML block is
 * the example it names byte for byte, and that example creates on every push and deletes on `closed`.
 */
function quickStartProblems(readme: string, readFile: (path: string) => string): string[] {
  const section = readme.split('\n## Quick start\n')[1]?.split('\n## ')[0]
  if (section === undefined) return ['README has no Quick start']
  const m = /^\n<!-- example: (examples\/[a-z0-9-]+\.yml) -->\n\n```yaml\n([\s\S]*?)^```$/m.exec(section)
  if (!m || section.indexOf(m[0]) !== 0)
    return [
      'the Quick start does not open with an `<!-- example: examples/x.yml -->` line and a ```yaml block',
    ]
  const [, file, block] = m as unknown as [string, string, string]
  if (block !== readFile(file)) return [`its YAML block is not ${file} byte for byte`]
  const wf = parseYaml(block) as {
    on: { pull_request?: { types?: string[] } }
    jobs: Record<string, { if?: string; steps: { uses?: string; with?: Record<string, unknown> }[] }>
  }
  const problems: string[] = []
  const types = wf.on.pull_request?.types ?? []
  for (const t of ['opened', 'reopened', 'synchronize', 'closed'])
    if (!types.includes(t)) problems.push(`it does not run on pull_request ${t}`)
  const own = Object.values(wf.jobs).flatMap((j) =>
    j.steps.filter((s) => s.uses?.startsWith('neon-preview-branch/')).map((s) => ({ job: j, step: s })),
  )
  const modes = own.map((o) => String(o.step.with?.mode))
  if (!modes.includes('auto') && !(modes.includes('create') && modes.includes('delete')))
    problems.push('it neither deletes on closed (mode: delete) nor uses mode: auto')
  if (block.includes('db_url_pooled') && !own.some((o) => o.step.with?.prisma === true))
    problems.push('Prisma reads the pooled URL without prisma: true')
  if (!/examples\/nightly-cleanup\.yml/.test(section)) problems.push('no line links the nightly sweep')
  return problems
}

describe('README, the landing page (issue 26)', () => {
  const readme = read('README.md')

  it('its Quick start is examples/pull-request.yml byte for byte: create on every push, delete on closed (issue 32)', () => {
    expect(quickStartProblems(readme, read)).toEqual([])
  })

  it('the Quick start check can fail: a changed block, no closed, no prisma, no sweep', () => {
    const ex = read('examples/pull-request.yml')
    expect(quickStartProblems(readme.replace(/^ *prisma: true\n/m, ''), read)).toEqual([
      'its YAML block is not examples/pull-request.yml byte for byte',
    ])
    const noClosed = (path: string) =>
      path === 'examples/pull-request.yml' ? ex.replace(', closed]', ']') : read(path)
    expect(quickStartProblems(readme.replace(', closed]', ']'), noClosed)).toEqual([
      'it does not run on pull_request closed',
    ])
    const noPrisma = (path: string) =>
      path === 'examples/pull-request.yml' ? ex.replace(/^ *prisma: true\n/m, '') : read(path)
    expect(quickStartProblems(readme.replace(/^ *prisma: true\n/m, ''), noPrisma)).toEqual([
      'Prisma reads the pooled URL without prisma: true',
    ])
    expect(
      quickStartProblems(readme.replaceAll('examples/nightly-cleanup.yml', 'examples/x.yml'), read),
    ).toEqual(['no line links the nightly sweep'])
  })

  it('is short', () => {
    expect(readme.split('\n').length).toBeLessThan(250)
  })

  it('links every page of its capability table, each to a page that exists', () => {
    const table = readme.split('\n## What it can do\n')[1]?.split('\n## ')[0] ?? ''
    const linked = [...table.matchAll(/^\| \[[^\]]+\]\((docs\/[a-z-]+\.md)\)/gm)].map((m) => m[1]!)
    expect(linked.length).toBeGreaterThanOrEqual(15)
    for (const page of linked) expect(existsSync(new URL(page, root)), page).toBe(true)
    expect(linked.sort()).toEqual([...capabilityPages].sort())
  })

  it('links every docs/ page, the reference and the benchmarks included, and the project files', () => {
    const targets = new Set(links(readme).map((h) => h.split('#')[0]))
    for (const page of pages) expect(targets, page).toContain(page)
    for (const f of ['CONTRIBUTING.md', 'SECURITY.md', 'CHANGELOG.md']) expect(targets, f).toContain(f)
  })
})

/** The whole workflows (a YAML block with a top-level `on:` or `jobs:`) of a page that are not one of examples/. */
function workflowsNotExamples(page: string, examples: readonly string[]): string[] {
  const known = new Set(examples.map((e) => e.replace(/\n$/, '')))
  return [...page.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)]
    .map((m) => m[1]!.replace(/\n$/, ''))
    .filter((b) => /^(on|jobs):/m.test(b) && !known.has(b))
    .map((b) => b.split('\n')[0]!)
}

describe('every workflow in README and docs/ is one of examples/ (issue 32)', () => {
  const examples = readdirSync(new URL('examples/', root))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => read(`examples/${f}`))

  it.each(markdown)('%s', (file) => {
    expect(workflowsNotExamples(read(file), examples)).toEqual([])
  })

  it('the check can fail: a workflow that is no example', () => {
    const page = '```yaml\n# mine\non: push\njobs: {}\n```\n\n```yaml\n- uses: x/y@v1\n```\n'
    expect(workflowsNotExamples(page, examples)).toEqual(['# mine'])
  })
})

describe('links (issue 26)', () => {
  it.each(markdown)('%s: every relative link points to a file, and every anchor to a heading', (file) => {
    expect(brokenLinks(file)).toEqual([])
  })

  it('the check can fail: a missing file, a missing heading', () => {
    const text = '[a](docs/nowhere.md) [b](README.md#no-such-heading) [c](README.md#quick-start)'
    const found = links(text)
    expect(found).toEqual(['docs/nowhere.md', 'README.md#no-such-heading', 'README.md#quick-start'])
    expect(
      brokenLinks(
        'docs/x.md',
        text.replace(/docs\/|README/g, (m) => (m === 'README' ? '../README' : '')),
      ),
    ).toEqual(['nowhere.md', '../README.md#no-such-heading'])
    expect(anchors(read('README.md')).has('quick-start')).toBe(true)
    expect(anchors(read('README.md')).has('no-such-heading')).toBe(false)
    expect(anchors('## `mode: auto`: one step\n## Point in time\n## Point in time')).toEqual(
      new Set(['mode-auto-one-step', 'point-in-time', 'point-in-time-1']),
    )
  })
})
