// Issue 29: revoking a leaked password, on a real PostgreSQL (the simulator's real backend, as in
// test/e2e/real-postgres.test.ts). dist/index.js with `reset_password: true` hands out a URL with a
// new password that connects, and the old URL no longer authenticates; deleting the branch alone
// revokes nothing (a recovery brings the same password back). Needs PostgreSQL's binaries, as
// real-postgres.test.ts does.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeGitHub } from '../fake-github/server.js'
import { queryUrl } from '../helpers/pg-url.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'
import { api } from '../sim/helpers.js'
import { startNeonSimulator, type NeonSimulator, type SimPostgres } from '../sim/index.js'

let sim: NeonSimulator
let pgsim: SimPostgres
let gh: Awaited<ReturnType<typeof startFakeGitHub>>
let projectId: string
let startError: unknown

beforeAll(async () => {
  try {
    sim = await startNeonSimulator({ postgres: true, operationMs: { create_branch: 40, start_compute: 60 } })
  } catch (err) {
    startError = err
    return
  }
  if (!sim.postgres) throw new Error('the simulator started without its PostgreSQL backend')
  pgsim = sim.postgres
  gh = await startFakeGitHub()
  projectId = sim.createProject({ id: 'leaky-lake-12345678' }).id
}, 60_000)
beforeEach(() => {
  if (startError) throw startError
})
afterAll(async () => {
  await sim?.close()
  await gh?.close()
})

function create(inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    eventName: 'workflow_dispatch',
    githubApiUrl: gh.url,
    inputs: {
      mode: 'create',
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      branch_name: 'preview/leaked',
      comment: 'false',
      ...inputs,
    },
  })
}

const connects = async (url: string) => queryUrl(await pgsim.resolve(url), 'SELECT 1 AS one')

describe('reset_password on a real PostgreSQL (issue 29)', () => {
  it('the old URL stops authenticating, the new one connects; a delete and recovery alone would not revoke it', async () => {
    const first = await create()
    expect(first.code).toBe(0)
    const leaked = first.outputs.db_url!
    expect(await connects(leaked)).toEqual([{ one: 1 }])

    // Deleting is no revocation: the branch comes back with the same password (mode: recover).
    await api(sim, 'DELETE', `/projects/${projectId}/branches/${first.outputs.branch_id}`)
    const recovered = await create({ mode: 'recover' })
    expect(recovered.outputs.recovered).toBe('true')
    expect(recovered.outputs.password).toBe(first.outputs.password)
    expect(await connects(leaked)).toEqual([{ one: 1 }])

    // reset_password is.
    const rotated = await create({ reset_password: 'true' })
    expect(rotated.code).toBe(0)
    expect(rotated.outputs.branch_id).toBe(first.outputs.branch_id)
    expect(rotated.outputs.password).not.toBe(first.outputs.password)
    await expect(connects(leaked)).rejects.toThrow(/password authentication failed/)
    expect(await connects(rotated.outputs.db_url!)).toEqual([{ one: 1 }])
    expect(await connects(rotated.outputs.db_url_pooled!)).toEqual([{ one: 1 }])
    expect(secretLeaks(rotated, [rotated.outputs.password!, sim.apiKey])).toEqual([])
  })
})
