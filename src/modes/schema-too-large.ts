import type { SchemaTooLarge } from './types.js'

/**
 * The sentence the log, the comment and the summary give a diff too large to compute (plain
 * text: each place escapes it for where it goes). Pure.
 */
export function tooLargeText(t: SchemaTooLarge): string {
  const n = (k: number): string => k.toLocaleString('en-US')
  const size = (s: { lines: number; chars: number }): string =>
    `${n(s.lines)} ${s.lines === 1 ? 'line' : 'lines'} (${n(s.chars)} characters)`
  return (
    `the base's schema has ${size(t.base)}, the branch's ${size(t.branch)}; the diff has more than ` +
    `${n(t.maxChangedLines)} changed lines or would not finish within what was left of the step's ` +
    "'timeout'. Compare them with `neonctl branches schema-diff` where time allows."
  )
}
