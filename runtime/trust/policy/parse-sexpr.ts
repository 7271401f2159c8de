import type { AttributeRef, CompareOperator, Literal, Operand, PolicyExpr } from './ast.js'
import {
  BACKSLASH,
  CLOSE,
  CLOSE_LIST,
  COMMA,
  DOT,
  EOF,
  isControl,
  isDelimiter,
  isDigit,
  isNameChar,
  isNameStart,
  isSpace,
  MINUS,
  OPEN,
  OPEN_LIST,
  QUOTE,
} from './chars.js'
import { POLICY_NUMBER_MAX_DIGITS } from './constants.js'
import { countDigits, isCanonicalNumber } from './numbers.js'
import { parseError, tooDeepError } from './parse-error.js'

const OPERATORS = 'an operator (and, or, not, =, !=, <, >, member?, exists?)'
const BOOLEAN_ARG = 'a form "(...)", true or false'
const OPERAND = 'an operand (subject.<name>, resource.<name>, a string, a number, true or false)'
const LIST_ITEM = 'a list item (a string, a number, true or false)'
const NAME_CHAR = 'an attribute name character (letter, digit, "_", "-", "." or ":")'

/**
 * Recursive descent over the S-expression form. Every form is one tree level; the level is
 * checked on entry, so recursion is bounded by maxDepth whatever the input.
 */
export class SexprParser {
  private pos = 0

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  parse(): PolicyExpr {
    this.skipSpace()
    if (this.peek() !== OPEN) throw this.fail('"("')
    const expr = this.form(1)
    this.skipSpace()
    if (this.peek() !== EOF) throw this.fail('the end of the policy')
    return expr
  }

