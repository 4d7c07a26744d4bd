// Import circles (issue 26): reads every .ts file under the given folders with the TypeScript
// compiler, follows its relative imports, and prints each circle with its files. Exits 1 when it
// finds one. `npm run lint` runs it on src/; test/unit/no-cycles.test.ts runs the same function.
//
// `import type` counts. A type-only import is erased from the bundle, so it cannot cause an
// initialisation-order bug, but it still means the two files have to be read together: the layout
// circle the issue names (summary.ts -> github/comment.ts -> ... -> summary.ts) is partly type-only.
// Re-exports (`export ... from`) and dynamic `import()` count too: both tie one file to another.
// Only relative specifiers are followed; packages cannot import our files back.
import ts from 'typescript'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Every .ts file under `dir`, declaration files excepted. */
export function tsFilesUnder(dir: string): string[] {
  const found: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) found.push(...tsFilesUnder(path))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) found.push(resolve(path))
  }
  return found.sort()
}

/** The module specifiers a file imports or re-exports, type-only ones and `import()` included. */
export function specifiersOf(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false)
  const specifiers: string[] = []
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specifiers.push(node.moduleSpecifier.text)
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      specifiers.push(node.arguments[0].text)
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression
      if (ts.isStringLiteral(expression)) specifiers.push(expression.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return specifiers
}

/** The file a relative specifier names (`./x.js` is `./x.ts` under NodeNext), or undefined. */
function resolveRelative(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined
  const base = resolve(dirname(from), specifier)
  const candidates = [
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    base,
    `${base}.ts`,
    join(base, 'index.ts'),
  ]
  return candidates.find((path) => path.endsWith('.ts') && existsSync(path) && statSync(path).isFile())
}

/** The import graph of `files`: each file to the files (of the same set) it imports. */
export function importGraph(files: string[]): Map<string, string[]> {
  const inSet = new Set(files)
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const targets = specifiersOf(file, readFileSync(file, 'utf8'))
      .map((specifier) => resolveRelative(file, specifier))
      .filter((target): target is string => target !== undefined && inSet.has(target))
    graph.set(file, [...new Set(targets)])
  }
  return graph
}

/**
 * The circles of a graph: one per strongly connected component of more than one file (or a file
 * importing itself), each given as a path that starts and ends at the same file, plus every file
 * of the component. Tarjan's algorithm, so the answer does not depend on the order of the files.
 */
export function findCycles(graph: Map<string, string[]>): { path: string[]; files: string[] }[] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const strongConnect = (node: string): void => {
    index.set(node, counter)
    low.set(node, counter)
    counter++
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        strongConnect(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!))
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      const selfLoop = component.length === 1 && (graph.get(node) ?? []).includes(node)
      if (component.length > 1 || selfLoop) components.push(component.sort())
    }
  }
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) strongConnect(node)
  return components.map((files) => ({ path: cycleThrough(graph, files), files }))
}

/** A shortest circle from the component's first file back to it, staying inside the component. */
function cycleThrough(graph: Map<string, string[]>, component: string[]): string[] {
  const start = component[0]!
  const members = new Set(component)
  const cameFrom = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const node = queue.shift()!
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue
      if (next === start) {
        const path = [start]
        for (let at: string | undefined = node; at !== start && at !== undefined; at = cameFrom.get(at)) {
          path.unshift(at)
        }
        path.unshift(start)
        return path
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node)
        queue.push(next)
      }
    }
  }
  return [start, start]
}

/** The circles among the .ts files under `dirs`, with paths relative to `root`. */
export function cyclesUnder(dirs: string[], root = process.cwd()): { path: string[]; files: string[] }[] {
  const files = dirs.flatMap((dir) => tsFilesUnder(resolve(root, dir)))
  const shown = (file: string): string => relative(root, file)
  return findCycles(importGraph(files)).map(({ path, files: members }) => ({
    path: path.map(shown),
    files: members.map(shown),
  }))
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dirs = process.argv.slice(2)
  const cycles = cyclesUnder(dirs.length > 0 ? dirs : ['src'])
  for (const { path, files } of cycles) {
    console.error(`import circle: ${path.join(' -> ')}`)
    console.error(`  files in it: ${files.join(', ')}`)
  }
  if (cycles.length > 0) {
    console.error(`${cycles.length} import circle(s); move what the files share into a module of its own.`)
    process.exit(1)
  }
  console.log('no import circles')
}
