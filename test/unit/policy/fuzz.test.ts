import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { isOckamError } from '../../../runtime/errors.js'
import {
  type AttributeRef,
  DEFAULT_POLICY_MAX_LENGTH,
  evaluatePolicy,
  formatPolicy,
  type Literal,
  type Operand,
  type PolicyExpr,
  type PolicyInput,
  parsePolicy,
} from '../../../runtime/trust/policy/index.js'
import { isPolicyNumber } from '../../../runtime/trust/policy/numbers.js'

// ---- Trees ---------------------------------------------------------------------------------

/** Records with Object.prototype, as the parser builds them (deepStrictEqual compares prototypes). */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as unknown as fc.Arbitrary<T>
}

/** `wide`: names and literals from the whole language (round trips); narrow: small pools that collide with the inputs (evaluation). */
function trees(wide: boolean): fc.Arbitrary<PolicyExpr> {
  const namePool = fc.constantFrom('role', 'env', 'age', 'admin', 'identifier', 'a-b', 'k.v', 'n:1')
  const name = wide ? fc.oneof(namePool, fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,6}$/)) : namePool
  const ref: fc.Arbitrary<AttributeRef> = rec({
    kind: fc.constant('attribute' as const),
    scope: fc.constantFrom('subject' as const, 'resource' as const),
    name,
  })
  const stringPool = fc.constantFrom('analyst', 'prod', '5', '18', '-2.5', 'true', 'false', 'abc', '05', '')
  const printable = (s: string) => [...s].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
  const stringValue = wide
    ? fc.oneof(
        stringPool,
        fc.string({ unit: fc.constantFrom('a', '"', '\\', ' ', '(', ')', '[', ',', 'é', '✓', '😀'), maxLength: 8 }),
        fc.string({ unit: 'binary', maxLength: 8 }).filter(printable),
      )
    : stringPool
  const numberValue = wide
    ? fc
        .tuple(fc.integer({ min: -999_999_999, max: 999_999_999 }), fc.integer({ min: 0, max: 14 }))
        .map(([m, k]) => m / 10 ** k)
        .filter(isPolicyNumber)
    : fc.constantFrom(0, 5, 18, -2.5, 0.1)
  const str: fc.Arbitrary<Literal> = stringValue.map((value) => ({ kind: 'string', value }))
  const num: fc.Arbitrary<Literal> = numberValue.map((value) => ({ kind: 'number', value }))
  const bool: fc.Arbitrary<Literal> = fc.boolean().map((value) => ({ kind: 'boolean', value }))
  const numericString: fc.Arbitrary<Literal> = fc
    .constantFrom('5', '-2.5', '18', '0')
    .map((value) => ({ kind: 'string', value }))
  const operand: fc.Arbitrary<Operand> = fc.oneof(ref, str, num, bool)
  const numericOperand: fc.Arbitrary<Operand> = fc.oneof(ref, num, numericString)
  const compare = fc.oneof(
    rec({
      kind: fc.constant('compare' as const),
      op: fc.constantFrom('=' as const, '!=' as const),
      left: operand,
      right: operand,
    }),
    rec({
      kind: fc.constant('compare' as const),
      op: fc.constantFrom('<' as const, '>' as const),
      left: numericOperand,
      right: numericOperand,
    }),
  )
  const list = fc.oneof(
    fc.array(str, { maxLength: 4 }),
    fc.array(num, { maxLength: 4 }),
    fc.array(bool, { maxLength: 2 }),
  )
  const member = rec({ kind: fc.constant('member' as const), item: operand, list })
  const exists = rec({ kind: fc.constant('exists' as const), ref })
  const constant = fc.boolean().map((value): PolicyExpr => ({ kind: 'boolean', value }))
  const leaf: fc.Arbitrary<PolicyExpr> = fc.oneof(compare, compare, member, exists, constant)
  return fc.letrec<{ expr: PolicyExpr }>((tie) => ({
    expr: fc.oneof(
      { maxDepth: 5, depthIdentifier: 'policy' },
      leaf,
      rec({
        kind: fc.constantFrom('and' as const, 'or' as const),
        args: fc.array(tie('expr'), { minLength: 1, maxLength: 3 }),
      }),
      rec({ kind: fc.constant('not' as const), arg: tie('expr') }),
    ),
  })).expr
}

// ---- A reference evaluator: the DESIGN §6 rules written as plainly as possible --------------

type Outcome = boolean | 'error'
type Value = string | number | boolean | undefined

function canonical(s: string): boolean {
  return /^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/.test(s) && s !== '-0' && s.replace(/[-.]/g, '').length <= 15
}

