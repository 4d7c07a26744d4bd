/**
 * `npm run try -- <event> …` (issue 32, docs/local.md): the bundle on pull request events against
 * the simulator and the fake GitHub, with the post step, printing what a user sees. Run here as
 * docs/local.md says to run it (through tsx, the way `npm run try` does).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url))

function tryEvents(...args: string[]) {
  return spawnSync(TSX, ['scripts/try.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 })
}

describe('npm run try (issue 32)', () => {
  it('opened then closed: creates, comments, deletes; the post step runs after each; no secret printed', () => {
    const r = tryEvents('opened', 'closed')
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const out = r.stdout
    expect(out).toMatch(
      /^Neon simulator http:\/\/127\.0\.0\.1:\d+\/api\/v2 \(project try-project-12345678\)/m,
    )
    expect(out).toMatch(/^payload \(pull_request opened\): \/.*event\.json$/m)
    expect(out).toContain('=== pull_request opened (mode: auto): exit 0')
    expect(out).toContain("| Mode: create (chosen by mode: auto for the 'pull_request opened' event)")
    expect(out).toMatch(/^created=true$/m)
    expect(out).toMatch(/^db_url=\*\*\*$/m)
    expect(out).toMatch(/^db_url_pooled=\*\*\*$/m)
    expect(out).toMatch(/^password=\*\*\*$/m)
    expect(out).not.toMatch(/postgres(ql)?:\/\/[^*\s]*:[^*\s]+@/)
    expect(out).toContain('--- pull request comment, as this run left it')
    expect(out).toContain('created and ready')
    expect(out).toContain('=== pull_request closed (mode: auto): exit 0')
    expect(out).toMatch(/^deleted=true$/m)
    expect(out.match(/^=== post step: exit 0$/gm)).toHaveLength(2)
  }, 180_000)

  it('a failing step prints its error and exits with its code', () => {
    const r = tryEvents('closed', '--mode', 'create')
    expect(r.status).toBe(1)
    expect(r.stdout).toContain('=== pull_request closed (mode: create): exit 1')
    expect(r.stdout).toContain("::error::Input 'mode' is 'create', but this is a 'pull_request closed' event")
  }, 180_000)
})
