/**
 * `npm run demo`: a pull request's life, run exactly as a GitHub runner would run the action (the
 * committed dist/index.js as a child process, inputs as INPUT_* variables, the event as a file),
 * against the embedded Neon simulator and a fake GitHub API on 127.0.0.1. Exits non-zero when any
 * step does not behave as documented, so CI runs it too.
 */
import { startFakeGitHub, type FakeGitHub } from '../test/fake-github/server.js'
import { runAction, runPost, secretLeaks, type ActionRun } from '../test/helpers/run-action.js'
import { startNeonSimulator, type NeonSimulator } from '../test/sim/index.js'
import { writePictureSources } from './pictures.js'
import { migrateThroughOutputs, queryThroughOutputs, seedParent } from './real-postgres.js'

const REPO = 'octo-org/shop'
const failures: string[] = []

function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failures.push(what)
}

/** Shows a run as a user would see it in the Actions UI: masked values replaced by ***. */
function show(title: string, run: ActionRun, ms: number): void {
  const mask = (s: string) =>
    run.masked.filter((m) => m.length > 0).reduce((acc, m) => acc.split(m).join('***'), s)
  console.log(`\n=== ${title} (exit ${run.code}, ${ms} ms)`)
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('::add-mask::') || line.startsWith('::debug::') || line.trim() === '') continue
    console.log(`  | ${mask(line)}`)
  }
  console.log('  outputs:')
  for (const [k, v] of Object.entries(run.outputs)) console.log(`    ${k} = ${mask(v)}`)
  const summary = run.summary
    .replace(/<\/(tr|h\d)>/g, '\n')
    .replace(/<\/t[hd]>/g, ' | ')
    .replace(/<[^>]+>/g, '')
    .replace(/\n+/g, '\n')
    .trim()
  console.log(
    `  job summary:\n${summary
      .split('\n')
      .map((l) => `    ${mask(l)}`)
      .join('\n')}`,
  )
}

