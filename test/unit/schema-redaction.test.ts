/**
 * Issue 30, item 5: the forms credentials take in schema text (function bodies, comments, server
 * options) beyond pg_dump's own, each redacted; ordinary DDL left as it is; and no pattern that a
 * long line can make slow.
 */
import { describe, expect, it } from 'vitest'
import { redactSchemaSecrets } from '../../src/util/schema-secrets.js'

describe('redactSchemaSecrets: the forms issue 30 found missed', () => {
  it.each([
    [
      'an environment variable',
      '-- run: PGPASSWORD=pgsecret1 psql -h db.example',
      'pgsecret1',
      'PGPASSWORD=***',
    ],
    [
      'an underscored one',
      "COMMENT ON FUNCTION f() IS 'needs DB_PASSWORD=dbsecret2 set';",
      'dbsecret2',
      'DB_PASSWORD=***',
    ],
    [
      'a camelCase JSON key',
      'SELECT \'{"dbPassword": "camelpw33"}\'::jsonb;',
      'camelpw33',
      '"dbPassword": "***"',
    ],
    [
      'an accessToken JSON key',
      'SELECT \'{"user": "u", "accessToken": "tok_abcdef"}\'::jsonb;',
      'tok_abcdef',
      '"accessToken": "***"',
    ],
    [
      'ODBC PWD',
      "SELECT odbc_connect('Driver={PostgreSQL};Server=h;UID=u;PWD=odbcpw44;');",
      'odbcpw44',
      'PWD=***',
    ],
    [
      'ODBC PWD in braces',
      "SELECT odbc_connect('Server=h;PWD={odbc;pw55};UID=u');",
      'odbc;pw55',
      'PWD=***;UID=u',
    ],
    [
      'a dotted option',
      'CREATE SERVER k FOREIGN DATA WRAPPER kafka_fdw OPTIONS (\n    "sasl.password" \'saslpw66\'\n);',
      'saslpw66',
      '"sasl.password" \'***\'',
    ],
    ['api_key with spaces', "  api_key = 'apikey77x'", 'apikey77x', 'api_key = ***'],
    ['a double-quoted value', 'export PGPASSWORD="quoted88"', 'quoted88', 'PGPASSWORD=***'],
    [
      'a URI password holding a quote',
      "SELECT dblink_connect('postgresql://app:pa''ss99@h/db');",
      "pa''ss99",
      'postgresql://app:***@h/db',
    ],
    ['a PL/pgSQL assignment', "  v_password := 'plpgsql10';", 'plpgsql10', 'v_password := ***'],
  ])('%s', (_, text, secret, shown) => {
    const r = redactSchemaSecrets(text)
    expect(r.text).not.toContain(secret)
    expect(r.text).not.toContain(secret.replace(/''/g, "'"))
    expect(r.text).toContain(shown)
  })

  it('leaves ordinary DDL as it is: password_hash, token_count, and friends', () => {
    const sql = [
      'CREATE TABLE public.users (',
      '    id bigint NOT NULL,',
      "    password_hash text DEFAULT ''::text NOT NULL,",
      '    token_count integer DEFAULT 0 NOT NULL,',
      '    api_key_id uuid,',
      '    secret_question text,',
      '    CONSTRAINT users_token_count_check CHECK ((token_count >= 0)),',
      "    CONSTRAINT users_password_hash_check CHECK ((password_hash <> ''::text))",
      ');',
      "COMMENT ON COLUMN public.users.password_hash IS 'bcrypt';",
      'CREATE INDEX users_token_count_idx ON public.users USING btree (token_count);',
      'ALTER TABLE ONLY public.users ALTER COLUMN token_count SET DEFAULT 0;',
      'UPDATE users SET token_count = 0 WHERE password_hash IS NULL;',
      'CREATE FUNCTION public.count_tokens(token_count integer) RETURNS integer',
      '    LANGUAGE sql AS $$ SELECT token_count + 1 $$;',
    ].join('\n')
    expect(redactSchemaSecrets(sql)).toEqual({ text: sql, secrets: [] })
  })
})

describe('the new patterns on text built to be slow', () => {
  // No time is asserted: a quadratic pattern shows as this test passing vitest's timeout.
  it.each([
    ['one long word', 'a'.repeat(1_000_000)],
    ['a word of secret words', 'password'.repeat(100_000)],
    ['names without a value', 'xpassword'.repeat(50_000) + ' '],
    ['assignments never closed', "PWD='".repeat(100_000)],
    ['braces never closed', 'PWD={'.repeat(100_000)],
    ['dotted names', 'a.'.repeat(300_000) + 'password'],
    ['URI passwords never ending in @', 'a://b:'.repeat(50_000) + "'".repeat(100_000)],
  ])('%s', (_, text) => {
    expect(redactSchemaSecrets(text).text.length).toBeGreaterThan(0)
  })
})
