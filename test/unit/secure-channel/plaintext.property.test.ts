/**
 * The transport plaintext codec and the handshake payload codec: decode(encode(x)) = x for
 * generated values, fragments reassemble to the payload, and mutations of valid encodings only
 * ever decode or fail with a typed OckamError (never a crash, a RangeError or a hang).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { Address } from '../../../runtime/address.js'
import { OckamError } from '../../../runtime/errors.js'
import { DEFAULT_MAX_ROUTE_HOPS } from '../../../runtime/limits.js'
import { NOISE_SUITES, NOISE_XX_AESGCM, NOISE_XX_CHACHAPOLY } from '../../../runtime/trust/noise/suite.js'
import { SECURE_CHANNEL_WIRE_VERSION } from '../../../workers/secure-channel/constants.js'
import {
  decodeIdentityPayload,
  decodeMessage1,
  encodeIdentityPayload,
  encodeMessage1,
  MESSAGE_1_BYTES,
} from '../../../workers/secure-channel/handshake-payload.js'
import {
  type ChannelPlaintext,
  CLOSE_REASONS,
  decodePlaintext,
  encodeBatchPlaintext,
  encodeClosePlaintext,
  encodeCredentialsPlaintext,
  encodePayloadPlaintextParts,
  encodePayloadPlaintexts,
  PLAINTEXT_BATCH,
  Reassembly,
} from '../../../workers/secure-channel/plaintext.js'

const NUM_RUNS = 300
const MAX_MESSAGE = 256 * 1024

const valueArb = fc
  .oneof(
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
  )
  .filter((s) => Buffer.byteLength(s) >= 1 && Buffer.byteLength(s) <= 255)
const addressArb: fc.Arbitrary<Address> = fc
  .record({ type: fc.integer({ min: 0, max: 255 }), value: valueArb })
  .map(({ type, value }) => ({ type, value }))
const routeArb = fc.array(addressArb, { maxLength: DEFAULT_MAX_ROUTE_HOPS })

/** Mutations of an encoding: flip, truncate, insert, delete. */
function mutate(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const at = fc.nat({ max: Math.max(0, bytes.length - 1) })
  return fc.oneof(
    fc.tuple(at, fc.integer({ min: 1, max: 255 })).map(([i, mask]) => {
      const out = bytes.slice()
      out[i] = (out[i] ?? 0) ^ mask
      return out
    }),
    at.map((i) => bytes.slice(0, i)),
    fc
      .tuple(at, fc.uint8Array({ minLength: 1, maxLength: 6 }))
      .map(([i, extra]) => Uint8Array.from([...bytes.subarray(0, i), ...extra, ...bytes.subarray(i)])),
    fc
      .tuple(at, fc.integer({ min: 1, max: 6 }))
      .map(([i, n]) => Uint8Array.from([...bytes.subarray(0, i), ...bytes.subarray(i + n)])),
  )
}

function onlyTyped(run: () => unknown): void {
  try {
    run()
  } catch (error) {
    assert.ok(error instanceof OckamError, `expected a typed error, got ${String(error)}`)
  }
}

function reassemble(plaintexts: readonly Uint8Array[]): Extract<ChannelPlaintext, { type: 'payload' }> {
  const [first, ...rest] = plaintexts.map((p) => decodePlaintext(p, MAX_MESSAGE))
  if (first?.type === 'payload') {
    assert.equal(rest.length, 0)
    return first
  }
  assert.equal(first?.type, 'payload-first')
  const reassembly = new Reassembly(first as Extract<ChannelPlaintext, { type: 'payload-first' }>)
  let whole: Uint8Array | undefined
  for (const next of rest) {
    assert.equal(next.type, 'payload-next')
    assert.equal(whole, undefined, 'nothing after the last fragment')
    whole = reassembly.push((next as Extract<ChannelPlaintext, { type: 'payload-next' }>).chunk)
  }
  assert.ok(whole !== undefined)
  return { type: 'payload', onward: reassembly.onward, return: reassembly.return, payload: whole }
}

test('payload plaintexts round-trip, whole or in fragments no larger than a frame allows', () => {
  fc.assert(
    fc.property(
      routeArb,
      routeArb,
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 20_000 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
      ),
      fc.integer({ min: 1200, max: 70_000 }),
      (onward, ret, payload, maxPlaintext) => {
        const plaintexts = encodePayloadPlaintexts(onward, ret, payload, maxPlaintext, MAX_MESSAGE)
        for (const p of plaintexts) assert.ok(p.length <= maxPlaintext)
        const decoded = reassemble(plaintexts)
        assert.deepEqual(decoded.onward, onward)
        assert.deepEqual(decoded.return, ret)
        assert.deepEqual(new Uint8Array(decoded.payload), payload)
      },
    ),
    { numRuns: NUM_RUNS },
  )
})

