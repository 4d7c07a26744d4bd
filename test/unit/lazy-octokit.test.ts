import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

// Octokit and its plugins are loaded on first use (the comment, cleanup's look-ups), not at
// start-up: a static import anywhere but src/github/octokit.ts would evaluate them before the
// first Neon request again (issue 17). Type-only imports cost nothing at run time.
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )

describe('Octokit is loaded lazily', () => {
  it('only src/github/octokit.ts imports @octokit, and nothing imports it but by import() or as a type', () => {
    const offenders: string[] = []
    for (const file of files('src')) {
      if (file === join('src', 'github', 'octokit.ts')) continue
      const src = readFileSync(file, 'utf8')
      for (const m of src.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
        const [, typeOnly, from] = m
        if (typeOnly) continue
        if (from!.startsWith('@octokit/') || from!.endsWith('/octokit.js')) offenders.push(`${file}: ${from}`)
      }
    }
    expect(offenders).toEqual([])
    expect(readFileSync('src/main.ts', 'utf8')).toMatch(
      /import\(\/\* webpackMode: "eager" \*\/ '.\/github\/octokit\.js'\)/,
    )
  })

  it('the bundle keeps Octokit inside dist/index.js, behind a lazy require', () => {
    expect(readdirSync('dist').filter((f) => f.endsWith('.js'))).toEqual(['index.js'])
    expect(readFileSync('dist/index.js', 'utf8')).toMatch(/Promise\.resolve\(\/\* import\(\) eager \*\/\)/)
  })
})
