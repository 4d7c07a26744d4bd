import { escapeControl } from '../util/log-text.js'

/** HTTP reason phrases for the statuses Neon answers, for readable error messages. */
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  524: 'A Timeout Occurred',
}

export interface NeonApiErrorDetails {
  method: string
  path: string
  /** HTTP status, or 0 when no response came back (network error, timeout). */
  status: number
  code?: string
  neonMessage: string
  requestId?: string
  attempts: number
  /** Why no further try was made, when that is not obvious (the step's deadline, a redirect). */
  detail?: string
}

/**
 * A failed Neon API call. The message carries everything a user needs to act or to quote to Neon
 * support: method, path, status, Neon's code and message, the request id, and how many tries.
 */
export class NeonApiError extends Error implements NeonApiErrorDetails {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly code?: string
  readonly neonMessage: string
  readonly requestId?: string
  readonly attempts: number
  readonly detail?: string

  constructor(d: NeonApiErrorDetails) {
    super(formatApiError(d))
    this.name = 'NeonApiError'
    this.method = d.method
    this.path = d.path
    this.status = d.status
    this.code = d.code
    this.neonMessage = d.neonMessage
    this.requestId = d.requestId
    this.attempts = d.attempts
    if (d.detail !== undefined) this.detail = d.detail
  }

  /** The same failure, with why it was not tried again. */
  withDetail(detail: string): NeonApiError {
    return new NeonApiError({
      method: this.method,
      path: this.path,
      status: this.status,
      ...(this.code !== undefined ? { code: this.code } : {}),
      neonMessage: this.neonMessage,
      ...(this.requestId !== undefined ? { requestId: this.requestId } : {}),
      attempts: this.attempts,
      detail,
    })
  }
}

// Neon's code, message and request id are Neon's text: control characters escaped, so that the
// message stays one line wherever it goes (the log above all; util/log-text.ts).
function formatApiError(d: NeonApiErrorDetails): string {
  const status = d.status === 0 ? 'no response' : `HTTP ${d.status} ${REASONS[d.status] ?? ''}`.trim()
  const code = d.code ? ` [${escapeControl(d.code)}]` : ''
  const id = d.requestId ? ` (request id ${escapeControl(d.requestId)})` : ' (no request id)'
  const tries = d.attempts > 1 ? ` after ${d.attempts} attempts` : ''
  return `${d.method} ${d.path}: ${status}${code}: ${escapeControl(d.neonMessage)}${id}${tries}${d.detail ? `. ${escapeControl(d.detail)}` : ''}`
}

/** An operation that Neon reports as failed, errored or cancelled. */
export class OperationFailedError extends Error {
  constructor(
    readonly operationId: string,
    readonly action: string,
    readonly status: string,
    readonly detail: string | undefined,
  ) {
    super(
      escapeControl(
        `Neon operation ${action} (${operationId}) ended '${status}'${detail ? `: ${detail}` : ''}`,
      ),
    )
    this.name = 'OperationFailedError'
  }
}

/** Waiting for Neon ran past the `timeout` input. */
export class WaitTimeoutError extends Error {
  constructor(what: string, waitedMs: number, lastState: string) {
    super(
      `Timed out after ${Math.round(waitedMs / 1000)} s waiting for ${what} (last seen: ${lastState}). ` +
        `Raise the 'timeout' input if Neon is slow today; nothing was rolled back.`,
    )
    this.name = 'WaitTimeoutError'
  }
}

/** Prefixes an error's message with what we were doing, keeping its type and fields. */
export function withContext<E>(context: string, err: E): E {
  if (err instanceof Error) {
    err.message = `${context}: ${err.message}`
  }
  return err
}

export function isNotFound(err: unknown): boolean {
  return err instanceof NeonApiError && err.status === 404
}

/**
 * Neon refused to create a branch because the project is at its branch limit: a 422 with code
 * `BRANCHES_LIMIT_EXCEEDED`, or a 422 whose message speaks of the branches limit (the code is not
 * documented; BEHAVIOUR.md, "Limits of a project", expects it by analogy with PROJECTS_LIMIT_EXCEEDED).
 */
export function isBranchLimit(err: unknown): boolean {
  if (!(err instanceof NeonApiError) || err.status !== 422) return false
  return err.code === 'BRANCHES_LIMIT_EXCEEDED' || BRANCH_LIMIT_RE.test(err.neonMessage)
}

// "branches limit of 10 exceeded", "branch limit reached", "limit of 10 branches", "maximum number of
// branches"; not "branch logical size limit", which is another limit (storage).
const BRANCH_LIMIT_RE =
  /\bbranch(es)?[\s_-]+limit\b|\blimit\s+(of\s+\d+\s+|on\s+(the\s+number\s+of\s+)?)branches\b|\b(maximum|max)\s+number\s+of\s+branches\b/i

export function isConflict(err: unknown): boolean {
  return err instanceof NeonApiError && err.status === 409
}
