import * as core from '@actions/core'
import { OUTPUTS, SECRET_INPUTS } from './constants.js'
import { chooseAutoMode, refuseCreateOnClosed } from './github/auto-mode.js'
import { resolveBranchName } from './github/branch-target.js'
import { upsertStickyComment, type CommentOutcome } from './github/comment.js'
import { commentMarker, renderComment, statusOf, type CommentStatus } from './github/comment-body.js'
import { readRunContext, type RunContext } from './github/context.js'
import { REPORT_GRACE_MS } from './github/deadline.js'
import type { GitHubClient, GitHubStats } from './github/octokit.js'
import { restPullLookup, type PullsApi } from './github/pulls.js'
import { restRunLookup, type RunsApi } from './github/runs.js'
import { getInputs, InputError, type Inputs, type Mode } from './inputs.js'
import { cleanupMode } from './modes/cleanup/index.js'
import { createMode } from './modes/create.js'
import { deleteMode } from './modes/delete.js'
import { recoverMode } from './modes/recover.js'
import { resetMode } from './modes/reset.js'
import { ModeError, type EphemeralRecorder, type ModeDeps, type ModeResult } from './modes/types.js'
import { schemaDiffMode } from './modes/schema-diff.js'
import { recoverableUntilOutput } from './modes/undo.js'
import { adviceFor, isAuthFailure, isProjectNotFound } from './neon/advice.js'
import { NeonClient } from './neon/client.js'
import { formatComputeUnits } from './neon/compute-units.js'
import { runPost } from './post.js'
import { isPostRun, markMainRan, saveEphemeralRecord, type EphemeralRecord } from './state.js'
import { renderSummary, writeSummary, type SummaryView } from './summary.js'
import { cancellable, type Cancellation } from './util/cancel.js'
import { systemClock, type Clock } from './util/clock.js'
import { logLines } from './util/log-text.js'
import { redactStrings } from './util/redact-deep.js'
import { ACTION_NAME, ACTION_VERSION } from './version.js'
import { coreLogger, group } from './log.js'

/** Test seams: the end-to-end tests run dist/index.js as it is, so these stay defaults there. */
export interface RunOptions {
  clock?: Clock
  env?: NodeJS.ProcessEnv
}

type ConcreteMode = Exclude<Mode, 'auto'>

/** What the run has learned so far; a failure at any point reports with whatever is known. */
interface RunState {
  context?: RunContext
  inputs?: Inputs
  mode?: ConcreteMode
  autoBecause?: string
  /** The branch as targeted (name or id): the comment's marker is built from it. */
  target?: string
  neon?: NeonClient
  /** Set once the GitHub client is built (on first use), for the summary's request count. */
  github?: { octokit: GitHubClient; stats: GitHubStats }
  /** The client being built: Octokit is loaded on first use only (see github()). */
  githubLoading?: Promise<GitHubClient>
  /** The step's deadline (epoch ms), once the inputs are read. */
  deadline?: number
  /** Set once the work is over and the run reports: GitHub requests then get REPORT_GRACE_MS more. */
  reporting?: boolean
}

const USER_AGENT = `${ACTION_NAME}/${ACTION_VERSION} (+https://github.com/features/actions)`
// Values shorter than this are not redacted from summaries and comments (it would garble them); no real
// key, token or generated password is that short.
const MIN_REDACT_LENGTH = 4

/**
 * The action: read inputs, build clients, run the mode, publish its result (outputs, the pull
 * request comment, the job summary). The one place that calls core.setFailed. The same bundle is
 * the post step (state.ts says how it knows), which deletes an ephemeral branch (post.ts).
 */
