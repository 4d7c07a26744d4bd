// The simulator's restricted_actions (the API description's Branch.restricted_actions), Neon Auth
// and the Data API of a branch (BEHAVIOUR.md, "Neon Auth and the Data API"; Neon's docs, "Branching
// authentication"): every answer checked against Neon's API description.

import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { startNeonSimulator, type NeonSimulator } from './index.js'
import { api, manualClock, type ApiResult } from './helpers.js'
import { ajvErrors, responseValidator } from './openapi.js'

let sim: NeonSimulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

const clock = manualClock()
const settle = (): void => clock.advance(60_000)
const ANONYMIZED = 'Branch is anonymized'

async function call(s: NeonSimulator, method: string, path: string, body?: unknown): Promise<ApiResult> {
  const res = await api(s, method, path, body)
  const route = s.log.at(-1)?.route ?? ''
  const v = responseValidator(method, route.slice(route.indexOf(' ') + 1), res.status)
  if (res.status !== 204) {
    expect(v, `${route} ${res.status} has a schema`).not.toBeNull()
    expect(v!(res.body), v ? ajvErrors(v, 'response') : '').toBe(true)
  }
  return res
}

describe('restricted_actions', () => {
  it('are reported on the branch, and refuse what they name, with the reason', async () => {
    sim = await startNeonSimulator({ clock })
    const p = sim.createProject()
    const b = sim.addBranch(p.id, {
      name: 'anon',
      restrictedActions: [
        { name: 'restore', reason: ANONYMIZED },
        { name: 'delete-rw-endpoint', reason: ANONYMIZED },
        { name: 'delete', reason: 'kept for audit' },
      ],
    })
    const P = `/projects/${p.id}`
    const got = await call(sim, 'GET', `${P}/branches/${b.id}`)
    expect(got.body.branch.restricted_actions).toEqual([
      { name: 'restore', reason: ANONYMIZED },
      { name: 'delete-rw-endpoint', reason: ANONYMIZED },
      { name: 'delete', reason: 'kept for audit' },
    ])
    const listed = await call(sim, 'GET', `${P}/branches`)
    expect(listed.body.branches.find((x: { id: string }) => x.id === b.id).restricted_actions).toHaveLength(3)

    const restore = await call(sim, 'POST', `${P}/branches/${b.id}/restore`, {
      source_branch_id: p.defaultBranchId,
    })
    expect(restore.status).toBe(400)
    expect(restore.body.message).toContain(ANONYMIZED)
    const del = await call(sim, 'DELETE', `${P}/branches/${b.id}`)
    expect(del.status).toBe(400)
    expect(del.body.message).toContain('kept for audit')
    const rw = sim.world.readWriteEndpoint(b.id)!
    expect((await call(sim, 'DELETE', `${P}/endpoints/${rw.id}`)).status).toBe(400)
    // Nothing was scheduled, nothing changed.
    expect(sim.world.operations.size).toBe(0)
    expect(sim.state.branches[b.id]?.deleted).toBe(false)

    // A read-only compute is not the read-write one: deleting it is allowed.
    const ro = await call(sim, 'POST', `${P}/endpoints`, { endpoint: { branch_id: b.id, type: 'read_only' } })
    settle()
    expect((await call(sim, 'DELETE', `${P}/endpoints/${ro.body.endpoint.id}`)).status).toBe(200)
    settle()

    sim.setRestrictedActions(p.id, b.id, [])
    expect((await call(sim, 'GET', `${P}/branches/${b.id}`)).body.branch.restricted_actions).toBeUndefined()
    expect(
      (await call(sim, 'POST', `${P}/branches/${b.id}/restore`, { source_branch_id: p.defaultBranchId }))
        .status,
    ).toBe(200)
    settle()
    expect((await call(sim, 'DELETE', `${P}/branches/${b.id}`)).status).toBe(200)
  })

  it('a name the simulator does not know is reported and refuses nothing', async () => {
    sim = await startNeonSimulator({ clock })
    const p = sim.createProject()
    const b = sim.addBranch(p.id, { name: 'x', restrictedActions: [{ name: 'archive', reason: 'r' }] })
    expect(
      (await call(sim, 'GET', `/projects/${p.id}/branches/${b.id}`)).body.branch.restricted_actions,
    ).toEqual([{ name: 'archive', reason: 'r' }])
    expect((await call(sim, 'DELETE', `/projects/${p.id}/branches/${b.id}`)).status).toBe(200)
  })
})

