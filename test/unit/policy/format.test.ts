import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { formatPolicy, isCanonicalNumber, type Policy, parsePolicy } from '../../../runtime/trust/policy/index.js'
import { formatNumber, isPolicyNumber } from '../../../runtime/trust/policy/numbers.js'

describe('formatPolicy', () => {
  test('prints one canonical S-expression line', () => {
    const cases: Array<[string, string]> = [
      ['role.analyst and not contractor', '(and (= subject.role "analyst") (not (= subject.contractor "true")))'],
      [
        '(and\n  (= subject.role "analyst")\n  (member? subject.env ["prod" "staging"]))',
        '(and (= subject.role "analyst") (member? subject.env ["prod", "staging"]))',
      ],
      ['(= subject.q "a\\"b\\\\c")', '(= subject.q "a\\"b\\\\c")'],
      ['(< subject.n -0.0000025)', '(< subject.n -0.0000025)'],
      ['(exists? resource.name)', '(exists? resource.name)'],
      ['true', 'true'],
      ['not false', '(not false)'],
      ['a or (b or c)', '(or (= subject.a "true") (or (= subject.b "true") (= subject.c "true")))'],
    ]
    for (const [text, canonical] of cases) {
      assert.equal(formatPolicy(parsePolicy(text)), canonical)
      assert.deepEqual(parsePolicy(canonical), parsePolicy(text))
    }
  })

  test('refuses a hand-built tree that would not parse back', () => {
    const attr = { kind: 'attribute', scope: 'subject', name: 'x' } as const
    const bad: unknown[] = [
      { kind: 'and', args: [] },
      { kind: 'compare', op: '<', left: attr, right: { kind: 'string', value: 'abc' } },
      { kind: 'compare', op: '=', left: attr, right: { kind: 'number', value: 0.1 + 0.2 } },
      { kind: 'compare', op: '=', left: attr, right: { kind: 'number', value: -0 } },
      { kind: 'compare', op: '=', left: attr, right: { kind: 'number', value: Number.NaN } },
      { kind: 'compare', op: '=', left: attr, right: { kind: 'string', value: 'a\nb' } },
      { kind: 'compare', op: '=', left: { ...attr, name: 'a b' }, right: attr },
      { kind: 'compare', op: '~', left: attr, right: attr },
      {
        kind: 'member',
        item: attr,
        list: [
          { kind: 'string', value: 'a' },
          { kind: 'number', value: 1 },
        ],
      },
      { kind: 'exists', ref: { kind: 'string', value: 'x' } },
      { kind: 'nand', args: [] },
      null,
    ]
    for (const value of bad) {
      assert.throws(() => formatPolicy(value as Policy), { code: 'OCKAM_ERR_POLICY_INVALID' }, JSON.stringify(value))
    }
  })
})

describe('canonical numbers', () => {
  test('attributes count as numbers only in their one canonical spelling', () => {
    for (const yes of ['0', '7', '-7', '10', '0.5', '-0.25', '123456789012345', '0.00000000000001']) {
      assert.equal(isCanonicalNumber(yes), true, yes)
    }
    for (const no of ['', '-', '-0', '00', '07', '1.', '.5', '1.0', '1.50', '+1', '1e3', ' 1', '1 ', '0x10', 'NaN']) {
      assert.equal(isCanonicalNumber(no), false, no)
    }
    assert.equal(isCanonicalNumber('1234567890123456'), false)
    assert.equal(isCanonicalNumber('0.000000000000001'), false)
  })

  test('formatNumber never uses an exponent and round-trips', () => {
    for (const value of [1e-7, -1.5e-7, 0.000001, 123456789012345, 0.1, -42]) {
      const text = formatNumber(value)
      assert.doesNotMatch(text, /e/)
      assert.equal(Number(text), value)
      assert.equal(isCanonicalNumber(text), true, text)
    }
    assert.equal(formatNumber(1.5e-7), '0.00000015')
    assert.equal(isPolicyNumber(1e15), false)
    assert.equal(isPolicyNumber(Number.POSITIVE_INFINITY), false)
  })
})
