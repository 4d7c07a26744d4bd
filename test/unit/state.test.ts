import { describe, expect, it } from 'vitest'
import { parseEphemeralRecord } from '../../src/state.js'
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
