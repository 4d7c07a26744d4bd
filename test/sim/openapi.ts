// Neon's current OpenAPI description as validators: the simulator checks every request with them,
// and openapi.test.ts checks every response. The description is the one Neon's own TypeScript SDK
// is generated from, `public-v2-for-users.gen.yaml` in npm `@neondatabase/api-client` (BEHAVIOUR.md,
// "Neon's current API description"): a pinned dev dependency, so each Neon release reaches the
// tests as a Dependabot pull request, and no copy of it here can fall behind.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parse as parseYaml } from 'yaml'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  a: Ajv,
) => Ajv

/** The YAML file inside the installed SDK (its package.json does not export it, so resolve the root). */
export const SPEC_PATH = createRequire(import.meta.url)
  .resolve('@neondatabase/api-client/package.json')
  .replace(/package\.json$/, 'public-v2-for-users.gen.yaml')
const SPEC_ID = 'https://neon.sim/openapi-v2.json'

interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required?: boolean
  schema?: { type?: string } & Record<string, unknown>
  $ref?: string
}
interface Content {
  content?: Record<string, { schema?: unknown }>
}
interface OpenApiOperation {
  parameters?: Parameter[]
  requestBody?: Content & { required?: boolean }
  responses: Record<string, Content & { $ref?: string }>
}
export interface OpenApi {
  paths: Record<string, Record<string, OpenApiOperation> & { parameters?: Parameter[] }>
  components: {
    schemas: Record<string, unknown>
    responses: Record<string, Content>
    parameters?: Record<string, Parameter>
  }
}

let loaded: { spec: OpenApi; ajv: Ajv } | undefined

function load(): { spec: OpenApi; ajv: Ajv } {
  if (loaded) return loaded
  const spec = parseYaml(readFileSync(SPEC_PATH, 'utf8')) as OpenApi
  const ajv = new Ajv({ strict: false, allErrors: true })
  addFormats(ajv)
  for (const f of ['int32', 'int64', 'int'])
    ajv.addFormat(f, { type: 'number', validate: (n: number) => Number.isInteger(n) })
  ajv.addSchema({ $id: SPEC_ID, components: spec.components })
  loaded = { spec, ajv }
  return loaded
}

export function openApi(): OpenApi {
  return load().spec
}

export function ajvErrors(v: ValidateFunction, prefix: string): string {
  return load().ajv.errorsText(v.errors, { dataVar: prefix })
}

const compiled = new Map<string, ValidateFunction | null>()

function compile(key: string, schema: unknown): ValidateFunction | null {
  const hit = compiled.get(key)
  if (hit !== undefined) return hit
  let v: ValidateFunction | null = null
  if (schema !== undefined) {
    const rewritten = JSON.parse(
      JSON.stringify(schema).replaceAll('"#/components/', `"${SPEC_ID}#/components/`),
    ) as object
    v = load().ajv.compile(rewritten)
  }
  compiled.set(key, v)
  return v
}

function operation(method: string, template: string): OpenApiOperation | undefined {
  return load().spec.paths[template]?.[method.toLowerCase()] as OpenApiOperation | undefined
}

/** The validator for `METHOD /template` answering `status`, or null when the spec defines no JSON body for it. */
export function responseValidator(method: string, template: string, status: number): ValidateFunction | null {
  const { spec } = load()
  const op = operation(method, template)
  if (!op) throw new Error(`route ${method} ${template} is not in the OpenAPI description`)
  let resp = op.responses[String(status)] ?? op.responses['default']
  if (!resp) throw new Error(`no response ${status} for ${method} ${template}`)
  if (resp.$ref) {
    const name = resp.$ref.replace('#/components/responses/', '')
    resp = spec.components.responses[name]
    if (!resp) throw new Error(`unresolved ${name}`)
  }
  return compile(`res ${method} ${template} ${status}`, resp.content?.['application/json']?.schema)
}

function parameters(method: string, template: string): Parameter[] {
  const { spec } = load()
  const op = operation(method, template)
  const all = [...(spec.paths[template]?.parameters ?? []), ...(op?.parameters ?? [])]
  return all.map((p) => {
    if (!p.$ref) return p
    const resolved = spec.components.parameters?.[p.$ref.replace('#/components/parameters/', '')]
    if (!resolved) throw new Error(`unresolved parameter ${p.$ref}`)
    return resolved
  })
}

/**
 * A query or path value as the schema's type: HTTP carries strings, the schema speaks of integers
 * and booleans. A value that does not parse stays a string, so the schema then rejects it.
 */
function coerce(raw: string, type: string | undefined): unknown {
  if (type === 'integer' && /^-?\d+$/.test(raw)) return Number(raw)
  if (type === 'number' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw)
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true'
  return raw
}

export interface RequestToCheck {
  method: string
  /** The route template as the OpenAPI names it, e.g. `/projects/{project_id}/branches`. */
  template: string
  params: Record<string, string>
  query: Record<string, string>
  /** Parsed JSON body, or undefined when the request had none. */
  body: unknown
}

/**
 * Everything in a request that Neon's OpenAPI description does not allow, one line each (empty
 * when it is valid): path parameters against their schemas (branch and project ids match
 * `^[a-z0-9-]{1,60}$`), required query parameters, query parameter types, enums and bounds
 * (`limit` 1 to 10000), a required body, and the body against its schema (required fields, types,
 * patterns, formats). Unknown query parameters pass: HTTP APIs ignore them. Unknown body fields
 * pass too, because no request schema in the description forbids them
 * (`additionalProperties: false` appears nowhere in it). A route the description lacks is not
 * checked.
 */
export function requestProblems(r: RequestToCheck): string[] {
  const op = operation(r.method, r.template)
  if (!op) return []
  const problems: string[] = []
  for (const p of parameters(r.method, r.template)) {
    if (p.in !== 'path' && p.in !== 'query') continue
    const raw = p.in === 'path' ? r.params[p.name] : r.query[p.name]
    if (raw === undefined) {
      if (p.required || p.in === 'path') problems.push(`${p.in} parameter ${p.name} is required`)
      continue
    }
    const v = compile(`param ${r.method} ${r.template} ${p.in} ${p.name}`, p.schema)
    if (v && !v(coerce(raw, p.schema?.type))) problems.push(ajvErrors(v, `${p.in} parameter ${p.name}`))
  }
  const bodySchema = op.requestBody?.content?.['application/json']?.schema
  if (r.body === undefined) {
    if (op.requestBody?.required) problems.push('a request body is required')
  } else if (bodySchema !== undefined) {
    const v = compile(`req ${r.method} ${r.template}`, bodySchema)
    if (v && !v(r.body)) problems.push(ajvErrors(v, 'request body'))
  }
  return problems
}

/**
 * Loads the description and compiles the request validators of `routes` ahead of their first
 * request, so that no request pays for it: a test that counts requests would otherwise see a retry
 * when that first request outlived the client's timeout on a busy machine. The simulator calls it
 * at start for every route it serves.
 */
export function compileRequestValidators(routes: readonly { method: string; path: string }[]): void {
  for (const { method, path: template } of routes) {
    const op = operation(method, template)
    if (!op) continue
    for (const p of parameters(method, template)) {
      if (p.in === 'path' || p.in === 'query')
        compile(`param ${method} ${template} ${p.in} ${p.name}`, p.schema)
    }
    compile(`req ${method} ${template}`, op.requestBody?.content?.['application/json']?.schema)
  }
}
