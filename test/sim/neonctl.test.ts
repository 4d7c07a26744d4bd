// Fidelity check: Neon's own CLI (neonctl) drives the simulator and its output must match the simulator's state.

import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startNeonSimulator, type NeonSimulator, type SimProject } from './index.js'
import { neonctl as runNeonctl } from '../helpers/neonctl.js'

const require = createRequire(import.meta.url)
const NEONCTL_VERSION = (require('neonctl/package.json') as { version: string }).version

let sim: NeonSimulator
let project: SimProject
let home: string

beforeAll(async () => {
  // Operations finish within a few ms, so a command never meets a 423 from the previous one (neonctl would wait 3 s).
  sim = await startNeonSimulator({
    operationMs: {
      create_branch: 2,
      start_compute: 2,
      suspend_compute: 2,
      delete_timeline: 2,
      create_timeline: 2,
    },
    schedulingMs: 1,
  })
  project = sim.createProject({ name: 'neonctl' })
  home = mkdtempSync(join(tmpdir(), 'neonctl-home-'))
})
afterAll(async () => {
  await sim.close()
  rmSync(home, { recursive: true, force: true })
})

/** Runs neonctl against the simulator; returns stdout and the routes it called. */
async function neonctl(...args: string[]): Promise<{ stdout: string; routes: string[] }> {
  const before = sim.log.length
  const stdout = await runNeonctl(sim, project.id, [...args, '--output', 'json'], home)
  return {
    stdout,
    routes: sim.log.slice(before).map((e) => `${e.route ?? `${e.method} ${e.path}`} ${e.status}`),
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (s: string): any => JSON.parse(s)

// Each neonctl command is a Node process of its own that loads the whole CLI: seconds apiece on a
// busy machine. The timeouts only stop a hung run; nothing here measures time.
describe(`neonctl ${NEONCTL_VERSION} against the simulator`, { timeout: 240_000 }, () => {
  it('creates, lists, resets and deletes branches and builds connection strings', async () => {
    const x = await neonctl('branches', 'create', '--name', 'x')
    const xo = json(x.stdout)
    expect(x.routes).toEqual([
      'GET /projects/{project_id}/branches 200',
      'POST /projects/{project_id}/branches 201',
    ])
    const xs = sim.world.branchByName(project.id, 'x')
    expect(xs).toBeDefined()
    expect(xo.branch).toMatchObject({ id: xs?.id, name: 'x', parent_id: project.defaultBranchId })
    const xep = sim.world.readWriteEndpoint(xs?.id ?? '')
    expect(xo.endpoints[0].id).toBe(xep?.id)
    const xRole = sim.world.branchRoles(xs?.id ?? '')[0]
    expect(xo.connection_uris[0].connection_uri).toBe(
      `postgresql://neondb_owner:${xRole?.password}@${xep?.host}/neondb?sslmode=require`,
    )
    const createBody = sim.log.find((e) => e.method === 'POST')?.body
    expect(createBody).toMatchObject({
      branch: { name: 'x', parent_id: project.defaultBranchId },
      endpoints: [{ type: 'read_write' }],
    })

    const y = await neonctl('branches', 'create', '--name', 'y', '--parent', 'x')
    const yo = json(y.stdout)
    const ys = sim.world.branchByName(project.id, 'y')
    expect(yo.branch).toMatchObject({ id: ys?.id, parent_id: xs?.id })
    expect(y.routes.some((r) => r.endsWith(' 423'))).toBe(false)

    const list = await neonctl('branches', 'list')
    const lo = json(list.stdout) as { id: string; name: string }[]
    expect(list.routes).toEqual(['GET /projects/{project_id}/branches 200'])
    expect(lo.map((b) => b.id).sort()).toEqual(
      sim.world
        .liveBranches(project.id)
        .map((b) => b.id)
        .sort(),
    )
    expect(lo.map((b) => b.name).sort()).toEqual(['main', 'x', 'y'])

    const yPassword = sim.world.branchRoles(ys?.id ?? '')[0]?.password
    const reset = await neonctl('branches', 'reset', 'y', '--parent')
    const ro = json(reset.stdout)
    expect(reset.routes).toEqual([
      'GET /projects/{project_id}/branches 200',
      'GET /projects/{project_id}/branches/{branch_id} 200',
      'POST /projects/{project_id}/branches/{branch_id}/restore 200',
    ])
    expect(ro.id).toBe(ys?.id)
    expect(ro.last_reset_at).toBeDefined()
    expect(sim.world.branches.get(ys?.id ?? '')?.lastResetAt).toBeDefined()
    expect(sim.world.branchRoles(ys?.id ?? '')[0]?.password).toBe(yPassword)
    expect(sim.log.find((e) => e.route?.endsWith('/restore'))?.body).toEqual({ source_branch_id: xs?.id })

    await new Promise((r) => setTimeout(r, 50)) // let the restore's operations finish

    const cs = await neonctl('connection-string', 'x')
    expect(cs.routes).toEqual([
      'GET /projects/{project_id}/branches 200',
      'GET /projects/{project_id}/branches/{branch_id}/endpoints 200',
      'GET /projects/{project_id}/branches/{branch_id}/roles 200',
      'GET /projects/{project_id}/branches/{branch_id}/databases 200',
      'GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password 200',
    ])
    expect(cs.stdout.trim()).toBe(
      `postgresql://neondb_owner:${xRole?.password}@${xep?.host}/neondb?sslmode=require&channel_binding=require`,
    )
    const pooled = await neonctl('connection-string', 'x', '--pooled')
    const poolerHost = (xep?.host ?? '').replace(/^([^.]+)/, '$1-pooler')
    expect(pooled.stdout.trim()).toBe(
      `postgresql://neondb_owner:${xRole?.password}@${poolerHost}/neondb?sslmode=require&channel_binding=require`,
    )

    const del = await neonctl('branches', 'delete', 'y')
    expect(del.routes).toEqual([
      'GET /projects/{project_id}/branches 200',
      'DELETE /projects/{project_id}/branches/{branch_id} 200',
    ])
    expect(json(del.stdout).id).toBe(ys?.id)
    expect(sim.world.branches.get(ys?.id ?? '')?.deletedAt).toBeDefined()
    expect(
      sim.world
        .liveBranches(project.id)
        .map((b) => b.name)
        .sort(),
    ).toEqual(['main', 'x'])

    // neonctl walks pages of 100 when it resolves a branch name.
    const listCalls = sim.log.filter((e) => e.route === 'GET /projects/{project_id}/branches')
    expect(listCalls.some((e) => e.query['limit'] === '100')).toBe(true)
  })

  it('pages through branch names beyond the first page', async () => {
    for (let i = 0; i < 120; i++) sim.addBranch(project.id, { name: `bulk-${i}` })
    const target = sim.addBranch(project.id, {
      name: 'needle',
      createdAt: '2024-01-01T00:00:00Z',
      updatedAt: '2024-01-01T00:00:00Z',
    })
    const got = await neonctl('branches', 'get', 'needle')
    expect(json(got.stdout).id).toBe(target.id)
    expect(got.routes.filter((r) => r.startsWith('GET /projects/{project_id}/branches ')).length).toBe(2)
  })

  it("labels an anonymized branch [anon] in its table, from the branch list's annotations", async () => {
    const made = await fetch(`${sim.apiUrl}/projects/${project.id}/branch_anonymized`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sim.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        branch_create: { branch: { name: 'masked' }, endpoints: [{ type: 'read_write' }] },
        masking_rules: [
          {
            database_name: 'neondb',
            schema_name: 'public',
            table_name: 'users',
            column_name: 'email',
            masking_function: 'anon.fake_email()',
          },
        ],
        start_anonymization: true,
      }),
    })
    expect(made.status).toBe(201)
    // `neon` 5.0.1, dist/commands/branches.js: `annotations[br.id]?.value.anonymized` → "[anon]".
    const table = await runNeonctl(sim, project.id, ['branches', 'list', '--output', 'table'], home)
    const line = table.split('\n').find((l) => l.includes('masked'))
    expect(line).toContain('[anon] masked')
    // Only that one: the default branch (and any other) is not labelled.
    expect(table.split('\n').filter((l) => l.includes('[anon]'))).toEqual([line])
  })
})
