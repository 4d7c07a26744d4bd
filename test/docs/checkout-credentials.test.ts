/**
 * Issue 30: the examples run the pull request's code (its migrations, its tests) after checking it
 * out; actions/checkout leaves the job's token in .git/config unless told not to, where that code
 * could read it. Every checkout in examples/ sets `persist-credentials: false`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

interface Step {
  uses?: string
  with?: Record<string, unknown>
}

/** Checkout steps of a workflow that leave the token behind. */
function persisting(text: string): string[] {
  const wf = parse(text) as { jobs?: Record<string, { steps?: Step[] }> }
  const out: string[] = []
  for (const [job, j] of Object.entries(wf.jobs ?? {})) {
    for (const s of j.steps ?? []) {
      if (s.uses?.startsWith('actions/checkout@') && s.with?.['persist-credentials'] !== false) {
        out.push(`${job}: ${s.uses}`)
      }
    }
  }
  return out
}

const examples = readdirSync('examples').filter((f) => f.endsWith('.yml'))

describe('examples/: checkout leaves no token for the pull request code', () => {
  it.each(examples)('%s', (file) => {
    expect(persisting(readFileSync(join('examples', file), 'utf8'))).toEqual([])
  })

  it('the check can fail', () => {
    const wf = 'on: push\njobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n'
    expect(persisting(wf)).toEqual(['a: actions/checkout@v4'])
  })
})
