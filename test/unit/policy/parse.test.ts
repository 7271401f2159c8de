import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isOckamError, type OckamError } from '../../../runtime/errors.js'
import {
  DEFAULT_POLICY_MAX_DEPTH,
  DEFAULT_POLICY_MAX_LENGTH,
  formatPolicy,
  type PolicyExpr,
  parsePolicy,
} from '../../../runtime/trust/policy/index.js'

function parseFailure(text: string, options = {}): OckamError {
  try {
    parsePolicy(text, options)
  } catch (error) {
    assert.ok(isOckamError(error), `not an OckamError: ${String(error)}`)
    return error
  }
  assert.fail(`parsed: ${JSON.stringify(text)}`)
}

const eq = (name: string, value: string): PolicyExpr => ({
  kind: 'compare',
  op: '=',
  left: { kind: 'attribute', scope: 'subject', name },
  right: { kind: 'string', value },
})

describe('which form', () => {
  test('short form and S-expression build the same tree', () => {
    assert.deepEqual(
      parsePolicy('role.analyst and not contractor'),
      parsePolicy('(and (= subject.role "analyst") (not (= subject.contractor "true")))'),
    )
  })

  test('(not x) is short form when it is not an S-expression, and the same tree when it is both', () => {
    assert.deepEqual(parsePolicy('(not contractor)'), { kind: 'not', arg: eq('contractor', 'true') })
    assert.deepEqual(parsePolicy('(not (not true))'), {
      kind: 'not',
      arg: { kind: 'not', arg: { kind: 'boolean', value: true } },
    })
    assert.deepEqual(parsePolicy('(not (a or b))'), parsePolicy('not (a or b)'))
  })

  test('a parenthesised short form is short form', () => {
    assert.deepEqual(parsePolicy('((role.analyst))'), eq('role', 'analyst'))
    assert.deepEqual(parsePolicy(' \n(true)'), { kind: 'boolean', value: true })
  })
})

describe('short form', () => {
  test('not binds tighter than and, and tighter than or; chains flatten', () => {
    assert.deepEqual(parsePolicy('a or b and not c'), {
      kind: 'or',
      args: [eq('a', 'true'), { kind: 'and', args: [eq('b', 'true'), { kind: 'not', arg: eq('c', 'true') }] }],
    })
    assert.deepEqual(parsePolicy('a and b and c'), {
      kind: 'and',
      args: [eq('a', 'true'), eq('b', 'true'), eq('c', 'true')],
    })
    assert.deepEqual(parsePolicy('(a or b) and c'), {
      kind: 'and',
      args: [{ kind: 'or', args: [eq('a', 'true'), eq('b', 'true')] }, eq('c', 'true')],
    })
  })

  test('values keep every dot after the first and may hold * / @ + :', () => {
    assert.deepEqual(parsePolicy('relay.*'), eq('relay', '*'))
    assert.deepEqual(parsePolicy('email.ann@bank.example'), eq('email', 'ann@bank.example'))
    assert.deepEqual(parsePolicy('path.a/b+c:d'), eq('path', 'a/b+c:d'))
  })

  test('keywords are whole words only', () => {
    assert.deepEqual(parsePolicy('android or notary'), {
      kind: 'or',
      args: [eq('android', 'true'), eq('notary', 'true')],
    })
    assert.deepEqual(parsePolicy('(a)and(b)'), { kind: 'and', args: [eq('a', 'true'), eq('b', 'true')] })
  })
})

describe('S-expression form', () => {
  test('lists take commas, spaces or both; may be empty', () => {
    const expected = parsePolicy('(member? subject.n [1, 2, 3])')
    assert.deepEqual(parsePolicy('(member? subject.n [1 2 3])'), expected)
    assert.deepEqual(parsePolicy('(member? subject.n [ 1 ,2,\n3 ])'), expected)
    assert.deepEqual(parsePolicy('(member? subject.n [])'), {
      kind: 'member',
      item: { kind: 'attribute', scope: 'subject', name: 'n' },
      list: [],
    })
  })

  test('strings take \\" and \\\\ and any printable character', () => {
    const policy = parsePolicy('(= subject.q "say \\"hi\\" \\\\ é ✓ (x)")')
    assert.equal(
      policy.kind === 'compare' && policy.right.kind === 'string' && policy.right.value,
      'say "hi" \\ é ✓ (x)',
    )
  })

  test('numbers are canonical decimals', () => {
    const value = (text: string) => {
      const p = parsePolicy(`(= subject.x ${text})`)
      return p.kind === 'compare' && p.right.kind === 'number' ? p.right.value : undefined
    }
    assert.equal(value('0'), 0)
    assert.equal(value('-2.5'), -2.5)
    assert.equal(value('0.0000001'), 1e-7)
    assert.equal(value('999999999999999'), 999999999999999)
  })

  test('whitespace of any kind separates tokens; names may hold - . : _', () => {
    assert.deepEqual(
      parsePolicy('(and\n\t(= subject.ockam-role.v2:x_y "a")\r\n  (exists? resource.name))'),
      parsePolicy('(and (= subject.ockam-role.v2:x_y "a") (exists? resource.name))'),
    )
  })

  test('the parsed tree is frozen', () => {
    const policy = parsePolicy('a and b')
    assert.ok(Object.isFrozen(policy))
    assert.ok(policy.kind === 'and' && Object.isFrozen(policy.args) && Object.isFrozen(policy.args[0]))
  })
})

