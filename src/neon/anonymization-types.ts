/**
 * Neon's shapes for anonymized branches, from the API description its SDK ships (types only:
 * nothing of the SDK reaches the bundle). BEHAVIOUR.md, "Anonymized branches", says how they behave.
 */
import type {
  AnonymizedBranchStatusResponse,
  BranchRestrictedAction,
  MaskingRule,
} from '@neondatabase/api-client'

import type { CreateBranchRequest } from './types.js'

export type { BranchRestrictedAction, MaskingRule }

/** `GET …/anonymized_status` and the answer to `POST …/anonymize`. */
export type AnonymizedStatus = AnonymizedBranchStatusResponse

/**
 * The states the API description lists for an anonymized branch: `created` (the copy is being
 * made), `initialized` (the rules are in place), `anonymizing` (the masking runs), `anonymized`
 * (done: safe to hand out), and the two failures.
 */
export type AnonymizationState =
  'created' | 'initialized' | 'initialization_error' | 'anonymizing' | 'anonymized' | 'error'

/** OpenAPI BranchAnonymizedCreateRequest: the body of a plain create, the rules, and the annotations. */
export interface CreateAnonymizedBranchRequest {
  branch_create: Omit<CreateBranchRequest, 'annotation_value'>
  masking_rules: MaskingRule[]
  start_anonymization: boolean
  annotation_value?: Record<string, string>
}
