import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local, tcp } from '../../../runtime/address.js'
import { isOckamError } from '../../../runtime/errors.js'
import { DEFAULT_MAX_ROUTE_HOPS } from '../../../runtime/limits.js'
import {
  decodeFrameBody,
  encodeFrame,
  encodeFrameHeader,
  HEARTBEAT_FRAME,
} from '../../../transports/tcp/frame-codec.js'

test('a frame encodes as length, onward route, return route, payload (PROTOCOL.md layout)', () => {
  const frame = encodeFrame({ onward: [local('echo')], return: [tcp('h:1')], payload: Buffer.from('hi') })
  assert.deepEqual(
    [...frame],
    [0, 0, 0, 15, 1, 0, 4, ...Buffer.from('echo'), 1, 1, 3, ...Buffer.from('h:1'), ...Buffer.from('hi')],
  )
  assert.deepEqual([...HEARTBEAT_FRAME], [0, 0, 0, 2, 0, 0])
  const header = encodeFrameHeader([local('echo')], [], 1000)
  assert.equal(header.readUInt32BE(0), header.length - 4 + 1000)
})

test('regression: an address value that starts with U+FEFF keeps it (the decoder stripped BOMs)', () => {
  const body = encodeFrame({ onward: [local('\uFEFFecho')], return: [local('\uFEFF')], payload: new Uint8Array(0) })
  const decoded = decodeFrameBody(body.subarray(4))
  assert.equal(decoded.onward[0]?.value, '\uFEFFecho')
  // Before the fix the 3-byte value EF BB BF decoded to an empty address.
  assert.equal(decoded.return[0]?.value, '\uFEFF')
})

test('decodeFrameBody refuses hostile bodies with OCKAM_ERR_TCP_FRAME_MALFORMED', () => {
  const hops10k = Buffer.concat([Uint8Array.of(255), Buffer.alloc(10_000 * 3, Buffer.from([0, 1, 0x61]))])
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['no return route', Uint8Array.of(0)],
    ['255 hops then 10,000 hop encodings', hops10k],
    [`${DEFAULT_MAX_ROUTE_HOPS + 1} hops`, Uint8Array.of(DEFAULT_MAX_ROUTE_HOPS + 1)],
    ['a hop cut after its type', Uint8Array.of(1, 0)],
    ['an empty address value', Uint8Array.of(1, 0, 0, 0)],
    ['an address value overrunning the body', Uint8Array.of(1, 0, 5, 0x61, 0)],
    ['invalid UTF-8', Uint8Array.of(1, 0, 2, 0xc3, 0x28, 0)],
    ['an overlong UTF-8 encoding', Uint8Array.of(1, 0, 2, 0xc0, 0xaf, 0)],
  ]
  for (const [name, body] of cases) {
    assert.throws(
      () => decodeFrameBody(body),
      (error) => isOckamError(error, 'OCKAM_ERR_TCP_FRAME_MALFORMED'),
      name,
    )
  }
})

test('the decoded payload is a view into the body, not a copy', () => {
  const body = encodeFrame({ onward: [local('a')], return: [], payload: Buffer.from('xyz') }).subarray(4)
  const decoded = decodeFrameBody(body)
  assert.equal(decoded.payload.buffer, body.buffer)
  assert.equal(Buffer.from(decoded.payload).toString(), 'xyz')
})

test('encoding refuses routes and addresses the decoder would refuse', () => {
  const tooLong = Array.from({ length: DEFAULT_MAX_ROUTE_HOPS + 1 }, () => local('a'))
  assert.throws(
    () => encodeFrame({ onward: tooLong, return: [], payload: new Uint8Array(0) }),
    (e) => isOckamError(e, 'OCKAM_ERR_ROUTE_INVALID'),
  )
  assert.throws(
    () => encodeFrame({ onward: [{ type: 0, value: 'x'.repeat(256) }], return: [], payload: new Uint8Array(0) }),
    (e) => isOckamError(e, 'OCKAM_ERR_ADDRESS_INVALID'),
  )
})
