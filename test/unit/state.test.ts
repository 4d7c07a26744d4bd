import { describe, expect, it } from 'vitest'
import { parseEphemeralRecord, recordProblem } from '../../src/state.js'
import { parseOutputFile } from '../helpers/run-action.js'

const RECORD = {
  projectId: 'p-1',
  apiHost: 'https://console.neon.tech/api/v2',
  name: 'ci/run-1-1-test',
  key: 'k',
  timeoutMs: 300_000,
}

describe('parseEphemeralRecord', () => {
  it('reads what main saves, with and without the branch id', () => {
    expect(parseEphemeralRecord(JSON.stringify(RECORD))).toEqual(RECORD)
    const full = { ...RECORD, branchId: 'br-a-1', operationIds: ['op-1'] }
    expect(parseEphemeralRecord(JSON.stringify(full))).toEqual(full)
  })

  it('is undefined for an empty value (nothing recorded, or cleared)', () => {
    expect(parseEphemeralRecord('')).toBeUndefined()
    expect(parseEphemeralRecord('  ')).toBeUndefined()
  })

  it.each([
    'not json',
    '{}',
    JSON.stringify({ ...RECORD, timeoutMs: '300' }),
    JSON.stringify({ ...RECORD, operationIds: [1] }),
  ])('refuses %s, naming the state variable', (text) => {
    expect(() => parseEphemeralRecord(text)).toThrow(
      /STATE_ephemeral_branch does not hold what the main step saves/,
    )
  })
})

describe('the runner state file format (parseOutputFile)', () => {
  it('reads heredoc values, and a later value of a name replaces an earlier one', () => {
    const text = [
      'isPost<<ghadelimiter_1',
      'true',
      'ghadelimiter_1',
      'ephemeral_branch<<ghadelimiter_2',
      '{"a":1}',
      'ghadelimiter_2',
      'ephemeral_branch<<ghadelimiter_3',
      '',
      'ghadelimiter_3',
      '',
    ].join('\n')
    expect(parseOutputFile(text)).toEqual({ isPost: 'true', ephemeral_branch: '' })
  })
})

describe('recordProblem (issue 22, finding 5)', () => {
  const expected = { apiHost: 'https://console.neon.tech/api/v2', projectId: 'p-1' }
  const ok = { ...RECORD, key: '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b', branchId: 'br-a-1', operationIds: [] }

  it('accepts what main writes', () => {
    expect(recordProblem(ok, expected)).toBeUndefined()
    expect(recordProblem({ ...ok, branchId: undefined, operationIds: undefined }, expected)).toBeUndefined()
  })

  it.each([
    [{ apiHost: 'https://evil.example/api/v2' }, /names the API host "https:\/\/evil\.example\/api\/v2"/],
    [{ apiHost: 'https://console.neon.tech/api/v2/' }, /names the API host/],
    [{ projectId: 'p-2' }, /names the project "p-2", not this step's project_id \(p-1\)/],
    [{ branchId: 'br-A' }, /branch id "br-A" is not of Neon's br-… form/],
    [{ branchId: '../x' }, /branch id "\.\.\/x"/],
    [{ name: '' }, /branch name "" is not one/],
    [{ name: 'a\nb' }, /branch name "a\\nb"/],
    [{ name: 'x'.repeat(257) }, /branch name "x{100}…"/],
    [{ key: 'k' }, /github-ephemeral-key is not of the form/],
    [{ operationIds: ['op-1'] }, /operation ids are not of Neon's form/],
    [{ timeoutMs: 0 }, /timeout \(0 ms\)/],
  ])('refuses %j', (change, why) => {
    expect(recordProblem({ ...ok, ...change }, expected)).toMatch(why)
  })
})
