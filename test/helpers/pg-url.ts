import pg from 'pg'
import { parse, toClientConfig } from 'pg-connection-string'

export interface UrlClient extends pg.Client {
  /** The SASL mechanism the server and client agreed on, e.g. SCRAM-SHA-256-PLUS (channel binding). */
  authMechanism?: string
}

/**
 * Connects node-postgres with a connection string read as libpq reads it: `sslmode=require` means
 * TLS without certificate checks (pg alone would treat it as verify-full), and `channel_binding=require`
 * means SCRAM-SHA-256-PLUS or no connection at all (pg alone only prefers it).
 */
export async function connectUrl(url: string): Promise<UrlClient> {
  const config = toClientConfig(parse(url, { useLibpqCompat: true }))
  const channelBinding = new URL(url).searchParams.get('channel_binding') ?? 'prefer'
  const client: UrlClient = new pg.Client({ ...config, enableChannelBinding: channelBinding !== 'disable' })
  const conn = (
    client as unknown as { connection: { sendSASLInitialResponseMessage(m: string, r: string): void } }
  ).connection
  const send = conn.sendSASLInitialResponseMessage.bind(conn)
  conn.sendSASLInitialResponseMessage = (mechanism, response) => {
    client.authMechanism = mechanism
    // Thrown here, pg fails the connect() with it.
    if (channelBinding === 'require' && mechanism !== 'SCRAM-SHA-256-PLUS')
      throw new Error(`channel binding required, but the server offered only ${mechanism}`)
    send(mechanism, response)
  }
  await client.connect()
  if (channelBinding === 'require' && client.authMechanism !== 'SCRAM-SHA-256-PLUS') {
    await client.end()
    throw new Error('channel binding required, but the server did not authenticate with SCRAM-SHA-256-PLUS')
  }
  return client
}

/** Connects, runs one query, disconnects. */
export async function queryUrl<R extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  sql: string,
  params?: unknown[],
): Promise<R[]> {
  const client = await connectUrl(url)
  try {
    return (await client.query<R>(sql, params)).rows
  } finally {
    await client.end()
  }
}
