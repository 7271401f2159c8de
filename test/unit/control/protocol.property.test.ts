/**
 * The control request decoder faces whatever a local process writes to the socket: it bounds
 * the input first, round-trips every valid request, and on any mutation or garbage throws only
 * typed OckamErrors (never a crash, never a hang).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  CONTROL_PROTOCOL_VERSION,
  type ControlRequest,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  LineSplitter,
} from '../../../runtime/control/index.js'
import { OckamError } from '../../../runtime/errors.js'

const jsonValue = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<unknown>
const request: fc.Arbitrary<ControlRequest> = fc.record({
  v: fc.constant(CONTROL_PROTOCOL_VERSION),
  id: fc.nat(),
  version: fc.string({ minLength: 1, maxLength: 64 }),
  method: fc.stringMatching(/^[a-z][a-z0-9.-]{0,30}$/),
  params: fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 5 }),
})

function line(bytes: Buffer): Buffer {
  return bytes.subarray(0, bytes.length - 1) // without the newline
}

function onlyTyped(run: () => unknown): void {
  try {
    run()
  } catch (error) {
    assert.ok(error instanceof OckamError, `untyped error: ${String(error)}`)
    assert.match(error.code, /^OCKAM_ERR_CONTROL_/)
  }
}

test('decode(encode(request)) = request', () => {
  fc.assert(
    fc.property(request, (r) => {
      // JSON drops -0 and undefined; compare with what JSON itself preserves.
      assert.deepEqual(decodeRequest(line(encodeRequest(r))), JSON.parse(JSON.stringify(r)))
    }),
    { numRuns: 300 },
  )
})

test('mutated requests decode or fail typed', () => {
  fc.assert(
    fc.property(
      request,
      fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
      (r, flips) => {
        const bytes = Buffer.from(line(encodeRequest(r)))
        for (const { at, byte } of flips) bytes[at % bytes.length] = byte
        onlyTyped(() => decodeRequest(bytes))
      },
    ),
    { numRuns: 500 },
  )
})

test('truncations, arbitrary bytes and arbitrary JSON fail typed', () => {
  fc.assert(
    fc.property(request, fc.nat(), (r, cut) => {
      const bytes = line(encodeRequest(r))
      onlyTyped(() => decodeRequest(bytes.subarray(0, cut % bytes.length)))
    }),
    { numRuns: 200 },
  )
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => onlyTyped(() => decodeRequest(bytes))),
    { numRuns: 300 },
  )
  fc.assert(
    fc.property(jsonValue, (value) => onlyTyped(() => decodeRequest(Buffer.from(JSON.stringify(value) ?? 'null')))),
    { numRuns: 300 },
  )
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        decodeResponse(bytes)
      } catch (error) {
        assert.ok(error instanceof OckamError)
      }
    }),
    { numRuns: 200 },
  )
})

test('specific refusals: size bound checked before parsing, fields checked exactly', () => {
  const big = Buffer.alloc(70_000, 0x20)
  assert.throws(() => decodeRequest(big), { code: 'OCKAM_ERR_CONTROL_TOO_LARGE' })
  const base = { v: 1, id: 1, version: '0.1.0', method: 'status', params: {} }
  const cases: Array<[unknown, string]> = [
    [{ ...base, extra: 1 }, 'OCKAM_ERR_CONTROL_BAD_REQUEST'],
    [{ ...base, v: 2 }, 'OCKAM_ERR_CONTROL_VERSION_MISMATCH'],
    [{ ...base, id: -1 }, 'OCKAM_ERR_CONTROL_BAD_REQUEST'],
    [{ ...base, id: 1.5 }, 'OCKAM_ERR_CONTROL_BAD_REQUEST'],
    [{ ...base, method: 'Status' }, 'OCKAM_ERR_CONTROL_BAD_REQUEST'],
    [{ ...base, method: 'a'.repeat(65) }, 'OCKAM_ERR_CONTROL_BAD_REQUEST'],
    [{ ...base, version: '' }, 'OCKAM_ERR_CONTROL_BAD_REQUEST'],
    [{ ...base, params: [] }, 'OCKAM_ERR_CONTROL_BAD_REQUEST'],
    [[base], 'OCKAM_ERR_CONTROL_BAD_REQUEST'],
  ]
  for (const [value, code] of cases) {
    assert.throws(() => decodeRequest(Buffer.from(JSON.stringify(value))), { code }, JSON.stringify(value))
  }
  assert.throws(() => decodeRequest(Buffer.from([0xff, 0xfe])), { code: 'OCKAM_ERR_CONTROL_BAD_REQUEST' })
  // __proto__ arrives as an own key and is refused, never merged into anything.
  assert.throws(() => decodeRequest(Buffer.from('{"__proto__":{"x":1},"v":1}')), {
    code: 'OCKAM_ERR_CONTROL_BAD_REQUEST',
  })
})

test('responses round-trip; an error response carries a serialized OckamError', () => {
  const ok = decodeResponse(line(encodeResponse({ id: 4, ok: true, result: { a: [1, 'b'] } })))
  assert.deepEqual(ok, { id: 4, ok: true, result: { a: [1, 'b'] } })
  const error = new OckamError('OCKAM_ERR_NODE_NOT_RUNNING', 'x', { hint: 'y' }).toJSON()
  assert.deepEqual(decodeResponse(line(encodeResponse({ id: 5, ok: false, error }))), { id: 5, ok: false, error })
  assert.throws(() => decodeResponse(Buffer.from('{"id":1,"ok":false,"error":{"code":"NOPE"}}')), {
    code: 'OCKAM_ERR_CONTROL_BAD_RESPONSE',
  })
})

test('LineSplitter: splits across chunks, holds at most the limit of an unfinished line', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.string({ maxLength: 20 }).map((s) => s.replace(/\n/g, '')),
        { maxLength: 10 },
      ),
      fc.array(fc.nat({ max: 30 }), { maxLength: 10 }),
      (lines, cuts) => {
        const stream = Buffer.from(lines.map((l) => `${l}\n`).join(''))
        const splitter = new LineSplitter(1024)
        const out: string[] = []
        let at = 0
        for (const cut of cuts) {
          const end = Math.min(stream.length, at + cut)
          out.push(...splitter.push(stream.subarray(at, end)).map((b) => b.toString()))
          at = end
        }
        out.push(...splitter.push(stream.subarray(at)).map((b) => b.toString()))
        assert.deepEqual(out, lines)
      },
    ),
    { numRuns: 200 },
  )
  const splitter = new LineSplitter(10)
  assert.deepEqual(splitter.push(Buffer.from('12345')), [])
  assert.throws(() => splitter.push(Buffer.from('123456')), { code: 'OCKAM_ERR_CONTROL_TOO_LARGE' })
})
