/**
 * What to do about a wrong key or project (issue 32): which NeonApiErrors get advice naming the
 * input, and which do not; and `mode: create` on a closed pull request.
 */
import { describe, expect, it } from 'vitest'
import { refuseCreateOnClosed } from '../../src/github/auto-mode.js'
import { InputError } from '../../src/inputs.js'
import { ModeError } from '../../src/modes/types.js'
import { adviceFor, isAuthFailure, isProjectNotFound } from '../../src/neon/advice.js'
import { NeonApiError } from '../../src/neon/errors.js'

const err = (status: number, path: string, neonMessage: string, method = 'GET') =>
  new NeonApiError({ method, path, status, neonMessage, attempts: 1 })

describe('advice for a wrong key or project (issue 32)', () => {
  it('a 401 names api_key, the secret, a revoked and a project-scoped key', () => {
    const e = err(401, '/projects/p-1/branches', 'authentication failed', 'POST')
    expect(isAuthFailure(e)).toBe(true)
    const advice = adviceFor(e)!
    expect(advice).toMatch(/^Check input 'api_key': /)
    expect(advice).toContain('secrets.NEON_API_KEY')
    expect(advice).toContain('revoked')
    expect(advice).toContain('project-scoped key')
  })

  it('a 404 for the project names project_id, the console and neonctl', () => {
    for (const e of [
      err(404, '/projects/p-1', 'project not found'),
      err(404, '/projects/p-1/branches', 'not found', 'POST'),
      err(404, '/projects/p-1/operations', 'not found'),
      err(404, '/projects/p-1/branches/br-a-1', 'project not found'),
    ]) {
      expect(isProjectNotFound(e), e.message).toBe(true)
      expect(adviceFor(e)).toMatch(/^Check input 'project_id': .*Settings.*`neonctl projects list`/)
    }
  })

  it('a 404 for something inside the project, and other statuses, get no advice', () => {
    for (const e of [
      err(404, '/projects/p-1/branches/br-a-1', 'branch not found'),
      err(404, '/projects/p-1/branches/br-a-1/roles/app/reveal_password', 'role app not found'),
      err(403, '/projects/p-1/branches', 'forbidden'),
      err(500, '/projects/p-1/branches', 'project not found'),
      new Error('project not found'),
    ]) {
      expect(adviceFor(e), e.message).toBeUndefined()
    }
  })

  it('finds the Neon error behind a mode failure', () => {
    const e = new ModeError('create failed', [], err(401, '/projects/p-1/branches', 'authentication failed'))
    expect(adviceFor(e)).toMatch(/^Check input 'api_key'/)
  })
})

describe('mode: create on a closed pull request (issue 32)', () => {
  const closed = { eventName: 'pull_request', action: 'closed' }
  it('fails, naming delete and auto', () => {
    expect(() => refuseCreateOnClosed('create', false, closed)).toThrow(InputError)
    expect(() =>
      refuseCreateOnClosed('create', false, { ...closed, eventName: 'pull_request_target' }),
    ).toThrow("Use 'mode: delete' for closed events")
  })
  it('lets every other case through: another mode, another action, ephemeral, another event', () => {
    expect(() => refuseCreateOnClosed('delete', false, closed)).not.toThrow()
    expect(() => refuseCreateOnClosed('create', false, { ...closed, action: 'synchronize' })).not.toThrow()
    expect(() => refuseCreateOnClosed('create', true, closed)).not.toThrow()
    expect(() => refuseCreateOnClosed('create', false, { eventName: 'push' })).not.toThrow()
  })
})
