/** Portal message codec: exact layouts (the PROTOCOL.md bytes) and each refusal with its code. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isOckamError } from '../../../runtime/errors.js'
import {
  decodePortalMessage,
  encodeCredit,
  encodeData,
  encodeDataFrom,
  encodeEnd,
  encodeOpen,
  encodeOpened,
  encodeReset,
  encodeReturn,
} from '../../../workers/portal/messages.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

test('each message has the documented layout', () => {
  assert.equal(hex(encodeOpen(1, 262_144)), '010100040000')
  assert.equal(hex(encodeOpened(1, 0)), '020100000000')
  assert.equal(hex(encodeData(0x01020304, Uint8Array.of(0xaa, 0xbb))), '0301020304aabb')
  assert.equal(hex(encodeCredit(7, 65_536)), '040000000700010000')
  assert.equal(hex(encodeReturn(8, 1)), '050000000800000001')
  assert.equal(hex(encodeEnd(0xffffffff)), '06ffffffff')
  assert.equal(hex(encodeReset('path-lost')), '0705')
})

test('decoding gives the fields back; data is a view, not a copy', () => {
  const payload = encodeData(42, Buffer.from('hello'))
  const decoded = decodePortalMessage(payload)
  assert.equal(decoded.type, 'data')
  if (decoded.type !== 'data') return
  assert.equal(decoded.seq, 42)
  assert.equal(Buffer.from(decoded.bytes).toString(), 'hello')
  assert.equal(decoded.bytes.buffer, payload.buffer)
  assert.deepEqual(decodePortalMessage(encodeOpen(1, 4096)), { type: 'open', version: 1, credit: 4096 })
  assert.deepEqual(decodePortalMessage(encodeReturn(3, 9)), { type: 'return', seq: 3, amount: 9 })
  assert.deepEqual(decodePortalMessage(Uint8Array.of(0x07, 200)), { type: 'reset', reason: undefined, code: 200 })
  assert.deepEqual(decodePortalMessage(encodeReset('denied')), { type: 'reset', reason: 'denied', code: 1 })
})

test('data gathered from several pieces takes exactly the asked length and leaves the rest', () => {
  const pieces = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('hi')]
  const message = encodeDataFrom(1, pieces, 5)
  assert.equal(Buffer.from(message.subarray(5)).toString(), 'abcde')
  assert.deepEqual(
    pieces.map((p) => p.toString()),
    ['fg', 'hi'],
  )
  const rest = encodeDataFrom(2, pieces, 4)
  assert.equal(Buffer.from(rest.subarray(5)).toString(), 'fghi')
  assert.equal(pieces.length, 0)
})

test('malformed messages are refused with OCKAM_ERR_PORTAL_MALFORMED', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['unknown type', Uint8Array.of(0x09)],
    ['type zero', Uint8Array.of(0x00, 1, 2)],
    ['short open', Uint8Array.of(0x01, 1, 0, 0, 1)],
    ['long opened', Uint8Array.of(0x02, 1, 0, 0, 0, 1, 9)],
    ['data without bytes', Uint8Array.of(0x03, 0, 0, 0, 1)],
    ['data short header', Uint8Array.of(0x03, 0, 0)],
    ['credit of zero', Uint8Array.of(0x04, 0, 0, 0, 1, 0, 0, 0, 0)],
    ['return of zero', Uint8Array.of(0x05, 0, 0, 0, 1, 0, 0, 0, 0)],
    ['short credit', Uint8Array.of(0x04, 0, 0, 0, 1, 0, 0, 1)],
    ['long end', Uint8Array.of(0x06, 0, 0, 0, 1, 0)],
    ['short reset', Uint8Array.of(0x07)],
  ]
  for (const [name, bytes] of cases) {
    assert.throws(
      () => decodePortalMessage(bytes),
      (error) => isOckamError(error, 'OCKAM_ERR_PORTAL_MALFORMED'),
      name,
    )
  }
})

test('encoders refuse values that do not fit the wire', () => {
  const invalid = (error: unknown) => isOckamError(error, 'OCKAM_ERR_INVALID_ARGUMENT')
  assert.throws(() => encodeOpen(1, 2 ** 32), invalid)
  assert.throws(() => encodeOpen(256, 1), invalid)
  assert.throws(() => encodeCredit(1, 0), invalid)
  assert.throws(() => encodeCredit(-1, 5), invalid)
  assert.throws(() => encodeData(1, new Uint8Array(0)), invalid)
  assert.throws(() => encodeEnd(1.5), invalid)
})
