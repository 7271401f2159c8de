import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  compilePolicy,
  evaluatePolicy,
  type Policy,
  type PolicyDecision,
  type PolicyInput,
  parsePolicy,
} from '../../../runtime/trust/policy/index.js'

function input(attributes: Record<string, string>, resource?: Record<string, string>): PolicyInput {
  return { subject: { identifier: 'I0123abcd', attributes }, resource }
}

function decide(text: string, attributes: Record<string, string>, resource?: Record<string, string>): PolicyDecision {
  return evaluatePolicy(parsePolicy(text), input(attributes, resource))
}

function allowed(text: string, attributes: Record<string, string>, resource?: Record<string, string>): boolean {
  return decide(text, attributes, resource).allowed
}

/** A deny caused by a type error, not by the policy being false. */
function assertTypeDeny(text: string, attributes: Record<string, string>): void {
  const decision = decide(text, attributes)
  assert.equal(decision.allowed, false, text)
  assert.match(decision.reason ?? '', /^type error: /, text)
}

describe('DESIGN §6 examples', () => {
  const design = '(and (= subject.role "analyst") (member? subject.env ["prod", "staging"]))'

  test('the S-expression example admits an analyst in prod or staging only', () => {
    assert.equal(allowed(design, { role: 'analyst', env: 'prod' }), true)
    assert.equal(allowed(design, { role: 'analyst', env: 'staging' }), true)
    assert.equal(allowed(design, { role: 'analyst', env: 'dev' }), false)
    assert.equal(allowed(design, { role: 'admin', env: 'prod' }), false)
    assert.equal(allowed(design, { role: 'analyst' }), false)
    assert.equal(allowed(design, {}), false)
  })

  test('role.analyst and not contractor: {} deny, analyst allow, analyst+contractor deny', () => {
    const short = 'role.analyst and not contractor'
    assert.equal(allowed(short, {}), false)
    assert.equal(allowed(short, { role: 'analyst' }), true)
    assert.equal(allowed(short, { role: 'analyst', contractor: 'true' }), false)
    // contractor means contractor == "true": any other value is not a contractor.
    assert.equal(allowed(short, { role: 'analyst', contractor: 'false' }), true)
  })

  test('k.v splits at the first dot; bare k means k == "true"', () => {
    assert.equal(allowed('env.prod.eu', { env: 'prod.eu' }), true)
    assert.equal(allowed('env.prod.eu', { env: 'prod' }), false)
    assert.equal(allowed('admin', { admin: 'true' }), true)
    assert.equal(allowed('admin', { admin: 'yes' }), false)
    assert.equal(allowed('identifier.I0123abcd', {}), true)
  })

  test('a denied decision says why; an allowed one carries no reason', () => {
    assert.deepEqual(decide('role.analyst', { role: 'analyst' }), { allowed: true })
    assert.deepEqual(decide('role.analyst', {}), { allowed: false, reason: 'the policy does not admit this subject' })
  })
})

describe('missing attributes', () => {
  test('every comparison with a missing attribute is false, so its not is true', () => {
    for (const text of [
      '(= subject.x "a")',
      '(!= subject.x "a")',
      '(< subject.x 5)',
      '(> subject.x 5)',
      '(= subject.x 5)',
      '(= subject.x true)',
      '(member? subject.x ["a"])',
      '(exists? subject.x)',
      '(= subject.x subject.y)',
      '(= resource.x "a")',
    ]) {
      assert.equal(allowed(text, {}), false, text)
      assert.equal(allowed(`(not ${text})`, {}), true, `(not ${text})`)
    }
  })

  test('a missing attribute wins over a type mismatch with the other side', () => {
    assert.equal(allowed('(< subject.x subject.name)', { name: 'bob' }), false)
    assert.equal(allowed('(not (< subject.x subject.name))', { name: 'bob' }), true)
  })

  test('inherited object properties are missing, not attributes', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      assert.equal(allowed(`(exists? subject.${name})`, {}), false, name)
      assert.equal(allowed(`(exists? resource.${name})`, {}, {}), false, name)
    }
  })

  test('no resource map means every resource attribute is missing', () => {
    assert.equal(allowed('(not (exists? resource.name))', {}), true)
    assert.equal(allowed('(= resource.name "db")', {}, { name: 'db' }), true)
  })
})

