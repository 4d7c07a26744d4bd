// Small fetch helpers for the simulator's own tests.

import type { NeonSimulator } from './index.js'

export interface ApiResult {
  status: number
  headers: Headers
  text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any
}

export async function api(
  sim: NeonSimulator,
  method: string,
  path: string,
  body?: unknown,
  key = sim.apiKey,
): Promise<ApiResult> {
  const res = await fetch(`${sim.apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${key}`,
      Accept: 'application/json',
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  let parsed: unknown = undefined
  if (text !== '') {
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
  }
  return { status: res.status, headers: res.headers, text, body: parsed }
}

/** A controllable clock. */
export function manualClock(start = Date.parse('2025-09-10T12:00:00Z')): {
  now: () => number
  advance: (ms: number) => void
  set: (t: number) => void
} {
  let t = start
  return {
    now: () => t,
    advance: (ms) => {
      t += ms
    },
    set: (v) => {
      t = v
    },
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
