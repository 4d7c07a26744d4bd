/**
 * Usage figures through the committed dist/index.js: the `usage` output of create (new and adopted)
 * and delete, the Usage row of the pull request comment and of the job summary, and cleanup's
 * `freed` (real and dry run) with the largest branches in the summary. The simulator's figures
 * (test/sim/usage.ts): a new branch's from its create answer; seeded branches without a compute
 * carry exactly the figures a test sets (sim.setUsage), so nothing here depends on the wall clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeGitHub, type FakeGitHub } from '../fake-github/server.js'
import { runAction, secretLeaks, type ActionRun } from '../helpers/run-action.js'
import { startNeonSimulator, type NeonSimulator } from '../sim/index.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_usagetoken1234567'
const MiB = 2 ** 20
const GiB = 2 ** 30
const DAY = 86_400_000

let sim: NeonSimulator
let gh: FakeGitHub
let projectId: string

beforeAll(async () => {
  sim = await startNeonSimulator({
    operationMs: { create_branch: 40, start_compute: 60, create_timeline: 40, delete_timeline: 40 },
  })
  gh = await startFakeGitHub()
  projectId = sim.createProject({ id: 'usage-e2e-12345678' }).id
})
afterAll(async () => {
  await sim.close()
  await gh.close()
})

function pr(action: string, number: number) {
  return {
    action,
    number,
    pull_request: {
      number,
      title: 'Usage',
      state: action === 'closed' ? 'closed' : 'open',
      head: { ref: `feature/usage-${number}`, sha: 'e'.repeat(40), repo: { full_name: REPO } },
      base: { ref: 'main', repo: { full_name: REPO } },
    },
  }
}

function act(mode: string, payload: unknown, inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    eventName: 'pull_request',
    payload,
    githubApiUrl: gh.url,
    repository: REPO,
    inputs: {
      mode,
      api_key: sim.apiKey,
      project_id: projectId,
      api_host: sim.apiUrl,
      github_token: TOKEN,
      ...inputs,
    },
  })
}

const comment = (n: number): string => gh.commentBodies(REPO, n).at(-1) ?? ''
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

/** A branch without a compute (so its time figures stay as set) carrying these figures. */
function seeded(name: string, figures: Parameters<NeonSimulator['setUsage']>[2], ageDays = 0): string {
  const t = iso(Date.now() - ageDays * DAY)
  const b = sim.addBranch(projectId, { name, withEndpoint: false, createdAt: t, updatedAt: t })
  sim.setUsage(projectId, b.id, figures)
  return b.id
}

const PREVIEW = {
  logicalSize: 1.5 * GiB,
  writtenDataBytes: 120 * MiB,
  dataTransferBytes: 5 * MiB,
  computeTimeSeconds: 7200,
  activeTimeSeconds: 11_160,
}
const PREVIEW_OUTPUT = {
  logical_size_bytes: 1.5 * GiB,
  written_data_bytes: 120 * MiB,
  data_transfer_bytes: 5 * MiB,
  compute_time_seconds: 7200,
  active_time_seconds: 11_160,
}
const PREVIEW_TEXT =
  '1.5 GiB logical size, 2.0 CU-hours of compute, 3.1 h active, 120.0 MiB written, 5.0 MiB transferred'

describe('dist/index.js: the usage output and the Usage row', () => {
  it("create of a new branch: the figures of Neon's create answer (no logical_size there: the key is absent)", async () => {
    const run = await act('create', pr('opened', 61))
    expect(run.code).toBe(0)
    expect(run.outputs.created).toBe('true')
    const usage = JSON.parse(run.outputs.usage!) as Record<string, number>
    expect(usage).toEqual({
      written_data_bytes: 0,
      data_transfer_bytes: 0,
      compute_time_seconds: 0,
      active_time_seconds: 0,
    })
    expect('logical_size_bytes' in usage).toBe(false)
    const row = '| Usage | 0.0 CU-hours of compute, 0.0 h active, 0 B written, 0 B transferred so far'
    expect(comment(61)).toContain(row)
    expect(run.summary).toContain(
      '<td>Usage</td><td>0.0 CU-hours of compute, 0.0 h active, 0 B written, 0 B transferred so far',
    )
    expect(secretLeaks(run, [sim.apiKey, TOKEN])).toEqual([])
  })

  it('create adopting a branch: the figures the listing carried, in the comment and the summary', async () => {
    seeded('preview/usage-adopted', PREVIEW)
    const run = await act('create', pr('synchronize', 62), { branch_name: 'preview/usage-adopted' })
    expect(run.code).toBe(0)
    expect(run.outputs.created).toBe('false')
    expect(JSON.parse(run.outputs.usage!)).toEqual(PREVIEW_OUTPUT)
    expect(comment(62)).toContain(`| Usage | ${PREVIEW_TEXT} so far (as Neon last measured it) |`)
    expect(run.summary).toContain(`<td>Usage</td><td>${PREVIEW_TEXT} so far (as Neon last measured it)</td>`)
  })

  it('delete: what the preview used, read just before the delete', async () => {
    seeded('preview/usage-closed', { ...PREVIEW, logicalSize: 300 * 1024 })
    const run = await act('delete', pr('closed', 63), { branch_name: 'preview/usage-closed' })
    expect(run.code).toBe(0)
    expect(run.outputs.deleted).toBe('true')
    expect(JSON.parse(run.outputs.usage!)).toEqual({ ...PREVIEW_OUTPUT, logical_size_bytes: 300 * 1024 })
    const used =
      'This preview used 300.0 KiB logical size, 2.0 CU-hours of compute, 3.1 h active, 120.0 MiB written, 5.0 MiB transferred'
    expect(comment(63)).toContain(`| Usage | ${used} |`)
    expect(run.summary).toContain(`<td>Usage</td><td>${used}</td>`)
  })

  it('a branch without figures: no output, no row', async () => {
    // A delete of a branch that is not there reads no figures. (A figure Neon omits is absent: the
    // create above, without logical_size, and the sweep below.)
    const run = await act('delete', pr('closed', 64), { branch_name: 'preview/never-made' })
    expect(run.code).toBe(0)
    expect(run.outputs.usage).toBeUndefined()
    expect(comment(64)).not.toContain('| Usage |')
    expect(run.summary).not.toContain('<td>Usage</td>')
  })
})

