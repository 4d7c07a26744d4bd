import { createHash } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { MAX_NAME_BYTES } from '../../src/constants.js'
import { ephemeralBranchName, isBranchId, previewBranchName } from '../../src/github/naming.js'

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')
const sha8 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 8)

describe('previewBranchName', () => {
  it('builds preview/pr-<n>-<head ref>', () => {
    expect(previewBranchName(42, 'feature/login')).toBe('preview/pr-42-feature/login')
    expect(previewBranchName(1, 'main')).toBe('preview/pr-1-main')
  })

  it('lower-cases', () => {
    expect(previewBranchName(7, 'Feature/ABC-123')).toBe('preview/pr-7-feature/abc-123')
  })

  it('keeps a-z, 0-9, dot, underscore, slash and dash', () => {
    expect(previewBranchName(3, 'a.b_c/d-e9')).toBe('preview/pr-3-a.b_c/d-e9')
  })

  it('replaces every other character with one dash each, without collapsing', () => {
    expect(previewBranchName(5, 'fix bug#12')).toBe('preview/pr-5-fix-bug-12')
    expect(previewBranchName(5, 'a  b')).toBe('preview/pr-5-a--b')
    expect(previewBranchName(5, 'a@b:c?d%e&f=g+h~i')).toBe('preview/pr-5-a-b-c-d-e-f-g-h-i')
    expect(previewBranchName(5, 'café')).toBe('preview/pr-5-caf-')
    // One dash per code point, not per UTF-16 unit: an astral emoji is a single character.
    expect(previewBranchName(5, 'x🚀y')).toBe('preview/pr-5-x-y')
    expect(previewBranchName(5, 'tab\there')).toBe('preview/pr-5-tab-here')
  })

  it('returns a name that is exactly 63 bytes unchanged', () => {
    const prefix = 'preview/pr-9-'
    const ref = 'a'.repeat(MAX_NAME_BYTES - prefix.length)
    const name = previewBranchName(9, ref)
    expect(name).toBe(prefix + ref)
    expect(bytes(name)).toBe(MAX_NAME_BYTES)
  })

  it('cuts a 64-byte name and appends a hash of the full name', () => {
    const ref = 'a'.repeat(MAX_NAME_BYTES - 'preview/pr-9-'.length + 1)
    const name = previewBranchName(9, ref)
    expect(name).toMatch(/^preview\/pr-9-a+-[0-9a-f]{8}$/)
    expect(bytes(name)).toBe(MAX_NAME_BYTES)
    expect(name.endsWith(`-${sha8(`preview/pr-9-${ref}`)}`)).toBe(true)
  })

  it('keeps names within 63 bytes for refs of every length', () => {
    for (let len = 0; len <= 300; len++) {
      const name = previewBranchName(123456, 'r'.repeat(len))
      expect(bytes(name)).toBeLessThanOrEqual(MAX_NAME_BYTES)
    }
  })

  it.each([
    ['é', 'é'.repeat(200)],
    ['emoji', '🚀'.repeat(100)],
    ['CJK', '分支'.repeat(80)],
    ['mixed', 'ä🚀b'.repeat(60)],
    ['combining', 'e\u0301'.repeat(100)],
  ])('bounds multi-byte head refs (%s) to 63 bytes of ASCII with a hash suffix', (_label, ref) => {
    const name = previewBranchName(77, ref)
    expect(bytes(name)).toBeLessThanOrEqual(MAX_NAME_BYTES)
    expect(name).toMatch(/^preview\/pr-77([a-z0-9._/-]*[a-z0-9._])?-[0-9a-f]{8}$/)
    expect(name.endsWith(`-${sha8(`preview/pr-77-${ref}`)}`)).toBe(true)
  })

  it('reduces a ref made only of unsafe characters to the PR prefix plus hash', () => {
    const ref = '🚀'.repeat(100)
    expect(previewBranchName(77, ref)).toBe(`preview/pr-77-${sha8(`preview/pr-77-${ref}`)}`)
    expect(previewBranchName(77, 'é'.repeat(200))).toMatch(/^preview\/pr-77-[0-9a-f]{8}$/)
  })

  it('keeps the readable part of a mixed ref', () => {
    expect(previewBranchName(77, 'ä🚀b'.repeat(60))).toMatch(/^preview\/pr-77---b--b--b/)
    expect(previewBranchName(77, 'e\u0301'.repeat(100))).toMatch(/^preview\/pr-77-e-e-e-e/)
  })

  it('bounds a short multi-byte ref that needs no hash', () => {
    const name = previewBranchName(1, 'é'.repeat(10))
    expect(name).toBe(`preview/pr-1-${'-'.repeat(10)}`)
  })

  it('never leaves a dash or slash before the suffix', () => {
    // Place separators exactly at the cut point (54 bytes kept before '-<hash>').
    const prefix = 'preview/pr-1-'
    const keep = MAX_NAME_BYTES - 9
    for (const sep of ['-', '/', '--', '/-/', ' ', '@@']) {
      for (let shift = -3; shift <= 3; shift++) {
        const fill = 'x'.repeat(keep - prefix.length - sep.length + shift)
        const name = previewBranchName(1, `${fill}${sep}${'y'.repeat(40)}`)
        expect(bytes(name)).toBeLessThanOrEqual(MAX_NAME_BYTES)
        expect(name).toMatch(/[^-/]-[0-9a-f]{8}$/)
      }
    }
  })

  it('gives two long refs sharing a prefix different names', () => {
    const common = 'feature/very-long-branch-name-that-goes-on-and-on-and-on-'
    const a = previewBranchName(10, `${common}alpha`)
    const b = previewBranchName(10, `${common}beta`)
    expect(a).not.toBe(b)
    expect(a.slice(0, -9)).toBe(b.slice(0, -9)) // same readable part, different hash
    expect(bytes(a)).toBeLessThanOrEqual(MAX_NAME_BYTES)
    expect(bytes(b)).toBeLessThanOrEqual(MAX_NAME_BYTES)
  })

  it('distinguishes long refs that sanitize to the same text', () => {
    const common = 'x'.repeat(80)
    expect(previewBranchName(4, `${common}é`)).not.toBe(previewBranchName(4, `${common}ü`))
    expect(previewBranchName(4, `${common}A`)).not.toBe(previewBranchName(4, `${common}a`))
  })

  it('is deterministic', () => {
    const ref = `feature/${'z'.repeat(100)}`
    expect(previewBranchName(8, ref)).toBe(previewBranchName(8, ref))
    expect(previewBranchName(8, ref)).toBe(
      `preview/pr-8-feature/${'z'.repeat(33)}-${sha8(`preview/pr-8-${ref}`)}`,
    )
  })

  it('gives different PRs with the same long ref different names', () => {
    const ref = 'q'.repeat(100)
    expect(previewBranchName(1, ref)).not.toBe(previewBranchName(2, ref))
  })

  it('omits the trailing dash for an empty head ref', () => {
    expect(previewBranchName(3, '')).toBe('preview/pr-3')
  })

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects PR number %s', (n) => {
    expect(() => previewBranchName(n, 'x')).toThrow(RangeError)
  })
})

