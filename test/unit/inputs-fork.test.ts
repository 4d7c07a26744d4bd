import { describe, expect, it } from 'vitest'
import { getInputs, InputError } from '../../src/inputs.js'

const values = (over: Record<string, string>) => (name: string) =>
  ({ mode: 'create', api_key: '', project_id: 'restless-river-12345678', ...over })[name] ?? ''

describe('getInputs: an empty api_key on a fork pull request', () => {
  it('is an error by default', () => {
    expect(() => getInputs(values({}))).toThrow(InputError)
  })

  it('is accepted (as an empty key) when the caller allows it', () => {
    expect(getInputs(values({}), undefined, { allowEmptyApiKey: true }).apiKey).toBe('')
  })

  it('still validates every other input first', () => {
    expect(() => getInputs(values({ ssl: 'prefer' }), undefined, { allowEmptyApiKey: true })).toThrow(
      /Invalid input 'ssl'/,
    )
    expect(() => getInputs(values({ mode: 'nope' }), undefined, { allowEmptyApiKey: true })).toThrow(/mode/)
  })
})
