// Small fetch helpers for the simulator's own tests.

import { FakeClock } from '../helpers/fake-clock.js'
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

/** A controllable clock: virtual time, shared by the simulator and the code under test. */
export function manualClock(start = Date.parse('2025-09-10T12:00:00Z')): FakeClock {
  return new FakeClock(start)
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
