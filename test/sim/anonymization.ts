// The simulator's anonymized branches: rules, masking runs and the state machine, derived lazily
// from the clock like operations (no timers), so every state is reproducible on a FakeClock.
//
// Sources: BEHAVIOUR.md, "Anonymized branches (data masking)"; Neon's current API description
// (`public-v2-for-users.gen.yaml` in @neondatabase/api-client: BranchAnonymizedCreateRequest,
// MaskingRule, AnonymizedBranchStatusResponse, BranchRestrictedAction, startAnonymization); Neon's
// guide "Data anonymization" (docs/workflows/data-anonymization); PostgreSQL Anonymizer's
// docs/masking_functions.md (neondatabase/postgresql_anonymizer, 2.2.1) for the function names.
// Where no source says what Neon does, the comment says so.

import type { MaskOutcome, SimMaskingRule } from './masking-types.js'
import { RESTRICTION, type RestrictedAction, type SimBranch, type World } from './state.js'

export type { MaskOutcome, SimMaskingRule }

export interface SimMaskRun {
  requestedAt: number
  /** The outcome, once known (at once without a backend; when the real masking is done with one). */
  outcome?: MaskOutcome
  /** Rules as they were when the run started. */
  rules: readonly SimMaskingRule[]
  triggeredBy: string
}

export interface SimAnonymization {
  rules: SimMaskingRule[]
  createdAt: number
  updatedAt: number
  /** The latest masking run; none until one is started (start_anonymization, POST …/anonymize). */
  run?: SimMaskRun
}

/**
 * How long each step takes. No source gives Neon's durations; these defaults keep tests fast, and
 * `startNeonSimulator({ anonymizationMs })` sets them (the benchmark gives seconds).
 */
export interface AnonymizationDurations {
  /** From the branch being ready to the rules being in place (`created` → `initialized`). */
  initializeMs: number
  /** A masking run: this much, plus `perRuleMs` for each rule (`anonymizing`). */
  baseMs: number
  perRuleMs: number
}

export const DEFAULT_ANONYMIZATION_MS: AnonymizationDurations = {
  initializeMs: 20,
  baseMs: 40,
  perRuleMs: 10,
}

const store = new WeakMap<SimBranch, SimAnonymization>()
const durationsOf = new WeakMap<World, AnonymizationDurations>()
/** Injected failures, per World: the next run that starts ends with this. */
const faults = new WeakMap<World, MaskOutcome[]>()

export function configureAnonymization(w: World, d: Partial<AnonymizationDurations> = {}): void {
  durationsOf.set(w, { ...DEFAULT_ANONYMIZATION_MS, ...d })
}

export function anonymizationOf(b: SimBranch): SimAnonymization | undefined {
  return store.get(b)
}

export function setAnonymization(b: SimBranch, a: SimAnonymization): void {
  store.set(b, a)
}

/** The next masking run that starts ends this way (a test's injected failure). */
export function failNextAnonymization(
  w: World,
  phase: 'initialization' | 'anonymization',
  message: string,
): void {
  const list = faults.get(w) ?? []
  list.push({ ok: false, phase, message })
  faults.set(w, list)
}

/** Forgets the injected failures (sim.reset()). */
export function clearAnonymizationFaults(w: World): void {
  faults.delete(w)
}

export function takeFault(w: World): MaskOutcome | undefined {
  return faults.get(w)?.shift()
}

export type AnonState =
  'created' | 'initialized' | 'initialization_error' | 'anonymizing' | 'anonymized' | 'error'

export interface DerivedState {
  state: AnonState
  message: string
  /** When the current state began. */
  since: number
  /** The run's start and end (the end once it is over), for `last_run`. */
  run?: { startedAt: number; completedAt?: number; maskedColumns?: number; triggeredBy: string }
  failedAt?: number
}

/** When the branch became ready (its create operation finished), or undefined while it is not. */
function readyAt(w: World, b: SimBranch): number | undefined {
  const st = w.branchState(b)
  return st.current === 'ready' ? st.changedAt : undefined
}

