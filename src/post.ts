/**
 * The post run (action.yml `runs.post`, the same bundle): the runner starts it when the job ends,
 * after success, failure or cancellation. It deletes the ephemeral branch the main step recorded,
 * and does nothing (one debug line) when main recorded none: `ephemeral` off, or main stopped
 * before it created anything.
 *
 * The record comes back as a STATE_* variable, which an earlier step of the job could also have
 * written (through $GITHUB_ENV): it is acted on only when it agrees with this step's own
 * `api_host` and `project_id` (the same inputs main had, validated again) and has the forms main
 * writes (state.ts, recordProblem), and the branch is deleted only when Neon says it carries this
 * job's key and is neither the default nor a protected branch (ephemeral-post.ts). Otherwise
 * nothing is requested or deleted, and a warning says why. It reads no other input: one that
 * depends on the time (`expires_at`) might no longer validate now.
 */
import * as core from '@actions/core'

import { DEFAULT_API_HOST, INPUTS } from './constants.js'
import { InputError, isProjectId, parseApiHost } from './inputs.js'
import { group } from './log.js'
import { ephemeralPost, type EphemeralPostResult } from './modes/ephemeral-post.js'
import type { Logger } from './modes/types.js'
import { NeonClient } from './neon/client.js'
import { readEphemeralRecord, recordProblem, type EphemeralRecord } from './state.js'
import { readRunContext } from './github/context.js'
import { recoverableText } from './modes/undo.js'
import { undoHtml, writeSummary } from './summary.js'
import { escapeInline } from './util/escape.js'
import type { Clock } from './util/clock.js'

export interface PostOptions {
  clock: Clock
  userAgent: string
  log: Logger
  /** Masks a value in every later log line (the post run's own core.setSecret). */
  maskSecret(value: string): void
  /** Set once the client exists, so a failure can report its request count. */
  onClient?(neon: NeonClient): void
}

/** Throws on failure; main.ts's run() turns that into core.setFailed. */
export async function runPost(o: PostOptions): Promise<void> {
  let record: EphemeralRecord | undefined
  try {
    record = readEphemeralRecord()
  } catch (e) {
    return refuse(o, (e as Error).message)
  }
  if (!record) {
    o.log.debug(
      'Post step: the main step recorded no ephemeral branch (ephemeral is off, or main stopped before ' +
        'creating one): nothing to delete.',
    )
    return
  }
  const expected = ownInputs()
  const problem = 'problem' in expected ? expected.problem : recordProblem(record, expected)
  if (problem !== undefined) {
    return refuse(o, `the recorded ephemeral branch was not acted on: ${problem}; nothing was deleted`)
  }
  const apiKey = core.getInput(INPUTS.apiKey)
  if (apiKey === '') {
    throw new Error(
      `post step: api_key is empty, so ephemeral branch '${record.name}' cannot be deleted; it expires by ` +
        'itself, and mode: cleanup deletes it once this run has completed.',
    )
  }
  // The post step is a step of its own, with the same `timeout` as the main step had.
  const deadline = o.clock.now() + record.timeoutMs
  const neon = new NeonClient({
    apiKey,
    apiHost: record.apiHost,
    userAgent: o.userAgent,
    clock: o.clock,
    onSecret: o.maskSecret,
    debug: (line) => o.log.debug(line),
    info: (line) => o.log.info(line),
    deadline,
  })
  o.onClient?.(neon)
  const r = await group(`Delete the ephemeral branch '${record.name}'`, () =>
    ephemeralPost({ neon, clock: o.clock, log: o.log, deadline }, record),
  )
  o.log.info(postLine(r, neon.stats.requests))
  const html = [`<p>${escapeInline(postLine(r, neon.stats.requests))}</p>`]
  if (r.recoverable) {
    // The context is read only for the undo command; a payload that cannot be read costs only that.
    let context: { repository?: string; workflowFile?: string } = {}
    try {
      context = readRunContext()
    } catch {
      context = { repository: process.env.GITHUB_REPOSITORY ?? '' }
    }
    html.push(...undoHtml([r.recoverable], context))
  }
  await writeSummary(html.join('\n'))
}

/**
 * This step's `api_host` and `project_id`, validated as main validated them (the runner gives the
 * post step the inputs of the main step), or why they cannot be used.
 */
function ownInputs(): { apiHost: string; projectId: string } | { problem: string } {
  const projectId = core.getInput(INPUTS.projectId)
  if (!isProjectId(projectId)) return { problem: `this step's project_id is not a Neon project id` }
  try {
    const fail = (input: string, message: string): never => {
      throw new InputError(input, message)
    }
    // The value is not echoed: this is no place to repeat what main already said about it.
    const apiHost = parseApiHost(
      core.getInput(INPUTS.apiHost) || DEFAULT_API_HOST,
      (input, _value, expected) => fail(input, `Invalid input '${input}'. ${expected}`),
      fail,
    )
    return { apiHost, projectId }
  } catch (e) {
    return { problem: (e as Error).message }
  }
}

/** Nothing is deleted: a warning (the job's own result stands), and the summary says so too. */
async function refuse(o: PostOptions, why: string): Promise<void> {
  const line = `Post step: ${why}.`
  o.log.warning(line)
  await writeSummary(`<p>${escapeInline(line)}</p>`)
}

/** One line for the log and the job summary. */
export function postLine(r: EphemeralPostResult, requests: number): string {
  const which = `'${r.name}'${r.branchId ? ` (${r.branchId})` : ''}`
  const cost = `${(r.totalMs / 1000).toFixed(1)} s, ${requests} Neon API requests`
  return r.deleted
    ? `Ephemeral Neon branch ${which} deleted by the post step (${r.waitedFor} operations waited for; ${cost})` +
        (r.recoverable ? `; it can be recovered ${recoverableText(r.recoverable)}.` : '.')
    : `Ephemeral Neon branch ${which} not deleted by the post step: ${r.why ?? 'nothing to delete'} (${cost}).`
}
