// Stands in for undici under @actions/core's @actions/http-client (package.json "overrides"), and
// nowhere else.
//
// @actions/http-client imports ProxyAgent from undici at its top level, for
// HttpClient.getAgentDispatcher(), which only @actions/github's proxy support calls. @actions/core
// reaches it through its OIDC client (getIDToken). This action calls neither: Neon's client and
// Octokit both use Node's own fetch. Yet that one import put all of undici (about 900 KB) into
// dist/index.js, and evaluating it cost about 33 ms of every start before the first Neon request
// (issue 17; upstream: actions/toolkit#1621, #1697, #1560, and the lazy import proposed in #1800).
//
// Anything that does reach for the proxy dispatcher fails loudly instead of silently going
// without a proxy.
export class ProxyAgent {
  constructor() {
    throw new Error(
      'neon-preview-branch does not bundle undici: @actions/http-client proxy dispatchers ' +
        '(getAgentDispatcher, used by @actions/github and OIDC tokens) are not available in this action',
    )
  }
}