/**
 * The state machine: `created` (the copy is made, and the rules put in place `initializeMs` after
 * the branch is ready), `initialized` (rules in place, no run yet), `anonymizing` (a run, for
 * `baseMs + perRuleMs × rules`, and until a real backend has done the masking), then `anonymized`
 * or `error`; `initialization_error` when the rules cannot be put in place. The states are the API
 * description's; the order follows their names and Neon's guide (masking at creation, or when
 * rerun); the messages are the simulator's own, except the "Anonymizing table … (i/n)" form, which
 * is the API description's example.
 */
export function anonState(w: World, b: SimBranch, now = w.now()): DerivedState | undefined {
  const a = store.get(b)
  if (!a) return undefined
  const d = durationsOf.get(w) ?? DEFAULT_ANONYMIZATION_MS
  const ready = readyAt(w, b)
  if (ready === undefined || now < ready + d.initializeMs) {
    return { state: 'created', message: 'Creating the anonymized branch', since: a.createdAt }
  }
  const initialized = ready + d.initializeMs
  const run = a.run
  if (!run)
    return {
      state: 'initialized',
      message: 'Masking rules are in place; anonymization has not started',
      since: initialized,
    }
  const startedAt = Math.max(run.requestedAt, initialized)
  const duration = d.baseMs + d.perRuleMs * run.rules.length
  const endAt = startedAt + duration
  const last = { startedAt, triggeredBy: run.triggeredBy }
  if (now < startedAt)
    return { state: 'initialized', message: 'Anonymization is about to start', since: initialized }
  if (now < endAt || run.outcome === undefined) {
    const n = Math.max(1, run.rules.length)
    const i = Math.min(n, 1 + Math.floor(((now - startedAt) / duration) * n))
    const r = run.rules[i - 1]
    return {
      state: 'anonymizing',
      message: r
        ? `Anonymizing table ${r.database_name}.${r.schema_name}.${r.table_name} (${i}/${n})`
        : 'Anonymizing',
      since: startedAt,
      run: last,
    }
  }
  const o = run.outcome
  if (o.ok) {
    return {
      state: 'anonymized',
      message: 'Anonymization completed',
      since: endAt,
      run: { ...last, completedAt: endAt, maskedColumns: o.maskedColumns },
    }
  }
  return {
    state: o.phase === 'initialization' ? 'initialization_error' : 'error',
    message: o.message,
    since: endAt,
    failedAt: endAt,
    run: { ...last, completedAt: endAt, maskedColumns: 0 },
  }
}

/**
 * Neon's guide: "The branch is unavailable for connections while anonymization is in progress"
 * (BEHAVIOUR.md): from its creation until its masking run has ended, and during every rerun.
 * A branch whose rules are in place but whose masking never started is not in progress.
 */
export function refusesConnections(w: World, b: SimBranch, now = w.now()): boolean {
  const s = anonState(w, b, now)
  if (!s) return false
  const a = store.get(b)
  return (
    s.state === 'created' || s.state === 'anonymizing' || (s.state === 'initialized' && a?.run !== undefined)
  )
}

/**
 * `restricted_actions` of an anonymized branch: "Anonymized branches cannot be reset to their
 * parent or restored, and their read-write compute cannot be deleted" (BEHAVIOUR.md); the names are
 * the API description's (BranchRestrictedAction: `restore`, `delete-rw-endpoint`), and the routes
 * enforce them (routes/branches.ts assertNotRestricted). Neon's reason texts are not documented:
 * these are the simulator's.
 */
export const ANONYMIZED_RESTRICTIONS: readonly RestrictedAction[] = [
  { name: RESTRICTION.restore, reason: 'Anonymized branches cannot be restored or reset to their parent.' },
  {
    name: RESTRICTION.deleteRwEndpoint,
    reason: 'The read-write compute of an anonymized branch cannot be deleted.',
  },
]