export async function run(opts: RunOptions = {}): Promise<void> {
  const clock = opts.clock ?? systemClock
  const { maskSecret, redact } = secretMasker()
  // Mask the credentials before anything can print them, even a failed validation.
  for (const name of SECRET_INPUTS) maskSecret(core.getInput(name))
  if (isPostRun()) return postStep(clock, maskSecret)
  const state: RunState = {}
  let stopSignals = (): void => {}
  try {
    // First, before anything else can fail: the post run must be able to tell it is one.
    markMainRan()
    const context = readRunContext(opts.env)
    state.context = context
    // Validation comes before any call. An empty key is let through only on a fork's pull request,
    // which is then skipped below.
    const inputs = getInputs(undefined, () => new Date(clock.now()), {
      allowEmptyApiKey: context.pullRequest?.fromFork === true,
      ...autoModeHint(context),
    })
    state.inputs = inputs
    const choice = inputs.mode === 'auto' ? chooseAutoMode(context) : undefined
    const mode = choice?.mode ?? (inputs.mode as ConcreteMode)
    state.mode = mode
    state.autoBecause = choice?.because
    refuseCreateOnClosed(mode, inputs.ephemeral, context)
    coreLogger.info(
      `Mode: ${mode}${choice ? ` (chosen by mode: auto for the '${choice.because}' event)` : ''}`,
    )

    if (inputs.apiKey === '') {
      await skipFork(state, context)
      return
    }
    if (mode !== 'cleanup') state.target = resolveBranchName(inputs, context)

    // An ephemeral create stops waiting on SIGINT/SIGTERM (the runner cancelling the job); what it
    // created is already recorded for the post step, which deletes it.
    const ephemeral = inputs.ephemeral && mode === 'create' && !inputs.dryRun
    const cancellation = ephemeral ? cancellable(clock) : undefined
    if (cancellation) stopSignals = onSignals(cancellation)
    const deps = modeDeps(state, inputs, context, clock, cancellation, maskSecret)
    if (ephemeral) deps.ephemeral = stateRecorder(inputs)
    const result = await runMode(mode, deps, inputs)
    await publish(state, clock, redact, maskSecret, result)
  } catch (e) {
    await reportFailure(state, clock, redact, e)
  } finally {
    stopSignals()
  }
}

/**
 * `maskSecret` masks a value in the log, in its raw and its percent-encoded form (the form a URL
 * carries), and remembers it; `redact` scrubs every value remembered from a text, longest first.
 */
function secretMasker(): { maskSecret: (value: string) => void; redact: (text: string) => string } {
  const secrets = new Set<string>()
  const maskSecret = (value: string): void => {
    if (!value) return
    for (const form of new Set([value, encodeURIComponent(value)])) {
      core.setSecret(form)
      secrets.add(form)
    }
  }
  // Masking only hides values in the log; the comment and the summary are written as they are, so
  // whatever text reaches them is scrubbed of every secret seen, longest first.
  const redact = (text: string): string =>
    [...secrets]
      .filter((x) => x.length >= MIN_REDACT_LENGTH)
      .sort((a, b) => b.length - a.length)
      .reduce((acc, x) => acc.split(x).join('***'), text)
  return { maskSecret, redact }
}

/** The post step (post.ts): deletes an ephemeral branch; a failure fails the step. */
async function postStep(clock: Clock, maskSecret: (value: string) => void): Promise<void> {
  let neon: NeonClient | undefined
  try {
    await runPost({
      clock,
      userAgent: USER_AGENT,
      log: coreLogger,
      maskSecret,
      onClient: (n) => (neon = n),
    })
  } catch (e) {
    if (e instanceof Error && e.stack) core.debug(logLines(e.stack))
    const requests = neon ? `\n(${neon.stats.requests} Neon API requests, ${neon.stats.retries} retried)` : ''
    core.setFailed(logLines(`${e instanceof Error ? e.message : String(e)}${requests}`))
  }
}

