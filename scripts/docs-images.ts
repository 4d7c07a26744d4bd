/**
 * `npm run docs:images`: the pictures of the pull request comment and the job summary in
 * docs/images/ (README shows the comment, docs/comment-and-summary.md both).
 *
 * 1. Runs the demo up to the pictures (dist/index.js against the simulator and the fake GitHub) and
 *    takes the comment and the summary it wrote (scripts/docs-images-sources.ts).
 * 2. Writes them beside the images as docs/images/<name>.md: test/docs/images.test.ts fails when the
 *    demo no longer writes them (run this script again then).
 * 3. Renders each as GitHub does in a headless Chromium from npm and writes docs/images/<name>.png,
 *    which records the SHA-256 of its Markdown (the test checks that too).
 *
 * `--markdown-only` stops after step 2 (no browser). Bounded: the demo by a timeout, the browser's
 * start and each page by theirs; the whole run takes seconds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { renderPage, screenshot, sha256, startBrowser, withSource } from './docs-images-render.js'
import { demoMarkdown, IMAGES_DIR, PICTURES, ROOT } from './docs-images-sources.js'

async function main(): Promise<void> {
  const t0 = Date.now()
  const markdown = await demoMarkdown()
  for (const p of PICTURES) writeFileSync(join(IMAGES_DIR, `${p.name}.md`), markdown[p.name])
  console.log(
    `demo: ${((Date.now() - t0) / 1000).toFixed(1)} s; wrote ${PICTURES.map((p) => `${p.name}.md`).join(', ')}`,
  )
  if (process.argv.includes('--markdown-only')) return

  const scratch = mkdtempSync(join(tmpdir(), 'npb-docs-images-'))
  const browser = await startBrowser()
  try {
    for (const p of PICTURES) {
      const source = readFileSync(join(IMAGES_DIR, `${p.name}.md`), 'utf8')
      const png = withSource(await screenshot(browser, renderPage(source, p), scratch), sha256(source))
      const file = join(IMAGES_DIR, `${p.name}.png`)
      writeFileSync(file, png)
      console.log(`wrote ${relative(ROOT, file)} (${png.length} bytes)`)
    }
  } finally {
    await browser.close()
    rmSync(scratch, { recursive: true, force: true })
  }
  console.log(`docs:images done in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
