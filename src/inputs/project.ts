// `project_id` and `api_host`: which Neon project, and the one base URL the API key is sent to.
import { DEFAULT_API_HOST, INPUTS, type InputName } from '../constants.js'
import { DEFAULTS } from './defaults.js'
import type { Reader } from './reader.js'

const PROJECT_ID_RE = /^[a-z0-9-]{1,60}$/
const URL_EXPECTED = `Expected an https:// URL (http:// only for localhost), e.g. ${DEFAULT_API_HOST}.`

/** `project_id` (required, of the form of a Neon project id) and `api_host`. */
export function readProject(r: Reader): { projectId: string; apiHost: string } {
  const projectId = r.get(INPUTS.projectId)
  if (projectId === '') {
    r.fail(
      INPUTS.projectId,
      `Input '${INPUTS.projectId}' is required. Find it in the Neon console under Settings.`,
    )
  }
  if (!PROJECT_ID_RE.test(projectId)) {
    r.invalid(
      INPUTS.projectId,
      projectId,
      'Expected a Neon project id: 1 to 60 lower-case letters, digits and dashes, e.g. restless-river-12345678.',
    )
  }
  const apiHost = parseApiHost(r.get(INPUTS.apiHost) || DEFAULTS.apiHost, r.invalid, r.fail)
  return { projectId, apiHost }
}

/**
 * `api_host` as the one base URL the API key is ever sent to: https, or plain http only to this
 * machine (a simulator, a local proxy), where the key never crosses a network. Exported for the
 * post step, which checks its recorded host against it.
 *
 * A refusal names what is wrong (not a URL, the scheme, credentials, a query string, a fragment)
 * and never prints the value: a user name, a password, `?access_token=…` or a fragment would be a
 * secret in the log and the summary. What it shows at most is the scheme and the host.
 */
export function parseApiHost(
  value: string,
  _invalid: (input: InputName, value: string, expected: string) => never,
  fail: (input: InputName, message: string) => never,
): string {
  const refuse = (what: string): never => fail(INPUTS.apiHost, `Invalid input '${INPUTS.apiHost}': ${what}`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return refuse(`the value is not a URL (not shown: it may hold a secret). ${URL_EXPECTED}`)
  }
  const problems: string[] = []
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`its scheme is '${url.protocol.replace(/[^a-z0-9+.:-]/g, '?')}', not https:`)
  }
  if (url.username !== '' || url.password !== '') {
    problems.push('it holds a user name or password; authenticate with api_key')
  }
  if (url.search !== '') problems.push('it has a query string (?…)')
  if (url.hash !== '') problems.push('it has a fragment (#…)')
  if (problems.length > 0) {
    const expected = problems[0]!.startsWith('its scheme')
      ? URL_EXPECTED
      : 'The API base URL must not have a user name or password, a query string or fragment.'
    return refuse(`the URL is refused (not shown: it may hold a secret): ${problems.join('; ')}. ${expected}`)
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return refuse(
      `http://${url.host}: Plain http:// would send the API key in clear text: use https://, e.g. ` +
        `${DEFAULT_API_HOST}. http:// is accepted only for this machine: localhost, 127.0.0.0/8 or [::1].`,
    )
  }
  return url.href.replace(/\/+$/, '')
}

/**
 * The hosts plain http may go to: the loopback names and addresses. `hostname` is the WHATWG URL
 * parser's, already normalized (lower-cased; `127.1` and `0x7f.0.0.1` read as `127.0.0.1`;
 * `[0:0:0:0:0:0:0:1]` as `[::1]`), so an address cannot pass in another spelling.
 */
function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname)
  return m !== null && m.slice(1).every((o) => Number(o) <= 255)
}

/** Whether `id` has the form of a Neon project id (what `project_id` accepts). */
export function isProjectId(id: string): boolean {
  return PROJECT_ID_RE.test(id)
}
