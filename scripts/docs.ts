/**
 * `npm run docs`: writes docs/reference.md from action.yml, so the reference cannot drift from the
 * metadata GitHub reads. test/docs/reference.test.ts calls `renderReference` and fails when the
 * committed file differs from what it returns.
 *
 * action.yml says for each input and output which modes it applies to, and for an input which values
 * it takes, in YAML comments right under its name (GitHub's metadata schema has no field for them, and
 * a comment changes nothing GitHub reads):
 *
 *     ssl:
 *       # modes: create, reset, recover
 *       # values: require, verify-ca, verify-full, omit
 *
 * `# modes: all` means every mode. `# values:` is optional (absent: the description says what is
 * allowed). A missing or unknown mode is an error, so a new input cannot slip in undocumented.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { format, resolveConfig } from 'prettier'
import { parse as parseYaml } from 'yaml'

const root = new URL('../', import.meta.url)

export const MODES = ['create', 'reset', 'delete', 'cleanup', 'schema-diff', 'recover'] as const

interface Entry {
  name: string
  description: string
  required: boolean
  default: string | undefined
  modes: string[]
  values: string[] | undefined
}

interface Metadata {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
}

/** The `# key: value` comments directly under `  <name>:` in the given top-level section. */
function annotations(yml: string, section: string): Map<string, Map<string, string>> {
  const found = new Map<string, Map<string, string>>()
  const lines = yml.split('\n')
  let inSection = false
  let current: Map<string, string> | undefined
  for (const line of lines) {
    if (/^\S/.test(line)) {
      inSection = line === `${section}:`
      current = undefined
      continue
    }
    if (!inSection) continue
    const key = /^ {2}([a-z_]+):\s*$/.exec(line)
    if (key) {
      current = new Map()
      found.set(key[1]!, current)
      continue
    }
    const comment = /^ {4}# ([a-z]+): (.*)$/.exec(line)
    if (comment && current) current.set(comment[1]!, comment[2]!.trim())
  }
  return found
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function entries(yml: string, section: 'inputs' | 'outputs'): Entry[] {
  const meta = parseYaml(yml) as Metadata
  const notes = annotations(yml, section)
  return Object.entries(meta[section]).map(([name, spec]) => {
    const note = notes.get(name)
    const modesText = note?.get('modes')
    if (modesText === undefined) throw new Error(`action.yml: ${section}.${name} has no '# modes:' comment`)
    const modes = modesText === 'all' ? ['all'] : list(modesText)
    for (const m of modes)
      if (m !== 'all' && !(MODES as readonly string[]).includes(m))
        throw new Error(`action.yml: ${section}.${name}: unknown mode '${m}' in '# modes:'`)
    const values = note?.get('values')
    const input = spec as { required?: boolean; default?: string }
    return {
      name,
      description: spec.description,
      required: input.required === true,
      default: input.default,
      modes,
      values: values === undefined ? undefined : list(values),
    }
  })
}

/** Text for one Markdown table cell: no line break, no pipe that would end the cell. */
export function cell(text: string): string {
  return text
    .trim()
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
}

const code = (s: string) => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``)

function modesCell(modes: string[]): string {
  return modes[0] === 'all' ? 'all' : modes.map(code).join(', ')
}

function defaultCell(e: Entry): string {
  if (e.required) return '(required)'
  if (e.default === undefined || e.default === '') return '(empty)'
  return code(e.default)
}

/** docs/reference.md as `npm run docs` writes it, from the text of action.yml, formatted as Prettier would. */
export async function renderReference(yml: string): Promise<string> {
  const inputs = entries(yml, 'inputs')
  const outputs = entries(yml, 'outputs')
  const out: string[] = [
    '<!-- Generated from action.yml by `npm run docs` (scripts/docs.ts). Do not edit: edit action.yml and run it. -->',
    '',
    '# Reference: inputs and outputs',
    '',
    'Every input and output `action.yml` declares, with its default, the values it takes and the modes it',
    'applies to. `mode: auto` uses the inputs of the mode it picks (`create`, `delete` or `cleanup`) and',
    'sets that mode\'s outputs. "(empty)" is an empty default; the description says what it stands for.',
    '',
    '## Inputs',
    '',
    '| input | default | values | modes | description |',
    '| --- | --- | --- | --- | --- |',
    ...inputs.map(
      (e) =>
        `| ${cell(code(e.name))} | ${cell(defaultCell(e))} | ${e.values ? cell(e.values.map(code).join(', ')) : 'see description'} | ${cell(modesCell(e.modes))} | ${cell(e.description)} |`,
    ),
    '',
    '## Outputs',
    '',
    'Outputs that hold a secret (`db_url`, `db_url_pooled`, `password`) are masked, and GitHub drops them',
    'when they are passed to another job: pass `branch_name` and run `create` again there (it adopts the',
    'branch and outputs the URLs, in about five requests).',
    '',
    '| output | set by | description |',
    '| --- | --- | --- |',
    ...outputs.map((e) => `| ${cell(code(e.name))} | ${cell(modesCell(e.modes))} | ${cell(e.description)} |`),
    '',
  ]
  const path = fileURLToPath(new URL('docs/reference.md', root))
  return format(out.join('\n'), { ...(await resolveConfig(path)), filepath: path })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const yml = readFileSync(new URL('action.yml', root), 'utf8')
  writeFileSync(new URL('docs/reference.md', root), await renderReference(yml))
  console.log('wrote docs/reference.md')
}