function value(operand: Operand, input: PolicyInput): Value {
  if (operand.kind !== 'attribute') return operand.value
  if (operand.scope === 'subject' && operand.name === 'identifier') return input.subject.identifier
  const map = operand.scope === 'subject' ? input.subject.attributes : input.resource
  return map !== undefined && Object.hasOwn(map, operand.name) ? map[operand.name] : undefined
}

function equal(a: string | number | boolean, b: string | number | boolean): Outcome {
  if (typeof a === typeof b) return a === b
  if (typeof b === 'string') return equal(b, a)
  if (typeof a !== 'string') return 'error'
  if (typeof b === 'number') return canonical(a) ? Number(a) === b : 'error'
  return a === 'true' || a === 'false' ? (a === 'true') === b : 'error'
}

function numberOf(v: string | number | boolean): number | undefined {
  if (typeof v === 'number') return v
  return typeof v === 'string' && canonical(v) ? Number(v) : undefined
}

function reference(expr: PolicyExpr, input: PolicyInput): Outcome {
  const all = (outcomes: Outcome[], combine: (bs: boolean[]) => boolean): Outcome =>
    outcomes.includes('error') ? 'error' : combine(outcomes as boolean[])
  switch (expr.kind) {
    case 'boolean':
      return expr.value
    case 'and':
      return all(
        expr.args.map((a) => reference(a, input)),
        (bs) => bs.every(Boolean),
      )
    case 'or':
      return all(
        expr.args.map((a) => reference(a, input)),
        (bs) => bs.some(Boolean),
      )
    case 'not': {
      const inner = reference(expr.arg, input)
      return inner === 'error' ? 'error' : !inner
    }
    case 'exists':
      return value(expr.ref, input) !== undefined
    case 'member': {
      const v = value(expr.item, input)
      if (v === undefined) return false
      return all(
        expr.list.map((item) => equal(v, item.value)),
        (bs) => bs.some(Boolean),
      )
    }
    case 'compare': {
      const a = value(expr.left, input)
      const b = value(expr.right, input)
      if (a === undefined || b === undefined) return false
      if (expr.op === '=' || expr.op === '!=') {
        const e = equal(a, b)
        return e === 'error' ? 'error' : e === (expr.op === '=')
      }
      const x = numberOf(a)
      const y = numberOf(b)
      if (x === undefined || y === undefined) return 'error'
      return expr.op === '<' ? x < y : x > y
    }
  }
}

const attributeValues = fc.constantFrom('analyst', 'prod', '5', '18', '-2.5', 'true', 'false', 'abc', '05', '')
const attributeMap = fc.dictionary(
  fc.constantFrom('role', 'env', 'age', 'admin', 'identifier', 'a-b', 'k.v', 'n:1'),
  attributeValues,
  {
    maxKeys: 6,
  },
)
const inputs: fc.Arbitrary<PolicyInput> = rec({
  subject: rec({ identifier: fc.constantFrom('I1', 'analyst', '5'), attributes: attributeMap }),
  resource: fc.option(attributeMap, { nil: undefined }),
})

// ---- Text mutations ---------------------------------------------------------------------------

const pieces = [
  '(',
  ')',
  '[',
  ']',
  ',',
  '"',
  '\\',
  '.',
  '-',
  '0',
  '1',
  '9',
  'a',
  '?',
  '=',
  '!',
  '<',
  '>',
  ' ',
  '\n',
  '\t',
  'é',
  '\u0000',
  ';',
  'and ',
  'or ',
  'not ',
  'subject.',
  'resource.',
  'true',
  'member? ',
  '((((',
]
const mutation = fc.record({
  op: fc.constantFrom('delete', 'insert', 'replace', 'duplicate'),
  at: fc.nat(),
  span: fc.integer({ min: 1, max: 6 }),
  piece: fc.constantFrom(...pieces),
})

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never

function mutate(text: string, mutations: readonly Mutation[]): string {
  let out = text
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1)
    if (m.op === 'delete') out = out.slice(0, at) + out.slice(at + m.span)
    else if (m.op === 'insert') out = out.slice(0, at) + m.piece + out.slice(at)
    else if (m.op === 'replace') out = out.slice(0, at) + m.piece + out.slice(at + 1)
    else out = out.slice(0, at) + out.slice(at, at + m.span) + out.slice(at)
  }
  return out
}

