import type { AnonymizationReport } from '../modes/types.js'

/**
 * How the comment and the summary say what the data is: "anonymized, 3 columns masked". Never the
 * rules themselves: Neon marks their every field x-sensitive, and the comment of a public
 * repository is public.
 */
export function describeData(a: AnonymizationReport): string {
  const n = a.maskedColumns
  const columns = n === undefined ? '' : `, ${n} column${n === 1 ? '' : 's'} masked`
  return `anonymized${columns}${a.remasked ? ' (masked again by this run)' : ''}`
}

/** How a branch made with Neon's `init_source: schema-only` is described (comment and summary). */
export const SCHEMA_ONLY = "schema only: the parent's schema, none of its rows"

/** What a re-created branch's comment and summary say. */
export function describeRecreated(previousId: string): string {
  return `yes: Neon cannot reset an anonymized branch, so it was made anew with freshly masked data; its branch id (it was ${previousId}), host and password changed`
}
