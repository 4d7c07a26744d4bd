/** Markdown that untrusted text cannot break out of. Pure. */

// C0, DEL and C1 control characters (a newline would end a table row or a code span).
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/g

/**
 * Text as an inline code span: Markdown, HTML, autolinks and @-mentions are all inert inside one.
 * The fence is longer than any run of backticks in the text, so the text cannot close it.
 */
export function codeSpan(text: string): string {
  const clean = text.replace(CONTROL_RE, ' ')
  const fence = '`'.repeat(longestRun(clean, '`', 0) + 1)
  const pad = clean.startsWith('`') || clean.endsWith('`') || clean === '' ? ' ' : ''
  return `${fence}${pad}${clean}${pad}${fence}`
}

/** A fenced code block whose fence no line of the text can close. */
export function codeBlock(text: string, lang = ''): string {
  const fence = '`'.repeat(longestRun(text, '`', 2) + 1)
  return `${fence}${lang}\n${text.replace(/\r\n?/g, '\n')}\n${fence}`
}

/** The longest run of `ch` in `text`, at least `min`; a loop, as a schema diff can be megabytes. */
function longestRun(text: string, ch: string, min: number): number {
  let longest = min
  let run = 0
  for (let i = 0; i < text.length; i++) {
    run = text[i] === ch ? run + 1 : 0
    if (run > longest) longest = run
  }
  return longest
}
