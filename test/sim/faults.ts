// Fault injection: errors, delays, hangs, malformed JSON and connection resets, matched per request.

import { Rng } from './ids.js'

export interface FaultSpec {
  method?: string
  /** Route template like 'POST /projects/{project_id}/branches' (or without the method), or a RegExp tested on the request path. */
  route?: string | RegExp
  status?: number
  body?: unknown
  headers?: Record<string, string>
  /** How many matching requests it affects; default 1; Infinity allowed. */
  times?: number
  /** Chance (0..1, seeded) that a matching request is affected. */
  probability?: number
  delayMs?: number
  /** Never answer (until the simulator closes). */
  hang?: boolean
  /** Answer 200 with a body that is not valid JSON. */
  malformedJson?: boolean
  /** Destroy the socket without answering. */
  resetConnection?: boolean
  /**
   * Runs when the fault fires, before the request is handled: lets a test make something happen
   * "at the same moment" elsewhere (another run deleting the branch). With no status, the request
   * is then handled normally.
   */
  before?: () => void
}

export interface Faults {
  add(f: FaultSpec): void
  clear(): void
}

interface ActiveFault {
  spec: FaultSpec
  remaining: number
}

export class FaultSet implements Faults {
  private active: ActiveFault[] = []
  private rng: Rng
  constructor(private readonly seed: number) {
    this.rng = new Rng(seed ^ 0x5bd1e995)
  }

  add(f: FaultSpec): void {
    if (f.probability !== undefined && (f.probability < 0 || f.probability > 1))
      throw new Error('probability must be within 0..1')
    this.active.push({ spec: { ...f }, remaining: f.times ?? 1 })
  }

  clear(): void {
    this.active = []
  }

  reset(): void {
    this.active = []
    this.rng = new Rng(this.seed ^ 0x5bd1e995)
  }

  /** Finds (and consumes one use of) the first fault matching the request. */
  take(method: string, route: string | null, path: string): FaultSpec | undefined {
    for (const f of this.active) {
      if (f.remaining <= 0) continue
      const s = f.spec
      if (s.method !== undefined && s.method.toUpperCase() !== method) continue
      if (s.route !== undefined) {
        if (s.route instanceof RegExp) {
          s.route.lastIndex = 0
          if (!s.route.test(path)) continue
        } else {
          const withMethod = /^[A-Z]+ /.test(s.route)
          const want = withMethod ? s.route : `${method} ${s.route}`
          if (route === null || want !== route) continue
        }
      }
      if (s.probability !== undefined && this.rng.next() >= s.probability) continue
      f.remaining -= 1
      return s
    }
    return undefined
  }
}

export function describeFault(f: FaultSpec): string {
  if (f.resetConnection) return 'resetConnection'
  if (f.hang) return 'hang'
  if (f.malformedJson) return 'malformedJson'
  if (f.status !== undefined) return `status:${f.status}`
  if (f.delayMs !== undefined) return `delay:${f.delayMs}`
  return 'fault'
}
