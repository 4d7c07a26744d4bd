/**
 * The run's log, through @actions/core, with every message made safe for the runner first (see
 * util/log-text.ts): names and messages from Neon and GitHub reach these lines, and none of them
 * may start a workflow command. Everything the action logs goes through here or core.setFailed
 * (main.ts, with logLines).
 */
import * as core from '@actions/core'

import type { Logger } from './modes/types.js'
import { escapeControl, logLine } from './util/log-text.js'

export const coreLogger: Logger = {
  info: (m) => core.info(logLine(m)),
  // @actions/core escapes these commands' data itself; the message is made one line all the same.
  notice: (m) => core.notice(logLine(m)),
  warning: (m) => core.warning(logLine(m)),
  debug: (m) => core.debug(logLine(m)),
}

/** core.group with its title escaped (a branch name may be in it). */
export function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return core.group(escapeControl(name), fn)
}
