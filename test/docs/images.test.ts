/**
 * docs/images/ (issue 32): pictures of the pull request comment and the job summary, made by
 * `npm run docs:images` (scripts/docs-images.ts) in a headless browser from the demo's Markdown,
 * which is committed beside them. No browser here: the demo runs up to the pictures, and what it
 * writes must still be the committed Markdown; each PNG names the SHA-256 of the Markdown it was
 * made from, so neither the Markdown nor a picture can go stale without a failing test.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { readPng, renderPage, SCALE, sha256, withSource } from '../../scripts/docs-images-render.js'
import { ANCHOR, demoMarkdown, FIXED, normalise, PICTURES } from '../../scripts/docs-images-sources.js'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const image = (name: string) => readFileSync(new URL(`docs/images/${name}.png`, root))

describe('docs/images: what the pictures are made from', () => {
  it('is what the demo writes now (when it is not, run npm run docs:images)', async () => {
    const now = await demoMarkdown()
    for (const p of PICTURES) {
      expect(
        now[p.name],
        `docs/images/${p.name}.md is not what the demo writes now: run npm run docs:images (a figure ` +
          'that depends on the clock needs a rule in normalise(), scripts/docs-images-sources.ts)',
      ).toBe(read(`docs/images/${p.name}.md`))
    }
    expect(now.comment).toMatch(/🟢 ready/)
    expect(now.comment).toMatch(/#### Schema changes/)
    expect(now.summary).toMatch(/<h3>Neon preview branch: create<\/h3>/)
  }, 180_000)

  it('holds no secret and nothing of the machine it ran on', () => {
    for (const p of PICTURES) {
      const md = read(`docs/images/${p.name}.md`)
      expect(md, p.name).not.toMatch(
        /npg_|postgres(ql)?:\/\/|ghs_|test-api-key|127\.0\.0\.1|localhost|password/i,
      )
    }
  })

  it('normalise: timestamps keep their distance from the start, durations and poll counts are fixed', () => {
    const start = Date.parse('2026-12-06T18:17:01Z')
    const md = [
      '| Expires | `2026-12-20T18:17:04Z` (in 14 days) |',
      '<td>Waiting on Neon</td><td>1.3 s, 7 polls</td><td>Neon API requests</td><td>11 (0 retries)</td>',
      '| Run took | 12.0 s | 1 poll |',
    ].join('\n')
    expect(normalise(md, start).split('\n')).toEqual([
      `| Expires | \`${new Date(ANCHOR + 14 * 86_400_000).toISOString().replace('.000Z', 'Z')}\` (in 14 days) |`,
      `<td>Waiting on Neon</td><td>${FIXED.duration}, ${FIXED.polls}</td><td>Neon API requests</td><td>${FIXED.neonRequests} (0 retries)</td>`,
      `| Run took | ${FIXED.duration} | ${FIXED.polls} |`,
    ])
  })
})

describe('docs/images: the pictures', () => {
  it('each PNG was made from the committed Markdown (when not, run npm run docs:images)', () => {
    for (const p of PICTURES) {
      const png = readPng(image(p.name))
      expect(
        png.source,
        `docs/images/${p.name}.png was made from other Markdown: run npm run docs:images`,
      ).toBe(sha256(read(`docs/images/${p.name}.md`)))
      // As wide as GitHub's comment column (780 to 900 CSS pixels), at SCALE device pixels each.
      expect(png.width / SCALE).toBeGreaterThanOrEqual(780)
      expect(png.width / SCALE).toBeLessThanOrEqual(900)
      expect(png.height).toBeGreaterThan(200)
    }
  })

  it('the check can fail: a PNG names the Markdown it was made from, and only that', () => {
    const png = image('comment')
    const other = withSource(png.subarray(0, png.length), sha256('other'))
    expect(readPng(other).source).toBe(sha256('other'))
    expect(readPng(other).source).not.toBe(sha256(read('docs/images/comment.md')))
    expect(() => readPng(Buffer.from('GIF89a'))).toThrow(/not a PNG/)
  })

  it('README shows the comment, and docs/comment-and-summary.md both', () => {
    expect(read('README.md')).toMatch(/!\[[^\]]+\]\(docs\/images\/comment\.png\)/)
    const page = read('docs/comment-and-summary.md')
    expect(page).toMatch(/!\[[^\]]+\]\(images\/comment\.png\)/)
    expect(page).toMatch(/!\[[^\]]+\]\(images\/summary\.png\)/)
  })

  it('renders the Markdown as GitHub does: its HTML kept, GFM tables, diff lines coloured', () => {
    const comment = renderPage(read('docs/images/comment.md'), PICTURES[0])
    expect(comment).toMatch(/<table>[\s\S]*<td>Branch<\/td>/)
    expect(comment).toMatch(/<details><summary>/)
    expect(comment).toMatch(/<span class="pl-mi1">\+ {4}expires_on date<\/span>/)
    expect(comment).toMatch(/<span class="pl-md">- {4}percent integer NOT NULL<\/span>/)
    expect(comment).toMatch(/github-markdown-light\.css/)
    const summary = renderPage(read('docs/images/summary.md'), PICTURES[1])
    expect(summary).toMatch(/<h3>Neon preview branch: create<\/h3>/)
  })
})
