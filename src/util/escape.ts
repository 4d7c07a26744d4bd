/**
 * Escaping, in one place, for every place untrusted text goes in what the public reads: the pull
 * request comment (GitHub Markdown), the job summary (Markdown with HTML), and the commands shown in
 * them (POSIX shell). Branch names, refs, titles and schema text come from a pull request or from
 * Neon, and are not ours to trust. Pure. Escaping for workflow commands and the log is
 * util/log-text.ts.
 */

// C0, DEL and C1 control characters: a newline would end a table row or a code span, a blank line
// an HTML block (and let Markdown in).
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/g

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )
}

/** HTML-escaped, and every line break a `<br>`: the text cannot end the HTML block it is in. */
export function escapeInline(text: string): string {
  return escapeHtml(text).replace(/\r\n|\r|\n|\u2028|\u2029/g, '<br>')
}

/**
 * Escapes text for HTML and, on top, the characters Markdown gives a meaning to (emphasis, code,
 * links, tables, mentions), as numeric character references: GitHub reads a job summary as
 * Markdown with HTML in it, and whatever a name holds must show as it is, inert.
 */
export function escapeMarkdownHtml(text: string): string {
  return text.replace(CONTROL_RE, ' ').replace(/[&<>"'\\`*_[\]~|@#!()]/g, (c) => `&#${c.charCodeAt(0)};`)
}

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

// In a GFM table `|` splits cells even inside a code span unless escaped; `\|` is kept as `|` there.
export function tableCell(text: string): string {
  return text.replace(/\|/g, '\\|')
}

/** POSIX single-quoting when the word has anything but safe characters. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9._/:@%+=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}