/**
 * PostgreSQL Anonymizer's documented masking functions (docs/masking_functions.md of
 * postgresql_anonymizer 2.2.1, as Neon's fork ships it), without the ones that are not masks
 * (init, anonymize_database). Without a real backend a rule calling any other `anon.` function
 * ends in `error`, as PostgreSQL would answer a call to a function that does not exist.
 */
export const DOCUMENTED_ANON_FUNCTIONS: ReadonlySet<string> = new Set(
  (
    'digest dnoise dummy_bic dummy_bs dummy_bs_adj dummy_bs_noun dummy_bs_verb dummy_building_number ' +
    'dummy_buzzword dummy_buzzword_middle dummy_buzzword_tail dummy_catchphrase dummy_cell_number ' +
    'dummy_city_name dummy_city_prefix dummy_city_suffix dummy_color dummy_company_name ' +
    'dummy_company_suffix dummy_country_code dummy_country_name dummy_credit_card_number ' +
    'dummy_currency_code dummy_currency_name dummy_currency_symbol dummy_dir_path dummy_domain_suffix ' +
    'dummy_file_extension dummy_file_name dummy_file_path dummy_first_name dummy_free_email ' +
    'dummy_free_email_provider dummy_health_insurance_code dummy_hex_color dummy_hsl_color ' +
    'dummy_hsla_color dummy_industry dummy_ip dummy_ipv4 dummy_ipv6 dummy_isbn dummy_isbn13 dummy_isin ' +
    'dummy_last_name dummy_last_name_locale dummy_latitude dummy_licence_plate dummy_longitude ' +
    'dummy_mac_address dummy_name dummy_name_with_title dummy_phone_number dummy_post_code ' +
    'dummy_profession dummy_rfc_status_code dummy_rgb_color dummy_rgba_color dummy_safe_email ' +
    'dummy_secondary_address dummy_secondary_address_type dummy_state_abbr dummy_state_name ' +
    'dummy_street_name dummy_street_suffix dummy_suffix dummy_timezone dummy_title dummy_user_agent ' +
    'dummy_username dummy_uuidv1 dummy_uuidv3 dummy_uuidv4 dummy_uuidv5 dummy_valid_statux_code dummy_word ' +
    'dummy_words dummy_zip_code fake_address fake_city fake_company fake_country fake_email ' +
    'fake_first_name fake_iban fake_last_name fake_postcode fake_siret generalize_int4range ' +
    'generalize_tsrange hash image_blur left length lorem_ipsum noise partial partial_email pseudo_city ' +
    'pseudo_company pseudo_country pseudo_email pseudo_first_name pseudo_iban pseudo_last_name ' +
    'pseudo_siret random_bigint_between random_date random_date_between random_hash random_id ' +
    'random_id_int random_id_small_int random_in random_in_daterange random_in_enum random_in_int4range ' +
    'random_in_int8range random_in_numrange random_in_tsrange random_in_tstzrange random_int_between ' +
    'random_phone random_string random_zip ternary'
  ).split(' '),
)

/** The `anon.` functions an expression calls, in order of appearance. */
export function anonFunctionsIn(expression: string): string[] {
  return [...expression.matchAll(/\banon\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)].map((m) =>
    m[1]!.toLowerCase(),
  )
}

/**
 * What a run without a real backend (and without an injected fault) ends with: `error` for a call of an
 * `anon.` function Anonymizer does not document (PostgreSQL's own words for a missing function),
 * or success with one column per rule (`masked_columns`: "Number of columns that had masking rules
 * applied during the attempt", API description).
 */
export function outcomeWithoutBackend(rules: readonly SimMaskingRule[]): MaskOutcome {
  for (const r of rules) {
    for (const f of anonFunctionsIn(r.masking_function ?? '')) {
      if (!DOCUMENTED_ANON_FUNCTIONS.has(f)) {
        return { ok: false, phase: 'anonymization', message: `ERROR: function anon.${f}() does not exist` }
      }
    }
  }
  return { ok: true, maskedColumns: rules.length }
}
