// Masking rules as the inputs give them: the YAML subset (held to the `yaml` library wherever it
// accepts), the checks with their messages, and the inputs masking_rules / masking_rules_file.

import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse as parseWithLibrary } from 'yaml'
import { getInputs, InputError } from '../../src/inputs.js'
import { MaskingRulesError, parseMaskingRules, sameRules } from '../../src/masking/rules.js'
import { parseYamlList, YamlSubsetError } from '../../src/masking/yaml-subset.js'

describe('the YAML subset reads what YAML reads', () => {
  const accepted = [
    `- table: users\n  column: email\n  function: anon.dummy_free_email()\n`,
    `---\n# rules\n- table: users # the users\n  column: email\n  value: 'it''s hidden'\n`,
    `  - table: "billing.cards"\n    column: "number"\n    function: "anon.partial(number, 2, $$XXXX$$, 2)"\n`,
    `-\n  table: users\n  column: phone\n  function: anon.partial(phone, 2, 'XXX-XXXX', 2)\n`,
    `- table: t\n  column: c\n  value: "tab\\there \\u00e9 \\x41 \\"q\\" \\\\"\n`,
    `- table: t\n  column: c\n  value: 0.50\n- table: t2\n  column: c\n  value: true\n- table: t3\n  column: c\n  value: ~\n- table: t4\n  column: c\n  value: 0x1F\n`,
    `- table: t\n  column: c\n  function: pg_catalog.concat(anon.dummy_uuidv4(), '@example.com')\n`,
    `- table: t\n  column: c\n  function: lower(c)#not a comment\n`,
    `-\n- table: t\n`,
    `# only a comment\n`,
    `- { }`.replace('- { }', '- a: b'),
    '- table: t\r\n  column: c\r\n  value: x\r\n',
    `- table: users\n\n  column: email\n\n  value: x   \n`,
    `- 'table': t\n  "column": c\n  value: 'a # b'\n`,
  ]
  for (const text of accepted) {
    it(`accepts ${JSON.stringify(text).slice(0, 60)}`, () => {
      const ours = parseYamlList(text).map((i) => i.value)
      const theirs = (parseWithLibrary(text) as unknown[] | null) ?? []
      expect(ours).toEqual(theirs)
    })
  }

  const refused: [string, RegExp][] = [
    [`- [a, b]\n`, /line 1: .*flow style/],
    [`- table: {a: b}\n`, /line 1: flow style is not supported/],
    [`- table: &x users\n  column: *x\n`, /line 1: anchors and aliases/],
    [`- table: !!str users\n`, /line 1: tags are not supported/],
    [`- table: |\n    users\n`, /line 1: block scalars/],
    [`- table: users\n    and more\n  column: c\n`, /line 2: expected a field at the indentation/],
    [`- table:\n    name: users\n`, /line 1: the field 'table' has no value/],
    [`- table: a: b\n`, /line 1: a value holding ': ' must be quoted/],
    [`- table: users\n  table: again\n`, /line 2: the field 'table' is given twice/],
    [`table: users\n`, /line 1: expected a list of rules/],
    [`- table: "users\n`, /line 1: a quoted value is not closed/],
    [`- table: 'users' trailing\n`, /line 1: something follows a quoted value/],
    [`\t- table: users\n`, /line 1: tabs/],
    [`- table: t\n---\n- table: u\n`, /line 2: more than one YAML document/],
    [
      `- table: t\n  column: c\n  function: anon.partial(c, 1, ' #', 1)\n`,
      /line 3: ' #' inside a value starts a YAML comment/,
    ],
    [`- - table: t\n`, /a list inside a list/],
    [`- table: "\\q"\n`, /unknown escape/],
  ]
  for (const [text, why] of refused) {
    it(`refuses ${JSON.stringify(text).slice(0, 50)}, naming the line`, () => {
      expect(() => parseYamlList(text)).toThrow(YamlSubsetError)
      expect(() => parseYamlList(text)).toThrow(why)
    })
  }
})