describe('parse errors point at the first wrong character and say what was expected', () => {
  const cases: Array<[text: string, at: string, expected: string]> = [
    ['(= subject.role "analyst"', '1:26', '")"'],
    ['(= subject.role "analyst" "x")', '1:27', '")"'],
    ['(membr? subject.a [])', '1:2', 'an operator (and, or, not, =, !=, <, >, member?, exists?)'],
    [
      '(= subject.role analyst)',
      '1:17',
      'an operand (subject.<name>, resource.<name>, a string, a number, true or false)',
    ],
    ['(= subject. "x")', '1:12', 'an attribute name (a letter, digit or "_" first)'],
    ['(= subject.ro$le "x")', '1:14', 'an attribute name character (letter, digit, "_", "-", "." or ":")'],
    ['(= subject.age 007)', '1:17', '"." or the end of the number (no leading zeros)'],
    ['(= subject.age 1.50)', '1:19', 'a number without trailing zeros after the point'],
    ['(= subject.age 12a)', '1:18', 'the end of the number'],
    ['(= subject.role "ana', '1:21', 'a closing quote'],
    ['(= subject.role "a\\n")', '1:20', '\\" or \\\\ after a backslash'],
    ['(= subject.a "x\u0001")', '1:16', 'a printable character (no control characters in strings)'],
    ['(member? subject.env ["prod",])', '1:30', 'a list item (a string, a number, true or false)'],
    ['(member? subject.env ["prod" 1])', '1:30', 'a string like the first item (list items share one type)'],
    ['(member? subject.env "prod")', '1:22', 'a list "[...]"'],
    ['(< subject.age true)', '1:16', 'a number or an attribute (< and > compare numbers)'],
    ['(and)', '1:5', 'a form "(...)", true or false'],
    ['(exists? "x")', '1:10', 'an attribute (subject.<name> or resource.<name>)'],
    ['(= subject.a "x") extra', '1:19', 'the end of the policy'],
    ['(= subject.a -0)', '1:14', '0 without a minus sign'],
    ['(= subject.a 1234567890123456)', '1:14', 'a number of at most 15 digits'],
    ['(= subject.a"x")', '1:13', 'a space'],
    ['(and (= subject.a "x")(= subject.b "y"))', '1:23', 'a space or ")"'],
    ['(not (= subject.a 1)', '1:21', '")"'],
    ['(and (= subject.role "analyst") (member? subject.env ["prod" "staging"])', '1:73', '")"'],
    [
      '(and\n  (= subject.role "analyst")\n  (= subject.env prod))',
      '3:18',
      'an operand (subject.<name>, resource.<name>, a string, a number, true or false)',
    ],
    ['(= subject.role "analyst")\n(= x', '2:1', 'the end of the policy'],
    ['role.analyst and', '1:17', 'an attribute, "not", "(", true or false'],
    ['role.analyst and not', '1:21', 'an attribute, "not", "(", true or false'],
    ['(role.analyst or admin', '1:23', '"and", "or" or ")"'],
    ['(not contractor', '1:16', '"and", "or" or ")"'],
    ['role. and x', '1:6', 'a value after "."'],
    ['role.analyst admin', '1:14', '"and", "or" or the end of the policy'],
    ['role="analyst"', '1:5', '"and", "or" or the end of the policy'],
    ['*.x', '1:1', 'an attribute name (a letter, digit or "_" first)'],
    ['ro*le.x', '1:3', 'an attribute name character (letter, digit, "_", "-" or ":") or "."'],
    ['', '1:1', 'an attribute, "not", "(", true or false'],
  ]
  for (const [text, at, expected] of cases) {
    test(JSON.stringify(text), () => {
      const error = parseFailure(text)
      assert.equal(error.code, 'OCKAM_ERR_POLICY_PARSE')
      const [line, column] = at.split(':').map(Number)
      assert.equal(error.data?.expected, expected)
      assert.equal(error.data?.line, line)
      assert.equal(error.data?.column, column)
      assert.ok(error.message.startsWith(`expected ${expected} at ${at}, found `), error.message)
      const lines = text.split('\n').slice(0, (line ?? 1) - 1)
      const offset = lines.reduce((sum, l) => sum + l.length + 1, 0) + (column ?? 1) - 1
      assert.equal(error.data?.position, offset)
      assert.ok(error.hint?.includes('docs/policies.md'))
    })
  }

  test('the found part names the character, or the end of the policy', () => {
    assert.match(parseFailure('(= subject.a "x" y)').message, /, found "y"$/)
    assert.match(parseFailure('(= subject.a').message, /, found the end of the policy$/)
    assert.match(parseFailure('(= subject.a "\u0007")').message, /, found "\\u0007"$/)
  })
})

