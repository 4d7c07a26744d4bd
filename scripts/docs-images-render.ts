/**
 * Renders a picture's Markdown the way GitHub renders a comment or a job summary: markdown-it (GFM
 * tables, raw HTML, autolinks) styled by `github-markdown-css` (GitHub's own stylesheet, light
 * theme), in a real headless Chromium: the one `@sparticuz/chromium` ships brotli-compressed inside
 * its npm package (nothing is downloaded, at install or here), driven by `puppeteer-core`.
 *
 * Fonts come from npm too: `@fontsource/noto-sans` and `@fontsource/noto-sans-mono` ("Noto Sans" is
 * in GitHub's own font stack) and `@infolektuell/noto-color-emoji` (Noto Color Emoji as COLRv1, which
 * Chromium draws; `@fontsource/noto-color-emoji` has SVG-table glyphs only, which it draws as
 * nothing). Chromium sees no font of the machine's (FONTCONFIG_FILE names only the fonts
 * @sparticuz/chromium ships), so the pictures come out the same wherever they are made.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import MarkdownIt from 'markdown-it'
import type { Browser } from 'puppeteer-core'
import { ROOT } from './docs-images-sources.js'

/** The width of GitHub's comment column on a pull request's page, in CSS pixels. */
export const WIDTH = 860
/** Device pixels per CSS pixel: sharp on high-density screens, where GitHub shows README at half. */
export const SCALE = 2

const modulePath = (p: string) => pathToFileURL(join(ROOT, 'node_modules', p)).href
const STYLESHEETS = [
  'github-markdown-css/github-markdown-light.css',
  '@fontsource/noto-sans/400.css',
  '@fontsource/noto-sans/600.css',
  '@fontsource/noto-sans/400-italic.css',
  '@fontsource/noto-sans-mono/400.css',
  '@infolektuell/noto-color-emoji/index.css',
]

/** GitHub's colouring of a ```diff block (github-markdown-css's pl-* classes). */
function highlight(code: string, lang: string): string {
  if (lang !== 'diff') return ''
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const line = (l: string) => {
    const cls = l.startsWith('@@')
      ? 'pl-mdr'
      : l.startsWith('+')
        ? 'pl-mi1'
        : l.startsWith('-')
          ? 'pl-md'
          : ''
    return cls ? `<span class="${cls}">${esc(l)}</span>` : esc(l)
  }
  return `<pre><code class="language-diff">${code.replace(/\n$/, '').split('\n').map(line).join('\n')}\n</code></pre>`
}

/** The Markdown as GitHub's HTML: `breaks` for a comment, where GitHub keeps single line breaks. */
export function renderMarkdown(markdown: string, breaks: boolean): string {
  return new MarkdownIt({ html: true, linkify: true, breaks, highlight }).render(markdown)
}

/** A page holding the rendered Markdown in a frame like GitHub's (a header, a border). */
export function renderPage(markdown: string, picture: { frame: string; breaks: boolean }): string {
  const links = STYLESHEETS.map((s) => `<link rel="stylesheet" href="${modulePath(s)}">`).join('\n')
  const [who, ...rest] = picture.frame.split(' ')
  const header =
    rest[0] === 'bot'
      ? `<b>${who}</b> <span class="label">bot</span> ${rest.slice(1).join(' ')}`
      : `<b>${picture.frame}</b>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
${links}
<style>
  html, body { margin: 0; background: #ffffff; }
  body { padding: 16px; width: ${WIDTH - 32}px; }
  .frame { border: 1px solid #d1d9e0; border-radius: 6px; overflow: hidden; }
  .frame-header { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px;
    font: 14px/1.5 "Noto Sans", sans-serif; color: #59636e; }
  .frame-header b { color: #1f2328; font-weight: 600; }
  .frame-header .label { border: 1px solid #d1d9e0; border-radius: 2em; padding: 0 7px; font-size: 12px; }
  .markdown-body { padding: 16px; font-family: "Noto Sans", sans-serif, "Noto Color Emoji"; }
  .markdown-body code, .markdown-body pre, .markdown-body tt, .markdown-body kbd, .markdown-body samp {
    font-family: "Noto Sans Mono", monospace, "Noto Color Emoji"; }
  .markdown-body > :last-child { margin-bottom: 0 !important; }
</style></head>
<body><div class="frame" id="picture"><div class="frame-header">${header}</div>
<div class="markdown-body">
${renderMarkdown(markdown, picture.breaks)}
</div></div></body></html>
`
}

/** Where the unpacked Chromium lives: inside node_modules, one folder per version. */
function chromiumDir(version: string): string {
  return join(ROOT, 'node_modules', '.cache', 'neon-preview-branch', `sparticuz-chromium-${version}`)
}

type Chromium = (typeof import('@sparticuz/chromium'))['default']

/**
 * Unpacks @sparticuz/chromium's brotli files once per version: the binary, its fonts, SwiftShader,
 * and the shared libraries it needs beyond glibc (NSS, NSPR, expat: al2023.tar.br, which the package
 * unpacks only when it believes it runs on Lambda's Amazon Linux 2023, so it is told it does while
 * it unpacks). It unpacks into os.tmpdir(): TMPDIR points at a folder of its own, renamed into place
 * only when complete, so an interrupted run leaves nothing half-written to be used next time.
 */
async function unpack(chromium: Chromium, dir: string): Promise<void> {
  if (existsSync(join(dir, 'chromium')) && existsSync(join(dir, 'al2023', 'lib'))) return
  const partial = `${dir}.partial-${process.pid}`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { recursive: true })
  const saved = { TMPDIR: process.env.TMPDIR, AWS_EXECUTION_ENV: process.env.AWS_EXECUTION_ENV }
  process.env.TMPDIR = partial
  process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs20.x'
  try {
    await chromium.executablePath()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  rmSync(dir, { recursive: true, force: true })
  renameSync(partial, dir)
}

