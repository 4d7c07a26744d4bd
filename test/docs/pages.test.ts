/**
 * README is the landing page and docs/ has a page per capability (issue 26). Each page opens with a
 * workflow the user can copy, which is exactly one of examples/ (so what the page shows is what the
 * examples' tests parse and lint); every page is one click from README; no relative link is broken.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const pages = readdirSync(new URL('docs/', root))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`)
// Pages that are not a capability: the generated reference and the benchmark's figures.
const NOT_CAPABILITIES = new Set(['docs/reference.md', 'docs/benchmarks.md'])
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

describe('README, the landing page (issue 26)', () => {
  const readme = read('README.md')

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
