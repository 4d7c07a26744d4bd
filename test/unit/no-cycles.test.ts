import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { cyclesUnder, findCycles, specifiersOf } from '../../scripts/check-cycles.js'

// The same function `npm run lint` runs (scripts/check-cycles.ts): src/ holds no import circle.
describe('import circles', () => {
  it('src/ has none', () => {
    expect(cyclesUnder(['src'])).toEqual([])
  })

  it('finds the circles of a fixture, a type-only import and a dynamic import() included', () => {
    const cycles = cyclesUnder(['test/fixtures/cycles/circle'])
    expect(cycles).toEqual([
      {
        path: [
          'test/fixtures/cycles/circle/a.ts',
          'test/fixtures/cycles/circle/b.ts',
          'test/fixtures/cycles/circle/c.ts',
          'test/fixtures/cycles/circle/a.ts',
        ],
        files: [
          'test/fixtures/cycles/circle/a.ts',
          'test/fixtures/cycles/circle/b.ts',
          'test/fixtures/cycles/circle/c.ts',
        ],
      },
      {
        path: ['test/fixtures/cycles/circle/selfish.ts', 'test/fixtures/cycles/circle/selfish.ts'],
        files: ['test/fixtures/cycles/circle/selfish.ts'],
      },
    ])
  })

  it('finds none where the imports only go one way', () => {
    expect(cyclesUnder(['test/fixtures/cycles/none'])).toEqual([])
  })

  it('reads imports, type-only imports, re-exports and import() alike', () => {
    const text = [
      "import a from './a.js'",
      "import type { B } from './b.js'",
      "export { c } from './c.js'",
      "export * from './d.js'",
      "const e = await import('./e.js')",
      "import f = require('./f.js')",
      "import 'node:fs'",
    ].join('\n')
    expect(specifiersOf('x.ts', text)).toEqual([
      './a.js',
      './b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      'node:fs',
    ])
  })

  it('gives every circle of a graph once, whatever the order of the files', () => {
    const graph = new Map([
      ['z', ['y']],
      ['y', ['x', 'w']],
      ['x', ['z']],
      ['w', []],
      ['v', ['u']],
      ['u', ['v']],
    ])
    expect(findCycles(graph)).toEqual([
      { path: ['u', 'v', 'u'], files: ['u', 'v'] },
      { path: ['x', 'z', 'y', 'x'], files: ['x', 'y', 'z'] },
    ])
  })

  it('the command prints each circle with its files and exits 1', () => {
    let failure: { status: number; stderr: string } | undefined
    try {
      execFileSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/check-cycles.ts', 'test/fixtures/cycles/circle'],
        {
          encoding: 'utf8',
          stdio: 'pipe',
        },
      )
    } catch (e) {
      failure = e as { status: number; stderr: string }
    }
    expect(failure?.status).toBe(1)
    expect(failure?.stderr).toContain(
      'import circle: test/fixtures/cycles/circle/a.ts -> test/fixtures/cycles/circle/b.ts -> test/fixtures/cycles/circle/c.ts -> test/fixtures/cycles/circle/a.ts',
    )
    expect(failure?.stderr).toContain('2 import circle(s)')
    const clean = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/check-cycles.ts', 'src'], {
      encoding: 'utf8',
    })
    expect(clean).toContain('no import circles')
  })
})