/**
 * Starts the headless Chromium that @sparticuz/chromium ships, with the shared libraries and fonts
 * that came with it and nothing of the machine's: LD_LIBRARY_PATH puts its libraries first, and
 * FONTCONFIG_FILE names only its fonts folder (the pages bring their own fonts).
 */
export async function startBrowser(): Promise<Browser> {
  const pkgFile = join(ROOT, 'node_modules/@sparticuz/chromium/package.json')
  const version = existsSync(pkgFile)
    ? (JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }).version
    : '?'
  const dir = chromiumDir(version)
  const executable = join(dir, 'chromium')
  const libs = join(dir, 'al2023', 'lib')
  try {
    const { default: chromium } = await import('@sparticuz/chromium')
    await unpack(chromium, dir)
    const fontsConf = join(dir, 'fonts.conf')
    writeFileSync(
      fontsConf,
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(dir, 'fonts')}</dir>\n  <cachedir>${join(dir, 'fontconfig-cache')}</cachedir>\n</fontconfig>\n`,
    )
    const { default: puppeteer } = await import('puppeteer-core')
    return await puppeteer.launch({
      executablePath: executable,
      args: [...chromium.args, '--hide-scrollbars', '--force-color-profile=srgb'],
      headless: 'shell',
      timeout: 30_000,
      // Bounds every later call (a page, a screenshot), which would otherwise wait 180 s.
      protocolTimeout: 60_000,
      env: { ...process.env, LD_LIBRARY_PATH: libs, FONTCONFIG_FILE: fontsConf, HOME: dir },
    })
  } catch (e) {
    throw new Error(
      `docs:images could not start the headless Chromium of @sparticuz/chromium ${version} ` +
        `(${executable}): ${(e as Error).message}\n` +
        `Check that \`npm ci\` ran (the browser is inside node_modules/@sparticuz/chromium/bin); ` +
        `delete ${dir} to unpack it again; ` +
        `\`LD_LIBRARY_PATH=${libs} ldd ${executable} | grep 'not found'\` names a shared library ` +
        `this machine lacks.`,
      { cause: e },
    )
  }
}

/** Renders the page and returns a PNG of the frame, cropped to it. */
export async function screenshot(browser: Browser, html: string, scratch: string): Promise<Buffer> {
  const file = join(scratch, `page-${createHash('sha256').update(html).digest('hex').slice(0, 12)}.html`)
  writeFileSync(file, html)
  const page = await browser.newPage()
  try {
    await page.setViewport({ width: WIDTH, height: 600, deviceScaleFactor: SCALE })
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 30_000 })
    // The diff in the comment is folded in a <details>; the picture shows it unfolded.
    await page.evaluate(
      `document.querySelectorAll('details').forEach((d) => (d.open = true)); document.fonts.ready.then(() => true)`,
    )
    const frame = await page.$('#picture')
    if (!frame) throw new Error('the page has no #picture element')
    return Buffer.from(await frame.screenshot({ type: 'png', omitBackground: false }))
  } finally {
    await page.close()
  }
}

// PNG: 8-byte signature, then chunks (length, type, data, CRC-32 of type and data); IHDR comes first.
const SOURCE_KEY = 'neon-preview-branch:markdown-sha256'

function crc32(buf: Buffer): number {
  let c = ~0
  for (const byte of buf) {
    c ^= byte
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1))
  }
  return ~c >>> 0
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** The chunks of a PNG, each as its bytes (length, type, data, CRC), with its type and data. */
function chunks(png: Buffer): { type: string; data: Buffer; bytes: Buffer }[] {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG')
  const out: { type: string; data: Buffer; bytes: Buffer }[] = []
  for (let at = 8; at + 12 <= png.length;) {
    const length = png.readUInt32BE(at)
    out.push({
      type: png.toString('latin1', at + 4, at + 8),
      data: png.subarray(at + 8, at + 8 + length),
      bytes: png.subarray(at, at + 12 + length),
    })
    at += length + 12
  }
  return out
}

const sourceOf = (c: { type: string; data: Buffer }): string | undefined => {
  if (c.type !== 'tEXt') return undefined
  const [key, value] = c.data.toString('latin1').split('\0')
  return key === SOURCE_KEY ? value : undefined
}

/** The PNG with one tEXt chunk, after IHDR, naming the SHA-256 of the Markdown it was made from. */
export function withSource(png: Buffer, markdownSha256: string): Buffer {
  const body = Buffer.concat([Buffer.from('tEXt'), Buffer.from(`${SOURCE_KEY}\0${markdownSha256}`, 'latin1')])
  const chunk = Buffer.alloc(body.length + 8)
  chunk.writeUInt32BE(body.length - 4, 0)
  body.copy(chunk, 4)
  chunk.writeUInt32BE(crc32(body), body.length + 4)
  const [ihdr, ...rest] = chunks(png)
  if (ihdr?.type !== 'IHDR') throw new Error('not a PNG: IHDR is not its first chunk')
  const kept = rest.filter((c) => sourceOf(c) === undefined).map((c) => c.bytes)
  return Buffer.concat([png.subarray(0, 8), ihdr.bytes, chunk, ...kept])
}

/** The image's size in pixels and the source `withSource` wrote (undefined when none). */
export function readPng(png: Buffer): { width: number; height: number; source: string | undefined } {
  const all = chunks(png)
  const source = all.map(sourceOf).find((s) => s !== undefined)
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), source }
}
