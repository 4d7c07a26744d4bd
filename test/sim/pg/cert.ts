// The throwaway cluster's TLS certificate, made with Node's crypto alone (no `openssl` CLI, so no
// system package): a P-256 key and a self-signed X.509 v3 certificate for localhost and 127.0.0.1,
// CA:TRUE so that it is its own trust anchor (the endpoint proxies pass it as `ca`), valid from an
// hour ago for two days. The DER below follows RFC 5280 section 4.1 (Certificate, TBSCertificate),
// 4.2.1.6 (subjectAltName) and 4.2.1.9 (basicConstraints), and RFC 5758 section 3.2
// (ecdsa-with-SHA256, no parameters).

import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'

function der(tag: number, content: Buffer): Buffer {
  const n = content.length
  const len =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), len, content])
}
const seq = (...items: Buffer[]): Buffer => der(0x30, Buffer.concat(items))

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number)
  const bytes = [40 * a + b]
  for (const v of rest) {
    const groups = [v & 0x7f]
    for (let x = v >>> 7; x > 0; x >>>= 7) groups.unshift((x & 0x7f) | 0x80)
    bytes.push(...groups)
  }
  return der(0x06, Buffer.from(bytes))
}

/** UTCTime, YYMMDDHHMMSSZ (RFC 5280 4.1.2.5.1: years before 2050). */
function utcTime(d: Date): Buffer {
  const two = (n: number): string => String(n).padStart(2, '0')
  const text =
    two(d.getUTCFullYear() % 100) +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes()) +
    two(d.getUTCSeconds()) +
    'Z'
  return der(0x17, Buffer.from(text, 'ascii'))
}

const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'))

/** A self-signed certificate and its key, both PEM. `now` is the real time: TLS checks it. */
export function selfSignedCertificate(now: Date = new Date()): { cert: string; key: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const name = seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from('localhost')))))
  const serial = randomBytes(16)
  serial[0] = (serial[0]! & 0x7f) | 0x01 // positive and without a leading zero byte
  const basicConstraints = seq(
    oid('2.5.29.19'),
    der(0x01, Buffer.from([0xff])), // critical
    der(0x04, seq(der(0x01, Buffer.from([0xff])))), // cA TRUE
  )
  const subjectAltName = seq(
    oid('2.5.29.17'),
    der(0x04, seq(der(0x82, Buffer.from('localhost')), der(0x87, Buffer.from([127, 0, 0, 1])))),
  )
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    der(0x02, serial),
    ECDSA_WITH_SHA256,
    name,
    seq(utcTime(new Date(now.getTime() - 3_600_000)), utcTime(new Date(now.getTime() + 2 * 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, seq(basicConstraints, subjectAltName)),
  )
  // Node signs an EC key in DER (ECDSA-Sig-Value), as X.509 wants it.
  const signature = sign('sha256', tbs, privateKey)
  const cert = seq(tbs, ECDSA_WITH_SHA256, der(0x03, Buffer.concat([Buffer.from([0]), signature])))
  const body = cert.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }
}
