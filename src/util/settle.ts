/**
 * Runs independent requests side by side and waits for every one of them, so that no request is
 * still running when a failure is reported; then gives their values, or throws the first failure
 * in the order given (the order the caller would have made them in one after another).
 */
export async function allFinished<const T extends readonly unknown[]>(
  promises: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(promises)
  for (const r of results) if (r.status === 'rejected') throw r.reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>
  }
}