test('a 200 KiB payload in 64 KiB frames, and a payload over the message limit refused before anything is built', () => {
  const payload = new Uint8Array(200 * 1024).map((_, i) => i & 0xff)
  const plaintexts = encodePayloadPlaintexts([{ type: 0, value: 'echo' }], [], payload, 65_519, MAX_MESSAGE)
  assert.equal(plaintexts.length, 4)
  assert.deepEqual(reassemble(plaintexts).payload, payload)
  assert.throws(
    () =>
      encodePayloadPlaintexts([{ type: 0, value: 'echo' }], [], new Uint8Array(MAX_MESSAGE + 1), 65_519, MAX_MESSAGE),
    (error: unknown) => error instanceof OckamError && error.code === 'OCKAM_ERR_SECURE_CHANNEL_MESSAGE_TOO_LARGE',
  )
})

test('credentials and close plaintexts round-trip; every close reason has a byte', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 4 }), (credentials) => {
      const decoded = decodePlaintext(encodeCredentialsPlaintext(credentials), MAX_MESSAGE)
      assert.equal(decoded.type, 'credentials')
      assert.deepEqual(
        (decoded as Extract<ChannelPlaintext, { type: 'credentials' }>).credentials.map((c) => new Uint8Array(c)),
        credentials,
      )
    }),
    { numRuns: 100 },
  )
  for (const reason of CLOSE_REASONS)
    assert.deepEqual(decodePlaintext(encodeClosePlaintext(reason), MAX_MESSAGE), { type: 'close', reason })
})

const messageArb = fc.record({ onward: routeArb, return: routeArb, payload: fc.uint8Array({ maxLength: 200 }) })

test('batches round-trip: every message, in order, whether its plaintext came as parts or whole', () => {
  fc.assert(
    fc.property(fc.array(messageArb, { minLength: 1, maxLength: 12 }), fc.boolean(), (messages, asParts) => {
      const items = messages.map((m) =>
        asParts
          ? (encodePayloadPlaintextParts(m.onward, m.return, m.payload, 65_519, MAX_MESSAGE)[0] as Uint8Array[])
          : (encodePayloadPlaintexts(m.onward, m.return, m.payload, 65_519, MAX_MESSAGE)[0] as Uint8Array),
      )
      const decoded = decodePlaintext(encodeBatchPlaintext(items), MAX_MESSAGE)
      assert.equal(decoded.type, 'batch')
      const got = (decoded as Extract<ChannelPlaintext, { type: 'batch' }>).messages
      assert.deepEqual(
        got.map((m) => ({ onward: m.onward, return: m.return, payload: new Uint8Array(m.payload) })),
        messages.map((m) => ({ ...m })),
      )
    }),
    { numRuns: NUM_RUNS },
  )
})

test('mutated plaintexts decode or fail typed; structural refusals are the malformed code', () => {
  const samples = [
    ...encodePayloadPlaintexts(
      [
        { type: 0, value: 'echo' },
        { type: 1, value: '127.0.0.1:4000' },
      ],
      [{ type: 0, value: 'app' }],
      new Uint8Array(40),
      2000,
      MAX_MESSAGE,
    ),
    ...encodePayloadPlaintexts([{ type: 0, value: 'x' }], [], new Uint8Array(5000), 2000, MAX_MESSAGE),
    encodeCredentialsPlaintext([new Uint8Array(50).fill(1), new Uint8Array(20)]),
    encodeClosePlaintext('refused'),
    encodeBatchPlaintext(
      encodePayloadPlaintexts(
        [{ type: 0, value: 'portal-a' }],
        [{ type: 0, value: 'i' }],
        new Uint8Array(30),
        2000,
        99,
      ).concat(encodePayloadPlaintexts([{ type: 0, value: 'portal-b' }], [], Uint8Array.of(1), 2000, 99)),
    ),
  ]
  for (const sample of samples) {
    fc.assert(
      fc.property(mutate(sample), (mutated) => onlyTyped(() => decodePlaintext(mutated, MAX_MESSAGE))),
      { numRuns: NUM_RUNS },
    )
  }
  const malformed = (bytes: Uint8Array) =>
    assert.throws(
      () => decodePlaintext(bytes, MAX_MESSAGE),
      (error: unknown) => error instanceof OckamError && error.code === 'OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED',
    )
  malformed(new Uint8Array(0))
  malformed(Uint8Array.of(9))
  malformed(Uint8Array.of(1, DEFAULT_MAX_ROUTE_HOPS + 1))
  malformed(Uint8Array.of(1, 1, 0, 0))
  malformed(Uint8Array.of(1, 1, 0, 5, 0x61))
  malformed(Uint8Array.of(1, 1, 0, 1, 0xff, 0))
  malformed(Uint8Array.of(2, 0, 0, 0xff, 0xff, 0xff, 0xff, 1)) // claims 4 GiB
  malformed(Uint8Array.of(2, 0, 0, 0, 0, 0, 1, 1)) // total not larger than the chunk
  malformed(Uint8Array.of(3))
  malformed(Uint8Array.of(5, 200))
  malformed(Uint8Array.of(5))
  malformed(Uint8Array.of(4, 0x85, 0x41, 1, 0x41, 1, 0x41, 1, 0x41, 1, 0x41, 1)) // 5 credentials
  malformed(Uint8Array.of(PLAINTEXT_BATCH)) // empty
  malformed(Uint8Array.of(PLAINTEXT_BATCH, 0, 0, 0)) // ends inside a length
  malformed(Uint8Array.of(PLAINTEXT_BATCH, 0, 0, 0, 0)) // an empty item
  malformed(Uint8Array.of(PLAINTEXT_BATCH, 0xff, 0xff, 0xff, 0xff, 1, 0, 0)) // overruns
  malformed(Uint8Array.of(PLAINTEXT_BATCH, 0, 0, 0, 2, 5, 0)) // a close inside
  malformed(Uint8Array.of(PLAINTEXT_BATCH, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 1, 3)) // a fragment inside
  const reassembly = new Reassembly({
    type: 'payload-first',
    onward: [],
    return: [],
    total: 4,
    chunk: Uint8Array.of(1, 2),
  })
  assert.throws(
    () => reassembly.push(Uint8Array.of(3, 4, 5)),
    (error: unknown) => error instanceof OckamError && error.code === 'OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED',
  )
})

