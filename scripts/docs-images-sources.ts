/**
 * The Markdown behind docs/images/: the pull request comment and the job summary exactly as the demo
 * gets them from dist/index.js (`npm run demo -- --pictures DIR`, demo/pictures.ts), with only what
 * differs from run to run made fixed. No browser here: test/docs/images.test.ts runs this and fails
 * when the Markdown committed beside the images is no longer what the demo writes.
 *
 * The demo is deterministic where it can be: the simulator's ids, hosts and passwords come from a
 * fixed seed, the pull request, commit and run id are fixed. What it cannot fix is the wall clock
 * that dist/index.js reads (a child process, as a runner runs it), so `normalise` replaces:
 * - timestamps: the action writes "now + expiry"; each becomes ANCHOR plus its offset from the
 *   demo's start, rounded to the hour, so "in 14 days" still reads true;
 * - measured durations (`0.9 s`): how fast this machine was;
 * - the number of polls while waiting for Neon's operations, and so the number of Neon API
 *   requests: they follow the durations.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../', import.meta.url))
export const IMAGES_DIR = join(ROOT, 'docs', 'images')

/** The pictures: the Markdown file each is made from, and where GitHub shows it. */
export const PICTURES = [
  { name: 'comment', frame: 'github-actions bot commented', breaks: true },
  { name: 'summary', frame: 'preview summary', breaks: false },
] as const
export type PictureName = (typeof PICTURES)[number]['name']

/** The instant the committed Markdown pretends the demo ran at. */
export const ANCHOR = Date.parse('2026-06-01T09:00:00Z')
const HOUR = 3_600_000
/** What a measured duration, a poll count and the Neon request count of a run become. */
export const FIXED = { duration: '0.9 s', polls: '5 polls', neonRequests: '7' }

const ISO = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g

/** The demo's Markdown with what depends on the clock and the machine's speed made fixed. */
export function normalise(markdown: string, startedAt: number): string {
  return markdown
    .replace(ISO, (t) => {
      const hours = Math.round((Date.parse(t) - startedAt) / HOUR)
      return new Date(ANCHOR + hours * HOUR).toISOString().replace(/\.000Z$/, 'Z')
    })
    .replace(/\b\d+\.\d s\b/g, FIXED.duration)
    .replace(/\b\d+ polls?\b/g, FIXED.polls)
    .replace(/(Neon API requests<\/td><td>)\d+/g, `$1${FIXED.neonRequests}`)
}

/** How long the demo may take before the script gives up on it (it takes a few seconds). */
const DEMO_TIMEOUT_MS = 120_000

/**
 * Runs the demo up to the pictures (the simulator, the fake GitHub and dist/index.js, no browser)
 * and returns each picture's Markdown, normalised.
 */
export async function demoMarkdown(): Promise<Record<PictureName, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'npb-pictures-'))
  try {
    const startedAt = Date.now()
    await runDemo(dir)
    const read = (name: PictureName) => normalise(readFileSync(join(dir, `${name}.md`), 'utf8'), startedAt)
    return { comment: read('comment'), summary: read('summary') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function runDemo(dir: string): Promise<void> {
  const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs')
  const child = spawn(process.execPath, [tsx, join(ROOT, 'demo', 'run.ts'), '--pictures', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: DEMO_TIMEOUT_MS,
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr.on('data', (c: Buffer) => (output += c.toString()))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `the demo (demo/run.ts --pictures) ${signal ? `was stopped (${signal}) after ${DEMO_TIMEOUT_MS / 1000} s` : `exited ${code}`}:\n${output.slice(-4000)}`,
            ),
          ),
    )
  })
}
