import { describe, expect, it } from 'vitest'
import { formatPointInTime, parsePointInTime } from '../../src/neon/point-in-time.js'
import { getInputs } from '../../src/inputs.js'

const NOW = Date.parse('2030-01-31T18:00:00Z')

describe('parsePointInTime (neonctl utils/point_in_time.js rules)', () => {
  it.each([
    ['main', { ref: 'main' }],
    ['br-cold-moon-12345678', { ref: 'br-cold-moon-12345678' }],
    ['main@0/1A2B3C4', { ref: 'main', lsn: '0/1A2B3C4' }],
    ['main@ffffffff/0', { ref: 'main', lsn: 'ffffffff/0' }],
    ['main@2030-01-31T17:00:00Z', { ref: 'main', timestamp: '2030-01-31T17:00:00Z' }],
    ['main@2030-01-31T17:00:00.123+02:00', { ref: 'main', timestamp: '2030-01-31T17:00:00.123+02:00' }],
    // Split at the last @, as neonctl does: a name may hold one.
    ['team@x@0/1', { ref: 'team@x', lsn: '0/1' }],
  ])('%s', (value, expected) => {
    expect(parsePointInTime(value, NOW)).toEqual(expected)
    expect(formatPointInTime(parsePointInTime(value, NOW))).toBe(value)
  })

  it.each([
    ['main@yesterday', /neither an LSN nor a timestamp/],
    ['main@2030-01-31', /neither an LSN nor a timestamp/],
    ['main@2030-01-31T17:00Z', /neither an LSN nor a timestamp/],
    ['main@2030-01-31T17:00:00', /neither an LSN nor a timestamp/],
    ['main@2030-02-31T17:00:00Z', /neither an LSN nor a timestamp/],
    ['main@0/123456789', /neither an LSN nor a timestamp/],
    ['main@2030-01-31T19:00:00Z', /is in the future/],
    ['@0/1', /names no branch/],
  ])('refuses %s', (value, message) => {
    expect(() => parsePointInTime(value, NOW)).toThrow(message)
  })

  it('is checked in inputs for schema-diff only, before any call', () => {
    const read = (mode: string) => (n: string) =>
      ({ mode, api_key: 'k'.repeat(20), project_id: 'p-1', parent_branch: 'main@soon' })[n] ?? ''
    expect(() => getInputs(read('schema-diff'))).toThrow(
      /^Invalid input 'parent_branch': 'main@soon'\. 'soon' after '@' is neither an LSN nor a timestamp/,
    )
    expect(getInputs(read('create')).parentBranch).toBe('main@soon')
  })
})
