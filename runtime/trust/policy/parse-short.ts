import type { PolicyExpr } from './ast.js'
import { CLOSE, EOF, isNameChar, isNameStart, isSpace, isWordChar, OPEN } from './chars.js'
import { parseError, tooDeepError } from './parse-error.js'

const PRIMARY = 'an attribute, "not", "(", true or false'

interface Parsed {
  readonly expr: PolicyExpr
  /** Tree depth of `expr`, the node itself counting 1. */
  readonly depth: number
}

/**
 * The short boolean form: `k.v` is `(= subject.k "v")` (split at the first dot), a bare `k` is
 * `(= subject.k "true")`, combined with not > and > or and parentheses. `nesting` counts the
 * open parentheses and `not`s (the only recursion), checked against maxDepth before recursing;
 * the tree depth is checked as nodes are built.
 */
export class ShortParser {
  private pos = 0

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  parse(): PolicyExpr {
    const { expr } = this.or(0)
    this.skipSpace()
    if (this.peek() !== EOF) throw this.fail('"and", "or" or the end of the policy')
    return expr
  }

  private peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : EOF
  }

  private skipSpace(): void {
    while (isSpace(this.peek())) this.pos++
  }

  private fail(expected: string, at = this.pos) {
    return parseError(this.text, at, expected)
  }

  /** Consumes `word` when it comes next as a whole word. */
  private keyword(word: string): boolean {
    this.skipSpace()
    const end = this.pos + word.length
    if (!this.text.startsWith(word, this.pos)) return false
    if (end < this.text.length && isWordChar(this.text.charCodeAt(end))) return false
    this.pos = end
    return true
  }

  private checked(expr: PolicyExpr, depth: number, start: number): Parsed {
    if (depth > this.maxDepth) throw tooDeepError(this.text, start, this.maxDepth)
    return { expr, depth }
  }

  private or(nesting: number): Parsed {
    this.skipSpace()
    const start = this.pos
    const first = this.and(nesting)
    if (!this.keyword('or')) return first
    const args = [first.expr]
    let depth = first.depth
    do {
      const next = this.and(nesting)
      args.push(next.expr)
      depth = Math.max(depth, next.depth)
    } while (this.keyword('or'))
    return this.checked({ kind: 'or', args }, depth + 1, start)
  }

  private and(nesting: number): Parsed {
    this.skipSpace()
    const start = this.pos
    const first = this.not(nesting)
    if (!this.keyword('and')) return first
    const args = [first.expr]
    let depth = first.depth
    do {
      const next = this.not(nesting)
      args.push(next.expr)
      depth = Math.max(depth, next.depth)
    } while (this.keyword('and'))
    return this.checked({ kind: 'and', args }, depth + 1, start)
  }

  private not(nesting: number): Parsed {
    this.skipSpace()
    const start = this.pos
    if (!this.keyword('not')) return this.primary(nesting)
    if (nesting + 1 > this.maxDepth) throw tooDeepError(this.text, start, this.maxDepth)
    const inner = this.not(nesting + 1)
    return this.checked({ kind: 'not', arg: inner.expr }, inner.depth + 1, start)
  }

  private primary(nesting: number): Parsed {
    this.skipSpace()
    const start = this.pos
    if (this.peek() === OPEN) {
      if (nesting + 1 > this.maxDepth) throw tooDeepError(this.text, start, this.maxDepth)
      this.pos++
      const inner = this.or(nesting + 1)
      this.skipSpace()
      if (this.peek() !== CLOSE) throw this.fail('"and", "or" or ")"')
      this.pos++
      return inner
    }
    while (isWordChar(this.peek())) this.pos++
    const word = this.text.slice(start, this.pos)
    if (word === '' || word === 'and' || word === 'or') throw this.fail(PRIMARY, start)
    if (word === 'true' || word === 'false') return { expr: { kind: 'boolean', value: word === 'true' }, depth: 1 }
    const dot = word.indexOf('.')
    const key = dot < 0 ? word : word.slice(0, dot)
    if (key === '' || !isNameStart(key.charCodeAt(0))) {
      throw this.fail('an attribute name (a letter, digit or "_" first)', start)
    }
    for (let i = 1; i < key.length; i++) {
      if (!isNameChar(key.charCodeAt(i))) {
        throw this.fail('an attribute name character (letter, digit, "_", "-" or ":") or "."', start + i)
      }
    }
    const value = dot < 0 ? 'true' : word.slice(dot + 1)
    if (value === '') throw this.fail('a value after "."', start + dot + 1)
    const expr: PolicyExpr = {
      kind: 'compare',
      op: '=',
      left: { kind: 'attribute', scope: 'subject', name: key },
      right: { kind: 'string', value },
    }
    return { expr, depth: 1 }
  }
}
