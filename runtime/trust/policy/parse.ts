import { isOckamError, OckamError } from '../../errors.js'
import { isOperatorSymbol, type Policy, type PolicyExpr } from './ast.js'
import { EOF, isDelimiter, isSpace, isWordChar, OPEN } from './chars.js'
import { DEFAULT_POLICY_MAX_DEPTH, DEFAULT_POLICY_MAX_LENGTH } from './constants.js'
import { formatExpr } from './format.js'
import { tooLongError } from './parse-error.js'
import { SexprParser } from './parse-sexpr.js'
import { ShortParser } from './parse-short.js'
import { markParsed } from './trusted.js'

export interface ParsePolicyOptions {
  /** Longest text accepted, in UTF-16 code units (default DEFAULT_POLICY_MAX_LENGTH). */
  readonly maxLength?: number
  /** Deepest tree accepted (default DEFAULT_POLICY_MAX_DEPTH). */
  readonly maxDepth?: number
}

type Form = 'sexpr' | 'short' | 'either'

/**
 * Which grammar reads `text`: an S-expression when the first token is "(" followed by an
 * operator symbol, the short form otherwise. `(not x)` is valid in both, so `(not` is tried as
 * an S-expression first and as short form second; where both readings exist they coincide
 * (only nested nots over true/false are in both languages). A "(" followed by a word no short
 * form could hold (`(membr? …`) is an S-expression with a misspelt operator.
 */
export function detectForm(text: string): Form {
  let i = 0
  const at = (k: number) => (k < text.length ? text.charCodeAt(k) : EOF)
  while (isSpace(at(i))) i++
  if (at(i) !== OPEN) return 'short'
  i++
  while (isSpace(at(i))) i++
  const start = i
  while (!isDelimiter(at(i))) i++
  const symbol = text.slice(start, i)
  if (isOperatorSymbol(symbol)) return symbol === 'not' ? 'either' : 'sexpr'
  for (let k = 0; k < symbol.length; k++) if (!isWordChar(symbol.charCodeAt(k))) return 'sexpr'
  return 'short'
}

function positionOf(error: OckamError): number {
  const position = error.data?.position
  return typeof position === 'number' ? position : -1
}

function parseEither(text: string, maxDepth: number): PolicyExpr {
  try {
    return new SexprParser(text, maxDepth).parse()
  } catch (sexprError) {
    if (!isOckamError(sexprError, 'OCKAM_ERR_POLICY_PARSE')) throw sexprError
    try {
      return new ShortParser(text, maxDepth).parse()
    } catch (shortError) {
      if (!isOckamError(shortError, 'OCKAM_ERR_POLICY_PARSE')) throw shortError
      // The reading that got further is the one the author most likely meant.
      throw positionOf(shortError) > positionOf(sexprError) ? shortError : sexprError
    }
  }
}

function deepFreeze(value: object): void {
  Object.freeze(value)
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child)
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${name} must be a positive integer`, {
      data: { [name]: value },
    })
  }
  return value
}

/**
 * Parses a policy in either form. Throws OCKAM_ERR_POLICY_PARSE (data: position, line, column,
 * expected, found) or OCKAM_ERR_POLICY_TOO_LARGE; never anything else for a string input.
 * The tree returned is deeply frozen.
 */
export function parsePolicy(text: string, options: ParsePolicyOptions = {}): Policy {
  if (typeof text !== 'string') throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a policy must be a string')
  const maxLength = positiveInteger(options.maxLength ?? DEFAULT_POLICY_MAX_LENGTH, 'maxLength')
  const maxDepth = positiveInteger(options.maxDepth ?? DEFAULT_POLICY_MAX_DEPTH, 'maxDepth')
  if (text.length > maxLength) throw tooLongError(text.length, maxLength)
  const form = detectForm(text)
  const policy =
    form === 'sexpr'
      ? new SexprParser(text, maxDepth).parse()
      : form === 'short'
        ? new ShortParser(text, maxDepth).parse()
        : parseEither(text, maxDepth)
  // The canonical text is what gets stored and shown; it can be longer than the source (a bare
  // `a` prints as (= subject.a "true")), and must itself parse back under the same limit.
  const canonicalLength = formatExpr(policy).length
  if (canonicalLength > maxLength) throw tooLongError(canonicalLength, maxLength, 'canonical form')
  deepFreeze(policy)
  markParsed(policy)
  return policy
}
