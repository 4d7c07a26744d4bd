import { describe, expect, it } from 'vitest'
import { allFinished } from '../../src/util/settle.js'

describe('allFinished', () => {
  it('gives every value, in order', async () => {
    await expect(allFinished([Promise.resolve(1), 'two', Promise.resolve(undefined)])).resolves.toEqual([
      1,
      'two',
      undefined,
    ])
  })

  it('waits for every promise before it throws, and throws the first failure in the order given', async () => {
    const settled: string[] = []
    let release: () => void = () => {}
    const slow = new Promise<string>((r) => (release = () => r('slow'))).then((v) => {
      settled.push(v)
      return v
    })
    const first = Promise.reject(new Error('first'))
    const second = Promise.reject(new Error('second'))
    const all = allFinished([slow, first, second])
    let done = false
    void all.catch(() => (done = true))
    await new Promise((r) => setTimeout(r, 5))
    expect(done).toBe(false) // still waiting for `slow`
    release()
    await expect(all).rejects.toThrow('first')
    expect(settled).toEqual(['slow'])
  })
})
