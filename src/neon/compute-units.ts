/**
 * Compute sizes, as Neon documents them (shared/neon-api/BEHAVIOUR.md, "Compute sizes"): sizes are
 * 0.25, 0.5 and whole numbers of compute units. A fixed size (min = max) goes up to 56 CU; an
 * autoscaling range (min < max) lies within 0.25 to 16 CU and spans at most 8 CU. What a plan allows
 * (the free plan's 2 CU, which whole numbers above 16 are offered, the minimum Neon wants for a
 * maximum above 10) is Neon's to refuse: its message is passed on.
 *
 * Pure: no I/O.
 */

/** `autoscaling_limit_min_cu` and `autoscaling_limit_max_cu`; equal for a fixed size. */
export interface ComputeUnits {
  min: number
  max: number
}

export const MIN_CU = 0.25
export const MAX_FIXED_CU = 56
export const MAX_AUTOSCALING_CU = 16
export const MAX_AUTOSCALING_SPAN_CU = 8

const NUMBER_RE = /^\d+(?:\.\d+)?$/

/** What compute_units accepts, for messages. */
export const COMPUTE_UNITS_FORMS =
  `one size (0.25, 0.5 or a whole number up to ${MAX_FIXED_CU}, e.g. 1) or an autoscaling range ` +
  `min-max within ${MIN_CU} to ${MAX_AUTOSCALING_CU} spanning at most ${MAX_AUTOSCALING_SPAN_CU} (e.g. 0.25-2)`

/**
 * Parses `2` or `0.25-4` (spaces around the dash allowed). Throws an Error whose message says what
 * is wrong and what is allowed; the caller names the input.
 */
export function parseComputeUnits(text: string): ComputeUnits {
  const parts = text.split('-').map((s) => s.trim())
  if (parts.length > 2 || parts.some((p) => !NUMBER_RE.test(p))) {
    throw new Error(`Expected ${COMPUTE_UNITS_FORMS}.`)
  }
  const [min, max] = parts.map(Number) as [number, number | undefined]
  for (const n of [min, max ?? min]) {
    if (!isOfferedSize(n)) {
      throw new Error(`${n} CU is not a size Neon offers: sizes are 0.25, 0.5 and whole numbers.`)
    }
  }
  if (max === undefined || max === min) {
    if (min > MAX_FIXED_CU) throw new Error(`A fixed size is at most ${MAX_FIXED_CU} CU.`)
    return { min, max: min }
  }
  if (min > max) throw new Error(`The minimum (${min}) is above the maximum (${max}); write min-max.`)
  if (max > MAX_AUTOSCALING_CU) {
    throw new Error(
      `Autoscaling goes up to ${MAX_AUTOSCALING_CU} CU; above that only a fixed size (one number) is possible.`,
    )
  }
  if (max - min > MAX_AUTOSCALING_SPAN_CU) {
    throw new Error(
      `An autoscaling range spans at most ${MAX_AUTOSCALING_SPAN_CU} CU; ${min}-${max} spans ${max - min}.`,
    )
  }
  return { min, max }
}

function isOfferedSize(n: number): boolean {
  return n === 0.25 || n === 0.5 || (Number.isInteger(n) && n >= 1)
}

/** `1` for a fixed size, `0.25-2` for a range: the form compute_units takes, so an output can be fed back. */
export function formatComputeUnits(cu: ComputeUnits): string {
  return cu.min === cu.max ? String(cu.min) : `${cu.min}-${cu.max}`
}

/** For people: `1 CU` or `0.25–2 CU (autoscaling)`. */
export function describeComputeUnits(cu: ComputeUnits): string {
  return cu.min === cu.max ? `${cu.min} CU` : `${cu.min}–${cu.max} CU (autoscaling)`
}
