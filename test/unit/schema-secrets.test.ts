/**
 * Issue 22, finding 11: credentials in pg_dump's schema text (a user mapping's OPTIONS, a
 * subscription's CONNECTION, and the other forms a schema can hold them in) never reach the pull
 * request comment, the summary or the schema_diff output.
 */
import { describe, expect, it } from 'vitest'
import { redactSchemaSecrets } from '../../src/util/schema-secrets.js'

// As pg_dump prints them: OPTIONS entries one a line, `quote_ident(name) || ' ' || quote_literal(value)`.
const USER_MAPPING = [
  'CREATE USER MAPPING FOR app SERVER remote OPTIONS (',
  "    password 'it''s s3cret',",
  '    "sslpassword" E\'back\\\\slash-pw\',',
  '    "user" \'app\'',
  ');',
].join('\n')

describe('redactSchemaSecrets', () => {
  it("a user mapping's password and sslpassword, with doubled quotes and E'' escapes", () => {
    const r = redactSchemaSecrets(USER_MAPPING)
    expect(r.text).toBe(
      [
        'CREATE USER MAPPING FOR app SERVER remote OPTIONS (',
        "    password '***',",
        '    "sslpassword" E\'***\',',
        '    "user" \'app\'',
        ');',
      ].join('\n'),
    )
    expect(r.secrets).toEqual(expect.arrayContaining(["it's s3cret", "it''s s3cret", 'back\\slash-pw']))
  })

  it.each([
    ["'host=pub.example port=5432 password=subpw123 dbname=app'", 'subpw123'],
    ["'host=h password=''with space'' dbname=x'", 'with space'],
    ["'host=h sslpassword=keypass1 dbname=x'", 'keypass1'],
    ["'postgresql://rep:uri%40pw@h:5432/db?sslmode=require'", 'uri@pw'],
    ["'postgresql://rep@h/db?password=querypw1&sslmode=require'", 'querypw1'],
  ])("a subscription's connection string %s", (conninfo, secret) => {
    const r = redactSchemaSecrets(
      `CREATE SUBSCRIPTION s CONNECTION ${conninfo} PUBLICATION p WITH (connect = false);`,
    )
    expect(r.text).not.toContain(secret)
    expect(r.text).toContain('***')
    expect(r.text).toMatch(/ PUBLICATION p WITH \(connect = false\);$/)
    expect(r.secrets).toContain(secret)
  })

  it('in a diff, in a function body, a comment, a default, and a role', () => {
    const diff = [
      '@@ -1,2 +1,6 @@',
      " CREATE FUNCTION f() RETURNS void AS $$ SELECT dblink_connect('host=h password=fnpass99'); $$;",
      "-    password 'oldpw123'",
      "+    password 'newpw456'",
      "+COMMENT ON TABLE t IS 'see postgres://u:commentpw@host/db';",
      '+ALTER TABLE t ALTER COLUMN c SET DEFAULT \'{"password": "jsonpw77"}\'::jsonb;',
      "+CREATE ROLE r LOGIN PASSWORD 'SCRAM-SHA-256$4096:abc';",
    ].join('\n')
    const r = redactSchemaSecrets(diff)
    for (const s of ['fnpass99', 'oldpw123', 'newpw456', 'commentpw', 'jsonpw77', 'SCRAM-SHA-256$4096:abc']) {
      expect(r.text).not.toContain(s)
      expect(r.secrets).toContain(s)
    }
    // A changed password still shows as a changed line.
    expect(r.text).toContain("-    password '***'\n+    password '***'")
  })

  it('leaves what is no credential as it is', () => {
    const sql = [
      "CREATE TABLE users (id int, password text, token text DEFAULT 'x');",
      "COMMENT ON COLUMN users.password IS 'bcrypt hash';",
      "CREATE USER MAPPING FOR x SERVER y OPTIONS (\n    password_required 'false',\n    \"user\" 'u'\n);",
      "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (\n    dbname 'db',\n    host 'h'\n);",
      "CREATE TYPE kind AS ENUM ('token', 'secret');",
    ].join('\n')
    expect(redactSchemaSecrets(sql)).toEqual({ text: sql, secrets: [] })
  })
})

describe('redactSchemaSecrets on text built to be slow (the schema is the pull request’s)', () => {
  // Quadratic patterns would take minutes on these; bounded ones take milliseconds. No time is
  // asserted: a regression shows as this test hanging past vitest's timeout.
  it.each([
    ['a long a.a.a… run (URI schemes everywhere)', 'a.'.repeat(200_000)],
    ['a://b: again and again, never an @', 'a://b:'.repeat(100_000)],
    ['unterminated conninfo values', "password=''x ".repeat(50_000)],
    ['option names without a literal', ' a_b_c_password'.repeat(50_000)],
  ])('%s', (_, text) => {
    expect(redactSchemaSecrets(text).text.length).toBeGreaterThan(0)
  })

  it('still finds a URI password of a realistic length', () => {
    const pw = 'p'.repeat(200)
    expect(redactSchemaSecrets(`postgresql://u:${pw}@h/db`)).toEqual({
      text: 'postgresql://u:***@h/db',
      secrets: [pw],
    })
  })
})
