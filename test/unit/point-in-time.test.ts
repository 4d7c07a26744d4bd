import { describe, expect, it } from 'vitest'
import { isInFuture, parsePointInTime, PointInTimeError, sameLsn } from '../../src/neon/point-in-time.js'
import { formatComputeUnits, parseComputeUnits } from '../../src/neon/compute-units.js'

describe('parsePointInTime (neonctl 5.0.1 parsePITBranch rules)', () => {
  it.each([
    ['main', { ref: 'main' }],
    ['main@0/1A2B3C4', { ref: 'main', lsn: '0/1A2B3C4' }],
    ['br-a-b-123@ffffffff/0', { ref: 'br-a-b-123', lsn: 'ffffffff/0' }],
    ['main@2026-11-30T09:00:00Z', { ref: 'main', timestamp: '2026-11-30T09:00:00Z' }],
    ['main@2026-11-30T09:00:00.123+01:00', { ref: 'main', timestamp: '2026-11-30T09:00:00.123+01:00' }],
    // The branch is everything before the LAST '@'.
    ['team@x@0/1', { ref: 'team@x', lsn: '0/1' }],
    ['^self@0/16B3748', { ref: '^self', lsn: '0/16B3748' }],
  ])('%s', (value, expected) => {
    expect(parsePointInTime(value)).toEqual(expected)
  })

  it.each([
    'main@2026-11-30T09:00:00', // no zone
    'main@2026-11-30 09:00:00Z', // no T
    'main@2026-11-30t09:00:00Z', // neonctl wants upper case
    'main@2026-11-30T09:00:00.1Z', // neonctl allows exactly 3 fraction digits
    'main@2026-13-30T09:00:00Z', // no such month
    'main@1/123456789', // 9 hex digits
    'main@yesterday',
    'main@',
    '@0/1',
    'a@b', // a branch name with an @ must be given by id
  ])('refuses %s', (value) => {
    expect(() => parsePointInTime(value)).toThrow(PointInTimeError)
  })

  it('tells the future with the clock it is given', () => {
    const p = parsePointInTime('main@2030-01-01T00:00:00Z')
    expect(isInFuture(p, Date.parse('2029-12-31T23:59:59Z'))).toBe(true)
    expect(isInFuture(p, Date.parse('2030-01-01T00:00:00Z'))).toBe(false)
    expect(isInFuture(parsePointInTime('main@0/1'), 0)).toBe(false)
  })

  it('compares LSNs as numbers', () => {
    expect(sameLsn('0/1a2b', '0/1A2B')).toBe(true)
    expect(sameLsn('00/01A2B', '0/1A2B')).toBe(true)
    expect(sameLsn('0/1A2B', '0/1A2C')).toBe(false)
    expect(sameLsn('x', 'x')).toBe(false)
  })
})

describe('parseComputeUnits (BEHAVIOUR.md, "Compute sizes")', () => {
  it.each([
    ['0.25', '0.25'],
    ['1', '1'],
    ['56', '56'],
    ['0.25-2', '0.25-2'],
    ['2 - 10', '2-10'],
    ['8-16', '8-16'],
    ['3-3', '3'],
  ])('%s → %s', (text, out) => {
    expect(formatComputeUnits(parseComputeUnits(text))).toBe(out)
  })
  it.each([
    ['0.75', 'not a size Neon offers'],
    ['0.1', 'not a size Neon offers'],
    ['1.5-2', 'not a size Neon offers'],
    ['57', 'at most 56'],
    ['1-10', 'spans at most 8'],
    ['4-20', 'up to 16'],
    ['4-2', 'above the maximum'],
    ['1-2-3', 'Expected one size'],
    ['-1', 'Expected one size'],
    ['big', 'Expected one size'],
    ['1e2', 'Expected one size'],
  ])('refuses %s', (text, message) => {
    expect(() => parseComputeUnits(text)).toThrow(message)
  })
})
