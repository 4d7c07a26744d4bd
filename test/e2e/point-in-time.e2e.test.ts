import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub } from '../fake-github/server.js'
import { startNeonSimulator, type NeonSimulator, type RequestLogEntry } from '../sim/index.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'

// parent_branch at a point in time and compute_units, through the committed dist/index.js.

let sim: NeonSimulator
let gh: Awaited<ReturnType<typeof startFakeGitHub>>
let projectId: string
let rootId: string
const REPO = 'octo-org/octo-repo'
const HOUR = 3600_000
/** Whole seconds: Neon reports times without milliseconds. */
const ago = (ms: number): string => new Date(Math.floor((Date.now() - ms) / 1000) * 1000).toISOString()
const noMs = (t: string): string => t.replace(/\.\d{3}Z$/, 'Z')

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 40, start_compute: 60, create_timeline: 40, apply_config: 40 },
  })
  gh = await startFakeGitHub()
  // Made two hours ago, so main has a history to branch from.
  const p = sim.createProject({ id: 'pitr-lake-12345678', createdAt: ago(2 * HOUR) })
  projectId = p.id
  rootId = p.defaultBranchId
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

const payload = (n: number) => ({
  action: 'opened',
  number: n,
  pull_request: {
    number: n,
    title: 'Point in time',
    head: { ref: `pit-${n}`, sha: 'e'.repeat(40), repo: { full_name: REPO } },
    base: { ref: 'main', repo: { full_name: REPO } },
  },
})

function act(
  n: number,
  inputs: Record<string, string>,
  o: { project?: string; comment?: boolean } = {},
): Promise<ActionRun> {
  return runAction({
    eventName: 'pull_request',
    payload: payload(n),
    githubApiUrl: gh.url,
    inputs: {
      mode: 'create',
      api_key: sim.apiKey,
      project_id: o.project ?? projectId,
      api_host: sim.apiUrl,
      github_token: 'ghs_faketoken0123',
      comment: o.comment ? 'true' : 'false',
      ...inputs,
    },
  })
}

/** The requests one run made: everything logged while it ran. */
async function logged(
  run: () => Promise<ActionRun>,
): Promise<{ run: ActionRun; requests: RequestLogEntry[] }> {
  const from = sim.log.length
  const r = await run()
  return { run: r, requests: sim.log.slice(from) }
}
const mutating = (reqs: RequestLogEntry[]) => reqs.filter((r) => r.method !== 'GET')
const leaks = (run: ActionRun) =>
  secretLeaks(run, [sim.apiKey, 'ghs_faketoken0123', run.outputs.password ?? '', run.outputs.db_url ?? ''])