  private peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : EOF
  }

  private skipSpace(): number {
    const start = this.pos
    while (isSpace(this.peek())) this.pos++
    return this.pos - start
  }

  private fail(expected: string, at = this.pos) {
    return parseError(this.text, at, expected)
  }

  /** Everything up to the next delimiter: operator symbols, true/false, attribute references. */
  private word(): string {
    const start = this.pos
    while (!isDelimiter(this.peek())) this.pos++
    return this.text.slice(start, this.pos)
  }

  /** The separation before an argument: at least one space, and not the end of the form. */
  private beforeArgument(expected: string): void {
    const spaces = this.skipSpace()
    const c = this.peek()
    if (c === CLOSE || c === EOF) throw this.fail(expected)
    if (spaces === 0) throw this.fail('a space')
  }

  private close(): void {
    this.skipSpace()
    if (this.peek() !== CLOSE) throw this.fail('")"')
    this.pos++
  }

  private form(depth: number): PolicyExpr {
    if (depth > this.maxDepth) throw tooDeepError(this.text, this.pos, this.maxDepth)
    this.pos++ // the "(" the caller saw
    this.skipSpace()
    const opStart = this.pos
    const op = this.word()
    switch (op) {
      case 'and':
      case 'or': {
        this.beforeArgument(BOOLEAN_ARG)
        const args = [this.booleanArg(depth + 1)]
        while (this.moreArguments()) args.push(this.booleanArg(depth + 1))
        return { kind: op, args }
      }
      case 'not': {
        this.beforeArgument(BOOLEAN_ARG)
        const arg = this.booleanArg(depth + 1)
        this.close()
        return { kind: 'not', arg }
      }
      case '=':
      case '!=':
      case '<':
      case '>':
        return this.compare(op)
      case 'member?': {
        this.beforeArgument(OPERAND)
        const item = this.operand()
        this.beforeArgument('a list "[...]"')
        const list = this.list()
        this.close()
        return { kind: 'member', item, list }
      }
      case 'exists?': {
        this.beforeArgument('an attribute (subject.<name> or resource.<name>)')
        const start = this.pos
        const operand = this.operand()
        if (operand.kind !== 'attribute') throw this.fail('an attribute (subject.<name> or resource.<name>)', start)
        this.close()
        return { kind: 'exists', ref: operand }
      }
      default:
        throw this.fail(OPERATORS, opStart)
    }
  }

  /** After an and/or argument: true when another follows, false after consuming the ")". */
  private moreArguments(): boolean {
    const spaces = this.skipSpace()
    const c = this.peek()
    if (c === CLOSE) {
      this.pos++
      return false
    }
    if (c === EOF) throw this.fail('")"')
    if (spaces === 0) throw this.fail('a space or ")"')
    return true
  }

  private booleanArg(depth: number): PolicyExpr {
    if (this.peek() === OPEN) return this.form(depth)
    if (depth > this.maxDepth) throw tooDeepError(this.text, this.pos, this.maxDepth)
    const start = this.pos
    const word = this.word()
    if (word === 'true') return { kind: 'boolean', value: true }
    if (word === 'false') return { kind: 'boolean', value: false }
    throw this.fail(BOOLEAN_ARG, start)
  }

  private compare(op: CompareOperator): PolicyExpr {
    const numeric = op === '<' || op === '>'
    this.beforeArgument(OPERAND)
    const left = this.comparand(numeric)
    this.beforeArgument(OPERAND)
    const right = this.comparand(numeric)
    this.close()
    return { kind: 'compare', op, left, right }
  }

  /** `<` and `>` only ever compare numbers: a literal that cannot be one is refused here. */
  private comparand(numeric: boolean): Operand {
    const start = this.pos
    const operand = this.operand()
    if (!numeric) return operand
    const ok =
      operand.kind === 'attribute' ||
      operand.kind === 'number' ||
      (operand.kind === 'string' && isCanonicalNumber(operand.value))
    if (!ok) throw this.fail('a number or an attribute (< and > compare numbers)', start)
    return operand
  }

  private operand(): Operand {
    const c = this.peek()
    if (c === QUOTE) return this.string()
    if (c === MINUS || isDigit(c)) return this.number()
    const start = this.pos
    const word = this.word()
    if (word === 'true') return { kind: 'boolean', value: true }
    if (word === 'false') return { kind: 'boolean', value: false }
    if (word.startsWith('subject.')) return this.reference('subject', word, start)
    if (word.startsWith('resource.')) return this.reference('resource', word, start)
    throw this.fail(c === OPEN_LIST ? `${OPERAND}; lists only follow member?` : OPERAND, start)
  }

  private reference(scope: 'subject' | 'resource', word: string, start: number): AttributeRef {
    const nameStart = scope.length + 1
    const name = word.slice(nameStart)
    if (name === '' || !isNameStart(name.charCodeAt(0))) {
      throw this.fail('an attribute name (a letter, digit or "_" first)', start + nameStart)
    }
    for (let i = 1; i < name.length; i++) {
      if (!isNameChar(name.charCodeAt(i))) throw this.fail(NAME_CHAR, start + nameStart + i)
    }
    return { kind: 'attribute', scope, name }
  }

  private string(): Literal {
    this.pos++ // opening quote
    let value = ''
    let segment = this.pos
    for (;;) {
      const c = this.peek()
      if (c === QUOTE) break
      if (c === EOF) throw this.fail('a closing quote')
      if (c === BACKSLASH) {
        value += this.text.slice(segment, this.pos)
        const escaped = this.text.charCodeAt(this.pos + 1)
        if (escaped !== QUOTE && escaped !== BACKSLASH) throw this.fail('\\" or \\\\ after a backslash', this.pos + 1)
        value += this.text.charAt(this.pos + 1)
        this.pos += 2
        segment = this.pos
        continue
      }
      if (isControl(c)) throw this.fail('a printable character (no control characters in strings)')
      this.pos++
    }
    value += this.text.slice(segment, this.pos)
    this.pos++ // closing quote
    return { kind: 'string', value }
  }

  private number(): Literal {
    const start = this.pos
    if (this.peek() === MINUS) this.pos++
    if (!isDigit(this.peek())) throw this.fail('a digit')
    if (this.peek() === 0x30) {
      this.pos++
      if (isDigit(this.peek())) throw this.fail('"." or the end of the number (no leading zeros)')
    } else {
      while (isDigit(this.peek())) this.pos++
    }
    if (this.peek() === DOT) {
      this.pos++
      if (!isDigit(this.peek())) throw this.fail('a digit')
      while (isDigit(this.peek())) this.pos++
      if (this.text.charCodeAt(this.pos - 1) === 0x30) {
        let zeros = this.pos - 1
        while (this.text.charCodeAt(zeros - 1) === 0x30) zeros--
        throw this.fail('a number without trailing zeros after the point', zeros)
      }
    }
    if (!isDelimiter(this.peek())) throw this.fail('the end of the number')
    const text = this.text.slice(start, this.pos)
    if (countDigits(text) > POLICY_NUMBER_MAX_DIGITS) {
      throw this.fail(`a number of at most ${POLICY_NUMBER_MAX_DIGITS} digits`, start)
    }
    if (text === '-0') throw this.fail('0 without a minus sign', start)
    return { kind: 'number', value: Number(text) }
  }

  private listItem(): Literal {
    const c = this.peek()
    if (c === QUOTE) return this.string()
    if (c === MINUS || isDigit(c)) return this.number()
    const start = this.pos
    const word = this.word()
    if (word === 'true') return { kind: 'boolean', value: true }
    if (word === 'false') return { kind: 'boolean', value: false }
    throw this.fail(LIST_ITEM, start)
  }

  /** `[a, b]` or `[a b]`: items separated by a comma, spaces or both; all of one kind. */
  private list(): Literal[] {
    if (this.peek() !== OPEN_LIST) throw this.fail('a list "[...]"')
    this.pos++
    const items: Literal[] = []
    this.skipSpace()
    if (this.peek() === CLOSE_LIST) {
      this.pos++
      return items
    }
    for (;;) {
      const start = this.pos
      const item = this.listItem()
      const first = items[0]
      if (first !== undefined && first.kind !== item.kind) {
        throw this.fail(`a ${first.kind} like the first item (list items share one type)`, start)
      }
      items.push(item)
      const spaces = this.skipSpace()
      const c = this.peek()
      if (c === CLOSE_LIST) {
        this.pos++
        return items
      }
      if (c === COMMA) {
        this.pos++
        this.skipSpace()
        if (this.peek() === CLOSE_LIST || this.peek() === COMMA) throw this.fail(LIST_ITEM)
      } else if (spaces === 0 || c === EOF || c === CLOSE) {
        throw this.fail('"," or "]"')
      }
    }
  }
}
