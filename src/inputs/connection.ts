// How the connection strings are written: `database`, `role`, `ssl`, `channel_binding`, `prisma`.
import { INPUTS } from '../constants.js'
import { DEFAULTS, SSL_MODES } from './defaults.js'
import type { Reader } from './reader.js'
import type { Inputs } from './types.js'

export type ConnectionInputs = Pick<Inputs, 'database' | 'role' | 'ssl' | 'channelBinding' | 'prisma'>

export function readConnection(r: Reader): ConnectionInputs {
  const database = r.identifier(INPUTS.database, DEFAULTS.database)
  const role = r.identifier(INPUTS.role, DEFAULTS.role)
  const ssl = r.oneOf(INPUTS.ssl, SSL_MODES, DEFAULTS.ssl)
  const channelBinding = r.bool(INPUTS.channelBinding, DEFAULTS.channelBinding)
  const prisma = r.bool(INPUTS.prisma, DEFAULTS.prisma)
  return { database, role, ssl, channelBinding, prisma }
}
