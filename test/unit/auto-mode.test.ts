import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { chooseAutoMode } from '../../src/github/auto-mode.js'
import { readRunContext } from '../../src/github/context.js'
import { InputError } from '../../src/inputs.js'

const EVENTS = fileURLToPath(new URL('../fixtures/events/', import.meta.url))

/** The context the runner would give for a fixture: `<event name>.<action…>.json`. */
function contextOf(file: string) {
  const eventName = file.split('.')[0]!
  return readRunContext({
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: `${EVENTS}${file}`,
    GITHUB_REPOSITORY: 'octo-org/octo-repo',
    GITHUB_SHA: 'c0ffee'.padEnd(40, '0'),
    GITHUB_RUN_ID: '4242',
  })
}

describe('chooseAutoMode on each event fixture', () => {
  const expected: Record<string, string> = {
    'pull_request.opened.json': 'create',
    'pull_request.reopened.json': 'create',
    'pull_request.synchronize.json': 'create',
    'pull_request.ready_for_review.json': 'create',
    'pull_request.opened.fork.json': 'create',
    'pull_request_target.opened.json': 'create',
    'pull_request.closed.json': 'delete',
    'schedule.json': 'cleanup',
    'pull_request.labeled.json': 'error',
    'workflow_dispatch.json': 'error',
  }

  it('has an expectation for every fixture', () => {
    expect(readdirSync(EVENTS).sort()).toEqual(Object.keys(expected).sort())
  })

  for (const [file, mode] of Object.entries(expected)) {
    it(`${file} → ${mode}`, () => {
      const ctx = contextOf(file)
      if (mode === 'error') {
        expect(() => chooseAutoMode(ctx)).toThrow(InputError)
        expect(() => chooseAutoMode(ctx)).toThrow(/Set 'mode' explicitly/)
      } else {
        expect(chooseAutoMode(ctx).mode).toBe(mode)
      }
    })
  }

  it('says which event made the choice', () => {
    expect(chooseAutoMode(contextOf('pull_request.closed.json')).because).toBe('pull_request closed')
    expect(chooseAutoMode(contextOf('schedule.json')).because).toBe('schedule')
  })

  it('names the event and the action it cannot map, and the input to set', () => {
    const fail = (ctx: { eventName: string; action?: string }): InputError => {
      try {
        chooseAutoMode(ctx)
      } catch (e) {
        return e as InputError
      }
      throw new Error('expected a failure')
    }
    const labeled = fail({ eventName: 'pull_request', action: 'labeled' })
    expect(labeled.input).toBe('mode')
    expect(labeled.message).toMatch(/'pull_request' event with action 'labeled'/)
    expect(fail({ eventName: 'push' }).message).toMatch(/not 'push'/)
    expect(fail({ eventName: 'workflow_dispatch' }).message).toMatch(/branch_name/)
    expect(fail({ eventName: '' }).message).toMatch(/\(unknown\)/)
    expect(fail({ eventName: 'pull_request_target', action: 'edited' }).message).toMatch(/edited/)
  })
})

describe('readRunContext: forks', () => {
  it('a pull request from the same repository is not a fork', () => {
    const pr = contextOf('pull_request.opened.json').pullRequest
    expect(pr).toMatchObject({ number: 7, headRepo: 'octo-org/octo-repo', baseRepo: 'octo-org/octo-repo' })
    expect(pr?.fromFork).toBe(false)
  })

  it('a pull request whose head is another repository is a fork', () => {
    const pr = contextOf('pull_request.opened.fork.json').pullRequest
    expect(pr).toMatchObject({ number: 9, headRepo: 'monalisa/octo-repo', fromFork: true })
  })

  it('schedule and workflow_dispatch have no pull request', () => {
    expect(contextOf('schedule.json').pullRequest).toBeUndefined()
    expect(contextOf('workflow_dispatch.json').pullRequest).toBeUndefined()
  })
})
