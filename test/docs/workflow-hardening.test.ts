/**
 * Issue 22, finding 8: every workflow a user copies (examples/, the YAML of README and docs/) and every workflow
 * of this repository (.github/workflows/) passes values to scripts through `env:`, never as
 * `${{ … }}` inside `run:` (there the expression's value becomes part of the script: an output
 * holding a branch name, a title or a ref can run commands), and declares its token's permissions,
 * with no write access beyond the pull request comment's.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const files = [
  ...readdirSync(new URL('examples/', root))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => `examples/${f}`),
  ...readdirSync(new URL('.github/workflows/', root))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => `.github/workflows/${f}`),
]

/** Every `run:` script in a parsed workflow (or a fragment of one), with where it is. */
function scripts(node: unknown, at = ''): { at: string; run: string }[] {
  if (Array.isArray(node)) return node.flatMap((x, i) => scripts(x, `${at}[${i}]`))
  if (node === null || typeof node !== 'object') return []
  return Object.entries(node as Record<string, unknown>).flatMap(([k, v]) =>
    k === 'run' && typeof v === 'string' ? [{ at: `${at}.run`, run: v }] : scripts(v, `${at}.${k}`),
  )
}

/** The scripts that hold an expression: each must get its values through env instead. */
function injected(node: unknown): string[] {
  return scripts(node)
    .filter((s) => /\$\{\{/.test(s.run))
    .map((s) => `${s.at}: ${s.run.trim().split('\n')[0]}`)
}

interface Workflow {
  permissions?: unknown
  jobs: Record<string, { permissions?: unknown }>
}

/** The token's permissions, top level and per job; undefined where a job has none declared. */
function permissionsOf(wf: Workflow): { where: string; permissions: unknown }[] {
  return Object.entries(wf.jobs).map(([name, job]) => ({
    where: `jobs.${name}`,
    permissions: job.permissions ?? wf.permissions,
  }))
}

// README and every docs/ page that shows YAML (the reference and the benchmarks show none).
const pages = [
  'README.md',
  ...readdirSync(new URL('docs/', root))
    .filter((f) => f.endsWith('.md') && f !== 'reference.md' && f !== 'benchmarks.md')
    .map((f) => `docs/${f}`),
]

// What the examples may grant: reading, and writing the pull request comment (README, Permissions).
const ALLOWED_WRITE = new Set(['pull-requests'])

describe('no ${{ }} inside run:, values through env: (issue 22)', () => {
  it.each(files)('%s', (file) => {
    expect(injected(parseYaml(read(file)))).toEqual([])
  })

  it.each(pages)("%s's YAML blocks", (page) => {
    const blocks = [...read(page).matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '')
    expect(blocks.length).toBeGreaterThan(0)
    expect(blocks.flatMap((b) => injected(parseYaml(b)))).toEqual([])
  })

  it('README and docs/ hold YAML blocks to check', () => {
    const count = pages.map((p) => [...read(p).matchAll(/^```ya?ml\n/gm)].length).reduce((a, b) => a + b, 0)
    expect(count).toBeGreaterThan(20)
  })

  it('the check finds an expression in a script, in a list step or a nested one', () => {
    const bad = parseYaml(
      'jobs:\n  a:\n    steps:\n      - run: echo "${{ steps.neon.outputs.branch_name }}"\n' +
        '      - env: { X: "${{ github.head_ref }}" }\n        run: echo "$X"\n',
    )
    expect(injected(bad)).toEqual(['.jobs.a.steps[0].run: echo "${{ steps.neon.outputs.branch_name }}"'])
  })
})

describe('least-privilege permissions: (issue 22)', () => {
  it.each(files)('%s declares them for every job, writing nothing but the pull request comment', (file) => {
    const wf = parseYaml(read(file)) as Workflow
    for (const { where, permissions } of permissionsOf(wf)) {
      expect(permissions, `${file} ${where}`).toBeDefined()
      expect(typeof permissions, `${file} ${where}: not write-all/read-all`).toBe('object')
      for (const [scope, level] of Object.entries(permissions as Record<string, string>)) {
        if (level === 'write') expect(ALLOWED_WRITE, `${file} ${where}: ${scope}: write`).toContain(scope)
        else expect(['read', 'none']).toContain(level)
      }
    }
  })

  it('examples/manual.yml, which comments nowhere and checks nothing out, gives the token nothing', () => {
    expect((parseYaml(read('examples/manual.yml')) as Workflow).permissions).toEqual({})
  })
})
