import { describe, expect, it } from 'vitest'
import { roomNeeded } from '../../src/modes/branch-limit.js'
import { isBranchLimit, NeonApiError } from '../../src/neon/errors.js'

const refusal = (status: number, neonMessage: string, code?: string) =>
  new NeonApiError({ method: 'POST', path: '/projects/p/branches', status, neonMessage, attempts: 1, code })

describe('isBranchLimit', () => {
  it("knows Neon's code and a 422 whose message speaks of the branches limit", () => {
    expect(isBranchLimit(refusal(422, 'whatever', 'BRANCHES_LIMIT_EXCEEDED'))).toBe(true)
    for (const m of [
      'branches limit of 10 exceeded, got 10',
      'Branch limit reached for this project',
      'project branch_limit exceeded',
      'you have reached the limit of 10 branches',
      'maximum number of branches reached',
    ]) {
      expect(isBranchLimit(refusal(422, m)), m).toBe(true)
    }
  })

  it('is not fooled by other 422s, other limits or other statuses', () => {
    expect(isBranchLimit(refusal(422, 'branch not ready yet'))).toBe(false)
    expect(isBranchLimit(refusal(422, 'branch logical size limit exceeded'))).toBe(false)
    expect(
      isBranchLimit(refusal(422, 'user projects limit of 1 exceeded, got 1', 'PROJECTS_LIMIT_EXCEEDED')),
    ).toBe(false)
    expect(isBranchLimit(refusal(400, 'branches limit of 10 exceeded', 'BRANCHES_LIMIT_EXCEEDED'))).toBe(
      false,
    )
    expect(isBranchLimit(new Error('branches limit'))).toBe(false)
  })
})

describe('roomNeeded', () => {
  it('is one at the limit, more past it, and never less than one (the refusal says one is needed)', () => {
    expect(roomNeeded({ limit: 10, count: 10 })).toBe(1)
    expect(roomNeeded({ limit: 10, count: 12 })).toBe(3)
    // Another run freed a place between the refusal and the count: this run still needs its own.
    expect(roomNeeded({ limit: 10, count: 9 })).toBe(1)
    expect(roomNeeded({ count: 10 })).toBe(1)
  })
})
