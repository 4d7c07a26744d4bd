/**
 * `npm run try -- <event> [<event> …] [options]`: runs the committed dist/index.js on pull request
 * events, as the runner runs it (inputs as INPUT_* variables, the event as a payload file, the
 * command files read back), against the Neon simulator (test/sim) and the fake GitHub API
 * (test/fake-github/server.ts) on 127.0.0.1, and prints what a user sees: the log (masked values
 * as ***), the outputs, the job summary and the pull request comment. Events run in order against
 * the same simulator, so `opened synchronize closed` is a pull request's life. The post step runs
 * after each main step, as the runner runs it (it deletes the branch of `--with ephemeral=true`).
 *
 *   <event>            opened, synchronize, reopened, ready_for_review, closed, labeled (a
 *                      pull_request payload from test/fixtures/events), or schedule, workflow_dispatch
 *   --mode <mode>      the `mode` input (default auto)
 *   --with key=value   any other input (repeatable), e.g. --with role=app_user
 *   --pr <n>           the pull request's number (default 7)
 *   --payload <file>   a payload file of your own, for every event given
 *
 * Exits with the last failing step's exit code, or 0.
 */
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startFakeGitHub } from '../test/fake-github/server.js'
import { runAction, runPost, type ActionRun } from '../test/helpers/run-action.js'
import { startNeonSimulator } from '../test/sim/index.js'

const REPO = 'octo-org/octo-repo'
const TOKEN = 'ghs_trylocaltoken0000'
const EVENTS = new URL('../test/fixtures/events/', import.meta.url)

interface Options {
  events: string[]
  mode: string
  inputs: Record<string, string>
  pr: number
  payloadFile?: string
}

function options(argv: string[]): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      mode: { type: 'string', default: 'auto' },
      with: { type: 'string', multiple: true, default: [] },
      pr: { type: 'string', default: '7' },
      payload: { type: 'string' },
    },
  })
  if (positionals.length === 0)
    throw new Error('usage: npm run try -- <event> [<event> …] [--mode m] [--with k=v]')
  const inputs: Record<string, string> = {}
  for (const kv of values.with ?? []) {
    const at = kv.indexOf('=')
    if (at < 1) throw new Error(`--with takes key=value, not '${kv}'`)
    inputs[kv.slice(0, at)] = kv.slice(at + 1)
  }
  return {
    events: positionals,
    mode: values.mode ?? 'auto',
    inputs,
    pr: Number(values.pr),
    ...(values.payload !== undefined ? { payloadFile: values.payload } : {}),
  }
}

/** The event's name and payload: a fixture (`pull_request.<action>.json` or `<event>.json`) or a file. */
function payloadOf(event: string, o: Options): { eventName: string; payload: Record<string, unknown> } {
  const read = (file: string | URL) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  const pr = new URL(`pull_request.${event}.json`, EVENTS)
  const other = new URL(`${event}.json`, EVENTS)
  const eventName = existsSync(pr) ? 'pull_request' : event
  if (!existsSync(pr) && !existsSync(other) && !o.payloadFile) throw new Error(`no event '${event}'`)
  const payload = o.payloadFile ? read(o.payloadFile) : read(existsSync(pr) ? pr : other)
  const pull = payload.pull_request as { number?: number } | undefined
  if (pull && !o.payloadFile) {
    payload.number = o.pr
    pull.number = o.pr
  }
  return { eventName, payload }
}

/** A run as the Actions UI shows it: masked values as ***, no ::add-mask:: or ::debug:: lines. */
function print(title: string, run: ActionRun, comment: string | undefined): void {
  // Longest first, so that a URL is masked whole before the password inside it.
  const masked = run.masked.filter((m) => m).sort((a, b) => b.length - a.length)
  const mask = (s: string) => masked.reduce((acc, m) => acc.split(m).join('***'), s)
  console.log(`\n=== ${title}: exit ${run.code}`)
  const lines = run.stdout
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('::add-mask::') && !l.startsWith('::debug::'))
  for (const line of lines) console.log(`| ${mask(line)}`)
  if (lines.length === 0) console.log('| (nothing logged)')
  const outputs = Object.entries(run.outputs)
  if (outputs.length > 0) console.log('--- outputs')
  for (const [k, v] of outputs) console.log(`${k}=${mask(v)}`)
  if (run.summary.trim() !== '')
    console.log(`--- job summary (its HTML as text)\n${mask(asText(run.summary))}`)
  if (comment !== undefined) console.log(`--- pull request comment, as this run left it\n${mask(comment)}`)
}

/** The job summary's HTML as plain lines: a row per line, cells split by |, entities decoded. */
function asText(html: string): string {
  return html
    .replace(/<\/(tr|h\d|p|li|pre)>/g, '\n')
    .replace(/<\/t[hd]>/g, ' | ')
    .replace(/<[^>]+>/g, '')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/ \| \n/g, '\n')
    .replace(/\n{2,}/g, '\n')
    .trim()
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2))
  const sim = await startNeonSimulator({ operationMs: { create_branch: 200, start_compute: 300 } })
  const gh = await startFakeGitHub()
  const project = sim.createProject({ id: 'try-project-12345678', name: 'try' })
  console.log(`Neon simulator ${sim.apiUrl} (project ${project.id}); fake GitHub ${gh.url}`)
  let exit = 0
  let lastComment = ''
  try {
    for (const event of o.events) {
      const { eventName, payload } = payloadOf(event, o)
      const main = await runAction({
        eventName,
        payload,
        githubApiUrl: gh.url,
        repository: REPO,
        inputs: {
          mode: o.mode,
          api_key: sim.apiKey,
          project_id: project.id,
          api_host: sim.apiUrl,
          github_token: TOKEN,
          ...o.inputs,
        },
      })
      const pr = (payload.pull_request as { number?: number } | undefined)?.number
      // The comment, when this step changed it (the post step never writes one).
      const comment = () => {
        if (pr === undefined) return undefined
        const now = gh.commentBodies(REPO, pr).join('\n\n')
        if (now === lastComment) return undefined
        lastComment = now
        return now === '' ? '(deleted)' : now
      }
      console.log(`\npayload (${eventName} ${String(payload.action ?? '')}): ${main.env.GITHUB_EVENT_PATH}`)
      print(`${eventName} ${String(payload.action ?? '')} (mode: ${o.mode})`, main, comment())
      if (main.code !== 0) exit = main.code
      // The runner runs the post step (`runs.post`) after every main step; it deletes an
      // ephemeral branch, and does nothing otherwise.
      const post = await runPost(main)
      print('post step', post, comment())
      if (post.code !== 0) exit = post.code
    }
  } finally {
    await sim.close()
    await gh.close()
  }
  return exit
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e))
    process.exit(2)
  },
)
