/**
 * Deterministic CBOR for signed structures (DESIGN §5, §12). Structs are encoded as arrays.
 *
 * The profile: unsigned and negative integers within the safe-integer range, byte strings, text
 * strings, arrays, maps with text keys, true, false, null. No tags, floats, undefined, other
 * simple values or indefinite lengths. One value has exactly one accepted encoding (RFC 8949
 * §4.2.1 core deterministic encoding), so a signature or hash over the bytes means one thing.
 *
 * Decoding is built on cborg with its strict options. cborg alone was checked (see
 * test/unit/identity/cbor.test.ts) and found to reject non-minimal integers and lengths,
 * indefinite lengths, duplicate map keys, trailing bytes, tags, undefined and big integers.
 * What it does not do, and this module adds:
 * - a size bound and a nesting-depth bound, checked by an iterative pre-scan before cborg runs:
 *   cborg recurses per nesting level, so ~10k nested arrays overflow the stack (RangeError);
 * - refusal of floats and of non-text map keys in the pre-scan: cborg accepts 1.0 encoded as a
 *   half float and returns the number 1, and with `useMaps` compares byte-string keys by
 *   identity, so duplicate byte-string keys would pass `rejectDuplicateMapKeys`;
 * - a canonical-form check (re-encode the decoded value, compare bytes): cborg does not enforce
 *   map key order and decodes invalid UTF-8 (and a leading BOM) lossily, so two different byte
 *   strings could decode to the same value. The re-encoding is only compared, never signed or
 *   verified: signatures are always checked over the bytes received.
 */
import { decode as cborgDecode, encode as cborgEncode, rfc8949EncodeOptions } from 'cborg'
import { OckamError, type OckamErrorCode } from '../errors.js'
import { DEFAULT_CBOR_MAX_BYTES, DEFAULT_CBOR_MAX_DEPTH } from './constants.js'

export type CborValue =
  | number
  | string
  | boolean
  | null
  | Uint8Array
  | readonly CborValue[]
  | ReadonlyMap<string, CborValue>

export interface CborLimits {
  /** Largest accepted input in bytes; default DEFAULT_CBOR_MAX_BYTES. */
  maxBytes?: number
  /** Deepest accepted nesting of arrays and maps; default DEFAULT_CBOR_MAX_DEPTH. */
  maxDepth?: number
}

const DECODE_OPTIONS = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  useMaps: true,
} as const

function fail(code: OckamErrorCode, message: string, offset?: number): never {
  throw new OckamError(code, offset === undefined ? message : `${message} at byte ${offset}`, {
    hint: 'the data is damaged, forged or from an incompatible version; ask the sender for a fresh copy',
    ...(offset === undefined ? {} : { data: { offset } }),
  })
}

// With the u flag a well-formed surrogate pair is one code point, so only lone halves match.
const LONE_SURROGATE = /\p{Cs}/u

function isByteString(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array
}

function checkEncodable(value: unknown, depth: number): void {
  if (depth > DEFAULT_CBOR_MAX_DEPTH) fail('OCKAM_ERR_CBOR_UNENCODABLE', 'value nests too deeply')
  switch (typeof value) {
    case 'number':
      if (!Number.isSafeInteger(value)) fail('OCKAM_ERR_CBOR_UNENCODABLE', `number ${value} is not a safe integer`)
      return
    case 'string':
      // A lone surrogate would be encoded as U+FFFD, and a leading U+FEFF is dropped by the
      // decoder's TextDecoder: either way the value would not survive a round trip.
      if (LONE_SURROGATE.test(value) || value.charCodeAt(0) === 0xfeff) {
        fail('OCKAM_ERR_CBOR_UNENCODABLE', 'text with a lone surrogate or a leading U+FEFF')
      }
      return
    case 'boolean':
      return
    case 'object':
      if (value === null || isByteString(value)) return
      if (Array.isArray(value)) {
        for (const item of value) checkEncodable(item, depth + 1)
        return
      }
      if (value instanceof Map) {
        for (const [key, item] of value) {
          if (typeof key !== 'string') fail('OCKAM_ERR_CBOR_UNENCODABLE', 'map keys must be strings')
          checkEncodable(item, depth + 1)
        }
        return
      }
      break
  }
  fail('OCKAM_ERR_CBOR_UNENCODABLE', `a ${typeof value} is outside the CBOR profile`)
}

/** Encodes a value in deterministic CBOR (RFC 8949 §4.2.1: shortest forms, bytewise-sorted map keys). */
export function encodeCbor(value: CborValue): Uint8Array {
  checkEncodable(value, 0)
  const encoded = cborgEncode(value, rfc8949EncodeOptions)
  // cborg hands back a Buffer for larger outputs on Node; callers get one type (plain
  // Uint8Array, as everywhere in the trust libraries), a view with no copy.
  return Object.getPrototypeOf(encoded) === Uint8Array.prototype
    ? encoded
    : new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength)
}

function readArgument(bytes: Uint8Array, pos: number, size: number): number {
  let value = 0
  // Past 2^53 precision is lost, which is harmless: the value is only compared with the input length.
  for (let i = 0; i < size; i++) value = value * 256 + (bytes[pos + i] as number)
  return value
}

/**
 * Walks the data item without building anything: checks well-formedness, the depth bound, the
 * profile (no tags, floats, simple values, non-text keys, indefinite lengths) and that no byte
 * follows the item. Iterative, so hostile nesting cannot exhaust the stack.
 */