describe('dist/index.js: what a sweep freed', () => {
  const EVIL = 'sweep/<img src=x onerror=alert(1)>'
  const stale = [
    { name: 'sweep/small', f: { logicalSize: 10 * MiB, computeTimeSeconds: 360, activeTimeSeconds: 1440 } },
    { name: EVIL, f: { logicalSize: 2 * GiB, writtenDataBytes: GiB, dataTransferBytes: 100 } },
    { name: 'sweep/no-size', f: { logicalSize: null, computeTimeSeconds: 3240, activeTimeSeconds: 100 } },
  ]
  const total = {
    branches: 3,
    logical_size_bytes: 2 * GiB + 10 * MiB,
    written_data_bytes: GiB,
    data_transfer_bytes: 100,
    compute_time_seconds: 3600,
    active_time_seconds: 1540,
  }

  beforeAll(() => {
    for (const s of stale) seeded(s.name, s.f, 30)
    // Young: kept, not counted.
    seeded('sweep/young', { logicalSize: 99 * GiB }, 0)
  })

  const sweep = (dryRun: boolean) =>
    runAction({
      eventName: 'schedule',
      payload: { schedule: '0 3 * * *' },
      githubApiUrl: gh.url,
      repository: REPO,
      inputs: {
        mode: 'cleanup',
        api_key: sim.apiKey,
        project_id: projectId,
        api_host: sim.apiUrl,
        cleanup_prefix: 'sweep/',
        cleanup_max_age: '7d',
        dry_run: String(dryRun),
      },
    })

  it('a dry run: what it would free, the sums over the branches it would delete', async () => {
    const run = await sweep(true)
    expect(run.code).toBe(0)
    expect(JSON.parse(run.outputs.stale_branches!)).toHaveLength(3)
    expect(JSON.parse(run.outputs.freed!)).toEqual(total)
    expect(run.summary).toContain('<h4>What the sweep would free</h4>')
    expect(run.summary).toContain(
      '3 branches: 2.0 GiB logical size, 1.0 CU-hours of compute, 0.4 h active, 1.0 GiB written, 100 B transferred',
    )
    expect(run.summary).not.toContain('<img')
  })

  it('the sweep: what it freed, the largest first, names escaped', async () => {
    const run = await sweep(false)
    expect(run.code).toBe(0)
    expect(JSON.parse(run.outputs.deleted_branches!)).toHaveLength(3)
    expect(JSON.parse(run.outputs.freed!)).toEqual(total)
    const s = run.summary
    expect(s).toContain('<h4>What the sweep freed</h4>')
    expect(s).toContain('3 branches: 2.0 GiB logical size')
    // Ranked by logical size; the branch without one is not ranked.
    const table = s.slice(s.indexOf('Largest deleted (by logical size)'))
    expect(table.indexOf('onerror')).toBeGreaterThan(0)
    expect(table.indexOf('onerror')).toBeLessThan(table.indexOf('sweep/small'))
    expect(table).toContain('<td>2.0 GiB</td>')
    expect(table).toContain('<td>10.0 MiB</td>')
    expect(table.slice(0, table.indexOf('</table>'))).not.toContain('sweep/no-size')
    expect(s).not.toContain('<img')
    expect(s).toContain('&#60;img src=x onerror=alert&#40;1&#41;&#62;')
  })
})
