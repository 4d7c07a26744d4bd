/**
 * ModeResult objects as the modes return them, for rendering tests (comment body, summary).
 */
import type { RunContext } from '../../src/github/context.js'
import type { ModeResult } from '../../src/modes/types.js'

export const PASSWORD = 'npg_S3cr3tPassw0rd'
export const HOST = 'ep-cool-darkness-123456.c-2.us-east-2.aws.neon.tech'
export const DB_URL = `postgresql://neondb_owner:${PASSWORD}@${HOST}/neondb?sslmode=require`
export const DB_URL_POOLED = DB_URL.replace(HOST, HOST.replace('ep-cool-darkness-123456', '$&-pooler'))

const wait = { polls: 4, waitedMs: 1800 }

export function createdResult(name = 'preview/pr-7-feature/login', created = true): ModeResult {
  return {
    mode: 'create',
    branch: {
      id: 'br-misty-sun-a1b2c3d4',
      name,
      parentId: 'br-main-00000000',
      parentName: 'main',
      expiresAt: '2030-01-15T00:00:00Z',
    },
    created,
    connection: {
      urls: {
        dbUrl: DB_URL,
        dbUrlPooled: DB_URL_POOLED,
        host: HOST,
        hostPooled: HOST.replace('ep-cool-darkness-123456', '$&-pooler'),
      },
      password: PASSWORD,
      role: 'neondb_owner',
      database: 'neondb',
      endpointId: 'ep-cool-darkness-123456',
    },
    changes: created ? [`created branch '${name}' (br-misty-sun-a1b2c3d4)`] : ['moved expiry'],
    timings: { totalMs: 4200, readyMs: 3100, wait },
  }
}

export function resetResult(name = 'preview/pr-7-feature/login'): ModeResult {
  return { ...createdResult(name, false), mode: 'reset', changes: [`reset '${name}' from 'main'`] }
}

export function deletedResult(name = 'preview/pr-7-feature/login', deleted = true): ModeResult {
  return {
    mode: 'delete',
    branch: { id: deleted ? 'br-misty-sun-a1b2c3d4' : '', name, expiresAt: null },
    deleted,
    changes: deleted ? [`deleted branch '${name}' (br-misty-sun-a1b2c3d4)`] : [],
    timings: { totalMs: 900, wait },
  }
}

export function prContextFor(
  number = 7,
  headRef = 'feature/login',
  headRepo = 'octo-org/octo-repo',
): RunContext {
  return {
    eventName: 'pull_request',
    repository: 'octo-org/octo-repo',
    action: 'opened',
    pullRequest: {
      number,
      headRef,
      headSha: 'b'.repeat(40),
      headRepo,
      baseRepo: 'octo-org/octo-repo',
      fromFork: headRepo !== 'octo-org/octo-repo',
    },
    serverUrl: 'https://github.com',
    apiUrl: 'https://api.github.com',
    runId: '4242',
    runUrl: 'https://github.com/octo-org/octo-repo/actions/runs/4242',
  }
}
