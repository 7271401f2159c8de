import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decode as cborgDecode } from 'cborg'
import fc from 'fast-check'
import { isOckamError } from '../../../runtime/errors.js'
import { type CborValue, decodeCbor, encodeCbor } from '../../../runtime/trust/cbor.js'
import { DEFAULT_CBOR_MAX_BYTES, DEFAULT_CBOR_MAX_DEPTH } from '../../../runtime/trust/constants.js'
import { mutationOf, refusal } from './fixtures.js'

const hex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'))

test('encodes deterministically: shortest integers and lengths, map keys sorted bytewise', () => {
  assert.deepEqual(encodeCbor(23), hex('17'))
  assert.deepEqual(encodeCbor(24), hex('1818'))
  assert.deepEqual(encodeCbor(-1), hex('20'))
  assert.deepEqual(encodeCbor(2 ** 32), hex('1b0000000100000000'))
  assert.deepEqual(
    encodeCbor(
      new Map([
        ['bb', 1],
        ['a', 2],
      ]),
    ),
    hex('a2 6161 02 626262 01'),
  )
  assert.deepEqual(encodeCbor([new Uint8Array([1, 2]), 'x', true, null]), hex('84 420102 6178 f5 f6'))
  const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4)
  assert.deepEqual(encodeCbor(view), hex('43010203'))
})

test('refuses to encode values outside the profile', () => {
  for (const value of [
    1.5,
    Number.NaN,
    2 ** 53,
    undefined,
    {},
    new Date(0),
    1n,
    new Map([[1, 2]]),
    'a\ud800',
    '\ufeffa',
  ]) {
    refusal(() => encodeCbor(value as unknown as CborValue), 'OCKAM_ERR_CBOR_UNENCODABLE')
  }
})

test('cborg itself, with the strict options, rejects what signed data forbids', () => {
  // The claim in cbor.ts: these are cborg's own refusals, so no pre-check is needed for them.
  const options = {
    strict: true,
    allowIndefinite: false,
    allowUndefined: false,
    allowBigInt: false,
    rejectDuplicateMapKeys: true,
  }
  for (const input of [
    '1817',
    '190017',
    '1a00000017',
    '1b0000000000000017',
    '3817',
    '5801ff',
    '9801 01',
    '9f01ff',
    'bf616101ff',
    '5f4101ff',
    'a2616101616102',
    '0100',
    'f7',
    'c101',
  ]) {
    assert.throws(() => cborgDecode(hex(input), options), input)
  }
  // ...and these it accepts, hence the pre-scan and the canonical re-encoding check.
  assert.equal(cborgDecode(hex('f93c00'), options), 1)
  assert.deepEqual(cborgDecode(hex('a2616201616101'), options), { b: 1, a: 1 })
  assert.equal(cborgDecode(hex('62c328'), options), '\ufffd(')
  assert.throws(() => cborgDecode(hex(`${'81'.repeat(20000)}01`), options), RangeError)
})

test('duplicate map keys are refused', () => {
  refusal(() => decodeCbor(hex('a2 6161 01 6161 02')), 'OCKAM_ERR_CBOR_DUPLICATE_KEY')
  refusal(() => decodeCbor(hex('82 a2 6161 01 6161 01 00')), 'OCKAM_ERR_CBOR_DUPLICATE_KEY')
})

test('indefinite lengths and stray breaks are refused', () => {
  for (const input of ['9f01ff', 'bf616101ff', '5f4101ff', '7f6161ff', 'ff', '82 01 ff']) {
    refusal(() => decodeCbor(hex(input)), 'OCKAM_ERR_CBOR_INDEFINITE_LENGTH')
  }
})

test('non-minimal integers and lengths are refused', () => {
  for (const input of [
    '1817',
    '190017',
    '1a00000017',
    '1b0000000000000017',
    '1900ff',
    '1a0000ffff',
    '3817',
    '5801ff',
    '7801 61',
    '9801 01',
    'b801 6161 01',
  ]) {
    refusal(() => decodeCbor(hex(input)), 'OCKAM_ERR_CBOR_NON_CANONICAL')
  }
})

test('other non-deterministic forms are refused: map order, lossy text', () => {
  refusal(() => decodeCbor(hex('a2 6162 01 6161 01')), 'OCKAM_ERR_CBOR_NON_CANONICAL')
  refusal(() => decodeCbor(hex('a2 626262 01 6161 01')), 'OCKAM_ERR_CBOR_NON_CANONICAL')
  refusal(() => decodeCbor(hex('62 c328')), 'OCKAM_ERR_CBOR_NON_CANONICAL')
  refusal(() => decodeCbor(hex('64 efbbbf61')), 'OCKAM_ERR_CBOR_NON_CANONICAL')
})

test('trailing bytes are refused', () => {
  refusal(() => decodeCbor(hex('0100')), 'OCKAM_ERR_CBOR_TRAILING_BYTES')
  refusal(() => decodeCbor(hex('8101 01')), 'OCKAM_ERR_CBOR_TRAILING_BYTES')
  refusal(() => decodeCbor(hex('40 00')), 'OCKAM_ERR_CBOR_TRAILING_BYTES')
})

