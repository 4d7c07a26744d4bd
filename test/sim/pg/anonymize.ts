// Static masking for real, on the simulator's PostgreSQL backend: what Neon does with PostgreSQL
// Anonymizer on an anonymized branch ("static masking: the branch's data itself is rewritten",
// BEHAVIOUR.md), done here with plain SQL. A rule's `masking_function` is an Anonymizer
// expression, run as `UPDATE … SET column = <expression>` (Anonymizer's static masking applies
// `MASKED WITH FUNCTION` so: its docs/static_masking.md); `masking_value` is set as a literal.
//
// The extension itself is not installed (the npm package's server has no `anon`): a small set of its
// functions is written in SQL below, into an `anon` schema made for the masking and dropped after
// it, from the definitions in PostgreSQL Anonymizer's sources (sql/anon.sql, sql/hash.sql,
// sql/random.sql of postgresql_anonymizer 2.2.1) and docs/masking_functions.md. The fake data
// (names, domains) is the simulator's own. A rule calling any other `anon.` function ends in
// `error`, saying so: a limit of the simulator, not an answer of Neon's.

import type pg from 'pg'
import { anonFunctionsIn } from '../anonymization.js'
import type { MaskOutcome, SimMaskingRule } from '../masking-types.js'

const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`

const NAMES_FIRST = `ARRAY['Quillon','Marisol','Tavish','Ondine','Corwin','Isaura','Bexley','Zephyrine','Larkin','Oriel']`
const NAMES_LAST = `ARRAY['Vantorre','Quillfeather','Ashgrove','Merriwether','Dunmore','Halloway','Brightwater','Kestrelby']`
const CITIES = `ARRAY['Port Elwin','Marrowdale','Saint Oriel','New Tavish','Quillbury']`
const COUNTRIES = `ARRAY['Elwinia','Marrovia','Tavishland','Quillonia']`
const COMPANIES = `ARRAY['Ashgrove Ltd','Dunmore & Halloway','Brightwater Systems','Kestrelby Works']`

/** The functions written below, by name (several have overloads). */
export const IMPLEMENTED_ANON_FUNCTIONS: ReadonlySet<string> = new Set([
  'random_string',
  'random_int_between',
  'random_bigint_between',
  'random_zip',
  'random_phone',
  'random_date',
  'random_date_between',
  'random_in',
  'random_id',
  'random_id_int',
  'random_hash',
  'fake_first_name',
  'fake_last_name',
  'fake_email',
  'fake_city',
  'fake_country',
  'fake_company',
  'dummy_first_name',
  'dummy_last_name',
  'dummy_name',
  'dummy_free_email',
  'dummy_safe_email',
  'dummy_username',
  'dummy_phone_number',
  'dummy_uuidv4',
  'dummy_city_name',
  'dummy_country_name',
  'dummy_company_name',
  'partial',
  'partial_email',
  'digest',
  'hash',
  'noise',
  'dnoise',
  'ternary',
  'left',
  'length',
])

const pick = (arr: string) => `(${arr})[1 + floor(random() * cardinality(${arr}))::int]`
const letters = (n: string) =>
  `coalesce((SELECT string_agg(substr('abcdefghijklmnopqrstuvwxyz', 1 + floor(random() * 26)::int, 1), '') FROM generate_series(1, ${n})), '')`
const digits = (n: number) => `lpad(floor(random() * 1e${n})::bigint::text, ${n}, '0')`

/** The `anon` schema: one statement, run in the transaction that masks. */
export const ANON_SCHEMA_SQL = `
CREATE SCHEMA anon;
-- sql/random.sql: "returns a TEXT value containing n letters" (docs); '' for 0.
CREATE FUNCTION anon.random_string(n integer) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT coalesce((SELECT string_agg(substr('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
    1 + floor(random() * 62)::int, 1), '') FROM generate_series(1, n)), '') $$;
CREATE FUNCTION anon.random_int_between(a integer, b integer) RETURNS integer LANGUAGE sql VOLATILE AS $$
  SELECT a + floor(random() * (b - a + 1))::integer $$;
CREATE FUNCTION anon.random_bigint_between(a bigint, b bigint) RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT a + floor(random() * (b - a + 1))::bigint $$;
CREATE FUNCTION anon.random_zip() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT ${digits(5)} $$;
-- sql/random.sql: prefix || '#########'.
CREATE FUNCTION anon.random_phone(prefix text DEFAULT '0') RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT prefix || ${digits(9)} $$;
CREATE FUNCTION anon.random_date() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT timestamptz '1900-01-01' + random() * (now() - timestamptz '1900-01-01') $$;
CREATE FUNCTION anon.random_date_between(d1 timestamptz, d2 timestamptz) RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT d1 + random() * (d2 - d1) $$;
CREATE FUNCTION anon.random_in(a anyarray) RETURNS anyelement LANGUAGE sql VOLATILE AS $$
  SELECT a[1 + floor(random() * cardinality(a))::int] $$;