/** What the mode gets: the Neon client, the clock, and the GitHub look-ups when there is a token. */
function modeDeps(
  state: RunState,
  inputs: Inputs,
  context: RunContext,
  clock: Clock,
  cancellation: ReturnType<typeof cancellable> | undefined,
  maskSecret: (value: string) => void,
): ModeDeps {
  // One deadline for everything the step does: every wait, every retry and Retry-After, the
  // project lock, every delete of a sweep.
  const deadline = clock.now() + inputs.timeoutMs
  state.deadline = deadline
  const neon = new NeonClient({
    apiKey: inputs.apiKey,
    apiHost: inputs.apiHost,
    userAgent: USER_AGENT,
    clock: cancellation?.clock ?? clock,
    onSecret: maskSecret,
    debug: coreLogger.debug,
    info: coreLogger.info,
    deadline,
    ...(cancellation ? { cancelled: () => cancellation.reason } : {}),
  })
  state.neon = neon
  const deps: ModeDeps = {
    neon,
    clock: cancellation?.clock ?? clock,
    context,
    log: coreLogger,
    setSecret: maskSecret,
    deadline,
  }
  // For cleanup: pull request and workflow run states. Built here, they make no request (and do
  // not load Octokit) until a mode asks.
  if (inputs.githubToken && context.repository) {
    const octokit = () => github(state, inputs, context)
    const pullsApi: PullsApi = {
      rest: {
        pulls: {
          get: async (p) => (await octokit()).rest.pulls.get(p),
          list: async (p) => (await octokit()).rest.pulls.list(p),
        },
      },
    }
    const runsApi: RunsApi = {
      rest: {
        actions: {
          getWorkflowRun: async (p) => (await octokit()).rest.actions.getWorkflowRun(p),
          listWorkflowRunsForRepo: async (p) => (await octokit()).rest.actions.listWorkflowRunsForRepo(p),
        },
      },
    }
    deps.pulls = restPullLookup(pullsApi, context.repository)
    deps.runs = restRunLookup(runsApi, context.repository)
  }
  return deps
}

/** Outputs, the changes in the log, the comment and the summary; failed steps fail the run. */
async function publish(
  state: RunState,
  clock: Clock,
  redact: (text: string) => string,
  maskSecret: (value: string) => void,
  result: ModeResult,
): Promise<void> {
  state.reporting = true
  publishOutputs(result, maskSecret)
  for (const change of result.changes)
    coreLogger.info(`${state.inputs?.dryRun ? 'Dry run' : 'Changed'}: ${change}`)
  const comment = await updateComment(state, clock, redact, statusOf(result), { result })
  // Redacted on the plain text (before escaping), and the rendered text again besides.
  await writeSummary(redact(renderSummary(redactStrings({ ...summaryBase(state, comment), result }, redact))))
  if (result.failures?.length) {
    core.setFailed(
      logLines(
        `${state.mode} finished, but ${result.failures.length} of its steps failed:\n- ${result.failures.join('\n- ')}`,
      ),
    )
  }
}

/** Fails the step with the whole message, and tells the comment and the summary its public form. */
async function reportFailure(
  state: RunState,
  clock: Clock,
  redact: (text: string) => string,
  e: unknown,
): Promise<void> {
  state.reporting = true
  const message = describeFailure(e, state.neon, state.inputs?.ephemeral === true)
  core.setFailed(logLines(message))
  // The comment and the summary get the public form of the message: without what Neon marks
  // x-sensitive (the status message of a failed masking can name masked columns).
  const shown = publicForm(e, message)
  try {
    // Before Neon has taken the key and the project, the run knows no branch: a comment would be
    // one no later run finds (its marker holds the wrong project) and stays on the pull request.
    const comment = failedBeforeBranch(e)
      ? 'not written: the run failed before it knew the branch (the log and this summary carry the error)'
      : await updateComment(state, clock, redact, 'failed', { error: redact(shown) })
    await writeSummary(
      redact(renderSummary(redactStrings({ ...summaryBase(state, comment), error: shown }, redact))),
    )
  } catch (e2) {
    coreLogger.warning(`Could not report the failure in the comment or summary: ${(e2 as Error).message}`)
  }
}

/** A bad input, a key Neon refuses (401), a project it does not know (404): no branch is known yet. */
function failedBeforeBranch(e: unknown): boolean {
  return e instanceof InputError || isAuthFailure(e) || isProjectNotFound(e)
}