test('message 1 is exactly version, suite and an ephemeral key; unknown versions and suites are refused', () => {
  const noise = new Uint8Array(32).fill(7)
  for (const suite of NOISE_SUITES) {
    const decoded = decodeMessage1(encodeMessage1(suite, noise), NOISE_SUITES)
    assert.equal(decoded.suite.protocolName, suite.protocolName)
    assert.deepEqual(decoded.noise, noise)
  }
  const bytes = encodeMessage1(NOISE_XX_CHACHAPOLY, noise)
  assert.equal(bytes.length, MESSAGE_1_BYTES)
  const code = (run: () => unknown) => {
    try {
      run()
    } catch (error) {
      return (error as OckamError).code
    }
    return 'accepted'
  }
  assert.equal(
    code(() => decodeMessage1(bytes, [NOISE_XX_AESGCM])),
    'OCKAM_ERR_NOISE_UNSUPPORTED',
  )
  assert.equal(
    code(() => decodeMessage1(Uint8Array.of(SECURE_CHANNEL_WIRE_VERSION + 1, ...bytes.subarray(1)), NOISE_SUITES)),
    'OCKAM_ERR_NOISE_UNSUPPORTED',
  )
  assert.equal(
    code(() => decodeMessage1(Uint8Array.of(SECURE_CHANNEL_WIRE_VERSION, 3, ...noise), NOISE_SUITES)),
    'OCKAM_ERR_NOISE_UNSUPPORTED',
  )
  assert.equal(
    code(() => decodeMessage1(Uint8Array.of(...bytes, 0), NOISE_SUITES)),
    'OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED',
  )
  assert.equal(
    code(() => decodeMessage1(bytes.subarray(0, 33), NOISE_SUITES)),
    'OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED',
  )
})

test('identity payloads round-trip with and without credentials and the passthrough and batch features; mutations fail typed', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.option(fc.array(fc.uint8Array({ minLength: 1, maxLength: 100 }), { maxLength: 4 }), { nil: undefined }),
      fc.boolean(),
      fc.boolean(),
      (history, attestation, credentials, passthrough, batch) => {
        const withCredentials = credentials !== undefined
        const payload =
          credentials === undefined
            ? { history, attestation, passthrough, batch }
            : { history, attestation, credentials, passthrough, batch }
        const decoded = decodeIdentityPayload(encodeIdentityPayload(payload), withCredentials)
        assert.equal(decoded.passthrough, passthrough)
        assert.equal(decoded.batch, batch)
        assert.deepEqual(new Uint8Array(decoded.history), history)
        assert.deepEqual(new Uint8Array(decoded.attestation), attestation)
        assert.deepEqual(
          decoded.credentials?.map((c) => new Uint8Array(c)),
          credentials,
        )
        assert.throws(() => decodeIdentityPayload(encodeIdentityPayload(payload), !withCredentials), OckamError)
      },
    ),
    { numRuns: 100 },
  )
  const sample = encodeIdentityPayload({
    history: new Uint8Array(100).fill(1),
    attestation: new Uint8Array(60).fill(2),
    credentials: [new Uint8Array(40).fill(3)],
  })
  fc.assert(
    fc.property(mutate(sample), (mutated) => onlyTyped(() => decodeIdentityPayload(mutated, true))),
    {
      numRuns: NUM_RUNS,
    },
  )
  assert.throws(
    () =>
      decodeIdentityPayload(
        encodeIdentityPayload({ history: new Uint8Array(9000), attestation: Uint8Array.of(1) }),
        false,
      ),
    (error: unknown) => error instanceof OckamError && error.code === 'OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED',
  )
})
