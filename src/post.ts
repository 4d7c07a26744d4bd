/**
 * The post run (action.yml `runs.post`, the same bundle): the runner starts it when the job ends,
 * after success, failure or cancellation. It deletes the ephemeral branch the main step recorded,
 * and does nothing (one debug line) when main recorded none: `ephemeral` off, or main stopped
 * before it created anything. It never reads the inputs beyond `api_key`: they were validated in
 * main, and one that depends on the time (`expires_at`) might no longer validate now.
 */
import * as core from '@actions/core'

import { INPUTS } from './constants.js'
import { ephemeralPost, type EphemeralPostResult } from './modes/ephemeral-post.js'
import type { Logger } from './modes/types.js'
import { NeonClient } from './neon/client.js'
import { readEphemeralRecord } from './state.js'
import { escapeHtml, writeSummary } from './summary.js'
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
  const record = readEphemeralRecord()
  if (!record) {
    o.log.debug(
      'Post step: the main step recorded no ephemeral branch (ephemeral is off, or main stopped before ' +
        'creating one): nothing to delete.',
    )
    return
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
  const r = await core.group(`Delete the ephemeral branch '${record.name}'`, () =>
    ephemeralPost({ neon, clock: o.clock, log: o.log, deadline }, record),
  )
  o.log.info(postLine(r, neon.stats.requests))
  await writeSummary(`<p>${escapeHtml(postLine(r, neon.stats.requests))}</p>`)
}

/** One line for the log and the job summary. */
export function postLine(r: EphemeralPostResult, requests: number): string {
  const which = `'${r.name}'${r.branchId ? ` (${r.branchId})` : ''}`
  const cost = `${(r.totalMs / 1000).toFixed(1)} s, ${requests} Neon API requests`
  return r.deleted
    ? `Ephemeral Neon branch ${which} deleted by the post step (${r.waitedFor} operations waited for; ${cost}).`
    : `Ephemeral Neon branch ${which} not deleted by the post step: ${r.why ?? 'nothing to delete'} (${cost}).`
}
