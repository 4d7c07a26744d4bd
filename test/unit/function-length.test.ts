// No function in src/ is longer than about 80 lines (issue 26): a long function is one whose parts
// cannot be read, named or tested apart. Measured with the TypeScript compiler: every function
// declaration, method, constructor, accessor, function expression and arrow function, from its
// first line to its last.
import ts from 'typescript'
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tsFilesUnder } from '../../scripts/check-cycles.js'

const MAX_LINES = 80

interface Measured {
  where: string
  line: number
  lines: number
}

function nameOf(node: ts.Node): string {
  const own = (node as { name?: ts.Node }).name
  const name = own
    ? own.getText()
    : ts.isVariableDeclaration(node.parent)
      ? node.parent.name.getText()
      : '<anonymous>'
  const owner =
    node.parent && ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : ''
  return ts.isConstructorDeclaration(node) ? `${owner}constructor` : `${owner}${name}`
}

export function functionLengths(file: string, text: string): Measured[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: Measured[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line
      found.push({ where: `${file} ${nameOf(node)}`, line: first + 1, lines: last - first + 1 })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe('function length', () => {
  const measured = tsFilesUnder('src').flatMap((path) =>
    functionLengths(relative(process.cwd(), path), readFileSync(path, 'utf8')),
  )

  it(`no function in src/ is longer than ${MAX_LINES} lines`, () => {
    const tooLong = measured
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.where} (line ${f.line}): ${f.lines} lines`)
    expect(tooLong).toEqual([])
  })

  it('measures every file of src/', () => {
    expect(measured.length).toBeGreaterThan(500)
    expect(measured.some((f) => f.where === 'src/inputs/index.ts getInputs')).toBe(true)
  })

  it('measures a function of each kind', () => {
    const text = [
      'function a() {',
      '  return 1',
      '}',
      'const b = () => {',
      '  return 2',
      '}',
      'class C {',
      '  m() {',
      '    return 3',
      '  }',
      '}',
    ].join('\n')
    expect(functionLengths('x.ts', text).map((f) => [f.where, f.lines])).toEqual([
      ['x.ts a', 3],
      ['x.ts b', 3],
      ['x.ts C.m', 3],
    ])
  })
})
