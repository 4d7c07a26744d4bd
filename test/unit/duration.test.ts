import { describe, expect, it } from 'vitest'

import { formatDuration, parseDuration } from '../../src/util/duration.js'

const S = 1000
const M = 60 * S
const H = 60 * M
const D = 24 * H

describe('parseDuration', () => {
  it.each([
    ['1s', S],
    ['45s', 45 * S],
    ['90m', 90 * M],
    ['12h', 12 * H],
    ['7d', 7 * D],
    ['14d', 14 * D],
    ['2w', 14 * D],
    ['30d', 30 * D],
    ['007d', 7 * D],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it('ignores surrounding whitespace and the case of the unit', () => {
    expect(parseDuration('  7D \n')).toBe(7 * D)
    expect(parseDuration('\t90M')).toBe(90 * M)
    expect(parseDuration('2W')).toBe(14 * D)
    expect(parseDuration('1H')).toBe(H)
    expect(parseDuration('5S')).toBe(5 * S)
  })

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['0d', /greater than zero/],
    ['0s', /greater than zero/],
    ['000m', /greater than zero/],
    ['-5m', /whole number/],
    ['+5m', /whole number/],
    ['1.5h', /whole number/],
    ['.5h', /whole number/],
    ['7', /whole number/],
    ['d', /whole number/],
    ['7 d', /whole number/],
    ['7dd', /whole number/],
    ['1d12h', /whole number/],
    ['7days', /whole number/],
    ['10ms', /whole number/],
    ['1e3s', /whole number/],
    ['٣d', /whole number/], // Arabic-Indic digit: \d is ASCII-only without the u flag, and Number would fail
    ['7y', /Unknown duration unit 'y'/],
    ['7Y', /Unknown duration unit 'y'/],
  ])('rejects %j', (text, message) => {
    expect(() => parseDuration(text)).toThrow(message)
  })

  it("reads 'M' as minutes, not months (units are case-insensitive)", () => {
    expect(parseDuration('3M')).toBe(3 * M)
  })

  it('throws a plain Error so callers can wrap it', () => {
    let caught: unknown
    try {
      parseDuration('x')
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(Error)
    expect((caught as Error).constructor).toBe(Error)
  })

  it('rejects values too large to represent exactly', () => {
    expect(() => parseDuration('99999999999999999999s')).toThrow(/too large/)
    expect(() => parseDuration(`${Number.MAX_SAFE_INTEGER}w`)).toThrow(/too large/)
    expect(() => parseDuration(`${'9'.repeat(400)}d`)).toThrow(/too large/)
  })

  it('accepts the largest exact value and rejects the same count in a larger unit', () => {
    const maxSeconds = Math.floor(Number.MAX_SAFE_INTEGER / 1000)
    expect(parseDuration(`${maxSeconds}s`)).toBe(maxSeconds * 1000)
    expect(() => parseDuration(`${maxSeconds}m`)).toThrow(/too large/)
  })
})

describe('formatDuration', () => {
  it.each([
    [14 * D, '14d'],
    [7 * D, '7d'],
    [30 * D, '30d'],
    [90 * M, '90m'],
    [36 * H, '36h'],
    [12 * H, '12h'],
    [45 * S, '45s'],
    [S, '1s'],
    [0, '0s'],
    [250, '250ms'],
    [D + 2 * H + 5 * M, '1d 2h'],
    [D + 2 * H + 59 * M + 59 * S, '1d 2h'],
    [5 * M + 3 * S + 200, '5m 3s'],
    [H + 500, '1h'],
    [D + 5 * M + 1, '1d'],
    [1500, '1s'],
    [99 * S, '99s'],
    [100 * S, '1m 40s'],
    [150 * M, '2h 30m'],
    [97199 * S, '1d 2h'],
    [100 * D, '100d'],
    [120 * H, '5d'],
    [-90 * M, '-90m'],
    [12.7 * S, '12s'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it('round-trips single-unit values a user would type', () => {
    for (const text of ['1s', '59s', '61s', '90m', '36h', '7d', '14d', '30d', '100d']) {
      expect(parseDuration(formatDuration(parseDuration(text)))).toBe(parseDuration(text))
    }
    expect(formatDuration(parseDuration('2w'))).toBe('14d')
  })

  it('handles non-finite input without throwing', () => {
    expect(formatDuration(Number.NaN)).toBe('NaN')
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('Infinity')
  })
})