describe('identifier and resource', () => {
  test('subject.identifier is the identity, never a credential attribute of that name', () => {
    assert.equal(allowed('(= subject.identifier "I0123abcd")', {}), true)
    assert.equal(allowed('(= subject.identifier "Ievil")', { identifier: 'Ievil' }), false)
    assert.equal(allowed('(exists? subject.identifier)', {}), true)
  })

  test('subject attributes can be compared with resource attributes', () => {
    const text = '(= subject.relay resource.name)'
    assert.equal(allowed(text, { relay: 'db' }, { name: 'db' }), true)
    assert.equal(allowed(text, { relay: 'web' }, { name: 'db' }), false)
  })
})

describe('type errors deny the whole policy', () => {
  test('< and > need numbers on both sides', () => {
    assertTypeDeny('(< subject.age 18)', { age: 'eighteen' })
    assertTypeDeny('(> subject.age subject.name)', { age: '3', name: 'bob' })
    assertTypeDeny('(< subject.age 18)', { age: '018' })
    assertTypeDeny('(< subject.age 18)', { age: '1e3' })
    assertTypeDeny('(< subject.age 18)', { age: ' 5' })
    assertTypeDeny('(< subject.age 18)', { age: '1234567890123456' })
  })

  test('a type error denies even under not', () => {
    assertTypeDeny('(not (< subject.age 18))', { age: 'old' })
    assertTypeDeny('(not (= subject.level 3))', { level: 'three' })
    assertTypeDeny('(!= subject.level 3)', { level: 'three' })
  })

  test('a type error denies even when another clause already decides, in either order', () => {
    const attrs = { role: 'admin', age: 'old' }
    assertTypeDeny('(or (= subject.role "admin") (< subject.age 18))', attrs)
    assertTypeDeny('(or (< subject.age 18) (= subject.role "admin"))', attrs)
    assertTypeDeny('(and (= subject.role "nobody") (< subject.age 18))', attrs)
    assertTypeDeny('(and (< subject.age 18) (= subject.role "nobody"))', attrs)
  })

  test('strings meet numbers only when canonical, and booleans only as "true"/"false"', () => {
    assert.equal(allowed('(= subject.level 3)', { level: '3' }), true)
    assertTypeDeny('(= subject.level 3)', { level: '3.0' })
    assert.equal(allowed('(= subject.admin true)', { admin: 'true' }), true)
    assert.equal(allowed('(= subject.admin false)', { admin: 'true' }), false)
    assertTypeDeny('(= subject.admin true)', { admin: 'yes' })
    assertTypeDeny('(= 1 true)', {})
  })

  test('member? compares like =, and a type error in any item denies', () => {
    assert.equal(allowed('(member? subject.level [1, 2, 3])', { level: '2' }), true)
    assert.equal(allowed('(member? subject.level [1, 2, 3])', { level: '4' }), false)
    assertTypeDeny('(member? subject.level [1, 2, 3])', { level: 'two' })
    assert.equal(allowed('(member? 2 ["1", "2"])', {}), true)
    assertTypeDeny('(member? 2 ["2", "two"])', {})
    assert.equal(allowed('(member? subject.x [])', { x: 'a' }), false)
  })

  test('a non-string attribute value denies with a reason naming the attribute', () => {
    const odd = { subject: { identifier: 'I1', attributes: { role: 5 as unknown as string } } }
    const decision = evaluatePolicy(parsePolicy('(exists? subject.role)'), odd)
    assert.deepEqual(decision, { allowed: false, reason: 'subject.role is not a string' })
  })

  test('reasons name attributes but never their values', () => {
    const decision = decide('(< subject.age 18)', { age: 'secret-value' })
    assert.doesNotMatch(decision.reason ?? '', /secret-value/)
  })
})

