import { OckamError } from '../../errors.js'

const HINT =
  'write an S-expression such as (= subject.role "analyst") or a short form such as ' +
  'role.analyst and not contractor (see docs/policies.md)'

/** Where `offset` falls, 1-based; columns count UTF-16 code units. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: offset - lineStart + 1 }
}

function describeFound(text: string, offset: number): string {
  if (offset >= text.length) return 'the end of the policy'
  // JSON quoting keeps control characters and quotes readable on one line.
  return JSON.stringify(text.charAt(offset))
}

/**
 * Thrown by both parsers: `expected <what> at <line>:<column>, found <char>`. The data carries
 * the 0-based `position` (UTF-16 offset), `line`, `column`, `expected` and `found`.
 */
export function parseError(text: string, offset: number, expected: string): OckamError {
  const { line, column } = lineColumn(text, offset)
  const found = describeFound(text, offset)
  return new OckamError('OCKAM_ERR_POLICY_PARSE', `expected ${expected} at ${line}:${column}, found ${found}`, {
    hint: HINT,
    data: { position: offset, line, column, expected, found },
  })
}

export function tooDeepError(text: string, offset: number, limit: number): OckamError {
  const { line, column } = lineColumn(text, offset)
  return new OckamError(
    'OCKAM_ERR_POLICY_TOO_LARGE',
    `the policy nests deeper than ${limit} levels at ${line}:${column}`,
    {
      hint: 'flatten the policy: (and a b c) instead of (and a (and b c)); or raise maxDepth',
      data: { position: offset, line, column, limit },
    },
  )
}

export function tooLongError(length: number, limit: number, what: 'text' | 'canonical form' = 'text'): OckamError {
  return new OckamError(
    'OCKAM_ERR_POLICY_TOO_LARGE',
    `${what === 'text' ? 'the policy text' : 'the canonical form of the policy'} is ${length} characters long, over ${limit}`,
    {
      hint: 'shorten the policy or raise maxLength',
      data: { length, limit, what },
    },
  )
}
