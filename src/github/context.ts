import { readFileSync } from 'node:fs'

/** What the action needs to know about the workflow run that started it. */
export interface RunContext {
  eventName: string
  /** `owner/repo` of the workflow's repository. */
  repository: string
  /** GITHUB_REPOSITORY_ID: the repository's id, which stays when it is renamed or transferred. */
  repositoryId?: string
  /** The event's `action` field (opened, synchronize, closed, …), when it has one. */
  action?: string
  pullRequest?: {
    number: number
    headRef: string
    headSha: string
    /** `owner/repo` of the head, which differs from `repository` for a fork. */
    headRepo?: string
    /** `owner/repo` of the base (the repository the pull request asks to merge into). */
    baseRepo?: string
    /**
     * True when the head lives in another repository than the base: a fork, whose `pull_request`
     * runs get no secrets. A head repository that no longer exists (a deleted fork) counts as one.
     */
    fromFork?: boolean
    title?: string
  }
  sha?: string
  serverUrl: string
  apiUrl: string
  runId?: string
  /** GITHUB_RUN_ATTEMPT: 1, then 2, 3 … for each re-run of the same run. */
  runAttempt?: string
  /** GITHUB_JOB: the job's id in the workflow (the same for every leg of a matrix). */
  job?: string
  /** Link to this run, for messages and the PR comment. */
  runUrl?: string
  /**
   * The file name of the running workflow (`preview.yml`), from GITHUB_WORKFLOW_REF
   * (`owner/repo/.github/workflows/preview.yml@refs/heads/main`): `gh workflow run` takes it.
   */
  workflowFile?: string
}

const PR_EVENTS = new Set(['pull_request', 'pull_request_target'])

export function isPullRequestEvent(eventName: string): boolean {
  return PR_EVENTS.has(eventName)
}

interface PullRequestPayload {
  action?: string
  pull_request?: {
    number?: number
    title?: string
    head?: { ref?: string; sha?: string; repo?: { full_name?: string } | null }
    base?: { repo?: { full_name?: string } | null }
  }
}

/**
 * Reads the run's context from the runner's environment and event file, as the runner provides
 * them (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY, …). Called from run(), never at
 * import, so tests can set the environment first.
 */
export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const eventName = env.GITHUB_EVENT_NAME ?? ''
  let payload: PullRequestPayload = {}
  const eventPath = env.GITHUB_EVENT_PATH
  if (eventPath) {
    try {
      payload = JSON.parse(readFileSync(eventPath, 'utf8')) as PullRequestPayload
    } catch (e) {
      throw new Error(
        `Cannot read the event payload at GITHUB_EVENT_PATH (${eventPath}): ${(e as Error).message}`,
      )
    }
  }
  const serverUrl = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '')
  const repository = env.GITHUB_REPOSITORY ?? ''
  const runId = env.GITHUB_RUN_ID
  const ctx: RunContext = {
    eventName,
    repository,
    ...(env.GITHUB_REPOSITORY_ID ? { repositoryId: env.GITHUB_REPOSITORY_ID } : {}),
    action: payload.action,
    sha: env.GITHUB_SHA,
    serverUrl,
    apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, ''),
    runId,
    ...(env.GITHUB_RUN_ATTEMPT ? { runAttempt: env.GITHUB_RUN_ATTEMPT } : {}),
    ...(env.GITHUB_JOB ? { job: env.GITHUB_JOB } : {}),
    runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : undefined,
  }
  const workflowFile = workflowFileOf(env.GITHUB_WORKFLOW_REF)
  if (workflowFile) ctx.workflowFile = workflowFile
  const pr = payload.pull_request
  if (isPullRequestEvent(eventName) && pr && typeof pr.number === 'number' && pr.head?.ref) {
    const headRepo = pr.head.repo?.full_name
    const baseRepo = pr.base?.repo?.full_name ?? (repository || undefined)
    ctx.pullRequest = {
      number: pr.number,
      headRef: pr.head.ref,
      headSha: pr.head.sha ?? env.GITHUB_SHA ?? '',
      headRepo,
      baseRepo,
      // GitHub sends `head.repo: null` when the fork has since been deleted.
      fromFork:
        pr.head.repo === null ||
        (headRepo !== undefined &&
          baseRepo !== undefined &&
          headRepo.toLowerCase() !== baseRepo.toLowerCase()),
      title: pr.title,
    }
  }
  return ctx
}

/** `owner/repo/.github/workflows/preview.yml@refs/…` → `preview.yml`; undefined for anything else. */
export function workflowFileOf(ref: string | undefined): string | undefined {
  const m = /\/\.github\/workflows\/([^/@]+)@/.exec(ref ?? '')
  return m?.[1]
}