describe('limits', () => {
  test('text longer than the limit is refused before scanning', () => {
    const long = `(= subject.a "${'x'.repeat(DEFAULT_POLICY_MAX_LENGTH)}")`
    const error = parseFailure(long)
    assert.equal(error.code, 'OCKAM_ERR_POLICY_TOO_LARGE')
    assert.deepEqual(error.data, { length: long.length, limit: DEFAULT_POLICY_MAX_LENGTH, what: 'text' })
    assert.equal(parseFailure('admin', { maxLength: 4 }).data?.what, 'text')
    // admin prints as (= subject.admin "true"): 24 characters.
    assert.equal(parseFailure('admin', { maxLength: 23 }).data?.what, 'canonical form')
    assert.doesNotThrow(() => parsePolicy('admin', { maxLength: 24 }))
  })

  test('a short form whose canonical form would not fit is refused, so every parsed policy re-parses', () => {
    const text = 'a and '.repeat(1000).concat('a')
    assert.ok(text.length <= DEFAULT_POLICY_MAX_LENGTH)
    const error = parseFailure(text)
    assert.equal(error.code, 'OCKAM_ERR_POLICY_TOO_LARGE')
    assert.equal(error.data?.what, 'canonical form')
    const fits = 'a and '.repeat(300).concat('a')
    assert.deepEqual(parsePolicy(formatPolicy(parsePolicy(fits))), parsePolicy(fits))
  })

  test('depth counts tree levels: role.analyst and not contractor is 3 deep', () => {
    assert.doesNotThrow(() => parsePolicy('role.analyst and not contractor', { maxDepth: 3 }))
    assert.equal(parseFailure('role.analyst and not contractor', { maxDepth: 2 }).code, 'OCKAM_ERR_POLICY_TOO_LARGE')
    assert.doesNotThrow(() => parsePolicy('(and (= subject.a "x") (not true))', { maxDepth: 3 }))
    assert.equal(parseFailure('(and (= subject.a "x") (not true))', { maxDepth: 2 }).code, 'OCKAM_ERR_POLICY_TOO_LARGE')
  })

  test('the default depth is reached exactly, in both forms', () => {
    const max = DEFAULT_POLICY_MAX_DEPTH
    const sexpr = (nots: number) => `${'(not '.repeat(nots)}true${')'.repeat(nots)}`
    const short = (nots: number) => `${'not '.repeat(nots)}a`
    const parens = (n: number) => `${'('.repeat(n)}a${')'.repeat(n)}`
    assert.doesNotThrow(() => parsePolicy(sexpr(max - 1)))
    assert.doesNotThrow(() => parsePolicy(short(max - 1)))
    assert.doesNotThrow(() => parsePolicy(parens(max)))
    for (const text of [sexpr(max), short(max), parens(max + 1)]) {
      const error = parseFailure(text)
      assert.equal(error.code, 'OCKAM_ERR_POLICY_TOO_LARGE')
      assert.equal(error.data?.limit, max)
    }
  })

  test('100 000 levels of nesting are an error, never a stack overflow', () => {
    const n = 100_000
    const options = { maxLength: 10 * n }
    for (const text of [
      `${'(not '.repeat(n)}true${')'.repeat(n)}`,
      `${'(and '.repeat(n)}true${')'.repeat(n)}`,
      `${'not '.repeat(n)}a`,
      `${'('.repeat(n)}a${')'.repeat(n)}`,
      `${'(not ('.repeat(n)}a`,
    ]) {
      assert.equal(parseFailure(text, options).code, 'OCKAM_ERR_POLICY_TOO_LARGE')
    }
  })

  test('a hand-built tree deeper than the limit is refused by format, not overflowed', () => {
    let deep: PolicyExpr = { kind: 'boolean', value: true }
    for (let i = 0; i < 100_000; i++) deep = { kind: 'not', arg: deep }
    assert.throws(() => formatPolicy(deep), { code: 'OCKAM_ERR_POLICY_TOO_LARGE' })
  })

  test('non-string input and nonsensical limits are invalid arguments', () => {
    assert.throws(() => parsePolicy(42 as unknown as string), { code: 'OCKAM_ERR_INVALID_ARGUMENT' })
    for (const options of [{ maxDepth: 0 }, { maxLength: -1 }, { maxDepth: 1.5 }, { maxLength: Number.NaN }]) {
      assert.throws(() => parsePolicy('admin', options), { code: 'OCKAM_ERR_INVALID_ARGUMENT' })
    }
  })
})
