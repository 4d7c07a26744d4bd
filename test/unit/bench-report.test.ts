import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BEGIN, END, writeReport, type BenchReport } from '../../bench/report.js'

const report = (overhead: number): BenchReport => ({
  date: '2026-12-02',
  command: 'npm run bench',
  machine: '2 × test cpu',
  load: 'load average 1.00',
  settings: '30 ms per request',
  runs: 15,
  scenarios: [
    {
      name: 'create (new branch)',
      wallMedian: 2500,
      wallMax: 2600,
      opTime: 2300,
      overhead,
      requests: '15 (13 polls)',
      retries: 0,
    },
  ],
  startup: { firstRequest: 100, validationExit: 95, bare: 30, bundleKiB: 1500 },
  exitLag: [{ durationS: 60, history: true, polls: 30, lagMs: 100, lagMaxMs: 400, perMinute: 38 }],
  cleanup: { lines: [['wall / N·D', '1.30']] },
  targets: [{ target: 'create overhead ≤ 150 ms', result: `${overhead} ms`, pass: overhead <= 150 }],
  notes: [],
})

describe('docs/benchmarks.md generator', () => {
  it('replaces only the generated part, keeps the hand-written text, and is idempotent', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-report-')), 'benchmarks.md')
    writeFileSync(file, `# Benchmarks\n\nIntro.\n\n${BEGIN}\nold figures\n${END}\n\n## Kept\n\nHand text.\n`)
    await writeReport(file, report(200))
    const once = readFileSync(file, 'utf8')
    expect(once).not.toContain('old figures')
    expect(once.startsWith('# Benchmarks\n\nIntro.\n')).toBe(true)
    expect(once).toContain('## Kept\n\nHand text.\n')
    expect(once).toMatch(/create overhead ≤ 150 ms \| 200 ms +\| \*\*FAIL\*\*/)
    expect(once).toContain('Measured 2026-12-02 with `npm run bench` (15 runs per scenario')
    expect(once).toContain('against 30 ms for `node -e 0`')

    await writeReport(file, report(120))
    const twice = readFileSync(file, 'utf8')
    expect(twice.split(BEGIN)).toHaveLength(2)
    expect(twice).toMatch(/create overhead ≤ 150 ms \| 120 ms +\| PASS/)
    expect(twice).toContain('## Kept\n\nHand text.\n')
  })

  it('puts the generated part before the first section of a document without markers', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-report-')), 'benchmarks.md')
    writeFileSync(file, '# Benchmarks\n\nIntro.\n\n## Kept\n')
    await writeReport(file, report(100))
    const doc = readFileSync(file, 'utf8')
    expect(doc.indexOf('Intro.')).toBeLessThan(doc.indexOf(BEGIN))
    expect(doc.indexOf(END)).toBeLessThan(doc.indexOf('## Kept'))
  })
})
