import { readFileSync, statSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ProxyAgent } from '../../stubs/undici/index.js'

// dist/index.js carries no undici: @actions/core's OIDC client imports undici's ProxyAgent at its
// top level, and tsconfig.json's `paths` make ncc take stubs/undici instead (issue 17: about 900 KB
// of bundle and 33 ms of every start before the first Neon request).
describe('the bundle without undici', () => {
  it('has none of undici in dist/index.js', () => {
    const dist = readFileSync('dist/index.js', 'utf8')
    // undici's HTTP parser and its dispatcher classes would be there.
    expect(dist).not.toMatch(/llhttp/)
    expect(dist).not.toMatch(/class RetryAgent|class Pool extends/)
    // The stand-in itself is shaken out too: nothing the action runs constructs a ProxyAgent.
    expect(statSync('dist/index.js').size).toBeLessThan(1024 * 1024)
    expect(readFileSync('dist/licenses.txt', 'utf8')).not.toMatch(/^undici$/m)
  })

  it('tsconfig maps undici to the stand-in for the bundler', () => {
    expect(readFileSync('tsconfig.json', 'utf8')).toMatch(/"undici": \["\.\/stubs\/undici\/index\.js"\]/)
  })

  it('fails loudly if anything ever asks it for a proxy dispatcher', () => {
    expect(() => new ProxyAgent()).toThrow(/does not bundle undici: @actions\/http-client proxy dispatchers/)
  })
})
