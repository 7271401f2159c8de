/**
 * Properties of the portal message decoder: round trips of generated messages; mutations of
 * valid encodings and arbitrary bytes only ever give a message or a typed
 * OCKAM_ERR_PORTAL_MALFORMED, never another error; and every accepted input is canonical
 * (re-encoding gives the same bytes), so one message has one encoding.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { OckamError } from '../../../runtime/errors.js'
import {
  decodePortalMessage,
  encodePortalMessage,
  type PortalMessage,
  RESET_REASONS,
} from '../../../workers/portal/messages.js'

const NUM_RUNS = 1_000

const u32 = fc.integer({ min: 0, max: 0xffff_ffff })
const positiveU32 = fc.integer({ min: 1, max: 0xffff_ffff })

const messageArb: fc.Arbitrary<PortalMessage> = fc.oneof(
  fc.record({ type: fc.constant('open' as const), version: fc.integer({ min: 0, max: 255 }), credit: u32 }),
  fc.record({ type: fc.constant('opened' as const), version: fc.integer({ min: 0, max: 255 }), credit: u32 }),
  fc.record({ type: fc.constant('data' as const), seq: u32, bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
  fc.record({ type: fc.constant('credit' as const), seq: u32, amount: positiveU32 }),
  fc.record({ type: fc.constant('return' as const), seq: u32, amount: positiveU32 }),
  fc.record({ type: fc.constant('end' as const), seq: u32 }),
  fc.integer({ min: 0, max: 255 }).map((code) => ({ type: 'reset' as const, reason: RESET_REASONS[code], code })),
)

function normalize(message: PortalMessage): unknown {
  // Spread: fast-check records have a null prototype, which strict deepEqual tells apart.
  return message.type === 'data' ? { ...message, bytes: Buffer.from(message.bytes).toString('hex') } : { ...message }
}

/** Decodes; a valid result must re-encode to the same bytes; any error must be the typed one. */
function decodeChecked(bytes: Uint8Array): void {
  let decoded: PortalMessage
  try {
    decoded = decodePortalMessage(bytes)
  } catch (error) {
    assert.ok(error instanceof OckamError, `not an OckamError: ${String(error)}`)
    assert.equal(error.code, 'OCKAM_ERR_PORTAL_MALFORMED')
    return
  }
  assert.equal(Buffer.from(encodePortalMessage(decoded)).toString('hex'), Buffer.from(bytes).toString('hex'))
}

test('decode(encode(m)) = m for every message', () => {
  fc.assert(
    fc.property(messageArb, (message) => {
      assert.deepEqual(normalize(decodePortalMessage(encodePortalMessage(message))), normalize(message))
    }),
    { numRuns: NUM_RUNS },
  )
})

test('mutated encodings decode to a canonical message or fail with the typed error', () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat({ max: 16 }), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: 16 }) }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat({ max: 16 }),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
    }),
  )
  fc.assert(
    fc.property(messageArb, fc.array(mutation, { minLength: 1, maxLength: 3 }), (message, mutations) => {
      let bytes = Buffer.from(encodePortalMessage(message))
      for (const m of mutations) {
        const at = Math.min(m.at, bytes.length)
        if (m.kind === 'flip' && at < bytes.length) bytes[at] = (bytes[at] as number) ^ m.mask
        else if (m.kind === 'truncate') bytes = bytes.subarray(0, at)
        else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)])
      }
      decodeChecked(bytes)
    }),
    { numRuns: NUM_RUNS },
  )
})

test('arbitrary bytes never crash the decoder', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => decodeChecked(bytes)),
    { numRuns: NUM_RUNS },
  )
})
