/**
 * Credentials in schema text, replaced by `***` before the text goes anywhere public (the pull
 * request comment, the job summary, the `schema_diff` output). Pure.
 *
 * `pg_dump --schema-only` (what Neon's schema endpoint returns: BEHAVIOUR.md, Schemas) prints, in
 * the clear:
 * - the options of user mappings, servers, foreign-data wrappers and foreign tables as
 *   ` OPTIONS (\n    name 'value',\n    …\n)`, each option `quote_ident(name) || ' ' ||
 *   quote_literal(value)` (pg_dump.c, dumpUserMappings and getForeignServers): a user mapping's
 *   `password 'secret'` above all ("the options typically define the actual user name and password
 *   of the mapping": CREATE USER MAPPING; postgres_fdw also takes `sslpassword` there);
 * - `CREATE SUBSCRIPTION … CONNECTION '<conninfo>'` (pg_dump.c, dumpSubscription), a libpq
 *   connection string: `password=secret` or `password='se cret'` in the keyword/value form, or
 *   `postgresql://user:secret@host/db` in the URI form (libpq, Connection Strings);
 * - whatever a function body, a column default or a comment holds: the same two forms (a
 *   `dblink_connect('… password=…')`), a URI with a password, or `"password": "…"` in JSON.
 * A role's `PASSWORD '…'` (pg_dumpall, not pg_dump, prints roles) is the first form again.
 *
 * The patterns err on the side of hiding: a value that only looks like a credential is hidden too.
 */

export interface RedactedSchema {
  text: string
  /** The values replaced, as written and as meant (SQL quotes undone, URI escapes decoded). */
  secrets: string[]
}

// What a credential's name ends in. A name is a word (letters, digits, `_`, `.`, `-`) ending in one
// of these, in any case, with any prefix: `password`, `PGPASSWORD`, `DB_PASSWORD`, ODBC's `PWD`,
// `sasl.password`, `dbPassword`, `accessToken`, `api_key`.
const SECRET_WORD =
  '(?:password|passwd|pwd|passphrase|secret|token|api_?key|access_?key|private_?key|credentials?)'
// The name starts a word (the look-behind), so each word is tried from its start only, and its
// prefix is bounded: no long run of letters can cost time quadratic in its length.
const NAME_START = '(?<![a-z0-9_.-])'
const PREFIX = '[a-z0-9_.-]{0,64}?'
// An option or a JSON key may go on (`ssl_password_file`); an assignment's name must end in the
// word, so that `token_count = 0` is no credential. `password_required` is a flag, not one.
const SECRET_NAME = `${NAME_START}(?!password_required\\b)${PREFIX}${SECRET_WORD}(?:_[a-z0-9]+){0,8}`
// `name 'value'` (an OPTIONS entry, or PASSWORD '…' of a role): the name, quoted or not, then a
// literal, E'…' included (quote_literal writes E'…' for a value holding a backslash).
const OPTION_RE = new RegExp(`(^|[\\s(,])("?)(${SECRET_NAME})\\2(\\s+)(E?)'((?:[^']|'')*)'`, 'gim')
// `name=value`: a connection string's `password=…` (libpq), an environment variable's
// `PGPASSWORD=…`, ODBC's `PWD=…;`, a setting's `api_key = '…'`. The value quoted (within an SQL
// literal its quotes are doubled), in double quotes, in ODBC's braces, or not quoted (up to a blank
// or the literal's closing quote).
const ASSIGN_RE = new RegExp(
  `${NAME_START}(${PREFIX}${SECRET_WORD})(\\s*:?=\\s*)(''(?:\\\\''|\\\\.|[^'\\\\])*''|'(?:\\\\.|[^'\\\\])*'|"(?:\\\\.|[^"\\\\])*"|\\{[^}]{0,1024}\\}|(?:\\\\.|''|'(?![\\s,;)]|$)|[^\\s'\\\\])+)`,
  'gim',
)
// `scheme://user:password@` of a URI; the password may hold a quote (doubled in an SQL literal).
// Bounded (a scheme of at most 32 characters, a user name of at most 256, a password of at most
// 1024): the text is the pull request's, and an unbounded run here would let a long `a.a.a…` or
// `a://b:a://b:…` line cost time quadratic in its length.
const URI_RE = /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:@/'"]{0,256}:)([^\s@]{1,1024})@/gi
// `"password": "value"` of JSON, camelCase keys included (`"dbPassword"`, `"accessToken"`).
const JSON_RE = new RegExp(`("${SECRET_NAME}"\\s*:\\s*)"((?:[^"\\\\]|\\\\.)*)"`, 'gi')

/** `text` with every credential replaced by `***`, and the values replaced. */
export function redactSchemaSecrets(text: string): RedactedSchema {
  const found = new Set<string>()
  const keep = (...values: string[]): void => {
    for (const v of values) if (v !== '' && v !== '***') found.add(v)
  }
  let out = text.replace(
    OPTION_RE,
    (_, lead: string, q: string, name: string, ws: string, e: string, v: string) => {
      keep(v, v.replace(/''/g, "'"), e ? v.replace(/''/g, "'").replace(/\\\\/g, '\\') : '')
      return `${lead}${q}${name}${q}${ws}${e}'***'`
    },
  )
  out = out.replace(ASSIGN_RE, (_, name: string, eq: string, v: string) => {
    const inner = v
      .replace(/^''(.*)''$/s, '$1')
      .replace(/^'(.*)'$/s, '$1')
      .replace(/^"(.*)"$/s, '$1')
      .replace(/^\{(.*)\}$/s, '$1')
    // In a URI's query (`?password=x&sslmode=…`) the value ends at `&`, and is percent-encoded.
    const query = inner.split('&')[0] ?? ''
    keep(v, inner, inner.replace(/''/g, "'").replace(/\\(.)/g, '$1'), query, safeDecode(query))
    return `${name}${eq}***`
  })
  out = out.replace(URI_RE, (_, head: string, v: string) => {
    keep(v, safeDecode(v), v.replace(/''/g, "'"))
    return `${head}***@`
  })
  out = out.replace(JSON_RE, (_, head: string, v: string) => {
    keep(v, v.replace(/\\(.)/g, '$1'))
    return `${head}"***"`
  })
  return { text: out, secrets: [...found] }
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v)
  } catch {
    return v
  }
}
