import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SeenRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

export type Handler = (req: SeenRequest, res: ServerResponse) => void

/**
 * A loopback server answering from a script of handlers, one per request in order (the last one
 * repeats): for client tests that need exact control of every answer.
 */
export async function scriptedServer(handlers: Handler[]): Promise<{
  url: string
  seen: SeenRequest[]
  close(): Promise<void>
}> {
  const seen: SeenRequest[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      seen.push(r)
      const h = handlers[Math.min(seen.length - 1, handlers.length - 1)]
      h?.(r, res)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'X-Neon-Ret-Request-Id': `req-${status}`,
      ...headers,
    })
    res.end(body === undefined ? '' : JSON.stringify(body))
  }
}
