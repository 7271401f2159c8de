/**
 * Domain separation of signatures. One Ed25519 primary key signs both identity changes and
 * purpose key attestations, so each signature covers `<domain> 0x00 <data>` and a signature made
 * for one kind of structure can never be presented as another, whatever the data bytes hold.
 */
import { concatBytes, utf8 } from '../bytes.js'

export const SIGNING_DOMAINS = {
  change: 'ockam-runtime/identity-change/v1',
  purposeKey: 'ockam-runtime/purpose-key-attestation/v1',
  credential: 'ockam-runtime/credential/v1',
} as const

export type SigningDomain = keyof typeof SIGNING_DOMAINS

const PREFIXES: Record<SigningDomain, Uint8Array> = {
  change: concatBytes(utf8(SIGNING_DOMAINS.change), new Uint8Array([0])),
  purposeKey: concatBytes(utf8(SIGNING_DOMAINS.purposeKey), new Uint8Array([0])),
  credential: concatBytes(utf8(SIGNING_DOMAINS.credential), new Uint8Array([0])),
}

/** The exact bytes that are signed and verified for `data` in `domain`. */
export function signingInput(domain: SigningDomain, data: Uint8Array): Uint8Array {
  return concatBytes(PREFIXES[domain], data)
}
