/** Shared helpers for the identity, purpose key and credential tests. */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { createNativeCryptoProvider } from '../../../runtime/trust/crypto/native.js'
import { createMemorySigner } from '../../../runtime/trust/identity/memory-signer.js'

export const crypto = createNativeCryptoProvider()
export const signer = createMemorySigner(crypto)

/** A fixed clock for the tests, in Unix seconds. */
export const T0 = 1_750_000_000

/** Codes a refusal of trust data may carry: anything else (INTERNAL, a raw TypeError) is a bug. */
const TRUST_CODE = /^OCKAM_ERR_(CBOR|IDENTITY|PURPOSE_KEY|CREDENTIAL)_/

/** Runs `fn`, asserts it throws a typed trust error (optionally `code`), returns the code. */
export function refusal(fn: () => unknown, code?: OckamErrorCode): OckamErrorCode {
  try {
    fn()
  } catch (error) {
    assert.ok(isOckamError(error), `expected an OckamError, got ${String(error)}`)
    if (code === undefined) assert.match(error.code, TRUST_CODE)
    else assert.equal(error.code, code, error.message)
    return error.code
  }
  assert.fail(`expected a refusal${code === undefined ? '' : ` with ${code}`}, but it was accepted`)
}

export async function refusalAsync(fn: () => Promise<unknown>, code: OckamErrorCode): Promise<void> {
  await assert.rejects(fn, (error: unknown) => isOckamError(error, code))
}

/** One-byte changes of `bytes`: each position xor'ed with 0x01, 0x80 and 0xff (low bit, high bit, all bits). */
export function* singleByteChanges(bytes: Uint8Array): Generator<{ index: number; mutated: Uint8Array }> {
  for (let index = 0; index < bytes.length; index++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const mutated = bytes.slice()
      mutated[index] = (mutated[index] as number) ^ mask
      yield { index, mutated }
    }
  }
}

/** A mutation of a valid encoding: replace, insert or delete bytes, or truncate. */
export function mutationOf(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const at = fc.nat({ max: Math.max(0, bytes.length - 1) })
  return fc.oneof(
    fc.tuple(at, fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const out = bytes.slice()
      out[i] = (out[i] as number) ^ x
      return out
    }),
    fc.tuple(at, fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([i, extra]) => {
      const out = new Uint8Array(bytes.length + extra.length)
      out.set(bytes.subarray(0, i), 0)
      out.set(extra, i)
      out.set(bytes.subarray(i), i + extra.length)
      return out
    }),
    fc.tuple(at, fc.integer({ min: 1, max: 4 })).map(([i, n]) => {
      const out = new Uint8Array(bytes.length - Math.min(n, bytes.length - i))
      out.set(bytes.subarray(0, i), 0)
      out.set(bytes.subarray(i + n), i)
      return out
    }),
    at.map((i) => bytes.slice(0, i)),
  )
}
