/**
 * One name to `uses:` (issue 32): every reference to this action in what a user reads or copies
 * (README, docs/, examples/, action.yml, CHANGELOG, CONTRIBUTING, SECURITY) is
 * `neon-preview-branch/neon-preview-branch@v1`; no other owner, no other ref, no placeholder owner.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const inDir = (dir: string, ext: string) =>
  readdirSync(new URL(`${dir}/`, root))
    .filter((f) => f.endsWith(ext))
    .map((f) => `${dir}/${f}`)

const files = [
  'README.md',
  'action.yml',
  'CHANGELOG.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  ...inDir('docs', '.md'),
  ...inDir('examples', '.yml'),
]

const NAME = 'neon-preview-branch/neon-preview-branch@v1'

/** Every reference to this action that is not NAME, and every placeholder owner, with its line. */
function wrongNames(text: string): string[] {
  const found: string[] = []
  text.split('\n').forEach((line, i) => {
    // `<anything>/neon-preview-branch@<ref>`, and any `uses:` naming a repository neon-preview-branch.
    for (const m of line.matchAll(/[^\s`'"(]*\/neon-preview-branch@[^\s`'")]*/g))
      if (m[0] !== NAME) found.push(`${i + 1}: ${m[0]}`)
    const uses = /\buses:\s*['"]?([^\s'"#]+)/.exec(line)?.[1]
    if (uses && /\/neon-preview-branch(@|$)/.test(uses) && uses !== NAME) found.push(`${i + 1}: ${uses}`)
    for (const m of line.matchAll(/<owner>|your-org|my-org|OWNER\//g)) found.push(`${i + 1}: ${m[0]}`)
  })
  return [...new Set(found)]
}

describe('one name to uses: (issue 32)', () => {
  it.each(files)('%s names the action only as neon-preview-branch/neon-preview-branch@v1', (file) => {
    expect(wrongNames(read(file))).toEqual([])
  })

  it('README, the examples and action.yml use that name', () => {
    expect(read('README.md')).toContain(`uses: ${NAME}`)
    expect(read('action.yml').split('\ninputs:\n')[0]).toContain(NAME)
    for (const f of inDir('examples', '.yml')) expect(read(f), f).toContain(`uses: ${NAME}`)
  })

  it('the check can fail: another owner, another ref, a placeholder owner', () => {
    expect(wrongNames('      - uses: <owner>/neon-preview-branch@v1')).toEqual([
      '1: <owner>/neon-preview-branch@v1',
      '1: <owner>',
    ])
    expect(wrongNames('- uses: your-org/neon-preview-branch@v1')).toEqual([
      '1: your-org/neon-preview-branch@v1',
      '1: your-org',
    ])
    expect(wrongNames('uses: acme/neon-preview-branch@main')).toEqual(['1: acme/neon-preview-branch@main'])
    expect(wrongNames("uses: 'acme/neon-preview-branch'")).toEqual(['1: acme/neon-preview-branch'])
    expect(wrongNames(`- uses: ${NAME}\n  id: neon`)).toEqual([])
  })
})