describe('parseMaskingRules', () => {
  it('maps the workflow fields to Neon fields, with the defaults', () => {
    const rules = parseMaskingRules(
      `- table: users\n  column: email\n  function: anon.fake_email()\n- table: billing.cards\n  column: number\n  value: XXXX\n  database: shop\n`,
      'auto',
      'neondb',
    )
    expect(rules).toEqual([
      {
        database_name: 'neondb',
        schema_name: 'public',
        table_name: 'users',
        column_name: 'email',
        masking_function: 'anon.fake_email()',
      },
      {
        database_name: 'shop',
        schema_name: 'billing',
        table_name: 'cards',
        column_name: 'number',
        masking_value: 'XXXX',
      },
    ])
  })

  it("takes Neon's own JSON as Neon's create-branch-action does", () => {
    const neon = [
      {
        database_name: 'd',
        schema_name: 's',
        table_name: 't.x',
        column_name: 'c',
        masking_value: "'CONFIDENTIAL'",
      },
    ]
    expect(parseMaskingRules(JSON.stringify(neon), 'auto', 'neondb')).toEqual(neon)
  })

  const bad: [string, RegExp][] = [
    ['[]', /the list of rules is empty/],
    ['{"table": "t"}', /must be a list/],
    ['[1]', /^rule 1: expected a rule .* got a number/],
    ['[{"table": "t", "column": "c"}]', /^rule 1: neither 'function' nor 'value' is given/],
    [
      '[{"table": "t", "column": "c", "function": "f()", "value": "v"}]',
      /^rule 1: 'function' and 'value' are both given/,
    ],
    [
      '[{"table": "t", "column": "c", "value": "v"}, {"column": "c", "value": "v"}]',
      /^rule 2: 'table' is missing/,
    ],
    ['[{"table": "t", "colum": "c", "value": "v"}]', /^rule 1: unknown field 'colum'/],
    [
      '[{"table": "t", "table_name": "t", "column": "c", "value": "v"}]',
      /'table' and 'table_name' are the same field/,
    ],
    ['[{"table": "t", "column": "c", "value": 0}]', /^rule 1: 'value' must be text, got a number/],
    ['[{"table": " t", "column": "c", "value": "v"}]', /'table' starts or ends with spaces/],
    ['[{"table": "t", "column": "c", "value": "v", "database": ""}]', /'database' is empty/],
    [`[{"table": "${'x'.repeat(64)}", "column": "c", "value": "v"}]`, /'table' has 64 bytes/],
    ['[{"table": ".t", "column": "c", "value": "v"}]', /'table' must be a table or schema.table/],
    ['[{"table": "t", "column": "c", "function": "  "}]', /'function' is empty/],
    [
      '[{"table": "t", "column": "c", "value": "v"}, {"table": "public.t", "column": "c", "function": "f()"}]',
      /^rule 2 masks the same column as rule 1/,
    ],
    ['[{"table": "t", "column": "c", "value": "v"', /not valid JSON/],
    [
      '- table: t\n  column: c\n  value: 0\n',
      /^rule 1 \(line 1\): 'value' must be text, got a number \(in YAML, quote it/,
    ],
    ['- table: t\n  column: c\n- table: u\n  column: d\n  value: ~\n', /^rule 1 \(line 1\): neither/],
    ['- table: t\n  column: c\n  value: v\n-\n', /^rule 2 \(line 4\): expected a rule/],
  ]
  for (const [text, why] of bad) {
    it(`refuses ${JSON.stringify(text).slice(0, 60)}`, () => {
      expect(() => parseMaskingRules(text, 'auto', 'neondb')).toThrow(MaskingRulesError)
      expect(() => parseMaskingRules(text, 'auto', 'neondb')).toThrow(why)
    })
  }

  it('never quotes a value of a rule in a message (Neon marks every field x-sensitive)', () => {
    const secretish = 'customer_ssn_column'
    for (const text of [
      `[{"table": "${secretish}", "column": "${secretish}"}]`,
      `[{"table": "${secretish}", "column": "c", "value": "${secretish}", "function": "${secretish}()"}]`,
      `[{"table": "${secretish}", "column": "${secretish}", "value": 1}]`,
      `- table: ${secretish}\n  column: ${secretish}\n  value: 'x' ${secretish}\n`,
    ]) {
      expect(() => parseMaskingRules(text, 'auto', 'neondb')).toThrow(MaskingRulesError)
      try {
        parseMaskingRules(text, 'auto', 'neondb')
      } catch (e) {
        expect((e as Error).message).not.toContain(secretish)
      }
    }
  })

  it('sameRules ignores the order and nothing else', () => {
    const a = parseMaskingRules(
      '[{"table":"t","column":"a","value":"1"},{"table":"t","column":"b","function":"f()"}]',
      'json',
      'db',
    )
    const b = [...a].reverse()
    expect(sameRules(a, b)).toBe(true)
    expect(sameRules(a, [a[0]!])).toBe(false)
    expect(sameRules(a, [a[0]!, { ...a[1]!, masking_function: 'g()' }])).toBe(false)
    expect(sameRules(a, [a[0]!, { ...a[1]!, database_name: 'other' }])).toBe(false)
  })
})

describe('the inputs masking_rules and masking_rules_file', () => {
  const base = { mode: 'create', api_key: 'napi_test_key_1234', project_id: 'wispy-lake-12345678' }
  const read = (values: Record<string, string>, options = {}) =>
    getInputs(
      (n) => ({ ...base, ...values })[n] ?? '',
      () => new Date(),
      options,
    )
  const fails = (values: Record<string, string>, input: string, why: RegExp, options = {}) => {
    let err: unknown
    try {
      read(values, options)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).input).toBe(input)
    expect((err as Error).message).toMatch(why)
  }

  it('inline: the rules, with the database input as the default database', () => {
    const i = read({
      masking_rules: '- table: users\n  column: email\n  function: anon.fake_email()',
      database: 'shop',
    })
    expect(i.masking).toEqual({
      source: 'masking_rules',
      rules: [
        {
          database_name: 'shop',
          schema_name: 'public',
          table_name: 'users',
          column_name: 'email',
          masking_function: 'anon.fake_email()',
        },
      ],
    })
  })

  it('names the input and the rule', () => {
    fails(
      { masking_rules: '[{"table": "t"}]' },
      'masking_rules',
      /^Invalid input 'masking_rules': rule 1: 'column' is missing/,
    )
  })

  it('refuses both inputs at once, and rules on a schema-only branch', () => {
    fails({ masking_rules: '[]', masking_rules_file: 'x.yml' }, 'masking_rules', /are both set/)
    fails(
      { masking_rules: '[{"table":"t","column":"c","value":"v"}]', branch_type: 'schema-only' },
      'masking_rules',
      /no data to mask/,
    )
  })

  const workspace = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'npb-ws-'))
    mkdirSync(join(dir, 'db'))
    writeFileSync(join(dir, 'db', 'rules.yml'), '- table: users\n  column: email\n  value: hidden\n')
    writeFileSync(join(dir, 'db', 'rules.json'), '[{"table": "users", "column": "email", "value": "hidden"}]')
    writeFileSync(join(dir, 'db', 'bad.yml'), '- table: users\n  column: email\n')
    writeFileSync(join(dir, 'db', 'rules.txt'), '[]')
    return dir
  }

  it('a file in the workspace, by its extension; the message names the file, the rule and the line', () => {
    const ws = workspace()
    expect(read({ masking_rules_file: 'db/rules.yml' }, { workspace: ws }).masking?.rules).toHaveLength(1)
    expect(read({ masking_rules_file: 'db/rules.json' }, { workspace: ws }).masking?.source).toBe(
      "masking_rules_file ('db/rules.json')",
    )
    fails(
      { masking_rules_file: 'db/bad.yml' },
      'masking_rules_file',
      /^Invalid input 'masking_rules_file' \('db\/bad\.yml'\): rule 1 \(line 1\): neither/,
      { workspace: ws },
    )
    fails(
      { masking_rules_file: 'db/rules.txt' },
      'masking_rules_file',
      /must end in \.json, \.yaml or \.yml/,
      { workspace: ws },
    )
    fails(
      { masking_rules_file: 'db/missing.yml' },
      'masking_rules_file',
      /does not exist in the workspace.*actions\/checkout/,
      { workspace: ws },
    )
  })

  it('refuses a path out of the workspace, a symbolic link out of it included', () => {
    const ws = workspace()
    const outside = mkdtempSync(join(tmpdir(), 'npb-out-'))
    writeFileSync(join(outside, 'rules.yml'), '- table: t\n  column: c\n  value: v\n')
    symlinkSync(join(outside, 'rules.yml'), join(ws, 'db', 'link.yml'))
    fails({ masking_rules_file: '../rules.yml' }, 'masking_rules_file', /outside the workspace/, {
      workspace: ws,
    })
    fails({ masking_rules_file: join(outside, 'rules.yml') }, 'masking_rules_file', /outside the workspace/, {
      workspace: ws,
    })
    fails({ masking_rules_file: 'db/link.yml' }, 'masking_rules_file', /outside the workspace/, {
      workspace: ws,
    })
  })

  it('is not read where no branch is made (delete, cleanup, auto on a closed pull request)', () => {
    const ws = workspace()
    expect(
      read({ mode: 'delete', masking_rules_file: 'db/missing.yml' }, { workspace: ws }).masking,
    ).toBeUndefined()
    expect(
      read({ mode: 'auto', masking_rules_file: 'db/missing.yml' }, { workspace: ws, autoMode: 'delete' })
        .masking,
    ).toBeUndefined()
    fails({ mode: 'auto', masking_rules_file: 'db/missing.yml' }, 'masking_rules_file', /does not exist/, {
      workspace: ws,
      autoMode: 'create',
    })
    fails({ mode: 'reset', masking_rules_file: 'db/missing.yml' }, 'masking_rules_file', /does not exist/, {
      workspace: ws,
    })
  })
})