async function main(): Promise<void> {
  const realPostgres = process.argv.includes('--real-postgres')
  // `--pictures DIR` (scripts/docs-images.ts): stop once the comment and summary docs/images/ shows exist.
  const pictures = process.argv.indexOf('--pictures')
  const picturesDir = pictures > 0 ? process.argv[pictures + 1] : undefined
  const sim = await startNeonSimulator({
    latencyMs: 5,
    operationMs: { create_branch: 300, start_compute: 500 },
    postgres: realPostgres,
  })
  const gh = await startFakeGitHub()
  const project = sim.createProject({ id: 'demo-project-12345678', name: 'shop' })
  console.log(`Neon simulator at ${sim.apiUrl}, project ${project.id}; fake GitHub API at ${gh.url}`)
  if (realPostgres) await seedParent(sim, project.id)

  const payload = (action: string, pr = 42) => ({
    action,
    number: pr,
    pull_request: {
      number: pr,
      title: pr === 42 ? 'Checkout: pay with vouchers' : `Pull request ${pr}`,
      head: {
        ref: pr === 42 ? 'feature/Vouchers' : `feature-${pr}`,
        sha: '1'.repeat(40),
        repo: { full_name: REPO },
      },
      base: { ref: 'main', repo: { full_name: REPO } },
    },
  })
  const step = async (
    title: string,
    eventName: string,
    action: string,
    inputs: Record<string, string>,
    on: { projectId?: string; pr?: number } = {},
  ) => {
    const t = Date.now()
    const logStart = sim.log.length
    const pr = on.pr ?? 42
    const run = await runAction({
      eventName,
      payload: eventName.startsWith('pull_request') ? payload(action, pr) : {},
      repository: REPO,
      githubApiUrl: gh.url,
      inputs: {
        api_key: sim.apiKey,
        project_id: on.projectId ?? project.id,
        api_host: sim.apiUrl,
        github_token: 'ghs_demo_token_0123',
        ...inputs,
      },
    })
    show(title, run, Date.now() - t)
    if (eventName.startsWith('pull_request')) {
      const comment = gh.comments.get(`${REPO}#${pr}`)?.at(-1)?.body
      console.log(
        `  the pull request comment now:\n${(comment ?? '(none)')
          .split('\n')
          .map((l) => `    > ${l}`)
          .join('\n')}`,
      )
    }
    const byRoute = new Map<string, number>()
    for (const l of sim.log.slice(logStart))
      byRoute.set(String(l.route), (byRoute.get(String(l.route)) ?? 0) + 1)
    console.log(`  Neon API requests: ${sim.log.length - logStart}`)
    for (const [route, n] of byRoute) console.log(`    ${String(n).padStart(3)}  ${route}`)
    const secrets = [
      sim.apiKey,
      'ghs_demo_token_0123',
      run.outputs.password ?? '',
      run.outputs.db_url ?? '',
      run.outputs.db_url_pooled ?? '',
    ]
    check(secretLeaks(run, secrets).length === 0, 'no secret printed outside its ::add-mask:: line')
    return run
  }

  const opened = await step('pull_request opened → mode auto picks create', 'pull_request', 'opened', {
    mode: 'auto',
  })
  check(opened.code === 0, 'create succeeds')
  check(opened.outputs.created === 'true', 'the branch is created')
  check(
    opened.outputs.branch_name === 'preview/pr-42-feature/vouchers',
    'named preview/pr-42-feature/vouchers',
  )
  const id = opened.outputs.branch_id ?? ''
  check(sim.state.branches[id]?.current_state === 'ready', 'the branch is ready when the step ends')
  if (realPostgres) await queryThroughOutputs(sim, project.id, opened, check)

  // What Neon would have measured after a day of reviews (the simulator's model counts only the few
  // seconds the demo's compute has been up, test/sim/usage.ts): the comment's Usage row, and the
  // picture docs/images/comment.png, show figures a preview really has.
  sim.setUsage(project.id, id, {
    computeTimeSeconds: 9_000,
    activeTimeSeconds: 41_400,
    writtenDataBytes: 125_829_120,
    dataTransferBytes: 5_242_880,
  })

  const pushed = await step(
    'pull_request synchronize → auto: create (adopts)',
    'pull_request',
    'synchronize',
    {
      mode: 'auto',
      expires_in: '7d',
    },
  )
  check(pushed.code === 0 && pushed.outputs.created === 'false', 'the next push adopts the branch')
  check(
    pushed.outputs.branch_id === id && pushed.outputs.db_url === opened.outputs.db_url,
    'same branch, same URL',
  )

  // The workflow's next steps: the migrations, then schema-diff adds what they did to the comment.
  if (realPostgres) await migrateThroughOutputs(sim, pushed)
  else {
    // Without a real database the migration's result is set through the simulator's API.
    const before =
      'CREATE TABLE public.vouchers (\n    code text NOT NULL,\n    percent integer NOT NULL\n);\n'
    sim.setSchema(project.id, project.defaultBranchId, 'neondb', before)
    sim.setSchema(
      project.id,
      id,
      'neondb',
      before.replace('NOT NULL\n);', 'NOT NULL,\n    expires_on date\n);'),
    )
  }
  const diffed = await step('after the migrations → schema-diff', 'pull_request', 'synchronize', {
    mode: 'schema-diff',
  })
  check(diffed.code === 0 && diffed.outputs.schema_changed === 'true', 'schema-diff sees the migration')
  check(/^\+\s+expires_on date/m.test(diffed.outputs.schema_diff ?? ''), 'the new column is in schema_diff')
  const sticky = gh.comments.get(`${REPO}#42`) ?? []
  check(
    sticky.length === 1 &&
      /Schema changes/.test(sticky[0]?.body ?? '') &&
      /🟢 ready/.test(sticky[0]?.body ?? ''),
    'one comment: the branch section and the Schema changes section',
  )
  if (picturesDir) {
    const secrets = [
      sim.apiKey,
      'ghs_demo_token_0123',
      opened.outputs.password ?? '',
      opened.outputs.db_url ?? '',
    ]
    check(
      writePictureSources(picturesDir, { comment: sticky[0]?.body ?? '', summary: opened.summary }, secrets),
      `the comment and the summary written to ${picturesDir}, without a secret`,
    )
    return finish(sim, gh)
  }

  const reset = await step('pull_request labeled reset-db → reset', 'pull_request', 'labeled', {
    mode: 'reset',
  })
  check(reset.code === 0, 'reset succeeds')
  check(
    reset.outputs.branch_id === id && reset.outputs.db_url === opened.outputs.db_url,
    'reset keeps the branch id, host and password',
  )

  const dry = await step('workflow_dispatch → create, dry run', 'workflow_dispatch', '', {
    mode: 'create',
    branch_name: 'preview/manual-check',
    dry_run: 'true',
  })
  check(
    dry.code === 0 && !Object.values(sim.state.branches).some((b) => b.name === 'preview/manual-check'),
    'a dry run changes nothing',
  )

  const closed = await step('pull_request closed → auto: delete', 'pull_request', 'closed', { mode: 'auto' })
  check(closed.code === 0 && closed.outputs.deleted === 'true', 'closing the PR deletes the branch')
  check(sim.state.branches[id]?.deleted === true, 'the branch is gone from Neon')
  check(
    (JSON.parse(closed.outputs.recoverable_until ?? '{}') as Record<string, string | null>)[
      opened.outputs.branch_name ?? ''
    ] != null,
    'the delete says until when the branch can be recovered',
  )
  const reopened = await step(
    'pull_request reopened → auto: create recovers it',
    'pull_request',
    'reopened',
    {
      mode: 'auto',
    },
  )
  check(reopened.code === 0 && reopened.outputs.recovered === 'true', 'reopening recovers the deleted branch')
  check(
    reopened.outputs.branch_id === id &&
      reopened.outputs.db_host === opened.outputs.db_host &&
      reopened.outputs.password === opened.outputs.password,
    'the same branch, host and password: the URL the preview holds works again',
  )
  const reclosed = await step('pull_request closed again → auto: delete', 'pull_request', 'closed', {
    mode: 'auto',
  })
  check(reclosed.code === 0 && reclosed.outputs.deleted === 'true', 'closing again deletes it again')
  const again = await step('pull_request closed, re-run → delete', 'pull_request', 'closed', {
    mode: 'delete',
  })
  check(again.code === 0 && again.outputs.deleted === 'false', 'deleting twice is fine: deleted=false')
  const comments = gh.comments.get(`${REPO}#42`) ?? []
  check(comments.length === 1, 'one pull request comment, updated in place through the whole life')
  check(
    !comments.some((c) =>
      [opened.outputs.password, opened.outputs.db_url].some((x) => x && c.body.includes(x)),
    ),
    'no secret in the comment',
  )

  // CI: a test job with a matrix of three shards, each with a database of its own (ephemeral: true),
  // deleted by the action's post step when the job ends, as the runner runs it.
  console.log('\n=== CI job "test", matrix shard 1..3, ephemeral: true (main steps, side by side)')
  const shards = [1, 2, 3]
  const ciInputs = (shard: number) => ({
    mode: 'create',
    ephemeral: 'true',
    api_key: sim.apiKey,
    project_id: project.id,
    api_host: sim.apiUrl,
    github_token: 'ghs_demo_token_0123',
    branch_name: `ci/run-4242-1-${shard}`,
  })
  const ciStart = Date.now()
  const ghBefore = gh.requests.length
  const mains = await Promise.all(
    shards.map((shard) =>
      runAction({ eventName: 'push', repository: REPO, githubApiUrl: gh.url, inputs: ciInputs(shard) }),
    ),
  )
  mains.forEach((m, i) => show(`shard ${shards[i]}: main step`, m, Date.now() - ciStart))
  check(
    mains.every((m) => m.code === 0 && m.outputs.created === 'true'),
    'every shard gets a branch of its own',
  )
  check(new Set(mains.map((m) => m.outputs.db_url)).size === 3, 'three different databases')
  const ciLive = () =>
    Object.values(sim.state.branches).filter((b) => b.name.startsWith('ci/run-4242-') && !b.deleted)
  check(ciLive().length === 3, 'three ephemeral branches while the job runs')
  for (const [i, m] of mains.entries()) {
    const t = Date.now()
    const post = await runPost(m)
    show(`shard ${shards[i]}: post step (the job has ended)`, post, Date.now() - t)
    check(post.code === 0, `shard ${shards[i]}'s post step succeeds`)
    check(
      ciLive().length === shards.length - i - 1 && !ciLive().some((b) => b.id === m.outputs.branch_id),
      `shard ${shards[i]}'s post step deletes its own branch, and only that one`,
    )
    check(
      secretLeaks(m, [sim.apiKey, m.outputs.password ?? '', m.outputs.db_url ?? '']).length === 0 &&
        secretLeaks(post, [sim.apiKey]).length === 0,
      'no secret printed in main or post',
    )
  }
  check(gh.requests.length === ghBefore, 'no GitHub request (no pull request comment) from the CI jobs')

  // A project that has collected leaked branches over time, swept by the nightly schedule.
  const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
  gh.addPull(REPO, { number: 7, state: 'closed', merged: true })
  gh.addPull(REPO, { number: 8, state: 'open' })
  const tie = (n: number) => ({ 'github-pr-number': String(n), 'github-repo': REPO })
  sim.addBranch(project.id, {
    name: 'preview/pr-7-merged-long-ago',
    annotations: tie(7),
    updatedAt: daysAgo(3),
  })
  sim.addBranch(project.id, { name: 'preview/pr-8-still-open', annotations: tie(8), updatedAt: daysAgo(20) })
  sim.addBranch(project.id, {
    name: 'preview/pr-9-pr-was-deleted',
    annotations: tie(9),
    updatedAt: daysAgo(2),
  })
  sim.addBranch(project.id, { name: 'preview/nightly-seed', updatedAt: daysAgo(12) })
  sim.addBranch(project.id, { name: 'preview/yesterday', updatedAt: daysAgo(1) })
  sim.addBranch(project.id, { name: 'staging', updatedAt: daysAgo(90) })
  // A CI job whose runner died before its post step: its run has completed since.
  gh.addRun(REPO, { id: 4100, status: 'completed', conclusion: 'failure' })
  gh.addRun(REPO, { id: 4300, status: 'in_progress' })
  const ephemeralOf = (run: string) => ({
    'github-ephemeral': 'true',
    'github-run-id': run,
    'github-job': 'test',
    'github-repo': REPO,
  })
  sim.addBranch(project.id, { name: 'ci/run-4100-1-2', annotations: ephemeralOf('4100') })
  sim.addBranch(project.id, { name: 'ci/run-4300-1-1', annotations: ephemeralOf('4300') })
  const sweep = await step('schedule → auto: cleanup', 'schedule', '', { mode: 'auto' })
  const swept = JSON.parse(sweep.outputs.deleted_branches ?? '[]') as string[]
  check(sweep.code === 0, 'the sweep succeeds')
  check(
    JSON.stringify(swept.sort()) ===
      JSON.stringify([
        'ci/run-4100-1-2',
        'preview/nightly-seed',
        'preview/pr-7-merged-long-ago',
        'preview/pr-9-pr-was-deleted',
      ]),
    "it deletes the merged, the missing and the old untied branches, and the dead CI job's branch",
  )
  check(
    ['preview/pr-8-still-open', 'preview/yesterday', 'staging', 'main', 'ci/run-4300-1-1'].every((n) =>
      Object.values(sim.state.branches).some((b) => b.name === n && !b.deleted),
    ),
    "it keeps the open PR, the young branch, a running CI job's branch, and everything outside the prefix",
  )

  // A free-plan project (10 branches) that is full: main, five open pull requests, two of merged or
  // closed ones that the delete workflow missed, and a young scratch branch.
  const full = sim.createProject({ id: 'full-project-87654321', name: 'full', branchLimit: 'free' })
  const fullNames: [string, number | undefined, 'open' | 'closed' | undefined, number][] = [
    ['preview/pr-60-search', 60, 'closed', 25],
    ['preview/pr-61-cart', 61, 'open', 20],
    ['preview/pr-62-banner', 62, 'closed', 9],
    ['preview/pr-63-i18n', 63, 'open', 8],
    ['preview/pr-64-tax', 64, 'open', 6],
    ['preview/pr-65-api', 65, 'open', 4],
    ['preview/pr-66-perf', 66, 'open', 3],
    ['preview/pr-67-docs', 67, 'open', 2],
    ['preview/scratch', undefined, undefined, 1],
  ]
  for (const [name, n, state, age] of fullNames) {
    if (n !== undefined && state) gh.addPull(REPO, { number: n, state, merged: n === 60 })
    sim.addBranch(full.id, {
      name,
      updatedAt: daysAgo(age),
      ...(n !== undefined ? { annotations: tie(n) } : {}),
    })
  }
  gh.addPull(REPO, { number: 70, state: 'open' })
  const fullCount = () =>
    Object.values(sim.state.branches).filter((b) => b.project_id === full.id && !b.deleted)
  console.log(`
Project ${full.id} is on the free plan: ${fullCount().length} of 10 branches.`)
  const refused = await step(
    'pull_request opened on a full project → create fails, naming what holds the quota',
    'pull_request',
    'opened',
    { mode: 'auto' },
    { projectId: full.id, pr: 70 },
  )
  check(refused.code === 1, 'the create fails at the branch limit')
  check(
    /10 of 10 branches/.test(refused.stdout) && /preview\/pr-60-search/.test(refused.stdout),
    'the failure says the limit, the count and the stale branches cleanup would delete',
  )
  check(fullCount().length === 10, 'nothing was deleted')
  const roomy = await step(
    'pull_request reopened, on_branch_limit: make-room → deletes the oldest stale branch, creates',
    'pull_request',
    'reopened',
    { mode: 'auto', on_branch_limit: 'make-room' },
    { projectId: full.id, pr: 70 },
  )
  check(
    roomy.code === 0 && roomy.outputs.created === 'true',
    'make-room frees a place and creates the branch',
  )
  check(
    roomy.outputs.deleted_branches === JSON.stringify(['preview/pr-60-search']),
    'exactly one branch went: the oldest stale one (the merged PR 60)',
  )
  check(
    fullCount().length === 10 && fullCount().some((b) => b.name === 'preview/pr-62-banner'),
    'the project is at 10 again; the other stale branch is kept for the nightly sweep',
  )

  const bad = await step('a typo in an input fails before any API call', 'pull_request', 'opened', {
    mode: 'create',
    ssl: 'required',
  })
  check(bad.code === 1, 'the step fails, naming the input')

  await finish(sim, gh)
}

async function finish(sim: NeonSimulator, gh: FakeGitHub): Promise<void> {
  const calls = sim.log.length
  console.log(`\nNeon API requests in all: ${calls}; GitHub API requests: ${gh.requests.length}`)
  await sim.close()
  await gh.close()
  if (failures.length > 0) {
    console.error(`\nDemo FAILED: ${failures.length} check(s) did not hold:\n- ${failures.join('\n- ')}`)
    process.exit(1)
  }
  console.log('\nDemo passed: every step behaved as documented.')
}

await main()
