/**
 * Text forms of binary trust structures, for files, tickets and the command line:
 * `<prefix>` + unpadded base64url of the CBOR bytes. Parsing is strict (one text per byte
 * string) and bounded: the length is checked before anything is decoded.
 */
import { OckamError, type OckamErrorCode } from '../errors.js'

const BASE64URL = /^[A-Za-z0-9_-]*$/

export function toTextForm(prefix: string, bytes: Uint8Array): string {
  return prefix + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/**
 * Returns the bytes of a text form. Surrounding whitespace (a trailing newline in a file) is
 * ignored; anything else that is not the exact output of toTextForm fails with `code`.
 */
export function fromTextForm(prefix: string, text: string, maxBytes: number, code: OckamErrorCode): Uint8Array {
  const invalid = (why: string): OckamError =>
    new OckamError(code, `not a valid text form: ${why}`, {
      hint: `expected text starting with '${prefix}' as printed by export; check the file or paste is complete`,
    })
  if (typeof text !== 'string') throw invalid('not a string')
  const maxChars = prefix.length + Math.ceil((maxBytes * 4) / 3) + 64
  if (text.length > maxChars) throw invalid(`longer than ${maxChars} characters`)
  const trimmed = text.trim()
  if (!trimmed.startsWith(prefix)) throw invalid(`missing prefix '${prefix}'`)
  const body = trimmed.slice(prefix.length)
  if (!BASE64URL.test(body) || body.length % 4 === 1) throw invalid('body is not unpadded base64url')
  const decoded = Buffer.from(body, 'base64url')
  // Non-zero unused bits in the last character would give a second text for the same bytes.
  if (decoded.toString('base64url') !== body) throw invalid('body is not canonical base64url')
  if (decoded.length > maxBytes) throw invalid(`longer than ${maxBytes} bytes`)
  // A copy, not a view of Node's shared Buffer pool, so the result can be transferred to a thread.
  return new Uint8Array(decoded)
}
