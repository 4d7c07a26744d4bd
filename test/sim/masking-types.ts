// Shapes shared by the simulator's anonymization model (anonymization.ts) and the backends that
// mask for real (backend.ts, pg/): kept apart so that neither imports the other.

/** OpenAPI MaskingRule (Neon's current API description). */
export interface SimMaskingRule {
  database_name: string
  schema_name: string
  table_name: string
  column_name: string
  masking_function?: string
  masking_value?: string
}

/** How a masking run ended, as the backend (or the simulator without one) decided. */
export type MaskOutcome =
  | { ok: true; maskedColumns: number }
  | { ok: false; phase: 'initialization' | 'anonymization'; message: string }