test('types outside the profile are refused', () => {
  // tag, half/single/double floats, undefined, simple values, a big integer, non-text map keys
  for (const input of [
    'c101',
    'f93c00',
    'fa3f800000',
    'fb3ff0000000000000',
    'f7',
    'f0',
    'f820',
    '1b0020000000000000',
    '3b0020000000000000',
    'a1 01 01',
    'a1 4161 01',
    'a1 80 01',
  ]) {
    refusal(() => decodeCbor(hex(input)), 'OCKAM_ERR_CBOR_UNSUPPORTED')
  }
})

test('truncated and reserved encodings are malformed', () => {
  for (const input of [
    '',
    '18',
    '19 00',
    '42 01',
    '82 01',
    'a1 6161',
    '1c',
    '3d',
    'fc',
    '1f',
    '5b ffffffffffffffff',
    '9b 00000000ffffffff 01',
    'bb 7fffffffffffffff',
  ]) {
    refusal(() => decodeCbor(hex(input)), 'OCKAM_ERR_CBOR_MALFORMED')
  }
})

test('size and depth are bounded before decoding', () => {
  refusal(() => decodeCbor(new Uint8Array(DEFAULT_CBOR_MAX_BYTES + 1)), 'OCKAM_ERR_CBOR_TOO_LARGE')
  refusal(() => decodeCbor(hex('4401020304'), { maxBytes: 4 }), 'OCKAM_ERR_CBOR_TOO_LARGE')
  // Deep enough to overflow cborg's recursion: refused by the pre-scan, never a RangeError.
  refusal(() => decodeCbor(hex(`${'81'.repeat(50_000)}01`)), 'OCKAM_ERR_CBOR_TOO_DEEP')
  const atLimit = hex(`${'81'.repeat(DEFAULT_CBOR_MAX_DEPTH)}01`)
  let value: CborValue = decodeCbor(atLimit)
  for (let i = 0; i < DEFAULT_CBOR_MAX_DEPTH; i++) value = (value as readonly CborValue[])[0] as CborValue
  assert.equal(value, 1)
  refusal(() => decodeCbor(hex(`${'81'.repeat(DEFAULT_CBOR_MAX_DEPTH)}80`)), 'OCKAM_ERR_CBOR_TOO_DEEP')
  refusal(() => decodeCbor(hex('8181a0'), { maxDepth: 2 }), 'OCKAM_ERR_CBOR_TOO_DEEP')
})

test('decoded byte strings are copies, not views of the input', () => {
  const input = encodeCbor([new Uint8Array([1, 2, 3])])
  const [bytes] = decodeCbor(input) as [Uint8Array]
  input.fill(0)
  assert.deepEqual(bytes, new Uint8Array([1, 2, 3]))
})

const text = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => s.charCodeAt(0) !== 0xfeff)
const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: -30, max: 300 }),
    text,
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc
      .uniqueArray(fc.tuple(text, tie('value')), { selector: ([key]) => key, maxLength: 5 })
      .map((entries) => new Map(entries)),
  ),
})).value

test('decode(encode(x)) = x for every value of the profile (fast-check)', () => {
  fc.assert(
    fc.property(cborValue, (value) => {
      assert.deepEqual(decodeCbor(encodeCbor(value)), value)
    }),
    { numRuns: 400 },
  )
})

test('mutations of valid encodings decode or fail with a typed CBOR error, never anything else (fast-check)', () => {
  fc.assert(
    fc.property(
      cborValue.chain((value) => mutationOf(encodeCbor(value))),
      (mutated) => {
        try {
          const value = decodeCbor(mutated)
          // Accepted input is canonical: it re-encodes to itself.
          assert.deepEqual(encodeCbor(value), mutated)
        } catch (error) {
          assert.ok(isOckamError(error), String(error))
          assert.match(error.code, /^OCKAM_ERR_CBOR_/)
        }
      },
    ),
    { numRuns: 1000 },
  )
})

test('random bytes decode or fail with a typed CBOR error (fast-check)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        assert.deepEqual(encodeCbor(decodeCbor(bytes)), bytes)
      } catch (error) {
        assert.ok(isOckamError(error), String(error))
        assert.match(error.code, /^OCKAM_ERR_CBOR_/)
      }
    }),
    { numRuns: 1000 },
  )
})

// Regression (fast-check seed 1850939031): cborg returned a Buffer for this 129-byte map, so a
// re-encoding compared unequal to the Uint8Array it came from.
test('encodeCbor always returns a plain Uint8Array, also for outputs cborg builds as a Buffer', () => {
  const bytes = Uint8Array.from(
    Buffer.from(
      'a46be0a080f0908080f09080803b000000010000000070f0908080f0908080f0908080f09080801b000000010000000074f0908080f0908080f0908080f0908080f09080803b00000001000000007828f0908080f0908080f0908080f0908080f0908080f0908080f0908080f0908080f0908080f09080803b0000000100000000',
      'hex',
    ),
  )
  const encoded = encodeCbor(decodeCbor(bytes))
  assert.equal(Object.getPrototypeOf(encoded), Uint8Array.prototype)
  assert.deepEqual(encoded, bytes)
})
