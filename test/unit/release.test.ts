/**
 * The release (issue 32): package.json, src/version.ts and CHANGELOG's newest dated section say the
 * same version, with an empty Unreleased heading above it, and scripts/release.sh tags it. The
 * script runs in a throwaway repository holding the files it reads, with an `npm` that builds
 * nothing (dist/ then equals "a fresh build"); it never pushes.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ACTION_VERSION } from '../../src/version.js'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const version = (JSON.parse(read('package.json')) as { version: string }).version

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A git repository holding what release.sh reads, `changelog` as CHANGELOG.md; returns its path. */
function throwaway(changelog: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'release-'))
  dirs.push(dir)
  for (const f of ['scripts/release.sh', 'package.json', 'src/version.ts']) {
    mkdirSync(dirname(join(dir, f)), { recursive: true })
    copyFileSync(new URL(f, root), join(dir, f))
  }
  writeFileSync(join(dir, 'CHANGELOG.md'), changelog)
  mkdirSync(join(dir, 'bin'))
  writeFileSync(join(dir, 'bin', 'npm'), '#!/bin/sh\nexit 0\n')
  chmodSync(join(dir, 'bin', 'npm'), 0o755)
  writeFileSync(join(dir, '.gitignore'), 'bin/\n')
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir })
  git('init', '-q')
  git('add', '.')
  git('commit', '-q', '-m', 'release')
  return dir
}

function release(dir: string, v: string) {
  return spawnSync('bash', ['scripts/release.sh', v], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`,
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
    },
  })
}

describe('the release (issue 32)', () => {
  it('package.json, src/version.ts and the newest CHANGELOG section say the same version, dated', () => {
    expect(version).toBe('1.0.0')
    expect(ACTION_VERSION).toBe(version)
    const sections = [...read('CHANGELOG.md').matchAll(/^## \[([^\]]+)\](.*)$/gm)].map((m) => [m[1], m[2]])
    expect(sections[0]).toEqual(['Unreleased', ''])
    expect(sections[1]?.[0]).toBe(version)
    expect(sections[1]?.[1]).toMatch(/^ - \d{4}-\d{2}-\d{2}$/)
    // The Unreleased heading is empty: everything released is under its version.
    expect(read('CHANGELOG.md')).toMatch(/^## \[Unreleased\]\n\n## \[/m)
  })

  it('scripts/release.sh tags the version and moves the major tag', () => {
    const dir = throwaway(read('CHANGELOG.md'))
    const r = release(dir, version)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`Tagged v${version} and moved v1 to it.`)
    const tags = execFileSync('git', ['tag', '--points-at', 'HEAD'], { cwd: dir, encoding: 'utf8' })
    expect(tags.trim().split('\n').sort()).toEqual(['v1', `v${version}`])
  })

  it('it refuses a CHANGELOG without a dated section for the version', () => {
    const undated = read('CHANGELOG.md').replace(`## [${version}] - `, `## [${version}]\n\n`)
    const r = release(throwaway(undated), version)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`CHANGELOG.md has no dated section '## [${version}] - YYYY-MM-DD'`)
    expect(release(throwaway(read('CHANGELOG.md')), '1.0.1').stderr).toContain('package.json says')
  })
})
