/**
 * Waits until `condition` holds, checking every few milliseconds: tests wait on events (a request
 * in the simulator's log, a file written), never on a fixed sleep. The deadline is only a safety
 * net for a broken test, set far beyond anything a slow or busy machine needs.
 */
export async function waitFor(condition: () => boolean, what: string, deadlineMs = 60_000): Promise<void> {
  const until = Date.now() + deadlineMs
  while (!condition()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what} after ${deadlineMs} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
