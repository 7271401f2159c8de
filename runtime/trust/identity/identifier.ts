/** Identifiers: `I` + 64 lowercase hex digits of SHA-256 over the first change's data bytes. */
import { OckamError } from '../../errors.js'
import { toHex } from '../bytes.js'

const IDENTIFIER = /^I[0-9a-f]{64}$/

export function identifierFromHash(hash: Uint8Array): string {
  return `I${toHex(hash)}`
}

export function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && IDENTIFIER.test(value)
}

/** The 32 hash bytes an identifier stands for; throws OCKAM_ERR_IDENTITY_INVALID_IDENTIFIER. */
export function identifierBytes(identifier: string): Uint8Array {
  if (!isIdentifier(identifier)) {
    const given: unknown = identifier
    const shown = typeof given === 'string' ? JSON.stringify(given.slice(0, 80)) : typeof given
    throw new OckamError('OCKAM_ERR_IDENTITY_INVALID_IDENTIFIER', `${shown} is not an identifier`, {
      hint: 'an identifier is I followed by 64 lowercase hex digits, as `identity show` prints it',
    })
  }
  return new Uint8Array(Buffer.from(identifier.slice(1), 'hex'))
}
