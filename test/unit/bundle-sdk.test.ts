import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

// src/neon/types.ts takes Neon's object types from its SDK, npm @neondatabase/api-client, with
// `import type`: erased at build, so dist/index.js carries nothing of the SDK nor of axios, the
// HTTP client it needs at run time (the action's client is Node's fetch). Issue 24.

const require = createRequire(import.meta.url)
const sdkDir = join(require.resolve('@neondatabase/api-client/package.json'), '..')
const sdkRuntime = ['dist/index.js', 'dist/api.gen.js']
  .map((f) => readFileSync(join(sdkDir, f), 'utf8'))
  .join('\n')
const axiosRuntime = readFileSync(require.resolve('axios'), 'utf8')

/** Words only the SDK's and axios' run-time code holds: its client factory, its generated methods, axios' classes. */
const SDK_MARKERS = [
  'createApiClient',
  'listProjectBranches',
  'getProjectBranchDataApi',
  'createProjectBranchAnonymized',
]
const AXIOS_MARKERS = ['AxiosError', 'AxiosHeaders', 'follow-redirects']

describe('the bundle without Neon SDK and axios', () => {
  it('the markers are real: each is in the SDK or axios as installed', () => {
    // Without this, a marker misspelt or renamed upstream would make the next test pass for nothing.
    for (const m of SDK_MARKERS) expect(sdkRuntime, m).toContain(m)
    for (const m of AXIOS_MARKERS) expect(axiosRuntime, m).toContain(m)
  })

  it('dist/index.js holds none of them, and its licences list neither package', () => {
    const dist = readFileSync('dist/index.js', 'utf8')
    for (const m of [...SDK_MARKERS, ...AXIOS_MARKERS]) expect(dist, m).not.toContain(m)
    const licences = readFileSync('dist/licenses.txt', 'utf8')
    expect(licences).not.toMatch(/^@neondatabase\/api-client$/m)
    expect(licences).not.toMatch(/^axios$/m)
    // A bound far below what they would add: the SDK's run time (api.gen.js, 166 KB) and axios
    // (261 KB) would take the bundle (720 KiB with branch recovery, issue 25; about 820 KiB at 1.0.0,
    // with usage figures, bounded GitHub calls and reset_password) well past it.
    expect(statSync('dist/index.js').size).toBeLessThan(900 * 1024)
  })

  it('src imports the SDK with `import type` only', () => {
    const offenders: string[] = []
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name)
        if (e.isDirectory()) walk(p)
        else if (p.endsWith('.ts')) {
          const text = readFileSync(p, 'utf8')
          const imports =
            text.match(/^\s*(?:import|export)\b[^;]*?from\s+'@neondatabase\/api-client'/gm) ?? []
          for (const line of imports)
            if (!/^\s*(?:import|export)\s+type\b/.test(line)) offenders.push(`${p}: ${line.trim()}`)
          if (
            /import\(\s*'@neondatabase\/api-client'\s*\)|require\(\s*'@neondatabase\/api-client'/.test(text)
          )
            offenders.push(`${p}: a dynamic import or require of the SDK`)
        }
      }
    }
    walk('src')
    expect(offenders).toEqual([])
    // And the SDK is used at all (else this file guards nothing): types.ts imports it.
    expect(readFileSync('src/neon/types.ts', 'utf8')).toMatch(
      /^import type \* as Sdk from '@neondatabase\/api-client'$/m,
    )
  })
})
