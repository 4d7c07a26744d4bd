/**
 * Neon's actions' input names (issue 32): every one in docs/migrating.md's tables that this action
 * does not declare fails before any request, naming ours; the ones it declares are read as ours.
 * The test is driven by the page's tables, and holds src/inputs/neon-names.ts to them.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { INPUTS } from '../../src/constants.js'
import { getInputs, InputError, NEON_INPUT_NAMES } from '../../src/inputs.js'

const root = new URL('../../', import.meta.url)
const page = readFileSync(new URL('docs/migrating.md', root), 'utf8')
const declared = new Set<string>(Object.values(INPUTS))

interface Row {
  action: string
  neon: string
  /** Ours, or undefined for "none". */
  ours: string | undefined
}

/** The input tables of docs/migrating.md: `## <action>`, then a table whose header is "Neon's input". */
function inputRows(text: string): Row[] {
  const rows: Row[] = []
  for (const section of text.split(/^## /m).slice(1)) {
    const action = section.split('\n')[0]!.trim()
    const table = section.split(/^\| Neon's input/m)[1]?.split(/\n\n/)[0]
    if (!table) continue
    for (const m of table.matchAll(/^\| `([^`]+)` +\| (?:`([^`]+)`|none) +\|/gm))
      rows.push({ action, neon: m[1]!, ours: m[2] })
  }
  return rows
}

const rows = inputRows(page)
const base = { mode: 'create', api_key: 'k'.repeat(20), project_id: 'proj-123' }
const tryInputs = (given: Record<string, string>) => () =>
  getInputs((name) => (({ ...base, ...given }) as Record<string, string>)[name] ?? '')

describe("Neon's input names (issue 32)", () => {
  it("docs/migrating.md has a table of inputs for each of Neon's five actions", () => {
    const actions = new Set(rows.map((r) => r.action))
    expect([...actions].sort()).toEqual([
      'create-branch-action v5',
      'create-branch-action v6',
      'delete-branch-action v3',
      'reset-branch-action v1',
      'schema-diff-action v1',
    ])
    expect(rows.length).toBeGreaterThan(40)
    // Every "ours" the page names is an input of this action.
    for (const r of rows) if (r.ours) expect(declared, `${r.action} ${r.neon}`).toContain(r.ours)
  })

  const refused = rows.filter((r) => !declared.has(r.neon))
  it.each(refused.map((r) => [r.neon, r.action, r.ours ?? 'none'] as const))(
    "'%s' (%s) fails before any request, naming ours (%s)",
    (neon, action, ours) => {
      const run = tryInputs({ [neon]: 'x' })
      expect(run).toThrow(InputError)
      let message = ''
      try {
        run()
      } catch (e) {
        message = (e as Error).message
      }
      expect(message.startsWith(`input '${neon}' is `)).toBe(true)
      const said = `${action.replace(/ v\d+$/, '')}'s name; `
      expect(message).toContain(
        ours === 'none' ? `${said}this action has no such input: ` : `${said}this action calls it '${ours}'`,
      )
    },
  )

  it('the refusals are exactly the undeclared names of the tables, with the same counterparts', () => {
    const fromPage = refused.map((r) => `${r.action} ${r.neon} → ${r.ours ?? 'none'}`).sort()
    const fromCode = NEON_INPUT_NAMES.map((r) => `${r.action} ${r.neon} → ${r.ours ?? 'none'}`).sort()
    expect(fromCode).toEqual(fromPage)
    expect(refused.map((r) => r.neon)).toEqual(
      expect.arrayContaining([
        'username',
        'parent',
        'branch',
        'cs_role_name',
        'cs_database',
        'cs_prisma',
        'cs_ssl',
      ]),
    )
  })

  it('a Neon name this action declares is read as ours, never refused', () => {
    const shared = rows.filter((r) => declared.has(r.neon))
    expect(shared.map((r) => r.neon)).toEqual(expect.arrayContaining(['role', 'parent_branch', 'database']))
    const inputs = getInputs(
      (name) =>
        ({
          ...base,
          role: 'app_user',
          parent_branch: 'main',
          database: 'app',
          prisma: 'true',
          ssl: 'require',
        })[name] ?? '',
    )
    expect(inputs).toMatchObject({ role: 'app_user', parentBranch: 'main', database: 'app', prisma: true })
  })

  it("the message for username is the one the issue asks for; parent gives both of Neon's meanings", () => {
    expect(tryInputs({ username: 'app_user' })).toThrow(
      "input 'username' is create-branch-action's name; this action calls it 'role'.",
    )
    expect(tryInputs({ parent: 'main' })).toThrow(
      "input 'parent' is create-branch-action's name; this action calls it 'parent_branch'. It is also " +
        "reset-branch-action's name; this action has no such input: `mode: reset` resets from the parent",
    )
    // An empty value is no value: the workflow gave nothing.
    expect(tryInputs({ username: '  ' })).not.toThrow()
  })
})
