// One listener on 127.0.0.1 per simulated endpoint, standing in for Neon's proxy: it takes the client's
// TLS (with the server's own certificate, so SCRAM channel binding still matches), reads the startup
// packet, rewrites the Neon role and database names into the branch's real ones, and then relays bytes
// to the real server over TLS. Authentication (SCRAM, channel binding) is done by PostgreSQL itself.

import { connect as netConnect, createServer, type Server, type Socket } from 'node:net'
import { connect as tlsConnect, createSecureContext, TLSSocket, type SecureContext } from 'node:tls'
import type { Duplex } from 'node:stream'

const PROTOCOL_3 = 196608
const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102

export type RouteResult =
  | { user: string; database: string; /** Called once when the session ends. */ release?: () => void }
  | { error: { code: string; message: string } }

/** Maps the client's startup user and database (as Neon names them) to real ones, or refuses. */
export type Router = (endpointId: string, user: string, database: string) => Promise<RouteResult>

export interface ProxyOptions {
  upstream: { host: string; port: number }
  cert: string
  key: string
  route: Router
}

/** Reads one length-prefixed startup-phase packet (the length counts itself). */
function readPacket(s: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const done = (err?: Error, packet?: Buffer): void => {
      s.off('data', onData)
      s.off('end', onEnd)
      s.off('close', onEnd)
      s.off('error', onError)
      s.pause()
      if (err) reject(err)
      else resolve(packet ?? Buffer.alloc(0))
    }
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length < 4) return
      const len = buf.readInt32BE(0)
      if (len < 8 || len > 10_000) return done(new Error('not a PostgreSQL startup packet'))
      if (buf.length < len) return
      if (buf.length > len) s.unshift(buf.subarray(len))
      done(undefined, buf.subarray(0, len))
    }
    const onEnd = (): void => done(new Error('connection closed during startup'))
    const onError = (e: Error): void => done(e)
    s.on('data', onData)
    s.on('end', onEnd)
    s.on('close', onEnd)
    s.on('error', onError)
    s.resume()
  })
}

function readByte(s: Duplex): Promise<number> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      s.off('data', onData)
      s.off('error', onError)
      s.off('close', onClose)
      s.pause()
    }
    const onData = (chunk: Buffer): void => {
      cleanup()
      if (chunk.length > 1) s.unshift(chunk.subarray(1))
      resolve(chunk[0] ?? 0)
    }
    const onError = (e: Error): void => {
      cleanup()
      reject(e)
    }
    const onClose = (): void => onError(new Error('server closed the connection'))
    s.on('data', onData)
    s.on('error', onError)
    s.on('close', onClose)
    s.resume()
  })
}

function parseStartup(packet: Buffer): Map<string, string> {
  const params = new Map<string, string>()
  const parts = packet.subarray(8).toString('utf8').split('\0')
  for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2)
    params.set(parts[i] ?? '', parts[i + 1] ?? '')
  return params
}

function buildStartup(params: Map<string, string>): Buffer {
  const body = Buffer.from([...params].map(([k, v]) => `${k}\0${v}\0`).join('') + '\0', 'utf8')
  const head = Buffer.alloc(8)
  head.writeInt32BE(8 + body.length, 0)
  head.writeInt32BE(PROTOCOL_3, 4)
  return Buffer.concat([head, body])
}

/** A FATAL ErrorResponse, as the server sends it during startup. */
export function fatal(code: string, message: string): Buffer {
  const fields = [`SFATAL`, `VFATAL`, `C${code}`, `M${message}`].map((f) => `${f}\0`).join('') + '\0'
  const body = Buffer.from(fields, 'utf8')
  const head = Buffer.alloc(5)
  head.write('E', 0)
  head.writeInt32BE(4 + body.length, 1)
  return Buffer.concat([head, body])
}

export class EndpointProxies {
  private readonly listeners = new Map<string, Promise<{ server: Server; port: number }>>()
  private readonly sockets = new Set<Duplex>()
  private readonly secure: SecureContext
  private closed = false

  constructor(private readonly o: ProxyOptions) {
    this.secure = createSecureContext({ cert: o.cert, key: o.key })
  }

  /** The port of the endpoint's listener, started on first use. */
  port(endpointId: string): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the PostgreSQL backend is closed'))
    let l = this.listeners.get(endpointId)
    if (!l) {
      l = new Promise((resolve, reject) => {
        const server = createServer((sock) => this.accept(endpointId, sock))
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => {
          const addr = server.address()
          resolve({ server, port: typeof addr === 'object' && addr ? addr.port : 0 })
        })
      })
      this.listeners.set(endpointId, l)
    }
    return l.then((x) => x.port)
  }

  async close(): Promise<void> {
    this.closed = true
    for (const s of this.sockets) s.destroy()
    for (const r of await Promise.allSettled([...this.listeners.values()])) {
      if (r.status === 'fulfilled') await new Promise<void>((res) => r.value.server.close(() => res()))
    }
  }

  private track<T extends Duplex>(s: T): T {
    this.sockets.add(s)
    s.on('close', () => this.sockets.delete(s))
    s.on('error', () => s.destroy())
    return s
  }

  private accept(endpointId: string, sock: Socket): void {
    this.track(sock)
    this.session(endpointId, sock).catch(() => sock.destroy())
  }

  private async session(endpointId: string, sock: Socket): Promise<void> {
    let client: Duplex = sock
    let tls = false
    let packet: Buffer
    for (;;) {
      packet = await readPacket(client)
      const code = packet.readInt32BE(4)
      if (code === SSL_REQUEST && !tls) {
        sock.write('S')
        client = this.track(new TLSSocket(sock, { isServer: true, secureContext: this.secure }))
        tls = true
      } else if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        client.write('N')
      } else if (code === CANCEL_REQUEST) {
        // The key identifies the real backend already: pass it on as it is.
        const up = this.track(netConnect(this.o.upstream.port, this.o.upstream.host))
        up.end(packet)
        client.end()
        return
      } else if (code === PROTOCOL_3) {
        break
      } else {
        client.end(fatal('08P01', `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}`))
        return
      }
    }
    const params = parseStartup(packet)
    const user = params.get('user') ?? ''
    const routed = await this.o.route(endpointId, user, params.get('database') || user)
    if ('error' in routed) {
      client.end(fatal(routed.error.code, routed.error.message))
      return
    }
    params.set('user', routed.user)
    params.set('database', routed.database)

    // Mirror the client: TLS to the server when the client used TLS (pg_hba accepts nothing else).
    let up: Duplex = this.track(netConnect(this.o.upstream.port, this.o.upstream.host))
    if (tls) {
      const head = Buffer.alloc(8)
      head.writeInt32BE(8, 0)
      head.writeInt32BE(SSL_REQUEST, 4)
      up.write(head)
      if ((await readByte(up)) !== 'S'.charCodeAt(0)) throw new Error('the server refused TLS')
      up = this.track(
        tlsConnect({
          socket: up as Socket,
          ca: [this.o.cert],
          checkServerIdentity: () => undefined,
        }),
      )
    }
    up.write(buildStartup(params))
    client.pipe(up)
    up.pipe(client)
    client.resume()
    up.resume()
    let released = false
    const closeBoth = (): void => {
      client.destroy()
      up.destroy()
      if (!released) {
        released = true
        routed.release?.()
      }
    }
    client.on('close', closeBoth)
    up.on('close', closeBoth)
  }
}
