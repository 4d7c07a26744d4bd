/**
 * `npm run bench:pr-content`: the work a pull request's own text costs the action (issue 30): the
 * masking rules reader (YAML and JSON), the schema redaction and the schema diff, each against
 * the size of its input, doubling. Linear work shows as a time per unit (per MiB, per 1,000 lines)
 * that stays flat while the input grows; quadratic work would double it at each step.
 *
 * The shapes are the ones that were slow before issue 30: a quote after every character of a rules
 * line (the reader re-scanned each line for every quote), long runs of spaces (a trailing-space
 * regular expression), and a schema whose every line changed (jsdiff without a limit: 84 s for
 * 20,000 lines). Beside them, `node -e 0` measured in the same run: the cost of starting Node at
 * all on this machine, now.
 *
 *   npm run bench:pr-content              sizes up to 1 MiB and 80,000 lines
 *   npm run bench:pr-content -- --quick   up to 256 KiB and 20,000 lines
 *
 * Timing is printed, never asserted: it depends on the machine.
 */
import { spawnSync } from 'node:child_process'
import { parseStrictJson } from '../src/masking/json-strict.js'
import { parseYamlList } from '../src/masking/yaml-subset.js'
import { boundedSchemaPatch, MAX_DIFF_EDIT_LINES } from '../src/util/schema-patch.js'
import { redactSchemaSecrets } from '../src/util/schema-secrets.js'
import { ACTION_NODE } from '../test/helpers/run-action.js'

const quick = process.argv.includes('--quick')
const KiB = 1024

/** The median of `runs` timings of `f`, in ms. */
function time(f: () => unknown, runs = quick ? 3 : 5): number {
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    f()
    samples.push(performance.now() - t)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]!
}

function nodeStartExitMs(): number {
  return time(() => spawnSync(ACTION_NODE, ['-e', '0']))
}

/** `text` repeated up to `bytes` (whole repetitions). */
const fill = (unit: string, bytes: number): string =>
  unit.repeat(Math.max(1, Math.floor(bytes / unit.length)))

function table(title: string, unit: string, rows: Array<{ size: string; n: number; ms: number }>): void {
  console.log(`\n${title}`)
  console.log(`  ${'input'.padEnd(16)}${'time'.padStart(12)}${`per ${unit}`.padStart(18)}`)
  for (const r of rows) {
    console.log(
      `  ${r.size.padEnd(16)}${`${r.ms.toFixed(1)} ms`.padStart(12)}${`${(r.ms / r.n).toFixed(2)} ms`.padStart(18)}`,
    )
  }
}

function rulesBench(sizes: number[]): void {
  // Lines of 8,000 quotes (under the 16,384-character cap), each a whole rule.
  const quotes = `- table: x${"'x".repeat(4_000)}\n  column: c\n  value: v\n`
  table(
    'YAML rules, a quote after every character (parseYamlList)',
    'MiB',
    sizes.map((b) => ({
      size: `${b / KiB} KiB`,
      n: b / (1 << 20),
      ms: time(() => parseYamlList(fill(quotes, b))),
    })),
  )
  const spaces = `- table: t${' '.repeat(8_000)}x\n  column: c${' '.repeat(8_000)}\n`
  table(
    'YAML rules, long runs of spaces (parseYamlList)',
    'MiB',
    sizes.map((b) => ({
      size: `${b / KiB} KiB`,
      n: b / (1 << 20),
      ms: time(() => parseYamlList(fill(spaces, b))),
    })),
  )
  const rule = '{"table": "public.users", "column": "email", "function": "anon.dummy_free_email()"},\n'
  table(
    'JSON rules (parseStrictJson: scan, duplicate keys, then JSON.parse)',
    'MiB',
    sizes.map((b) => {
      const text = `[${fill(rule, b)}{}]`
      return { size: `${b / KiB} KiB`, n: b / (1 << 20), ms: time(() => parseStrictJson(text)) }
    }),
  )
}

function schemaBench(lineCounts: number[]): void {
  const schema = (n: number, tag: (i: number) => string): string =>
    Array.from(
      { length: n },
      (_, i) => `CREATE TABLE public.t${i} (c_${tag(i)} integer, password_hash text);`,
    ).join('\n') + '\n'
  const side = (id: string) => ({ branchId: id })
  const limits = { timeoutMs: 600_000, maxEditLength: MAX_DIFF_EDIT_LINES }
  const rows = (f: (n: number) => () => unknown) =>
    lineCounts.map((n) => ({ size: `${n.toLocaleString('en-US')} lines`, n: n / 1000, ms: time(f(n)) }))
  table(
    'Schema redaction (redactSchemaSecrets)',
    '1,000 lines',
    rows((n) => {
      const text = schema(n, (i) => (i % 50 === 0 ? "x OPTIONS (password 'p')" : 'a'))
      return () => redactSchemaSecrets(text)
    }),
  )
  table(
    'Schema diff, 50 lines changed (boundedSchemaPatch)',
    '1,000 lines',
    rows((n) => {
      const a = schema(n, () => 'a')
      const step = Math.floor(n / 50)
      const b = schema(n, (i) => (i % step === 0 ? 'b' : 'a'))
      return () => boundedSchemaPatch('neondb', side('br-a'), side('br-b'), a, b, limits)
    }),
  )
  table(
    'Schema diff, 1 line in 100 changed (boundedSchemaPatch)',
    '1,000 lines',
    rows((n) => {
      const a = schema(n, () => 'a')
      const b = schema(n, (i) => (i % 100 === 0 ? 'b' : 'a'))
      return () => boundedSchemaPatch('neondb', side('br-a'), side('br-b'), a, b, limits)
    }),
  )
  table(
    `Schema diff, every line moved (jsdiff works until past ${MAX_DIFF_EDIT_LINES.toLocaleString('en-US')} changed lines)`,
    '1,000 lines',
    rows((n) => {
      const a = schema(n, () => 'a')
      const b = a.trimEnd().split('\n').reverse().join('\n') + '\n'
      return () => boundedSchemaPatch('neondb', side('br-a'), side('br-b'), a, b, limits)
    }),
  )
  table(
    `Schema diff, every line changed (given up at once: more than ${MAX_DIFF_EDIT_LINES.toLocaleString('en-US')} lines unmatched)`,
    '1,000 lines',
    rows((n) => {
      const a = schema(n, () => 'a')
      const b = schema(n, () => 'b')
      return () => boundedSchemaPatch('neondb', side('br-a'), side('br-b'), a, b, limits)
    }),
  )
}

const sizes = (quick ? [64, 128, 256] : [128, 256, 512, 1024]).map((k) => k * KiB)
const lines = quick ? [5_000, 10_000, 20_000] : [10_000, 20_000, 40_000, 80_000]
console.log(`node -e 0: ${nodeStartExitMs().toFixed(0)} ms (starting and exiting Node on this machine, now)`)
rulesBench(sizes)
schemaBench(lines)
