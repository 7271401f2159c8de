/**
 * The relay wire format under fast-check: decode(encode(x)) = x for requests and both kinds of
 * response, and mutations of valid encodings (bit flips, truncations, insertions, random bytes,
 * oversize inputs) give only OCKAM_ERR_RELAY_MESSAGE_INVALID, never another exception or a hang.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { ERROR_CODES, OckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { encodeCbor } from '../../../runtime/trust/cbor.js'
import { MAX_RELAY_MESSAGE_BYTES } from '../../../workers/relay/constants.js'
import {
  decodeRelayRequest,
  decodeRelayResponse,
  encodeRelayRequest,
  encodeRelayResponse,
  type RelayRequest,
  type RelayResponse,
} from '../../../workers/relay/protocol.js'

const RUNS = 300
const idArb = fc.uint8Array({ minLength: 8, maxLength: 8 })
const requestArb: fc.Arbitrary<RelayRequest> = fc.record({
  kind: fc.constantFrom('register' as const, 'ping' as const, 'unregister' as const),
  id: idArb,
  name: fc.string({ maxLength: 80 }),
})
const codeArb = fc.constantFrom(...(Object.keys(ERROR_CODES) as OckamErrorCode[]))
const responseArb: fc.Arbitrary<RelayResponse> = fc.oneof(
  fc.record({
    ok: fc.constant(true as const),
    id: idArb,
    forwardAddress: fc.string({ minLength: 1, maxLength: 80 }),
    timeoutMs: fc.nat(),
  }),
  fc
    .tuple(idArb, codeArb, fc.string({ maxLength: 100 }), fc.option(fc.string({ maxLength: 100 }), { nil: undefined }))
    .map(([id, code, message, hint]) => ({
      ok: false as const,
      id,
      error: new OckamError(code, message, hint === undefined ? {} : { hint }),
    })),
)

function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([bytes, at, xor]) => {
      const copy = new Uint8Array(bytes)
      if (copy.length > 0) copy[at % copy.length] = (copy[at % copy.length] as number) ^ xor
      return copy
    }),
    fc.tuple(valid, fc.nat()).map(([bytes, cut]) => bytes.subarray(0, cut % Math.max(bytes.length, 1))),
    fc.tuple(valid, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([bytes, at, extra]) => {
      const i = at % (bytes.length + 1)
      return new Uint8Array([...bytes.subarray(0, i), ...extra, ...bytes.subarray(i)])
    }),
    fc.uint8Array({ maxLength: 200 }),
  )
}

function failsOnlyWithInvalid(fn: () => unknown): void {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof OckamError, `not an OckamError: ${String(error)}`)
    assert.equal(error.code, 'OCKAM_ERR_RELAY_MESSAGE_INVALID', error.message)
  }
}

test('relay requests: decode(encode(r)) = r; mutations give only OCKAM_ERR_RELAY_MESSAGE_INVALID', () => {
  fc.assert(
    fc.property(requestArb, (request) => {
      assert.deepEqual(decodeRelayRequest(encodeRelayRequest(request)), { ...request, id: new Uint8Array(request.id) })
    }),
    { numRuns: RUNS },
  )
  fc.assert(
    fc.property(mutated(requestArb.map(encodeRelayRequest)), (bytes) =>
      failsOnlyWithInvalid(() => decodeRelayRequest(bytes)),
    ),
    { numRuns: RUNS },
  )
})

test('relay responses: decode(encode(r)) = r for ok and error; mutations give only OCKAM_ERR_RELAY_MESSAGE_INVALID', () => {
  fc.assert(
    fc.property(responseArb, (response) => {
      const decoded = decodeRelayResponse(encodeRelayResponse(response))
      if (response.ok) {
        assert.deepEqual(decoded, { ...response, id: new Uint8Array(response.id) })
      } else {
        assert.ok(!decoded.ok)
        assert.equal(decoded.error.code, response.error.code)
        assert.equal(decoded.error.message, response.error.message)
        assert.equal(decoded.error.hint, response.error.hint)
      }
    }),
    { numRuns: RUNS },
  )
  fc.assert(
    fc.property(mutated(responseArb.map(encodeRelayResponse)), (bytes) =>
      failsOnlyWithInvalid(() => decodeRelayResponse(bytes)),
    ),
    { numRuns: RUNS },
  )
})

test('relay decoders: oversize input is refused before decoding; wrong shapes, versions, kinds and codes are typed', () => {
  const huge = new Uint8Array(MAX_RELAY_MESSAGE_BYTES + 1)
  for (const decode of [decodeRelayRequest, decodeRelayResponse]) {
    failsOnlyWithInvalid(() => decode(huge))
    assert.throws(() => decode(huge), /at most/)
  }
  const id = new Uint8Array(8)
  const bad = [
    [2, 1, id, 'postgres'],
    [1, 9, id, 'postgres'],
    [1, 1, new Uint8Array(7), 'postgres'],
    [1, 1, id, 7],
    [1, 1, id],
    'x'.repeat(300),
  ]
  for (const value of bad) {
    assert.throws(
      () => decodeRelayRequest(encodeCbor(value as never)),
      (e: unknown) => e instanceof OckamError && e.code === 'OCKAM_ERR_RELAY_MESSAGE_INVALID',
    )
  }
  for (const value of [
    [1, id, 2, []],
    [1, id, 1, ['OCKAM_ERR_NOT_A_CODE', 'm', null]],
    [1, id, 0, ['forward_to_x']],
    [1, id, 0, ['forward_to_x', -1]],
  ]) {
    assert.throws(
      () => decodeRelayResponse(encodeCbor(value as never)),
      (e: unknown) => e instanceof OckamError && e.code === 'OCKAM_ERR_RELAY_MESSAGE_INVALID',
    )
  }
  // Long error texts are clipped by the encoder, so a response always fits the decoder's bounds.
  const long = encodeRelayResponse({ ok: false, id, error: new OckamError('OCKAM_ERR_INTERNAL', 'm'.repeat(5000)) })
  assert.ok(long.length <= MAX_RELAY_MESSAGE_BYTES)
  assert.equal(decodeRelayResponse(long).ok, false)
})
