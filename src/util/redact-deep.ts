/**
 * Redaction on the plain text, before any escaping: every string of a view (a mode's result, an
 * error message) passed through `redact` before it is rendered as Markdown or HTML. Redacting the
 * rendered text instead misses a secret the escaping changed (`a&b` is `a&amp;b` in HTML). Pure.
 */
export function redactStrings<T>(value: T, redact: (text: string) => string): T {
  return walk(value, redact, 0) as T
}

function walk(value: unknown, redact: (text: string) => string, depth: number): unknown {
  if (typeof value === 'string') return redact(value)
  // A view is a few levels deep; anything deeper is left as it is rather than walked for ever.
  if (depth > 32 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => walk(v, redact, depth + 1))
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== null) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, redact, depth + 1)]))
}