describe('create at a point in time', () => {
  it('sends parent_timestamp with parent_id, applies compute_units, and shows both', async () => {
    const at = ago(HOUR)
    const { run, requests } = await logged(() =>
      act(61, { parent_branch: `main@${at}`, compute_units: '0.25-2' }, { comment: true }),
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const post = requests.find((r) => r.route === 'POST /projects/{project_id}/branches')
    expect(post?.body).toMatchObject({
      branch: { parent_id: rootId, parent_timestamp: at },
      endpoints: [{ type: 'read_write', autoscaling_limit_min_cu: 0.25, autoscaling_limit_max_cu: 2 }],
    })
    expect(post?.body).not.toHaveProperty('branch.parent_lsn')
    expect(run.outputs.parent_timestamp).toBe(noMs(at))
    // Neon resolves the time to its LSN on main (the simulator's log of main's WAL).
    expect(run.outputs.parent_lsn).toBe(sim.world.lsnAt(rootId, Date.parse(at)))
    expect(run.outputs.compute_units).toBe('0.25-2')
    const ep = sim.state.endpoints[run.outputs.endpoint_id!]
    expect([ep?.autoscaling_limit_min_cu, ep?.autoscaling_limit_max_cu]).toEqual([0.25, 2])
    const body = gh.commentBodies(REPO, 61).join('\n')
    expect(body).toContain(`| Point in time | \`${at} (LSN ${run.outputs.parent_lsn})\` |`)
    expect(body).toContain('| Compute | 0.25–2 CU (autoscaling) |')
    expect(run.summary).toContain('<td>Point in time</td>')
    expect(run.summary).toContain('<td>0.25–2 CU (autoscaling)</td>')
    expect(leaks(run)).toEqual([])
  })

  it('sends parent_lsn for an LSN, and a fixed size', async () => {
    const lsn = sim.world.lsnAt(rootId, Date.now())!
    const { run, requests } = await logged(() =>
      act(62, { parent_branch: `${rootId}@${lsn.toLowerCase()}`, compute_units: '1' }),
    )
    expect(run.code).toBe(0)
    const post = requests.find((r) => r.route === 'POST /projects/{project_id}/branches')
    expect(post?.body).toMatchObject({
      branch: { parent_id: rootId, parent_lsn: lsn.toLowerCase() },
      endpoints: [{ autoscaling_limit_min_cu: 1, autoscaling_limit_max_cu: 1 }],
    })
    expect(post?.body).not.toHaveProperty('branch.parent_timestamp')
    expect(run.outputs.parent_lsn).toBe(lsn.toLowerCase())
    expect(run.outputs.compute_units).toBe('1')
    expect(run.summary).toContain(`LSN ${lsn.toLowerCase()}`)
  })

  it('warns when the adopted branch starts at another point, and resizes its compute', async () => {
    const { run, requests } = await logged(() =>
      act(61, { parent_branch: `main@${ago(30 * 60_000)}`, compute_units: '2' }),
    )
    expect(run.code).toBe(0)
    expect(run.outputs.created).toBe('false')
    const warning = run.stdout.split('\n').find((l) => l.startsWith('::warning::'))
    expect(warning).toContain('was not made from main@')
    expect(warning).toContain('delete it (mode: delete)')
    // Adopted, not re-created (on `opened` the create goes first and Neon refuses it); the compute
    // got the size asked, and the run waited for it.
    expect(
      requests.filter((r) => r.route === 'POST /projects/{project_id}/branches').map((r) => r.status),
    ).not.toContain(201)
    const patch = requests.find((r) => r.route === 'PATCH /projects/{project_id}/endpoints/{endpoint_id}')
    expect(patch?.body).toEqual({ endpoint: { autoscaling_limit_min_cu: 2, autoscaling_limit_max_cu: 2 } })
    expect(run.outputs.compute_units).toBe('2')
    const ep = sim.state.endpoints[run.outputs.endpoint_id!]
    expect([ep?.autoscaling_limit_min_cu, ep?.autoscaling_limit_max_cu]).toEqual([2, 2])
    const applied = Object.values(sim.state.operations).filter(
      (o) => o.action === 'apply_config' && o.endpoint_id === ep?.id,
    )
    expect(applied.map((o) => o.status)).toEqual(['finished'])
  })

  it('adopts without a warning or a resize when point and size match', async () => {
    const first =
      sim.state.branches[
        Object.keys(sim.state.branches).find((id) => sim.state.branches[id]?.name === 'preview/pr-62-pit-62')!
      ]!
    const { run, requests } = await logged(() =>
      act(62, { parent_branch: `main@${first.parent_lsn}`, compute_units: '1' }),
    )
    expect(run.code).toBe(0)
    expect(run.stdout).not.toContain('::warning::')
    expect(requests.some((r) => r.method === 'PATCH' && r.route?.includes('endpoints'))).toBe(false)
  })
})

describe('bad points and sizes fail naming the input, with no mutating request', () => {
  const cases: [string, Record<string, string>, string][] = [
    [
      'a month that does not exist',
      { parent_branch: 'main@2026-13-01T00:00:00Z' },
      `Invalid input 'parent_branch'`,
    ],
    ['a time without a zone', { parent_branch: 'main@2026-01-01T10:00:00' }, `Invalid input 'parent_branch'`],
    ['a lower-case t', { parent_branch: 'main@2026-01-01t10:00:00Z' }, `Invalid input 'parent_branch'`],
    ['nothing before the @', { parent_branch: '@0/1A2B3C4' }, `Invalid input 'parent_branch'`],
    ['a future time', { parent_branch: 'main@2999-01-01T00:00:00Z' }, 'is in the future'],
    ['^self in create', { parent_branch: '^self@2026-01-01T00:00:00Z' }, `for mode 'reset' only`],
    [
      'a time before the parent existed',
      { parent_branch: `main@${ago(3 * HOUR)}` },
      'has no history before that',
    ],
    ['a size Neon does not offer', { compute_units: '0.75' }, `Invalid input 'compute_units'`],
    ['too wide a range', { compute_units: '1-12' }, 'spans at most 8'],
    ['autoscaling past 16', { compute_units: '8-20' }, 'Autoscaling goes up to 16'],
    ['min above max', { compute_units: '4-2' }, 'above the maximum'],
    ['not a number', { compute_units: 'large' }, `Invalid input 'compute_units'`],
    ['a fixed size past 56', { compute_units: '64' }, 'at most 56'],
  ]
  for (const [what, inputs, message] of cases) {
    it(what, async () => {
      const { run, requests } = await logged(() => act(70, inputs))
      expect(run.code).not.toBe(0)
      expect(run.stdout).toContain(message)
      expect(mutating(requests)).toEqual([])
    })
  }

  it('a time outside the project history_retention_seconds, with the window and where it is set', async () => {
    const old = sim.createProject({ id: 'old-lake-12345678', createdAt: ago(10 * 24 * HOUR) })
    const { run, requests } = await logged(() =>
      act(71, { parent_branch: `main@${ago(2 * 24 * HOUR)}` }, { project: old.id }),
    )
    expect(run.code).not.toBe(0)
    const error = run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? ''
    expect(error).toContain(`Invalid input 'parent_branch'`)
    expect(error).toContain('history_retention_seconds = 86400')
    expect(error).toMatch(/allowed window is \d{4}-\d\d-\d\dT[\d:]+Z to now/)
    expect(error).toContain('Instant restore')
    expect(mutating(requests)).toEqual([])
    expect(requests.map((r) => r.route)).toContain('GET /projects/{project_id}')
  })

  it("passes on Neon's refusal of a size past the plan's limit", async () => {
    const free = sim.createProject({ id: 'free-lake-12345678', planMaxCu: 2 })
    const run = await act(72, { compute_units: '4' }, { project: free.id })
    expect(run.code).not.toBe(0)
    expect(run.stdout).toContain('your plan allows computes of at most 2 compute units')
    expect(run.stdout).toMatch(/request id/)
  })
})

describe('reset to a point in time', () => {
  const reset = (n: number, inputs: Record<string, string>) => act(n, { mode: 'reset', ...inputs })

  it("restores from the parent's past with source_timestamp", async () => {
    const at = ago(90 * 60_000)
    const branchId = (await act(63, {})).outputs.branch_id!
    const { run, requests } = await logged(() => reset(63, { parent_branch: `main@${at}` }))
    expect(run.code).toBe(0)
    const restore = requests.find((r) => r.route?.endsWith('/restore'))
    expect(restore?.path).toContain(branchId)
    expect(restore?.body).toEqual({ source_branch_id: rootId, source_timestamp: at })
    expect(sim.state.branches[branchId]?.parent_timestamp).toBe(noMs(at))
    expect(run.outputs.parent_timestamp).toBe(noMs(at))
    expect(run.summary).toContain(at)
  })

  it('refuses ^self without preserve_under_name before any request', async () => {
    const { run, requests } = await logged(() => reset(63, { parent_branch: `^self@${ago(1000)}` }))
    expect(run.code).not.toBe(0)
    expect(run.stdout).toContain(`Input 'preserve_under_name' is required`)
    expect(requests).toEqual([])
  })

  it('restores the branch to its own past with ^self@… and keeps the present under preserve_under_name', async () => {
    const branchId = sim.addBranch(projectId, {
      name: 'preview/pit-self',
      createdAt: ago(HOUR),
    }).id
    const at = ago(10 * 60_000)
    const { run, requests } = await logged(() =>
      reset(64, {
        branch_name: 'preview/pit-self',
        parent_branch: `^self@${at}`,
        preserve_under_name: 'preview/pit-self-before',
      }),
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const restore = requests.find((r) => r.route?.endsWith('/restore'))
    expect(restore?.body).toEqual({
      source_branch_id: branchId,
      source_timestamp: at,
      preserve_under_name: 'preview/pit-self-before',
    })
    const preserved = Object.values(sim.state.branches).find((b) => b.name === 'preview/pit-self-before')
    expect(preserved?.deleted).toBe(false)
    expect(sim.state.branches[branchId]?.parent_id).toBe(preserved?.id)
    expect(run.outputs.branch_id).toBe(branchId)
    expect(run.summary).toContain('its own past')
  })

  it("refuses a point before the branch's own creation, before any change", async () => {
    const { run, requests } = await logged(() =>
      reset(64, {
        branch_name: 'preview/pit-self',
        parent_branch: `^self@${ago(5 * HOUR)}`,
        preserve_under_name: 'preview/pit-self-before-2',
      }),
    )
    expect(run.code).not.toBe(0)
    expect(run.stdout).toContain(`Invalid input 'parent_branch'`)
    expect(mutating(requests)).toEqual([])
  })
})