const shortTexts: fc.Arbitrary<string> = fc.letrec<{ text: string }>((tie) => ({
  text: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'short' },
    fc.constantFrom('role.analyst', 'admin', 'env.prod.eu', 'relay.*', 'contractor', 'true', 'identifier.I1'),
    fc.tuple(tie('text'), tie('text')).map(([a, b]) => `${a} and ${b}`),
    fc.tuple(tie('text'), tie('text')).map(([a, b]) => `${a} or ${b}`),
    tie('text').map((a) => `not ${a}`),
    tie('text').map((a) => `(${a})`),
  ),
})).text

/** The only outcomes parsePolicy may have: a tree that round-trips, or one of our two typed errors. */
function checkParse(text: string): void {
  let policy: PolicyExpr
  try {
    policy = parsePolicy(text)
  } catch (error) {
    if (!isOckamError(error)) throw error
    assert.ok(error.code === 'OCKAM_ERR_POLICY_PARSE' || error.code === 'OCKAM_ERR_POLICY_TOO_LARGE', error.code)
    if (error.code === 'OCKAM_ERR_POLICY_PARSE') {
      const position = error.data?.position
      assert.ok(typeof position === 'number' && position >= 0 && position <= text.length)
      assert.ok(error.message.includes(` at ${error.data?.line}:${error.data?.column}, found `))
    }
    return
  }
  const canonical = formatPolicy(policy)
  assert.deepEqual(parsePolicy(canonical), policy)
  const decision = evaluatePolicy(policy, { subject: { identifier: 'I1', attributes: { role: 'analyst' } } })
  assert.equal(typeof decision.allowed, 'boolean')
}

describe('properties', () => {
  test('parse(format(p)) = p for generated trees, and format is a fixed point', () => {
    fc.assert(
      fc.property(trees(true), (policy) => {
        const text = formatPolicy(policy)
        const parsed = parsePolicy(text)
        assert.deepEqual(parsed, policy)
        assert.equal(formatPolicy(parsed), text)
      }),
      { numRuns: 400 },
    )
  })

  test('evaluation agrees with a plain reference interpreter of the rules', () => {
    fc.assert(
      fc.property(trees(false), inputs, (policy, input) => {
        const expected = reference(policy, input)
        const decision = evaluatePolicy(parsePolicy(formatPolicy(policy)), input)
        assert.equal(decision.allowed, expected === true)
        if (expected === 'error') assert.match(decision.reason ?? '', /^type error: /)
        else if (expected === false) assert.equal(decision.reason, 'the policy does not admit this subject')
      }),
      { numRuns: 1000 },
    )
  })

  test('generated short forms parse, and mean what their S-expression says', () => {
    fc.assert(
      fc.property(shortTexts, inputs, (text, input) => {
        const policy = parsePolicy(text)
        const again = parsePolicy(formatPolicy(policy))
        assert.deepEqual(again, policy)
        assert.equal(evaluatePolicy(policy, input).allowed, reference(policy, input) === true)
      }),
      { numRuns: 300 },
    )
  })

  test('mutations of valid policies yield a policy or a typed error, nothing else', () => {
    const valid = fc.oneof(
      trees(true).map((p) => formatPolicy(p)),
      shortTexts,
    )
    fc.assert(
      fc.property(valid, fc.array(mutation, { minLength: 1, maxLength: 4 }), (text, mutations) => {
        checkParse(mutate(text, mutations))
      }),
      { numRuns: 1500 },
    )
  })

  test('random strings yield a policy or a typed error, nothing else', () => {
    const grammarish = fc.string({ unit: fc.constantFrom(...pieces, 'x', 'role'), maxLength: 40 })
    fc.assert(
      fc.property(fc.oneof(grammarish, fc.string({ unit: 'binary', maxLength: 60 })), (text) => {
        checkParse(text)
      }),
      { numRuns: 1500 },
    )
  })

  test('adversarial texts at the length limit are decided quickly', (t) => {
    const limit = DEFAULT_POLICY_MAX_LENGTH
    // `unit` repeated, cut so that the text with its tail is exactly `limit` characters long.
    const fill = (unit: string, head = '', tail = '') =>
      head + unit.repeat(limit).slice(0, limit - head.length - tail.length) + tail
    const texts = [
      fill('1, ', '(member? subject.x [', '1])'),
      fill('a and ', '', 'a'),
      fill('not ', '', 'a'),
      fill('('),
      fill('"'),
      fill('((((not '),
      fill('\\\\', '(= subject.x "', '")'),
      fill(' '),
      fill('(and true '),
      fill('x', '(= subject.x "', '")'),
    ]
    const started = performance.now()
    for (const text of texts) {
      assert.equal(text.length, limit)
      checkParse(text)
    }
    t.diagnostic(`${texts.length} texts of up to ${limit} characters in ${(performance.now() - started).toFixed(1)} ms`)
  })
})
