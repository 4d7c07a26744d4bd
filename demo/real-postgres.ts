/**
 * `npm run demo -- --real-postgres`: the simulator runs with a real, throwaway PostgreSQL behind it
 * (test/sim/pg). The parent branch gets a table with rows; after the create step the action's own
 * outputs are used as a Postgres client would use them (rewritten only in host and port, to the
 * local stand-in for the endpoint), and a few queries are printed.
 */
import { connectUrl, queryUrl } from '../test/helpers/pg-url.js'
import type { ActionRun } from '../test/helpers/run-action.js'
import { api } from '../test/sim/helpers.js'
import type { NeonSimulator } from '../test/sim/index.js'

function postgresOf(sim: NeonSimulator) {
  if (!sim.postgres) throw new Error('the simulator was started without its PostgreSQL backend')
  return sim.postgres
}

/** The parent's URL as Neon's connection_uri gives it. */
async function parentUrl(sim: NeonSimulator, projectId: string): Promise<string> {
  const res = await api(
    sim,
    'GET',
    `/projects/${projectId}/connection_uri?database_name=neondb&role_name=neondb_owner&pooled=false`,
  )
  return res.body.uri as string
}

export async function seedParent(sim: NeonSimulator, projectId: string): Promise<void> {
  const pg = postgresOf(sim)
  console.log(
    `\nReal PostgreSQL ${pg.server.version} on 127.0.0.1:${pg.server.port} (started in ${pg.startMs} ms)`,
  )
  const client = await connectUrl(await pg.resolve(await parentUrl(sim, projectId)))
  await client.query('CREATE TABLE vouchers (code text PRIMARY KEY, percent int NOT NULL)')
  await client.query(`INSERT INTO vouchers VALUES ('WELCOME10', 10), ('SPRING25', 25)`)
  await client.end()
  console.log('  the parent branch (main) holds table vouchers with 2 rows')
}

export async function queryThroughOutputs(
  sim: NeonSimulator,
  projectId: string,
  run: ActionRun,
  check: (ok: boolean, what: string) => void,
): Promise<void> {
  const pg = postgresOf(sim)
  const url = await pg.resolve(run.outputs.db_url ?? '')
  console.log('\n=== psql-style queries through the db_url output (only host and port rewritten)')
  const client = await connectUrl(url)
  const q = async (sql: string) => {
    const rows = (await client.query(sql)).rows as Record<string, unknown>[]
    console.log(`  => ${sql}`)
    for (const r of rows) console.log(`     ${Object.values(r).map(String).join(' | ')}`)
    return rows
  }
  try {
    await q('SELECT current_user, current_database()')
    await q(`SELECT setting AS server_version FROM pg_settings WHERE name = 'server_version'`)
    const rows = await q('SELECT code, percent FROM vouchers ORDER BY code')
    check(rows.length === 2, "the new branch has the parent's rows")
    await q(`INSERT INTO vouchers VALUES ('PR42ONLY', 99) RETURNING code`)
  } finally {
    await client.end()
  }
  check(client.authMechanism === 'SCRAM-SHA-256-PLUS', `authenticated over TLS with ${client.authMechanism}`)
  const parent = await queryUrl(
    await pg.resolve(await parentUrl(sim, projectId)),
    'SELECT count(*)::int AS n FROM vouchers',
  )
  console.log(`  the parent still has ${parent[0]?.n} rows`)
  check(parent[0]?.n === 2, "a write to the branch leaves the parent's data unchanged")
}

/** The pull request's migration, run through the create step's db_url as `prisma migrate` would. */
export async function migrateThroughOutputs(sim: NeonSimulator, run: ActionRun): Promise<void> {
  const sql = [
    'CREATE TABLE redemptions (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text NOT NULL REFERENCES vouchers (code), redeemed_at timestamptz NOT NULL DEFAULT now())',
    'ALTER TABLE vouchers ADD COLUMN expires_on date',
    'CREATE INDEX redemptions_code_idx ON redemptions (code)',
  ]
  const client = await connectUrl(await postgresOf(sim).resolve(run.outputs.db_url ?? ''))
  console.log("\n=== the pull request's migration, through the db_url output")
  try {
    for (const q of sql) {
      await client.query(q)
      console.log(`  => ${q}`)
    }
  } finally {
    await client.end()
  }
}
