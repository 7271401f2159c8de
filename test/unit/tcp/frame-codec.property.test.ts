/**
 * Structure-aware properties of the TCP frame codec and reader: round trips of generated frames,
 * and mutations of valid encodings (flips, truncation, insertion, length-prefix changes) that
 * must only ever produce frames or typed OCKAM_ERR_TCP_* errors, whatever the chunking.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { Address } from '../../../runtime/address.js'
import { OckamError } from '../../../runtime/errors.js'
import { DEFAULT_MAX_ROUTE_HOPS } from '../../../runtime/limits.js'
import { DEFAULT_MAX_FRAME_BYTES, WIRE_VERSION } from '../../../transports/tcp/constants.js'
import { decodeFrameBody, encodeFrame, type FrameBody } from '../../../transports/tcp/frame-codec.js'
import { FrameReader } from '../../../transports/tcp/frame-reader.js'

const NUM_RUNS = 500

/** Address values of 1-255 UTF-8 bytes: ASCII up to the limit, any code point, and a leading BOM. */
const valueArb: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 255 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 63 }),
    fc.string({ unit: 'binary', maxLength: 20 }).map((s) => `\uFEFF${s}`),
  )
  .filter((s) => {
    const bytes = Buffer.byteLength(s)
    return bytes >= 1 && bytes <= 255
  })

const addressArb: fc.Arbitrary<Address> = fc.record({ type: fc.integer({ min: 0, max: 255 }), value: valueArb })
const routeArb = fc.array(addressArb, { maxLength: DEFAULT_MAX_ROUTE_HOPS })
const bodyArb: fc.Arbitrary<FrameBody> = fc.record({
  onward: routeArb,
  return: routeArb,
  payload: fc.uint8Array({ maxLength: 512 }),
})

/** A valid stream: the version byte and 1-4 encoded frames. */
const streamArb = fc.array(bodyArb, { minLength: 1, maxLength: 4 }).map((bodies) => ({
  bodies,
  bytes: Buffer.concat([Uint8Array.of(WIRE_VERSION), ...bodies.map(encodeFrame)]),
}))

type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'length'; frame: number; value: number }

/** Positions biased to the start, where the version byte and the first length prefix sit. */
const positionArb = fc.oneof(fc.nat({ max: 8 }), fc.nat())

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: positionArb, mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: positionArb }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: positionArb,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('length' as const),
    frame: fc.nat(),
    value: fc.oneof(
      fc.constantFrom(0, 1, 2, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_FRAME_BYTES + 1, 0xffffffff),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 600 }),
    ),
  }),
)

/** Offsets of each frame's 4-byte length prefix in a stream that starts with the version byte. */
function prefixOffsets(bodies: readonly FrameBody[]): number[] {
  const offsets: number[] = []
  let at = 1
  for (const body of bodies) {
    offsets.push(at)
    at += encodeFrame(body).length
  }
  return offsets
}

function mutate(bytes: Buffer, bodies: readonly FrameBody[], mutation: Mutation): Buffer {
  const out = Buffer.from(bytes)
  switch (mutation.kind) {
    case 'flip': {
      const at = mutation.at % out.length
      out[at] = (out[at] as number) ^ mutation.mask
      return out
    }
    case 'truncate':
      return out.subarray(0, mutation.at % out.length)
    case 'insert': {
      const at = mutation.at % (out.length + 1)
      return Buffer.concat([out.subarray(0, at), mutation.bytes, out.subarray(at)])
    }
    case 'length': {
      // Earlier mutations may have shortened the stream; a prefix that is gone stays gone.
      const offsets = prefixOffsets(bodies).filter((at) => at + 4 <= out.length)
      if (offsets.length === 0) return out
      out.writeUInt32BE(mutation.value, offsets[mutation.frame % offsets.length] as number)
      return out
    }
  }
}

/** Cuts `bytes` at the given points (sorted, repeats allowed: empty chunks are fed too). */
function chunk(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let start = 0
  for (const p of points) {
    chunks.push(bytes.subarray(start, p))
    start = p
  }
  chunks.push(bytes.subarray(start))
  return chunks
}

function assertTcpError(error: unknown): void {
  assert.ok(error instanceof OckamError, `expected an OckamError, got ${String(error)}`)
  assert.match(error.code, /^OCKAM_ERR_TCP_/)
}

/** A reader whose budget accounting is checked: never negative, always equal to what it holds. */
function accountedReader(): { reader: FrameReader; held: () => number } {
  let held = 0
  const reader = new FrameReader({
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    onBuffered: (delta) => {
      held += delta
      assert.ok(held >= 0, 'budget accounting went negative')
    },
  })
  return { reader, held: () => held }
}

