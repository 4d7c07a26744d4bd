/**
 * Text from outside (Neon's names and messages, GitHub's answers, a recorded state) made safe for
 * the run's log. Pure.
 *
 * The runner reads a step's stdout line by line, and a line is a workflow command when, after its
 * leading whitespace, it starts with `::` (`::add-mask::`, `::stop-commands::`, `::error::` …), or
 * when it holds `##[` anywhere (the legacy form); it splits lines at `\n`, at `\r` and at `\r\n`
 * (actions/runner, src/Runner.Common/ActionCommand.cs: TryParseV2 and TryParse). @actions/core
 * escapes the data of its own commands (warning, error, notice, debug, group), but `core.info`
 * writes its text as it is: a branch name holding `\n::stop-commands::x` would end the masking of
 * every secret printed after it.
 */

// C0 controls (\n and \r among them), DEL, C1 controls, and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/** Every control character as a visible `\uXXXX`: the text stays on one line, and says what it held. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_RE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * One log line that the runner cannot take for a command: control characters escaped (so nothing
 * in it starts a line of its own), a leading `::` and every `##[` broken with an escape.
 */
export function logLine(text: string): string {
  return escapeControl(text)
    .replace(/^(\s*):/, '$1\\u003a')
    .replace(/##\[/g, '##\\u005b')
}

/**
 * A multi-line message (an error that lists what failed, one per line) with each line escaped:
 * only the `\n` between lines is kept, so a `\r` or another control character inside a line
 * cannot start one, and `##[` broken as in logLine. Used where @actions/core escapes the whole
 * message again (core.setFailed).
 */
export function logLines(text: string): string {
  return text
    .split(/\r\n|\n/)
    .map((line) => escapeControl(line).replace(/##\[/g, '##\\u005b'))
    .join('\n')
}
