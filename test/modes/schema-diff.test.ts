import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMode } from '../../src/modes/create.js'
import { schemaDiffMode } from '../../src/modes/schema-diff.js'
import type { ModeError } from '../../src/modes/types.js'
import { harness, inputsFor } from '../helpers/mode-harness.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

let sim: NeonSimulator
let projectId: string
let mainId: string

const USERS = 'CREATE TABLE public.users (\n    id bigint NOT NULL\n);\n'
const USERS_EMAIL = 'CREATE TABLE public.users (\n    id bigint NOT NULL,\n    email text\n);\n'

beforeEach(async () => {
  // The schemas are set through the simulator's API, which the PostgreSQL backend does not take.
  sim = await startNeonSimulator({ postgres: false, operationMs: { create_branch: 20, start_compute: 20 } })
  const p = sim.createProject({ id: 'schema-diff-mode-1' })
  projectId = p.id
  mainId = p.defaultBranchId
  sim.setSchema(projectId, mainId, 'neondb', USERS)
})
afterEach(async () => {
  await sim.close()
})

const diff = (over: Record<string, string> = {}) =>
  schemaDiffMode(harness(sim).deps, inputsFor(projectId, sim.apiKey, { mode: 'schema-diff', ...over }))
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ModeError,
  )

async function prBranch(): Promise<string> {
  const r = await createMode(harness(sim).deps, inputsFor(projectId, sim.apiKey))
  return r.branch?.id ?? ''
}

describe('schema-diff', () => {
  it('diffs the branch against its parent as neonctl prints it, with four GET requests', async () => {
    const id = await prBranch()
    sim.setSchema(projectId, id, 'neondb', USERS_EMAIL)
    const before = sim.log.length
    const r = await diff()
    expect(r.schema?.diff).toBe(
      [
        `--- Database: neondb\t(Branch: ${mainId})`,
        `+++ Database: neondb\t(Branch: ${id})`,
        '@@ -1,3 +1,4 @@',
        ' CREATE TABLE public.users (',
        '-    id bigint NOT NULL',
        '+    id bigint NOT NULL,',
        '+    email text',
        ' );',
        '',
      ].join('\n'),
    )
    expect(r.schema).toMatchObject({ added: 2, removed: 1, base: { id: mainId, name: 'main' } })
    expect(r.branch).toMatchObject({ id, parentId: mainId, parentName: 'main' })
    expect(r.changes).toEqual([])
    expect(sim.log.slice(before).map((e) => `${e.route} ${e.status}`)).toEqual([
      'GET /projects/{project_id}/branches 200',
      'GET /projects/{project_id}/branches/{branch_id} 200',
      'GET /projects/{project_id}/branches/{branch_id}/schema 200',
      'GET /projects/{project_id}/branches/{branch_id}/schema 200',
    ])
    expect(sim.log.slice(before).map((e) => e.query['db_name'])).toEqual([
      undefined,
      undefined,
      'neondb',
      'neondb',
    ])
  })

  it('is empty when the branch still has its parent schema (inherited when it was made)', async () => {
    await prBranch()
    const r = await diff()
    expect(r.schema).toMatchObject({ diff: '', added: 0, removed: 0 })
  })

  it('reads parent_branch at a timestamp, asking Neon for that point of its history', async () => {
    const id = await prBranch()
    await new Promise((r) => setTimeout(r, 5))
    const t0 = new Date().toISOString()
    await new Promise((r) => setTimeout(r, 20))
    // main moves on after t0; the branch has main's schema as of t0, so compared with main@t0: equal.
    sim.setSchema(projectId, mainId, 'neondb', USERS_EMAIL)
    sim.setSchema(projectId, id, 'neondb', USERS)
    expect((await diff()).schema?.removed).toBeGreaterThan(0)
    const before = sim.log.length
    const at = await diff({ parent_branch: `main@${t0}` })
    expect(at.schema?.base).toEqual({ id: mainId, name: `main@${t0}`, timestamp: t0 })
    expect(at.schema?.diff).toBe('')
    const schemaCalls = sim.log.slice(before).filter((e) => e.route?.endsWith('/schema'))
    expect(schemaCalls.map((e) => e.query['timestamp'])).toContain(t0)
  })

  it('reads parent_branch at an LSN', async () => {
    const id = await prBranch()
    const lsn = sim.setSchema(projectId, mainId, 'neondb', USERS_EMAIL)
    sim.setSchema(projectId, mainId, 'neondb', `${USERS_EMAIL}CREATE TABLE public.later ();\n`)
    sim.setSchema(projectId, id, 'neondb', USERS_EMAIL)
    const r = await diff({ parent_branch: `main@${lsn}` })
    expect(r.schema?.diff).toBe('')
    expect((await diff({ parent_branch: 'main' })).schema?.removed).toBe(1)
  })

  it('fails naming a missing branch, a missing parent_branch and a missing database', async () => {
    const e1 = await failure(diff())
    expect(e1?.message).toMatch(
      /branch 'preview\/pr-12-feature\/login' does not exist in project schema-diff-mode-1/,
    )
    await prBranch()
    const e2 = await failure(diff({ parent_branch: 'nope' }))
    expect(e2?.message).toContain("parent_branch 'nope' does not exist in project schema-diff-mode-1")
    const e3 = await failure(diff({ database: 'app' }))
    expect(e3?.message).toMatch(
      /database 'app' does not exist on branch 'main' \(br-[\w-]+\); it has 'neondb'/,
    )
    expect(e3?.message).toMatch(/HTTP 404 Not Found: database "app" not found \(request id [\w-]+\)/)
  })

  it('refuses a branch with no parent unless parent_branch says what to compare with', async () => {
    const e = await failure(diff({ branch_name: 'main' }))
    expect(e?.message).toContain("'main' (")
    expect(e?.message).toContain("is a root branch with no parent to compare with; set 'parent_branch'")
    await prBranch()
    const r = await diff({ branch_name: 'main', parent_branch: 'preview/pr-12-feature/login' })
    expect(r.schema?.diff).toBe('')
  })
})
