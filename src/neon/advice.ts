// What to do about a failure Neon answered (issue 32): Neon's own text for a wrong key or project
// ("authentication failed", "project not found") says what is wrong but not which input, nor where
// the right value is. The advice names the input and where to check it; it is added to the message
// the step fails with, the comment and the summary. No value of any input is in it.
import { INPUTS } from '../constants.js'
import { NeonApiError } from './errors.js'

/** The NeonApiError a failure is, or was caused by; undefined when there is none. */
export function neonErrorIn(e: unknown): NeonApiError | undefined {
  const seen = new Set<unknown>()
  for (let x: unknown = e; x instanceof Error && !seen.has(x); x = x.cause) {
    seen.add(x)
    if (x instanceof NeonApiError) return x
  }
  return undefined
}

/** Neon refused the key itself (401, BEHAVIOUR.md: "401 bad or revoked key"). */
export function isAuthFailure(e: unknown): boolean {
  return neonErrorIn(e)?.status === 401
}

// A 404 on the project itself: on a route that names nothing inside the project (the project, its
// branch listing or creation, its operations), or whose message says the project is what is missing
// (Neon answers "project not found"; BEHAVIOUR.md: "404 unknown project/branch, and also for an
// organization key used on a user-scoped endpoint").
const PROJECT_ROUTE = /^\/projects\/[^/?]+(\/(branches|branch_anonymized|operations))?(\?|$)/

/** Neon knows no such project for this key: a wrong `project_id`, or a key that cannot see it. */
export function isProjectNotFound(e: unknown): boolean {
  const err = neonErrorIn(e)
  if (err?.status !== 404) return false
  return PROJECT_ROUTE.test(err.path) || /\bproject\b[^.]*\bnot found\b/i.test(err.neonMessage)
}

/** What to do, naming the input, for the failures whose cause is an input; else undefined. */
export function adviceFor(e: unknown): string | undefined {
  if (isAuthFailure(e)) {
    return (
      `Check input '${INPUTS.apiKey}': Neon refused the API key. Check that the secret the workflow ` +
      `passes as ${INPUTS.apiKey} (e.g. secrets.NEON_API_KEY: its name in the workflow, and that it is ` +
      `set for this repository or its organization) holds a key that is not revoked (Neon console → ` +
      `Account settings → API keys), and that a project-scoped key is one of this project's.`
    )
  }
  if (isProjectNotFound(e)) {
    return (
      `Check input '${INPUTS.projectId}': Neon knows no such project for this API key. The project id ` +
      `is in the Neon console → your project → Settings (Project ID, e.g. wispy-cell-12345678), or ` +
      `printed by \`neonctl projects list\`. A key of another account or organization, or a ` +
      `project-scoped key of another project, gets the same 404.`
    )
  }
  return undefined
}
