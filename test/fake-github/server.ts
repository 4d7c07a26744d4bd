import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeComment {
  id: number
  body: string
  user: { login: string; type: string }
  created_at: string
  updated_at: string
  html_url: string
}

export interface FakePullRequest {
  number: number
  state: 'open' | 'closed'
  merged: boolean
  head: { ref: string; sha: string; repo: { full_name: string } }
  base: { ref: string; repo: { full_name: string } }
}

/** A workflow run, as GET /repos/{owner}/{repo}/actions/runs/{run_id} answers (the fields read). */
export interface FakeWorkflowRun {
  id: number
  /** GitHub's statuses: queued, in_progress, completed, waiting, requested, pending. */
  status: 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending'
  conclusion: string | null
  run_attempt: number
}

export interface GitHubRequest {
  method: string
  path: string
  query: Record<string, string>
  status: number
  body?: unknown
  authorization?: string
}

export interface GitHubFault {
  method?: string
  path?: RegExp
  status: number
  times?: number
  message?: string
  /** Response headers, e.g. `retry-after` or `x-ratelimit-remaining` for the throttling plugin. */
  headers?: Record<string, string>
}

export type FakeGitHub = Awaited<ReturnType<typeof startFakeGitHub>>

/** Who a token authenticates as: what GitHub puts in `user` of what the token writes. */
export interface FakeIdentity {
  login: string
  type: 'Bot' | 'User'
}

/**
 * The identity of a token nobody registered: the workflow's GITHUB_TOKEN, the `github-actions`
 * app's installation token, whose comments GitHub attributes to `github-actions[bot]`, type `Bot`
 * (REST "issue comment" objects: `user.login`, `user.type`; the same login Git commits made with
 * the token show: release-plz/action#85).
 */
export const GITHUB_ACTIONS_BOT: FakeIdentity = { login: 'github-actions[bot]', type: 'Bot' }

/**
 * GitHub's secondary rate limit on content creation, as its REST documentation describes it
 * ("Rate limits for the REST API"): past a number of content-generating requests in a minute
 * (80 on github.com), a request is refused with a 403 or a 429 and "an error message that indicates
 * that you exceeded a secondary rate limit", with a `retry-after` header when GitHub gives one
 * (without it, the client is to wait at least a minute). The documents do not quote the message;
 * the one below is the wording GitHub is known to send, and Octokit's throttling plugin recognises a
 * secondary limit by /\bsecondary rate\b/i in it (plugin-throttling 11.0.5, dist-src/index.js).
 * Which requests count is not documented: here every POST, PATCH, PUT and DELETE does, and a refused
 * one does not (no source says either way).
 */
export interface SecondaryLimit {
  /** Content-creating requests allowed in any window of `windowMs`, whoever sends them. */
  writes: number
  windowMs: number
  /** The `retry-after` header, in seconds; none when undefined. */
  retryAfterS?: number
  /** 403 (the default) or 429: GitHub answers a secondary limit with either. */
  status?: 403 | 429
}

export const SECONDARY_LIMIT_MESSAGE =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you ' +
  'reach out to GitHub Support for help, please include the request ID FAKE:1.'

export interface FakeGitHubOptions {
  /** Refuse content creation past this rate (off by default). */
  secondaryLimit?: SecondaryLimit
}

/**
 * A stateful fake of the GitHub REST API, enough for what the action calls: pull requests, workflow
 * runs (REST docs: "Get a workflow run"; an unknown run is 404) and issue comments (paginated with `per_page`/`page` and a Link header, ids, timestamps).
 * Every request is logged with its body so tests can assert that no secret was ever sent.
 * Comment timestamps come from a counter (one second apart), so "oldest" is never a tie.
 *
 * Authors: a comment is written by the identity of the token that wrote it (`identities`, by
 * token; GITHUB_ACTIONS_BOT for any other), and a seeded one by whoever the test says. GraphQL
 * `POST /graphql` answers `query { viewer { login } }` with the token's login (GitHub's GraphQL
 * `viewer`, "the currently authenticated user"; with an installation token, GITHUB_TOKEN included,
 * the app's bot login `<slug>[bot]`: fullsend-ai/fullsend#1953, marocchino/sticky-pull-request-comment
 * src/comment.ts); any other query is a GraphQL error. No source says what GitHub answers for the
 * rest of GraphQL, and the action asks nothing else.
 */