CREATE FUNCTION anon.random_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$ SELECT floor(random() * 9e18)::bigint $$;
CREATE FUNCTION anon.random_id_int() RETURNS integer LANGUAGE sql VOLATILE AS $$ SELECT floor(random() * 2147483647)::integer $$;
CREATE FUNCTION anon.random_hash(seed text) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT encode(sha256((seed || random()::text)::bytea), 'hex') $$;
CREATE FUNCTION anon.fake_first_name() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT ${pick(NAMES_FIRST)} $$;
CREATE FUNCTION anon.fake_last_name() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT ${pick(NAMES_LAST)} $$;
CREATE FUNCTION anon.fake_email() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT ${letters('8')} || '.' || lower(${pick(NAMES_LAST)}) || '@example.' || ${pick(`ARRAY['com','net','org']`)} $$;
CREATE FUNCTION anon.fake_city() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT ${pick(CITIES)} $$;
CREATE FUNCTION anon.fake_country() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT ${pick(COUNTRIES)} $$;
CREATE FUNCTION anon.fake_company() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT ${pick(COMPANIES)} $$;
CREATE FUNCTION anon.dummy_first_name() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT anon.fake_first_name() $$;
CREATE FUNCTION anon.dummy_last_name() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT anon.fake_last_name() $$;
CREATE FUNCTION anon.dummy_name() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT anon.fake_first_name() || ' ' || anon.fake_last_name() $$;
CREATE FUNCTION anon.dummy_username() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT lower(anon.fake_first_name()) || '_' || ${letters('6')} $$;
-- fake-rs (the library Anonymizer's dummy_ functions use): a free provider's address, or an example.* one.
CREATE FUNCTION anon.dummy_free_email() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT anon.dummy_username() || '@' || ${pick(`ARRAY['gmail.com','yahoo.com','hotmail.com']`)} $$;
CREATE FUNCTION anon.dummy_safe_email() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT anon.dummy_username() || '@example.' || ${pick(`ARRAY['com','net','org']`)} $$;
CREATE FUNCTION anon.dummy_phone_number() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT '(' || ${digits(3)} || ') ' || ${digits(3)} || '-' || ${digits(4)} $$;
CREATE FUNCTION anon.dummy_uuidv4() RETURNS uuid LANGUAGE sql VOLATILE AS $$ SELECT gen_random_uuid() $$;
CREATE FUNCTION anon.dummy_city_name() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT anon.fake_city() $$;
CREATE FUNCTION anon.dummy_country_name() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT anon.fake_country() $$;
CREATE FUNCTION anon.dummy_company_name() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT anon.fake_company() $$;
-- sql/anon.sql: partial('abcdefgh',1,'xxxx',3) = 'axxxxfgh'.
CREATE FUNCTION anon.partial(ov text, prefix integer, padding text, suffix integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT substring(ov FROM 1 FOR prefix) || padding || substring(ov FROM (length(ov) - suffix + 1) FOR suffix) $$;
-- sql/anon.sql: partial_email('daamien@gmail.com') = 'da******@gm******.com'.
CREATE FUNCTION anon.partial_email(ov text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT substring(regexp_replace(ov, '@.*', '') FROM 1 FOR 2) || '******' || '@'
      || substring(regexp_replace(ov, '.*@', '') FROM 1 FOR 2) || '******' || '.' || regexp_replace(ov, '.*\\.', '') $$;
-- sql/hash.sql.
CREATE FUNCTION anon.digest(val text, salt text, algorithm text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE
    WHEN algorithm = 'md5' THEN md5(concat(val, salt))
    WHEN algorithm = 'sha224' THEN encode(sha224(concat(val, salt)::bytea), 'hex')
    WHEN algorithm = 'sha256' THEN encode(sha256(concat(val, salt)::bytea), 'hex')
    WHEN algorithm = 'sha384' THEN encode(sha384(concat(val, salt)::bytea), 'hex')
    WHEN algorithm = 'sha512' THEN encode(sha512(concat(val, salt)::bytea), 'hex')
  END $$;
-- anon.salt defaults to '' and anon.algorithm to sha256 (docs/masking_functions.md, "Generic hashing").
CREATE FUNCTION anon.hash(seed text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT anon.digest(seed, '', 'sha256') $$;
-- docs: "If the ratio is 0.33, the return value will be the original value randomly shifted with a ratio of +/- 33%".
CREATE FUNCTION anon.noise(v integer, ratio double precision) RETURNS integer LANGUAGE sql VOLATILE AS $$
  SELECT (v * (1 + (2 * random() - 1) * ratio))::integer $$;
CREATE FUNCTION anon.noise(v bigint, ratio double precision) RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT (v * (1 + (2 * random() - 1) * ratio))::bigint $$;
CREATE FUNCTION anon.noise(v double precision, ratio double precision) RETURNS double precision LANGUAGE sql VOLATILE AS $$
  SELECT v * (1 + (2 * random() - 1) * ratio) $$;
CREATE FUNCTION anon.dnoise(v timestamptz, i interval) RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT v + (2 * random() - 1) * i $$;
CREATE FUNCTION anon.dnoise(v date, i interval) RETURNS date LANGUAGE sql VOLATILE AS $$
  SELECT (v + (2 * random() - 1) * i)::date $$;
CREATE FUNCTION anon.ternary(c boolean, a anyelement, b anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN c THEN a ELSE b END $$;
CREATE FUNCTION anon.left(s text, n integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT pg_catalog.left(s, n) $$;
CREATE FUNCTION anon.length(s text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT pg_catalog.length(s) $$;
`

/**
 * A `masking_value` as the literal it stands for. The API description calls it "a literal value
 * to set on the column"; BEHAVIOUR.md writes one quoted, as Anonymizer's `MASKED WITH VALUE
 * 'CONFIDENTIAL'` does. Whether Neon wants the quotes is not documented: a value in single quotes
 * is read as that SQL literal, any other as the text itself.
 */
export function literalOf(value: string): string {
  const m = /^'((?:[^']|'')*)'$/s.exec(value)
  return m ? m[1]!.replace(/''/g, "'") : value
}

const INIT_HINT = 'masking rules could not be applied'

/**
 * Masks a branch's databases: every rule checked first (its database, table and column exist, and
 * the column is no foreign key: "Foreign-key columns cannot be masked", BEHAVIOUR.md), an
 * `initialization_error` otherwise (the API description lists the state; which failures Neon puts
 * there is not documented); then each database rewritten in one transaction. Never throws.
 */
export async function maskBranch(
  connect: (realDatabase: string) => Promise<pg.Client>,
  realDatabase: (name: string) => string | undefined,
  rules: readonly SimMaskingRule[],
): Promise<MaskOutcome> {
  const byDb = new Map<string, SimMaskingRule[]>()
  for (const r of rules) byDb.set(r.database_name, [...(byDb.get(r.database_name) ?? []), r])
  const init = (message: string): MaskOutcome => ({
    ok: false,
    phase: 'initialization',
    message: `${INIT_HINT}: ${message}`,
  })
  const clients = new Map<string, pg.Client>()
  try {
    for (const [db, list] of byDb) {
      const real = realDatabase(db)
      if (!real) return init(`database "${db}" does not exist`)
      const c = await connect(real)
      clients.set(db, c)
      for (const r of list) {
        const where = `column "${r.column_name}" of relation "${r.schema_name}.${r.table_name}"`
        const col = await c.query(
          `SELECT a.attnum, a.attrelid FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = $1 AND t.relname = $2 AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped`,
          [r.schema_name, r.table_name, r.column_name],
        )
        if (col.rowCount === 0) return init(`${where} does not exist`)
        const fk = await c.query(
          `SELECT 1 FROM pg_constraint WHERE contype = 'f' AND conrelid = $1 AND $2 = ANY (conkey)`,
          [col.rows[0].attrelid, col.rows[0].attnum],
        )
        if ((fk.rowCount ?? 0) > 0)
          return init(`${where} is a foreign key, and foreign-key columns cannot be masked`)
      }
    }
    for (const r of rules) {
      for (const f of anonFunctionsIn(r.masking_function ?? '')) {
        if (!IMPLEMENTED_ANON_FUNCTIONS.has(f)) {
          return {
            ok: false,
            phase: 'anonymization',
            message:
              `anon.${f}() is not implemented by the Neon simulator's PostgreSQL backend (a limit of the ` +
              `simulator, not an answer of Neon's); it implements ${[...IMPLEMENTED_ANON_FUNCTIONS].sort().join(', ')}`,
          }
        }
      }
    }
    let masked = 0
    for (const [db, list] of byDb) {
      const c = clients.get(db)!
      try {
        await c.query('BEGIN')
        await c.query(ANON_SCHEMA_SQL)
        for (const r of list) {
          const target = `${ident(r.schema_name)}.${ident(r.table_name)}`
          if (r.masking_function !== undefined) {
            await c.query(`UPDATE ${target} SET ${ident(r.column_name)} = (${r.masking_function})`)
          } else {
            await c.query(`UPDATE ${target} SET ${ident(r.column_name)} = $1`, [
              literalOf(r.masking_value ?? ''),
            ])
          }
          masked++
        }
        await c.query('DROP SCHEMA anon CASCADE')
        await c.query('COMMIT')
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined)
        return {
          ok: false,
          phase: 'anonymization',
          message: `ERROR: ${e instanceof Error ? e.message : String(e)}`,
        }
      }
    }
    return { ok: true, maskedColumns: masked }
  } catch (e) {
    return {
      ok: false,
      phase: 'anonymization',
      message: `ERROR: ${e instanceof Error ? e.message : String(e)}`,
    }
  } finally {
    for (const c of clients.values()) await c.end().catch(() => undefined)
  }
}