describe('isBranchId', () => {
  it.each(['br-cool-darkness-123456', 'br-a', 'br-123'])('accepts %s', (s) => {
    expect(isBranchId(s)).toBe(true)
  })

  it.each([
    'preview/pr-1-main',
    'br-',
    'br_abc',
    'BR-abc',
    'br-ABC',
    'br-abc/def',
    ' br-abc',
    'br-abc ',
    'main',
    '',
    'xbr-abc',
  ])('rejects %j', (s) => {
    expect(isBranchId(s)).toBe(false)
  })
})

describe('ephemeralBranchName', () => {
  it('is ci/run-<run id>-<attempt>-<job>, made safe like a preview name', () => {
    expect(ephemeralBranchName('4242', '1', 'test')).toBe('ci/run-4242-1-test')
    expect(ephemeralBranchName('4242', '3', 'Unit Tests')).toBe('ci/run-4242-3-unit-tests')
    expect(ephemeralBranchName('4242', '1', undefined)).toBe('ci/run-4242-1')
  })

  it('is shortened to 63 bytes with a hash of the full name', () => {
    const job = 'j'.repeat(100)
    const name = ephemeralBranchName('12345678901', '2', job)
    expect(bytes(name)).toBe(MAX_NAME_BYTES)
    expect(name.endsWith(`-${sha8(`ci/run-12345678901-2-${job}`)}`)).toBe(true)
    expect(ephemeralBranchName('12345678901', '2', `${job}x`)).not.toBe(name)
  })
})