export async function startFakeGitHub(opts: FakeGitHubOptions = {}): Promise<{
  url: string
  requests: GitHubRequest[]
  /** Requests refused by the secondary limit. */
  secondaryLimited: GitHubRequest[]
  comments: Map<string, FakeComment[]>
  pulls: Map<string, FakePullRequest>
  runs: Map<string, FakeWorkflowRun>
  faults: GitHubFault[]
  /** Who each token is; a token not in here is GITHUB_ACTIONS_BOT. */
  identities: Map<string, FakeIdentity>
  /**
   * What each token may not read (by token): `pulls` (no `pull-requests: read`) or `actions` (no
   * `actions: read`). Such a token sees the repository and its comments, but every pull request
   * (`/pulls…`) or workflow run (`/actions/runs…`) path answers 404, as GitHub does for a private
   * resource the token may not see ("Troubleshooting the REST API": a 404 "can also be returned
   * when … the user or token does not have access", so as not to confirm that it exists).
   */
  blind: Map<string, Set<'pulls' | 'actions'>>
  addPull(repo: string, pr: Partial<FakePullRequest> & { number: number }): void
  addRun(repo: string, run: Partial<FakeWorkflowRun> & { id: number }): void
  /**
   * Holds back the answer to every request whose path matches until the returned release is
   * called (logged at once, with status 0 until answered), so a test can see what the action does
   * while GitHub has not answered yet.
   */
  hold(path: RegExp): () => void
  /**
   * Seeds a comment as if someone had written it (default: github-actions[bot]); a login ending
   * in `[bot]` is a Bot, any other a User. Returns it.
   */
  addComment(repo: string, issue: number, body: string, user?: string | FakeIdentity): FakeComment
  /** The bodies of an issue's comments, oldest first. */
  commentBodies(repo: string, issue: number): string[]
  close(): Promise<void>
}> {
  const comments = new Map<string, FakeComment[]>()
  const pulls = new Map<string, FakePullRequest>()
  const runs = new Map<string, FakeWorkflowRun>()
  const requests: GitHubRequest[] = []
  const faults: GitHubFault[] = []
  const identities = new Map<string, FakeIdentity>()
  const blind = new Map<string, Set<'pulls' | 'actions'>>()
  const tokenOf = (authorization: string | undefined): string =>
    authorization?.replace(/^(token|bearer)\s+/i, '') ?? ''
  const identityOf = (authorization: string | undefined): FakeIdentity =>
    identities.get(tokenOf(authorization)) ?? GITHUB_ACTIONS_BOT
  const secondaryLimited: GitHubRequest[] = []
  /** When each content-creating request that was let through arrived, for the secondary limit. */
  const writes: number[] = []
  const holds: { path: RegExp; released: Promise<void> }[] = []
  let nextId = 1000
  let tick = Date.parse('2030-01-01T00:00:00Z')
  const stamp = (): string => new Date((tick += 1000)).toISOString()
  const newComment = (
    key: string,
    body: string,
    author: string | FakeIdentity = GITHUB_ACTIONS_BOT,
  ): FakeComment => {
    const now = stamp()
    const id = nextId++
    const [repo, issue] = key.split('#')
    const user =
      typeof author === 'string' ? { login: author, type: author.endsWith('[bot]') ? 'Bot' : 'User' } : author
    const c: FakeComment = {
      id,
      body,
      user: { ...user },
      created_at: now,
      updated_at: now,
      html_url: `https://github.com/${repo}/pull/${issue}#issuecomment-${id}`,
    }
    comments.set(key, [...(comments.get(key) ?? []), c])
    return c
  }

  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (c: Buffer) => (raw += c.toString()))
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      const held = holds.filter((h) => h.path.test(path)).map((h) => h.released)
      if (held.length === 0) return handle(req, res, raw)
      // Logged now, answered once released: the test sees the request arrive and stay unanswered.
      handle(req, res, raw, Promise.all(held))
    })
  })

  /** Requests held back by `hold`, answered when their gate opens. */
  const gates = new WeakMap<GitHubRequest, Promise<unknown>>()

  function send(
    res: ServerResponse,
    log: GitHubRequest,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const gate = gates.get(log)
    if (gate) {
      gates.delete(log)
      void gate.then(() => send(res, log, status, body, headers))
      return
    }
    log.status = status
    res.writeHead(status, { 'Content-Type': 'application/json', 'x-github-request-id': 'FAKE:1', ...headers })
    res.end(body === undefined ? '' : JSON.stringify(body))
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string, gate?: Promise<unknown>) {
    const url = new URL(req.url ?? '/', 'http://x')
    const method = req.method ?? 'GET'
    let body: unknown
    try {
      body = raw ? JSON.parse(raw) : undefined
    } catch {
      body = raw
    }
    const log: GitHubRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      body,
      authorization: req.headers.authorization,
    }
    requests.push(log)
    if (gate) gates.set(log, gate)
    const fault = faults.find(
      (f) =>
        (!f.method || f.method === method) && (!f.path || f.path.test(url.pathname)) && (f.times ?? 1) > 0,
    )
    if (fault) {
      fault.times = (fault.times ?? 1) - 1
      return send(res, log, fault.status, { message: fault.message ?? 'injected fault' }, fault.headers)
    }
    const limit = opts.secondaryLimit
    // A GraphQL query creates no content (the action sends only `viewer { login }`), so it is not
    // counted: GitHub limits GraphQL by points, not by this count ("Rate limits for the GraphQL API").
    if (limit && method !== 'GET' && method !== 'HEAD' && url.pathname !== '/graphql') {
      const now = Date.now()
      while (writes.length > 0 && writes[0]! <= now - limit.windowMs) writes.shift()
      if (writes.length >= limit.writes) {
        secondaryLimited.push(log)
        return send(
          res,
          log,
          limit.status ?? 403,
          {
            message: SECONDARY_LIMIT_MESSAGE,
            documentation_url:
              'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          },
          limit.retryAfterS !== undefined ? { 'retry-after': String(limit.retryAfterS) } : {},
        )
      }
      writes.push(now)
    }
    let m = url.pathname.match(/^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/)
    if (m) {
      const key = `${m[1]}#${m[2]}`
      const list = comments.get(key) ?? []
      if (method === 'GET') {
        const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30))
        const page = Number(url.searchParams.get('page') ?? 1)
        const slice = list.slice((page - 1) * perPage, page * perPage)
        const headers: Record<string, string> = {}
        if (page * perPage < list.length) {
          const next = new URL(url.href)
          next.searchParams.set('page', String(page + 1))
          headers.Link = `<http://${req.headers.host}${next.pathname}${next.search}>; rel="next"`
        }
        return send(res, log, 200, slice, headers)
      }
      if (method === 'POST') {
        const text = String((body as { body?: string })?.body ?? '')
        return send(res, log, 201, newComment(key, text, identityOf(req.headers.authorization)))
      }
    }
    m = url.pathname.match(/^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/)
    if (m) {
      const id = Number(m[2])
      for (const [key, list] of comments) {
        const c = list.find((x) => x.id === id)
        if (!c) continue
        if (method === 'PATCH') {
          c.body = String((body as { body?: string })?.body ?? '')
          c.updated_at = stamp()
          return send(res, log, 200, c)
        }
        if (method === 'DELETE') {
          comments.set(
            key,
            list.filter((x) => x.id !== id),
          )
          return send(res, log, 204)
        }
      }
      return send(res, log, 404, { message: 'Not Found' })
    }
    if (url.pathname === '/graphql' && method === 'POST') {
      const query = String((body as { query?: unknown })?.query ?? '')
      if (/^\s*(query\s*)?\{\s*viewer\s*\{\s*login\s*\}\s*\}\s*$/.test(query)) {
        return send(res, log, 200, {
          data: { viewer: { login: identityOf(req.headers.authorization).login } },
        })
      }
      return send(res, log, 200, { errors: [{ message: 'the fake GitHub answers only viewer { login }' }] })
    }
    const hidden = blind.get(tokenOf(req.headers.authorization))
    if (
      (hidden?.has('pulls') && /^\/repos\/[^/]+\/[^/]+\/pulls(\/|$)/.test(url.pathname)) ||
      (hidden?.has('actions') && /^\/repos\/[^/]+\/[^/]+\/actions\/runs(\/|$)/.test(url.pathname))
    ) {
      return send(res, log, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' })
    }
    // GET /repos/{owner}/{repo}/pulls ("List pull requests": `state` open|closed|all, `per_page`);
    // only the first page is served (the action asks for one, as proof that it can read them).
    m = url.pathname.match(/^\/repos\/([^/]+\/[^/]+)\/pulls$/)
    if (m && method === 'GET') {
      const want = url.searchParams.get('state') ?? 'open'
      const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30))
      const list = [...pulls.entries()]
        .filter(([k, pr]) => k.startsWith(`${m![1]}#`) && (want === 'all' || pr.state === want))
        .map(([, pr]) => pr)
        .slice(0, perPage)
      return send(res, log, 200, list)
    }
    // GET /repos/{owner}/{repo}/actions/runs ("List workflow runs for a repository"): first page only.
    m = url.pathname.match(/^\/repos\/([^/]+\/[^/]+)\/actions\/runs$/)
    if (m && method === 'GET') {
      const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30))
      const list = [...runs.entries()].filter(([k]) => k.startsWith(`${m![1]}#`)).map(([, r]) => r)
      return send(res, log, 200, { total_count: list.length, workflow_runs: list.slice(0, perPage) })
    }
    m = url.pathname.match(/^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/)
    if (m && method === 'GET') {
      const pr = pulls.get(`${m[1]}#${m[2]}`)
      return pr ? send(res, log, 200, pr) : send(res, log, 404, { message: 'Not Found' })
    }
    m = url.pathname.match(/^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)$/)
    if (m && method === 'GET') {
      const run = runs.get(`${m[1]}#${m[2]}`)
      return run ? send(res, log, 200, run) : send(res, log, 404, { message: 'Not Found' })
    }
    return send(res, log, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' })
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    secondaryLimited,
    comments,
    pulls,
    runs,
    faults,
    identities,
    blind,
    addRun(repo, run) {
      runs.set(`${repo}#${run.id}`, {
        status: 'in_progress',
        conclusion: null,
        run_attempt: 1,
        ...run,
      })
    },
    addComment(repo, issue, body, user) {
      return newComment(`${repo}#${issue}`, body, user)
    },
    commentBodies(repo, issue) {
      return (comments.get(`${repo}#${issue}`) ?? []).map((c) => c.body)
    },
    hold(path) {
      let release!: () => void
      const hold = { path, released: new Promise<void>((r) => (release = r)) }
      holds.push(hold)
      return () => {
        holds.splice(holds.indexOf(hold), 1)
        release()
      }
    },
    addPull(repo, pr) {
      pulls.set(`${repo}#${pr.number}`, {
        state: 'open',
        merged: false,
        head: { ref: `feature-${pr.number}`, sha: 'f'.repeat(40), repo: { full_name: repo } },
        base: { ref: 'main', repo: { full_name: repo } },
        ...pr,
      })
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
