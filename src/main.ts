import * as core from '@actions/core'
import { INPUTS, OUTPUTS } from './constants.js'
import { readRunContext, type RunContext } from './github/context.js'
import { getInputs, InputError, type Inputs, type Mode } from './inputs.js'
import { createMode } from './modes/create.js'
import { deleteMode } from './modes/delete.js'
import { resetMode } from './modes/reset.js'
import { ModeError, type Logger, type ModeDeps, type ModeResult } from './modes/types.js'
import { NeonClient } from './neon/client.js'
import { systemClock, type Clock } from './util/clock.js'
import { ACTION_NAME, ACTION_VERSION } from './version.js'

/** Test seams: the end-to-end tests run dist/index.js as it is, so these stay defaults there. */
export interface RunOptions {
  clock?: Clock
  env?: NodeJS.ProcessEnv
}

/**
 * The action: read inputs, build clients, run the mode, publish its result. The one place that
 * calls core.setFailed.
 */
export async function run(opts: RunOptions = {}): Promise<void> {
  const clock = opts.clock ?? systemClock
  // Mask the credentials before anything can print them, even a failed validation.
  for (const name of [INPUTS.apiKey, INPUTS.githubToken]) {
    const value = core.getInput(name)
    if (value) core.setSecret(value)
  }
  let neon: NeonClient | undefined
  try {
    const inputs = getInputs()
    const context = readRunContext(opts.env)
    const mode = chooseMode(inputs.mode, context)
    core.info(
      `Mode: ${mode}${inputs.mode === 'auto' ? ` (chosen for the '${context.eventName}' event)` : ''}`,
    )

    neon = new NeonClient({
      apiKey: inputs.apiKey,
      apiHost: inputs.apiHost,
      userAgent: `${ACTION_NAME}/${ACTION_VERSION} (+https://github.com/features/actions)`,
      clock,
      onSecret: maskSecret,
      debug: (line) => core.debug(line),
    })
    const deps: ModeDeps = { neon, clock, context, log: coreLogger, setSecret: maskSecret }
    const result = await runMode(mode, deps, inputs)
    publishOutputs(result)
    for (const change of result.changes) core.info(`${inputs.dryRun ? 'Dry run' : 'Changed'}: ${change}`)
    await writeSummary(result, neon, inputs.dryRun)
  } catch (e) {
    core.setFailed(describeFailure(e, neon))
  }
}

/** `auto` picks the mode from the event; explicit modes pass through. */
function chooseMode(mode: Mode, _context: RunContext): Exclude<Mode, 'auto'> {
  if (mode === 'auto') throw notImplemented('auto')
  return mode
}

function notImplemented(mode: string): InputError {
  return new InputError(
    INPUTS.mode,
    `Input 'mode': '${mode}' is not implemented yet in this version of ${ACTION_NAME}. ` +
      `Available now: create, reset, delete.`,
  )
}

async function runMode(mode: Exclude<Mode, 'auto'>, deps: ModeDeps, inputs: Inputs): Promise<ModeResult> {
  switch (mode) {
    case 'create':
      return core.group(`Create or adopt the preview branch`, () => createMode(deps, inputs))
    case 'reset':
      return core.group('Reset the preview branch', () => resetMode(deps, inputs))
    case 'delete':
      return core.group('Delete the preview branch', () => deleteMode(deps, inputs))
    case 'cleanup':
      throw notImplemented(mode)
  }
}

/** Every secret is masked in its raw and its percent-encoded form (the form a URL carries). */
function maskSecret(value: string): void {
  core.setSecret(value)
  const encoded = encodeURIComponent(value)
  if (encoded !== value) core.setSecret(encoded)
}

const coreLogger: Logger = {
  info: (m) => core.info(m),
  notice: (m) => core.notice(m),
  warning: (m) => core.warning(m),
  debug: (m) => core.debug(m),
}

function publishOutputs(r: ModeResult): void {
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
  set(OUTPUTS.dbUrl, r.connection?.urls.dbUrl)
  set(OUTPUTS.dbUrlPooled, r.connection?.urls.dbUrlPooled)
  set(OUTPUTS.dbHost, r.connection?.urls.host)
  set(OUTPUTS.dbHostPooled, r.connection?.urls.hostPooled)
  set(OUTPUTS.password, r.connection?.password)
  set(OUTPUTS.role, r.connection?.role)
  set(OUTPUTS.database, r.connection?.database)
  set(OUTPUTS.endpointId, r.connection?.endpointId)
  set(OUTPUTS.deleted, r.deleted)
  if (r.deletedBranches) set(OUTPUTS.deletedBranches, JSON.stringify(r.deletedBranches))
  set(OUTPUTS.skipped, r.skipped ?? false)
}

async function writeSummary(r: ModeResult, neon: NeonClient, dryRun: boolean): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  const rows: [string, string][] = [
    ['Mode', r.mode],
    ['Branch', r.branch ? (r.branch.id ? `${r.branch.name} (${r.branch.id})` : r.branch.name) : '-'],
  ]
  if (dryRun) rows.push(['Dry run', 'yes: nothing was changed'])
  else if (r.created !== undefined)
    rows.push(['Created', r.created ? 'yes' : 'no, adopted the existing branch'])
  if (r.branch && !dryRun) rows.push(['Expires', r.branch.expiresAt ?? 'never'])
  if (r.connection) rows.push(['Host', r.connection.urls.host])
  rows.push(['Changes', r.changes.length ? r.changes.join('; ') : 'none'])
  if (r.timings.readyMs !== undefined)
    rows.push(['Time to ready', `${(r.timings.readyMs / 1000).toFixed(1)} s`])
  rows.push([
    'Waiting on Neon',
    `${(r.timings.wait.waitedMs / 1000).toFixed(1)} s, ${r.timings.wait.polls} polls`,
  ])
  rows.push(['Neon API requests', `${neon.stats.requests} (${neon.stats.retries} retries)`])
  try {
    await core.summary
      .addHeading(`Neon preview branch: ${r.mode}`, 3)
      .addTable([
        [
          { data: 'What', header: true },
          { data: 'Value', header: true },
        ],
        ...rows,
      ])
      .write()
  } catch (e) {
    // The work is done and the outputs are set: a summary that cannot be written is no failure.
    core.warning(`Could not write the job summary: ${(e as Error).message}`)
  }
}

/** One readable message: what failed, Neon's answer, the request id, and what was already changed. */
function describeFailure(e: unknown, neon: NeonClient | undefined): string {
  if (e instanceof InputError) return e.message
  let message = e instanceof Error ? e.message : String(e)
  if (e instanceof Error && e.stack) core.debug(e.stack)
  if (e instanceof ModeError && e.changes.length > 0) {
    message +=
      `\nAlready done in Neon before the failure: ${e.changes.join('; ')}. ` +
      `Re-running the job adopts what exists and finishes the rest.`
  }
  if (neon) message += `\n(${neon.stats.requests} Neon API requests, ${neon.stats.retries} retried)`
  return message
}