describe('numeric comparisons', () => {
  test('numbers compare numerically, not as text', () => {
    assert.equal(allowed('(> subject.age 9)', { age: '10' }), true)
    assert.equal(allowed('(< subject.age 9)', { age: '10' }), false)
    assert.equal(allowed('(< subject.temp 0)', { temp: '-2.5' }), true)
    assert.equal(allowed('(> subject.score 0.1)', { score: '0.15' }), true)
    assert.equal(allowed('(< subject.a subject.b)', { a: '2', b: '10' }), true)
    assert.equal(allowed('(< 1 2)', {}), true)
    assert.equal(allowed('(> "10" 9)', {}), true)
  })

  test('15-digit numbers compare exactly', () => {
    assert.equal(allowed('(> subject.n 999999999999998)', { n: '999999999999999' }), true)
    assert.equal(allowed('(= subject.n 0.00000000000001)', { n: '0.00000000000001' }), true)
  })

  test('equal numbers are neither < nor >', () => {
    assert.equal(allowed('(or (< subject.n 5) (> subject.n 5))', { n: '5' }), false)
  })
})

describe('inputs and trees', () => {
  test('malformed input denies instead of throwing', () => {
    const policy = parsePolicy('admin')
    for (const bad of [null, 1, {}, { subject: null }, { subject: { identifier: 1, attributes: {} } }]) {
      const decision = evaluatePolicy(policy, bad as unknown as PolicyInput)
      assert.equal(decision.allowed, false)
      assert.match(decision.reason ?? '', /^malformed input: /)
    }
    const attrs = { subject: { identifier: 'I1', attributes: {} }, resource: 'x' }
    assert.equal(evaluatePolicy(policy, attrs as unknown as PolicyInput).allowed, false)
  })

  test('a throwing attribute map denies instead of throwing', () => {
    const attributes = new Proxy(
      {},
      {
        getOwnPropertyDescriptor() {
          throw new Error('boom')
        },
      },
    )
    const decision = evaluatePolicy(parsePolicy('admin'), { subject: { identifier: 'I1', attributes } })
    assert.deepEqual(decision, { allowed: false, reason: 'evaluation failed: boom' })
  })

  test('a malformed hand-built tree denies in evaluatePolicy and throws typed errors elsewhere', () => {
    const bad = { kind: 'and', args: [] } as unknown as Policy
    const decision = evaluatePolicy(bad, input({}))
    assert.equal(decision.allowed, false)
    assert.match(decision.reason ?? '', /^invalid policy: /)
    assert.throws(() => compilePolicy(bad), { code: 'OCKAM_ERR_POLICY_INVALID' })
  })

  test('a hand-built valid tree evaluates like its parsed twin', () => {
    const built: Policy = {
      kind: 'compare',
      op: '=',
      left: { kind: 'attribute', scope: 'subject', name: 'role' },
      right: { kind: 'string', value: 'analyst' },
    }
    assert.equal(evaluatePolicy(built, input({ role: 'analyst' })).allowed, true)
    assert.deepEqual(built, parsePolicy('role.analyst'))
  })

  test('the compiled policy decides like evaluatePolicy', () => {
    const policy = parsePolicy('(and (= subject.role "analyst") (not (< subject.age 18)))')
    const compiled = compilePolicy(policy)
    for (const attrs of [{ role: 'analyst', age: '30' }, { role: 'analyst', age: '12' }, { age: 'x' }, {}]) {
      assert.deepEqual(compiled.evaluate(input(attrs)), evaluatePolicy(policy, input(attrs)))
    }
    assert.equal(compiled.policy, policy)
  })

  test('constants: true admits everyone, false no one', () => {
    assert.equal(allowed('true', {}), true)
    assert.equal(allowed('false', { admin: 'true' }), false)
    assert.equal(allowed('false or admin', { admin: 'true' }), true)
  })
})
