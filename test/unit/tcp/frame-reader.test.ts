import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local } from '../../../runtime/address.js'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { DEFAULT_MAX_FRAME_BYTES, WIRE_VERSION } from '../../../transports/tcp/constants.js'
import { encodeFrame } from '../../../transports/tcp/frame-codec.js'
import { FrameReader } from '../../../transports/tcp/frame-reader.js'

function reader(): { reader: FrameReader; held: () => number } {
  let held = 0
  const r = new FrameReader({
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    onBuffered: (d) => {
      held += d
    },
  })
  return { reader: r, held: () => held }
}

function assertRefused(chunks: Uint8Array[], code: OckamErrorCode): void {
  const { reader: r, held } = reader()
  assert.throws(
    () => {
      for (const c of chunks) r.push(Buffer.from(c))
    },
    (e) => isOckamError(e, code),
  )
  assert.ok(held() <= chunks.reduce((n, c) => n + c.length, 0), 'held no more than was sent')
  r.reset()
  assert.equal(held(), 0)
}

test('the first byte must be the wire version', () => {
  assertRefused([Uint8Array.of(WIRE_VERSION + 1)], 'OCKAM_ERR_TCP_VERSION_MISMATCH')
  assertRefused([Uint8Array.of(0x16, 3, 1)], 'OCKAM_ERR_TCP_VERSION_MISMATCH') // a TLS ClientHello
  // An empty chunk before the version byte is not a violation.
  const { reader: r } = reader()
  assert.deepEqual(r.push(Buffer.alloc(0)), [])
  assert.deepEqual(r.push(Buffer.of(WIRE_VERSION)), [])
})

test('a 4 GiB length prefix is refused before anything is allocated, whole or byte by byte', () => {
  assertRefused([Uint8Array.of(WIRE_VERSION, 0xff, 0xff, 0xff, 0xff)], 'OCKAM_ERR_TCP_FRAME_TOO_LARGE')
  assertRefused(
    [Uint8Array.of(WIRE_VERSION), ...[0xff, 0xff, 0xff, 0xff].map((b) => Uint8Array.of(b))],
    'OCKAM_ERR_TCP_FRAME_TOO_LARGE',
  )
  const over = Buffer.alloc(5)
  over[0] = WIRE_VERSION
  over.writeUInt32BE(DEFAULT_MAX_FRAME_BYTES + 1, 1)
  assertRefused([over], 'OCKAM_ERR_TCP_FRAME_TOO_LARGE')
})

test('zero- and one-byte frame bodies are malformed (a heartbeat has two)', () => {
  assertRefused([Uint8Array.of(WIRE_VERSION, 0, 0, 0, 0)], 'OCKAM_ERR_TCP_FRAME_MALFORMED')
  assertRefused([Uint8Array.of(WIRE_VERSION, 0, 0, 0, 1, 0)], 'OCKAM_ERR_TCP_FRAME_MALFORMED')
  assertRefused([Uint8Array.of(WIRE_VERSION, 0, 0), Uint8Array.of(0, 1)], 'OCKAM_ERR_TCP_FRAME_MALFORMED')
})

test('a frame of exactly the maximum size is accepted', () => {
  const payload = Buffer.alloc(DEFAULT_MAX_FRAME_BYTES - 5, 7)
  const frame = encodeFrame({ onward: [local('a')], return: [], payload })
  assert.equal(frame.length - 4, DEFAULT_MAX_FRAME_BYTES)
  const { reader: r, held } = reader()
  assert.deepEqual(r.push(Buffer.of(WIRE_VERSION)), [])
  assert.deepEqual(r.push(frame.subarray(0, 1000)), [])
  assert.equal(held(), 1000)
  assert.ok(r.inFrame)
  const frames = r.push(frame.subarray(1000))
  assert.equal(frames.length, 1)
  assert.equal(frames[0]?.length, DEFAULT_MAX_FRAME_BYTES)
  assert.equal(held(), 0)
  assert.equal(r.inFrame, false)
})

test('a partial frame holds exactly the bytes received, never the length it claims', () => {
  const { reader: r, held } = reader()
  r.push(Buffer.of(WIRE_VERSION, 0, 1, 0, 0)) // claims 65,536 bytes
  assert.equal(held(), 4)
  r.push(Buffer.alloc(10))
  assert.equal(held(), 14)
  assert.equal(r.bufferedBytes, 14)
  r.reset()
  assert.equal(held(), 0)
  assert.equal(r.inFrame, false)
})

test('a chunk with a whole frame and the start of the next returns the first and holds the start', () => {
  const { reader: r } = reader()
  const big = Buffer.alloc(64 * 1024)
  big[0] = WIRE_VERSION
  const frame = encodeFrame({ onward: [local('a')], return: [], payload: Buffer.alloc(big.length - 14) })
  frame.copy(big, 1)
  // The first frame fills the chunk except its last 4 bytes, which start a second frame.
  big.writeUInt32BE(100, big.length - 4)
  const frames = r.push(big)
  assert.equal(frames.length, 1)
  assert.equal(frames[0]?.length, frame.length - 4)
  assert.equal(r.bufferedBytes, 4)
  assert.ok(r.inFrame)
  assert.deepEqual(r.push(Buffer.alloc(99)), [])
  assert.equal(r.push(Buffer.alloc(1)).length, 1)
  assert.equal(r.bufferedBytes, 0)
})