/**
 * The first SIGINT or SIGTERM stops every wait (the runner sends SIGINT, then SIGTERM about 7.5 s
 * later, then kills the step); a second one exits at once: everything worth keeping is already in
 * the state file. Returns the function that removes the handlers.
 */
function onSignals(cancellation: Cancellation): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    if (cancellation.reason !== undefined) {
      core.warning(`${signal} again: exiting now. The post step deletes what this step created.`)
      process.exit(1)
    }
    core.warning(
      `${signal}: the job is being cancelled. Stopping; the post step deletes what this step created.`,
    )
    cancellation.cancel(signal)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}

/** Records, through core.saveState, what the post step must delete, each time create learns more. */
function stateRecorder(inputs: Inputs): EphemeralRecorder {
  let record: EphemeralRecord | undefined
  const save = (r: EphemeralRecord | undefined): void => {
    record = r
    saveEphemeralRecord(r)
  }
  return {
    creating: (name, key) =>
      save({ projectId: inputs.projectId, apiHost: inputs.apiHost, name, key, timeoutMs: inputs.timeoutMs }),
    created: (branch, operationIds) => {
      if (record) save({ ...record, name: branch.name, branchId: branch.id, operationIds })
    },
    nothing: () => save(undefined),
  }
}

/**
 * Fork pull requests get no secrets under `pull_request`: there is nothing to do, and failing every
 * contributor's pull request would be worse. No Neon request and no GitHub request is made.
 */
async function skipFork(state: RunState, context: RunContext): Promise<void> {
  const pr = context.pullRequest
  const why =
    `pull request #${pr?.number ?? '?'} comes from a fork (${pr?.headRepo ?? 'a deleted repository'}), ` +
    `and GitHub gives no secrets to pull_request runs from forks, so api_key is empty`
  coreLogger.notice(
    `Skipping: ${why}. No Neon branch was created or changed. To give fork pull requests a branch, ` +
      `run on pull_request_target with care (it runs with secrets), or review and re-run from a branch ` +
      `of this repository.`,
  )
  core.setOutput(OUTPUTS.skipped, 'true')
  await writeSummary(renderSummary({ mode: state.mode, autoBecause: state.autoBecause, skipped: why }))
}

/** `auto` is resolved by chooseAutoMode; this runs a concrete mode. */
async function runMode(mode: ConcreteMode, deps: ModeDeps, inputs: Inputs): Promise<ModeResult> {
  switch (mode) {
    case 'create':
      return group(`Create or adopt the preview branch`, () => createMode(deps, inputs))
    case 'reset':
      return group('Reset the preview branch', () => resetMode(deps, inputs))
    case 'delete':
      return group('Delete the preview branch', () => deleteMode(deps, inputs))
    case 'cleanup':
      return group('Sweep stale preview branches', () => cleanupMode(deps, inputs))
    case 'schema-diff':
      return group('Compare the schema with the parent', () => schemaDiffMode(deps, inputs))
    case 'recover':
      return group('Recover the deleted branch', () => recoverMode(deps, inputs))
  }
}

/**
 * The GitHub client, built once and only when something needs it. Octokit and its plugins are
 * loaded here, not at start-up: most runs need them only for the comment, after the Neon work, and
 * evaluating them delayed the first Neon request (issue 17). The import stays in the one bundle
 * (webpackMode "eager": no chunk file, the module is evaluated on first use only).
 */
function github(state: RunState, inputs: Inputs, context: RunContext): Promise<GitHubClient> {
  state.githubLoading ??= import(/* webpackMode: "eager" */ './github/octokit.js').then(
    ({ createGitHubClient }) => {
      state.github = createGitHubClient({
        token: inputs.githubToken,
        baseUrl: context.apiUrl,
        userAgent: USER_AGENT,
        log: { debug: coreLogger.debug, warning: coreLogger.warning },
        ...(state.deadline !== undefined ? { deadline: () => githubDeadline(state) } : {}),
      })
      return state.github.octokit
    },
  )
  return state.githubLoading
}

