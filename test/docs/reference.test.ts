/**
 * docs/reference.md is written from action.yml by `npm run docs` (scripts/docs.ts); like dist/, the
 * committed file must equal what the script would write now.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { cell, renderReference } from '../../scripts/docs.js'
import { INPUTS, OUTPUTS } from '../../src/constants.js'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const yml = read('action.yml')

/** The rows of the table under `## <heading>`, split into cells. */
function rows(markdown: string, heading: string): string[][] {
  const section = markdown.split(`## ${heading}\n`)[1]?.split('\n## ')[0] ?? ''
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) =>
      l
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim()),
    )
}

describe('docs/reference.md', () => {
  it('is what `npm run docs` writes from action.yml (run npm run docs)', async () => {
    const expected = await renderReference(yml)
    expect(read('docs/reference.md') === expected, 'docs/reference.md is stale: run npm run docs').toBe(true)
  })

  it('lists every input with the default action.yml gives it, and every output, nothing else', async () => {
    const md = await renderReference(yml)
    const meta = parseYaml(yml) as { inputs: Record<string, { required?: boolean; default?: string }> }
    const inputs = rows(md, 'Inputs')
    expect(inputs.map((r) => r[0]!.replace(/`/g, '')).sort()).toEqual(Object.values(INPUTS).sort())
    for (const r of inputs) {
      const spec = meta.inputs[r[0]!.replace(/`/g, '')]!
      if (spec.required) expect(r[1]).toBe('(required)')
      else if (!spec.default) expect(r[1]).toBe('(empty)')
      else expect(r[1]).toBe(`\`${spec.default}\``)
      expect(r[3], r[0]).toMatch(/^(all|`[a-z-]+`(, `[a-z-]+`)*)$/)
    }
    const outputs = rows(md, 'Outputs')
    expect(outputs.map((r) => r[0]!.replace(/`/g, '')).sort()).toEqual(Object.values(OUTPUTS).sort())
  })

  it('says which values an enumerated input takes, and which modes an input applies to', async () => {
    const md = await renderReference(yml)
    const ssl = rows(md, 'Inputs').find((r) => r[0] === '`ssl`')!
    expect(ssl[2]).toBe('`require`, `verify-ca`, `verify-full`, `omit`')
    expect(ssl[3]).toBe('`create`, `reset`, `recover`')
    expect(rows(md, 'Inputs').find((r) => r[0] === '`preserve_under_name`')![3]).toBe('`reset`')
    expect(rows(md, 'Outputs').find((r) => r[0] === '`schema_diff`')![1]).toBe('`schema-diff`')
  })

  it('the check can fail: a changed description, a missing or unknown mode', async () => {
    const changed = yml.replace('Role (user) whose password', 'The role whose password')
    expect(await renderReference(changed)).not.toBe(read('docs/reference.md'))
    await expect(renderReference(yml.replace('    # modes: reset\n', ''))).rejects.toThrow(
      /preserve_under_name has no '# modes:' comment/,
    )
    await expect(
      renderReference(yml.replace('    # modes: reset\n', '    # modes: reboot\n')),
    ).rejects.toThrow(/unknown mode 'reboot'/)
  })

  it('escapes table cells: pipes and line breaks cannot break a row', () => {
    expect(cell('a | b\nc\\d')).toBe('a \\| b c\\\\d')
  })
})