/** Feeds every chunk; decodes every frame; returns how it ended. Only typed errors may escape. */
function consume(chunks: readonly Buffer[]): { frames: FrameBody[]; error: OckamError | undefined } {
  const { reader, held } = accountedReader()
  const frames: FrameBody[] = []
  try {
    for (const c of chunks) {
      for (const body of reader.push(c)) frames.push(decodeFrameBody(body))
      assert.equal(held(), reader.bufferedBytes)
      // What is held for one frame never exceeds its header and the largest allowed body.
      assert.ok(reader.bufferedBytes <= 4 + DEFAULT_MAX_FRAME_BYTES)
    }
    return { frames, error: undefined }
  } catch (error) {
    assertTcpError(error)
    return { frames, error: error as OckamError }
  } finally {
    reader.reset()
    assert.equal(held(), 0, 'reset gives every held byte back')
  }
}

function normalize(body: FrameBody): { onward: Address[]; return: Address[]; payload: Buffer } {
  return {
    onward: body.onward.map((a) => ({ type: a.type, value: a.value })),
    return: body.return.map((a) => ({ type: a.type, value: a.value })),
    payload: Buffer.from(body.payload),
  }
}

test('decodeFrameBody(encode(x)) = x for generated routes and payloads', () => {
  fc.assert(
    fc.property(bodyArb, (body) => {
      const frame = encodeFrame(body)
      assert.equal(frame.readUInt32BE(0), frame.length - 4)
      assert.deepEqual(normalize(decodeFrameBody(frame.subarray(4))), normalize(body))
    }),
    { numRuns: NUM_RUNS },
  )
})

test('FrameReader reassembles any chunking of a valid stream into exactly the original frames', () => {
  fc.assert(
    fc.property(streamArb, fc.array(fc.nat(), { maxLength: 12 }), ({ bodies, bytes }, cuts) => {
      const { frames, error } = consume(chunk(bytes, cuts))
      assert.equal(error, undefined)
      assert.deepEqual(frames.map(normalize), bodies.map(normalize))
    }),
    { numRuns: NUM_RUNS },
  )
})

test('mutated streams in random chunkings yield only frames or typed OCKAM_ERR_TCP_* errors', (t) => {
  const outcomes = new Map<string, number>()
  fc.assert(
    fc.property(
      streamArb,
      fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      ({ bodies, bytes }, mutations, cuts) => {
        let mutated: Buffer = bytes
        for (const m of mutations) mutated = mutate(mutated, bodies, m)
        const { frames, error } = consume(chunk(mutated, cuts))
        const outcome = error?.code ?? 'no error'
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
        for (const f of frames) {
          assert.ok(f.onward.length <= DEFAULT_MAX_ROUTE_HOPS && f.return.length <= DEFAULT_MAX_ROUTE_HOPS)
          for (const hop of [...f.onward, ...f.return]) {
            const length = Buffer.byteLength(hop.value)
            assert.ok(length >= 1 && length <= 255, `decoded a ${length}-byte address value`)
          }
        }
      },
    ),
    { numRuns: NUM_RUNS },
  )
  // The mutations must reach every refusal, not just one kind (a guard on the generators).
  for (const code of [
    'OCKAM_ERR_TCP_VERSION_MISMATCH',
    'OCKAM_ERR_TCP_FRAME_TOO_LARGE',
    'OCKAM_ERR_TCP_FRAME_MALFORMED',
  ]) {
    assert.ok((outcomes.get(code) ?? 0) > 0, `no run ended in ${code}`)
  }
  t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`)
})

test('mutated frame bodies fed to decodeFrameBody yield a body or OCKAM_ERR_TCP_FRAME_MALFORMED', () => {
  fc.assert(
    fc.property(bodyArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (body, mutations) => {
      // Mutate the frame as if it were a one-frame stream, then drop the version byte and prefix.
      let mutated: Buffer = Buffer.concat([Uint8Array.of(WIRE_VERSION), encodeFrame(body)])
      for (const m of mutations) mutated = mutate(mutated, [body], m)
      const candidate = mutated.subarray(Math.min(5, mutated.length))
      try {
        const decoded = decodeFrameBody(candidate)
        for (const hop of [...decoded.onward, ...decoded.return]) assert.ok(hop.value.length > 0)
      } catch (error) {
        assertTcpError(error)
        assert.equal((error as OckamError).code, 'OCKAM_ERR_TCP_FRAME_MALFORMED')
      }
    }),
    { numRuns: NUM_RUNS },
  )
})

test('arbitrary bytes fed to decodeFrameBody never raise anything but a typed error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        decodeFrameBody(bytes)
      } catch (error) {
        assertTcpError(error)
      }
    }),
    { numRuns: NUM_RUNS },
  )
})