/** When GitHub requests stop: the step's deadline, plus the report's one grace (deadline.ts). */
function githubDeadline(state: RunState): number {
  return (state.deadline ?? Infinity) + (state.reporting ? REPORT_GRACE_MS : 0)
}

/**
 * Keeps the pull request comment up to date, when there is one to keep: on a pull request event,
 * with `comment: true`, for create, reset, delete and schema-diff, not in a dry run (schema-diff
 * changes nothing, so it writes its section in a dry run too). Returns what happened, or why
 * nothing was written; never throws.
 */
async function updateComment(
  state: RunState,
  clock: Clock,
  redact: (text: string) => string,
  status: CommentStatus,
  content: { result?: ModeResult; error?: string },
): Promise<CommentOutcome | string | undefined> {
  const { inputs, context, mode, target } = state
  const pr = context?.pullRequest
  if (!inputs || !context || !pr || !mode || target === undefined) return undefined
  if (!inputs.comment) return 'off (comment: false)'
  if (mode === 'cleanup') return undefined
  if (inputs.dryRun && mode !== 'schema-diff') return 'not written in a dry run'
  if (!inputs.githubToken) {
    coreLogger.warning(`No github_token: the pull request comment was not written.`)
    return 'not written: no github_token'
  }
  // Rendered against the comment as it stands, so the sections this run does not own are kept.
  const body = (existing: string | undefined): string =>
    redact(
      renderComment({
        status,
        projectId: inputs.projectId,
        target,
        mode,
        ...redactStrings(content, redact),
        context,
        now: clock.now(),
        producer: `${ACTION_NAME} ${ACTION_VERSION}`,
        ...(existing !== undefined ? { existing } : {}),
      }),
    )
  return group('Update the pull request comment', async () =>
    upsertStickyComment({
      octokit: await github(state, inputs, context),
      repository: pr.baseRepo ?? context.repository,
      issueNumber: pr.number,
      marker: commentMarker(inputs.projectId, target),
      body,
      log: coreLogger,
    }),
  )
}

function summaryBase(state: RunState, comment: CommentOutcome | string | undefined): SummaryView {
  return {
    mode: state.mode,
    autoBecause: state.autoBecause,
    target: state.target,
    dryRun: state.inputs?.dryRun,
    ...(state.inputs?.ephemeral ? { ephemeral: true } : {}),
    ...(state.context?.repository ? { repository: state.context.repository } : {}),
    ...(state.context?.workflowFile ? { workflowFile: state.context.workflowFile } : {}),
    ...(state.neon ? { neon: state.neon.stats } : {}),
    ...(state.github ? { github: state.github.stats } : {}),
    ...(comment !== undefined ? { comment } : {}),
  }
}