function prescan(bytes: Uint8Array, maxDepth: number): void {
  const length = bytes.length
  if (length === 0) fail('OCKAM_ERR_CBOR_MALFORMED', 'empty input')
  // Items still expected by each open array or map (a map expects two per entry).
  const open: number[] = []
  const openIsMap: boolean[] = []
  let pos = 0
  for (;;) {
    const top = open.length - 1
    const atMapKey = top >= 0 && openIsMap[top] === true && (open[top] as number) % 2 === 0
    if (pos >= length) fail('OCKAM_ERR_CBOR_MALFORMED', 'input ends inside a data item', pos)
    const start = pos
    const initial = bytes[pos++] as number
    const major = initial >> 5
    const info = initial & 31
    if (info === 31) {
      if (major === 0 || major === 1 || major === 6)
        fail('OCKAM_ERR_CBOR_MALFORMED', 'reserved additional information', start)
      fail('OCKAM_ERR_CBOR_INDEFINITE_LENGTH', 'indefinite length or break', start)
    }
    if (info >= 28) fail('OCKAM_ERR_CBOR_MALFORMED', 'reserved additional information', start)
    if (atMapKey && major !== 3) fail('OCKAM_ERR_CBOR_UNSUPPORTED', 'map key is not a text string', start)
    let argument = info
    if (info >= 24) {
      const size = 1 << (info - 24)
      if (major === 7) {
        fail('OCKAM_ERR_CBOR_UNSUPPORTED', size === 1 ? 'simple value' : 'floating-point number', start)
      }
      if (length - pos < size) fail('OCKAM_ERR_CBOR_MALFORMED', 'input ends inside a data item head', start)
      argument = readArgument(bytes, pos, size)
      pos += size
    }
    let container = false
    switch (major) {
      case 2:
      case 3:
        if (argument > length - pos) fail('OCKAM_ERR_CBOR_MALFORMED', 'string runs past the end of the input', start)
        pos += argument
        break
      case 4:
      case 5: {
        const items = major === 5 ? argument * 2 : argument
        // Every item takes at least one byte, so a count beyond the remaining input is a lie.
        if (items > length - pos)
          fail('OCKAM_ERR_CBOR_MALFORMED', 'container claims more items than the input holds', start)
        if (open.length + 1 > maxDepth) fail('OCKAM_ERR_CBOR_TOO_DEEP', `nesting deeper than ${maxDepth}`, start)
        if (items > 0) {
          open.push(items)
          openIsMap.push(major === 5)
          container = true
        }
        break
      }
      case 6:
        fail('OCKAM_ERR_CBOR_UNSUPPORTED', 'tag', start)
        break
      case 7:
        if (info < 20 || info > 22)
          fail('OCKAM_ERR_CBOR_UNSUPPORTED', info === 23 ? 'undefined' : 'simple value', start)
        break
    }
    if (container) continue
    // An item is complete: count it against the containers it closes.
    for (;;) {
      const last = open.length - 1
      if (last < 0) {
        if (pos !== length) fail('OCKAM_ERR_CBOR_TRAILING_BYTES', `${length - pos} bytes after the data item`, pos)
        return
      }
      const left = (open[last] as number) - 1
      if (left > 0) {
        open[last] = left
        break
      }
      open.pop()
      openIsMap.pop()
    }
  }
}

function classifyCborgError(cause: unknown): OckamError {
  const message = cause instanceof Error ? cause.message : String(cause)
  let code: OckamErrorCode = 'OCKAM_ERR_CBOR_MALFORMED'
  if (message.includes('more bytes than necessary')) code = 'OCKAM_ERR_CBOR_NON_CANONICAL'
  else if (message.includes('repeat map key')) code = 'OCKAM_ERR_CBOR_DUPLICATE_KEY'
  else if (message.includes('indefinite length')) code = 'OCKAM_ERR_CBOR_INDEFINITE_LENGTH'
  else if (message.includes('not supported') || message.includes('not allowed')) code = 'OCKAM_ERR_CBOR_UNSUPPORTED'
  return new OckamError(code, `CBOR rejected: ${message}`, {
    cause,
    hint: 'the data is damaged, forged or from an incompatible version; ask the sender for a fresh copy',
  })
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Decodes exactly one deterministic-CBOR data item, refusing anything outside the profile with a
 * typed OCKAM_ERR_CBOR_* error. Byte strings in the result are copies, not views of `bytes`.
 * Pure and synchronous: safe to call on a pool thread.
 */
export function decodeCbor(bytes: Uint8Array, limits: CborLimits = {}): CborValue {
  const maxBytes = limits.maxBytes ?? DEFAULT_CBOR_MAX_BYTES
  const maxDepth = limits.maxDepth ?? DEFAULT_CBOR_MAX_DEPTH
  if (!(bytes instanceof Uint8Array)) fail('OCKAM_ERR_CBOR_MALFORMED', 'input is not a byte array')
  if (bytes.length > maxBytes) {
    throw new OckamError('OCKAM_ERR_CBOR_TOO_LARGE', `input of ${bytes.length} bytes exceeds ${maxBytes}`, {
      hint: 'the sender is misconfigured or hostile',
      data: { length: bytes.length, maxBytes },
    })
  }
  prescan(bytes, maxDepth)
  let value: CborValue
  try {
    value = cborgDecode(bytes, DECODE_OPTIONS) as CborValue
  } catch (cause) {
    throw classifyCborgError(cause)
  }
  if (!equalBytes(cborgEncode(value, rfc8949EncodeOptions), bytes)) {
    fail('OCKAM_ERR_CBOR_NON_CANONICAL', 'input is not the deterministic encoding of its value')
  }
  return value
}
