/**
 * Shape checks for decoded CBOR: each takes the value and a name for the message, and returns
 * it typed or throws OCKAM_ERR_CBOR_SCHEMA. The parsers of signed structures are made of these.
 */
import { OckamError } from '../errors.js'
import type { CborValue } from './cbor.js'

export function schemaError(what: string, expected: string): OckamError {
  return new OckamError('OCKAM_ERR_CBOR_SCHEMA', `${what} must be ${expected}`, {
    hint: 'the data is damaged, forged or from an incompatible version; ask the sender for a fresh copy',
  })
}

export function expectArray(value: CborValue, length: number, what: string): readonly CborValue[] {
  if (!Array.isArray(value) || value.length !== length) throw schemaError(what, `an array of ${length} items`)
  return value as readonly CborValue[]
}

export function expectArrayOf(value: CborValue, min: number, max: number, what: string): readonly CborValue[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    throw schemaError(what, `an array of ${min} to ${max} items`)
  }
  return value as readonly CborValue[]
}

export function expectBytes(value: CborValue | undefined, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) throw schemaError(what, `${length} bytes`)
  return value
}

export function expectByteString(value: CborValue | undefined, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw schemaError(what, 'a byte string')
  return value
}

export function expectUint(value: CborValue | undefined, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw schemaError(what, 'an unsigned integer')
  }
  return value
}

export function expectMap(value: CborValue | undefined, what: string): ReadonlyMap<string, CborValue> {
  if (!(value instanceof Map)) throw schemaError(what, 'a map')
  return value as ReadonlyMap<string, CborValue>
}

export function isNull(value: CborValue | undefined): value is null {
  return value === null
}