function publishOutputs(r: ModeResult, maskSecret: (value: string) => void): void {
  const set = (name: string, value: string | boolean | undefined): void => {
    if (value !== undefined) core.setOutput(name, typeof value === 'boolean' ? String(value) : value)
  }
  if (r.connection) {
    // Masked already at receipt; again here so no output can ever be set unmasked.
    maskSecret(r.connection.password)
    maskSecret(r.connection.urls.dbUrl)
    maskSecret(r.connection.urls.dbUrlPooled)
  }
  set(OUTPUTS.branchId, r.branch?.id)
  set(OUTPUTS.branchName, r.branch?.name)
  set(OUTPUTS.expiresAt, r.branch ? (r.branch.expiresAt ?? '') : undefined)
  set(OUTPUTS.created, r.created)
  set(OUTPUTS.recovered, r.recovered)
  set(OUTPUTS.dbUrl, r.connection?.urls.dbUrl)
  set(OUTPUTS.dbUrlPooled, r.connection?.urls.dbUrlPooled)
  set(OUTPUTS.dbHost, r.connection?.urls.host)
  set(OUTPUTS.dbHostPooled, r.connection?.urls.hostPooled)
  set(OUTPUTS.password, r.connection?.password)
  set(OUTPUTS.role, r.connection?.role)
  set(OUTPUTS.database, r.connection?.database)
  set(OUTPUTS.endpointId, r.connection?.endpointId)
  set(OUTPUTS.computeUnits, r.computeUnits ? formatComputeUnits(r.computeUnits) : undefined)
  if (r.connection) {
    set(OUTPUTS.parentLsn, r.branch?.parentLsn ?? '')
    set(OUTPUTS.parentTimestamp, r.branch?.parentTimestamp ?? '')
  }
  if (r.connection) set(OUTPUTS.anonymized, r.anonymization !== undefined)
  if (r.anonymization?.maskedColumns !== undefined)
    set(OUTPUTS.maskedColumns, String(r.anonymization.maskedColumns))
  // Asked for and not enabled on the branch: empty, as Neon's create-branch-action leaves it.
  if (r.authUrl !== undefined) set(OUTPUTS.authUrl, r.authUrl ?? '')
  if (r.dataApiUrl !== undefined) set(OUTPUTS.dataApiUrl, r.dataApiUrl ?? '')
  set(OUTPUTS.deleted, r.deleted)
  if (r.deletedBranches) set(OUTPUTS.deletedBranches, JSON.stringify(r.deletedBranches))
  if (r.recoverable) set(OUTPUTS.recoverableUntil, recoverableUntilOutput(r.recoverable))
  if (r.staleBranches) set(OUTPUTS.staleBranches, JSON.stringify(r.staleBranches))
  if (r.usage) set(OUTPUTS.usage, JSON.stringify(r.usage))
  if (r.freed) set(OUTPUTS.freed, JSON.stringify(r.freed.total))
  set(OUTPUTS.skipped, r.skipped ?? false)
  if (r.schema) {
    set(OUTPUTS.schemaDiff, r.schema.diff)
    set(OUTPUTS.schemaChanged, r.schema.diff !== '' || r.schema.tooLarge !== undefined)
  }
}

/**
 * `mode: auto`'s choice, when the event makes one, for getInputs (which then reads a rules file
 * only where a branch is made). An event auto cannot map fails later, in the same words.
 */
function autoModeHint(context: RunContext): { autoMode?: ConcreteMode } {
  try {
    return { autoMode: chooseAutoMode(context).mode }
  } catch {
    return {}
  }
}

/**
 * The message with every part that must not be public replaced by its public form: an error in
 * the chain that carries a `publicMessage` (AnonymizationFailedError) has its message swapped.
 */
function publicForm(e: unknown, message: string): string {
  let out = message
  const seen = new Set<unknown>()
  for (let x: unknown = e; x instanceof Error && !seen.has(x); x = x.cause) {
    seen.add(x)
    const pub = (x as { publicMessage?: unknown }).publicMessage
    if (typeof pub === 'string') out = out.split(x.message).join(pub)
  }
  return out
}

/** One readable message: what failed, Neon's answer, the request id, and what was already changed. */
function describeFailure(e: unknown, neon: NeonClient | undefined, ephemeral = false): string {
  if (e instanceof InputError) return e.message
  let message = e instanceof Error ? e.message : String(e)
  // A wrong key or project: which input, and where to check it.
  const advice = adviceFor(e)
  if (advice) message += `\n${advice}`
  if (e instanceof Error && e.stack) core.debug(logLines(e.stack))
  if (e instanceof ModeError && e.changes.length > 0) {
    message +=
      `\nAlready done in Neon before the failure: ${e.changes.join('; ')}. ` +
      (ephemeral
        ? `The post step deletes the branch when the job ends.`
        : `Re-running the job adopts what exists and finishes the rest.`)
  }
  if (neon) message += `\n(${neon.stats.requests} Neon API requests, ${neon.stats.retries} retried)`
  return message
}
