/**
 * Issue 22, finding 9: what the runner would take for a workflow command (a line that starts with
 * `::` after its leading whitespace, or that holds `##[`: actions/runner ActionCommand.cs) can never
 * come out of a name or a message the action logs.
 */
import { describe, expect, it } from 'vitest'
import { escapeControl, logLine, logLines } from '../../src/util/log-text.js'

/** The lines the runner reads (it splits at \n, \r and \r\n) that it would run as commands. */
const commands = (out: string): string[] =>
  out.split(/\r\n|\r|\n/).filter((l) => l.trimStart().startsWith('::') || l.includes('##['))

const EVIL = [
  "Deleted 'preview/x\n::add-mask::hunter2'",
  "'a\r::stop-commands::token'",
  "'a\r\n  ::error::x'",
  "'a\u2028::warning::x'",
  '  ::debug::starts with it',
  '::group::at the start',
  "'b ##[add-mask]legacy'",
  "'c\u0085::error::C1 next line'",
]

describe('logLine', () => {
  it.each(EVIL)('%j is one line and no command', (text) => {
    const line = logLine(text)
    expect(line.split(/\r\n|\r|\n|\u2028|\u2029|\u0085/)).toHaveLength(1)
    expect(commands(line)).toEqual([])
  })

  it('says what the text held, and leaves ordinary text alone', () => {
    expect(logLine("Deleted 'x\n::y'")).toBe("Deleted 'x\\u000a::y'")
    expect(logLine('::group::x')).toBe('\\u003a:group::x')
    expect(logLine('a ##[b]')).toBe('a ##\\u005bb]')
    expect(logLine("Created branch 'preview/pr-1-x' (br-a-1): 3 operations")).toBe(
      "Created branch 'preview/pr-1-x' (br-a-1): 3 operations",
    )
    expect(escapeControl('tab\there')).toBe('tab\\u0009here')
  })
})

describe('logLines', () => {
  it('keeps the lines of a message that lists, and escapes what is inside each', () => {
    const out = logLines("cleanup failed:\n- 'a\r::error::x': boom\r\n- 'b ##[add-mask]y'")
    expect(out).toBe("cleanup failed:\n- 'a\\u000d::error::x': boom\n- 'b ##\\u005badd-mask]y'")
    // Only our own lines start lines; none of them a command.
    expect(commands(out)).toEqual([])
  })
})