describe('Neon Auth and the Data API', () => {
  it('answer 404 until enabled, then the integration and the URL, at the branch read-write endpoint', async () => {
    sim = await startNeonSimulator({ clock })
    const p = sim.createProject({ name: 'shop' })
    const b = sim.addBranch(p.id, { name: 'preview/pr-1' })
    const P = `/projects/${p.id}/branches/${b.id}`
    expect((await call(sim, 'GET', `${P}/auth`)).status).toBe(404)
    expect((await call(sim, 'GET', `${P}/data-api/neondb`)).status).toBe(404)

    sim.enableNeonAuth(p.id, b.id)
    sim.enableDataApi(p.id, b.id, 'neondb')
    const host = sim.world.readWriteEndpoint(b.id)!.host
    const [label, ...rest] = host.split('.')
    const auth = await call(sim, 'GET', `${P}/auth`)
    expect(auth.status).toBe(200)
    expect(auth.body).toMatchObject({
      auth_provider: 'better_auth',
      branch_id: b.id,
      db_name: 'neondb',
      owned_by: 'neon',
      name: 'shop',
      base_url: `https://${label}.neonauth.${rest.join('.')}/neondb/auth`,
      jwks_url: `https://${label}.neonauth.${rest.join('.')}/neondb/auth/.well-known/jwks.json`,
    })
    const data = await call(sim, 'GET', `${P}/data-api/neondb`)
    expect(data.body).toEqual({
      url: `https://${label}.apirest.${rest.join('.')}/neondb/rest/v1`,
      status: 'ready',
    })
    // Per database: another database of the branch has none.
    expect((await call(sim, 'GET', `${P}/data-api/other`)).status).toBe(404)
  })

  it('a branch made from one with Neon Auth has its own, at its own endpoint; the Data API is not inherited', async () => {
    sim = await startNeonSimulator({ clock })
    const p = sim.createProject()
    sim.enableNeonAuth(p.id, p.defaultBranchId)
    sim.enableDataApi(p.id, p.defaultBranchId, 'neondb')
    const child = await call(sim, 'POST', `/projects/${p.id}/branches`, {
      branch: { name: 'preview/pr-2' },
      endpoints: [{ type: 'read_write' }],
    })
    settle()
    const id = child.body.branch.id as string
    const auth = await call(sim, 'GET', `/projects/${p.id}/branches/${id}/auth`)
    const parentAuth = await call(sim, 'GET', `/projects/${p.id}/branches/${p.defaultBranchId}/auth`)
    expect(auth.status).toBe(200)
    expect(auth.body.branch_id).toBe(id)
    expect(auth.body.base_url).toContain(child.body.endpoints[0].id)
    expect(auth.body.base_url).not.toBe(parentAuth.body.base_url)
    expect((await call(sim, 'GET', `/projects/${p.id}/branches/${id}/data-api/neondb`)).status).toBe(404)

    // A schema-only branch copies no rows, Neon Auth's among them.
    const schemaOnly = await call(sim, 'POST', `/projects/${p.id}/branches`, {
      branch: { name: 'schema', init_source: 'schema-only' },
      endpoints: [{ type: 'read_write' }],
    })
    settle()
    expect(
      (await call(sim, 'GET', `/projects/${p.id}/branches/${schemaOnly.body.branch.id}/auth`)).status,
    ).toBe(404)
  })

  it('a branch without a read-write compute has Neon Auth without base_url', async () => {
    sim = await startNeonSimulator({ clock })
    const p = sim.createProject()
    const b = sim.addBranch(p.id, { name: 'bare', withEndpoint: false })
    sim.enableNeonAuth(p.id, b.id)
    const auth = await call(sim, 'GET', `/projects/${p.id}/branches/${b.id}/auth`)
    expect(auth.status).toBe(200)
    expect(auth.body.base_url).toBeUndefined()
  })

  it('enabling refuses what does not exist', async () => {
    sim = await startNeonSimulator({ clock })
    const p = sim.createProject()
    expect(() => sim!.enableDataApi(p.id, p.defaultBranchId, 'nope')).toThrow(/no database nope/)
    expect(() => sim!.enableNeonAuth(p.id, 'br-none-1')).toThrow(/unknown branch/)
  })
})

describe('npm run sim -- --neon-auth --data-api', () => {
  it('enables Neon Auth on the default branch (inherited) and the Data API on every new branch', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url))
    const child = spawn(
      process.execPath,
      [join(root, 'node_modules/tsx/dist/cli.mjs'), 'test/sim/cli.ts', '--json', '--neon-auth', '--data-api'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString()
          if (out.includes('\n')) resolve(out.split('\n')[0]!)
        })
        child.on('exit', (code) => reject(new Error(`the simulator exited (${code})`)))
      })
      const info = JSON.parse(line) as {
        apiUrl: string
        apiKey: string
        projectId: string
        defaultBranchId: string
      }
      const get = async (path: string, init: RequestInit = {}) => {
        const res = await fetch(`${info.apiUrl}${path}`, {
          ...init,
          headers: { Authorization: `Bearer ${info.apiKey}`, 'Content-Type': 'application/json' },
        })
        return { status: res.status, body: (await res.json()) as Record<string, unknown> }
      }
      const P = `/projects/${info.projectId}`
      expect((await get(`${P}/branches/${info.defaultBranchId}/auth`)).status).toBe(200)
      const made = await get(`${P}/branches`, {
        method: 'POST',
        body: JSON.stringify({ branch: { name: 'preview/pr-1' }, endpoints: [{ type: 'read_write' }] }),
      })
      const id = (made.body['branch'] as { id: string }).id
      expect((await get(`${P}/branches/${id}/auth`)).status).toBe(200)
      expect((await get(`${P}/branches/${id}/data-api/neondb`)).body['url']).toMatch(/\.apirest\./)
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
    }
  })
})
