/**
 * The enrollment ticket as text (DESIGN §12): self-contained, so `enroll` needs nothing else.
 *
 *   ticket = [1, project-name: text, address: text (HOST:PORT), authority-history: bstr,
 *             code: bstr(32), expires: uint (Unix seconds)]
 *   text   = "ockam-ticket-v1:" + unpadded base64url(deterministic CBOR of ticket)
 *
 * The authority identity is both who answers the secure channel at the address and who signs
 * the credentials and revocations members will trust. `expires` is informational (the
 * authority enforces its own copy); the code is the secret: whoever holds the text can redeem
 * it, so it is written 0600 and never logged.
 */
import { OckamError } from '../errors.js'
import { type CborValue, decodeCbor, encodeCbor } from '../trust/cbor.js'
import { expectArray, expectByteString, expectBytes, expectUint } from '../trust/cbor-schema.js'
import { DEFAULT_MAX_IDENTITY_HISTORY_BYTES } from '../trust/constants.js'
import type { CryptoProvider } from '../trust/crypto/provider.js'
import { verifyIdentityHistory } from '../trust/identity/history.js'
import type { VerifiedIdentity } from '../trust/identity/types.js'
import { fromTextForm, toTextForm } from '../trust/text-form.js'
import { MAX_TICKET_BYTES, TICKET_CODE_BYTES, TICKET_TEXT_PREFIX } from './constants.js'
import { checkAdvertisedAddress, checkProjectName } from './project.js'

export const TICKET_VERSION = 1

export interface Ticket {
  readonly projectName: string
  /** HOST:PORT the project's secure-channel listener is reached at. */
  readonly address: string
  /** The authority's change history, as exported: the identity to trust. Not yet verified. */
  readonly authorityHistory: Uint8Array
  /** The one-time code (secret). */
  readonly code: Uint8Array
  /** Unix seconds. */
  readonly expires: number
}

function invalid(why: string, cause?: unknown): OckamError {
  return new OckamError('OCKAM_ERR_AUTHORITY_TICKET_TEXT_INVALID', `not a valid ticket: ${why}`, {
    cause,
    hint: `a ticket is one line starting with ${TICKET_TEXT_PREFIX}, as printed by project ticket; check it was copied whole`,
  })
}

export function encodeTicket(ticket: Ticket): string {
  checkProjectName(ticket.projectName)
  checkAdvertisedAddress(ticket.address)
  if (ticket.code.length !== TICKET_CODE_BYTES) throw invalid(`the code must be ${TICKET_CODE_BYTES} bytes`)
  const bytes = encodeCbor([
    TICKET_VERSION,
    ticket.projectName,
    ticket.address,
    ticket.authorityHistory,
    ticket.code,
    ticket.expires,
  ])
  if (bytes.length > MAX_TICKET_BYTES) throw invalid(`${bytes.length} bytes, at most ${MAX_TICKET_BYTES}`)
  return toTextForm(TICKET_TEXT_PREFIX, bytes)
}

/**
 * Parses a ticket text (surrounding whitespace ignored). Bounded: the length is checked before
 * base64url or CBOR decoding. Verifies nothing cryptographic: see verifyTicketAuthority.
 * Throws OCKAM_ERR_AUTHORITY_TICKET_TEXT_INVALID for anything malformed.
 */
export function decodeTicket(text: string): Ticket {
  const bytes = fromTextForm(TICKET_TEXT_PREFIX, text, MAX_TICKET_BYTES, 'OCKAM_ERR_AUTHORITY_TICKET_TEXT_INVALID')
  let value: CborValue
  try {
    value = decodeCbor(bytes, { maxBytes: MAX_TICKET_BYTES })
  } catch (cause) {
    throw invalid('its data is not well-formed', cause)
  }
  try {
    const [version, projectName, address, history, code, expires] = expectArray(value, 6, 'ticket')
    if (expectUint(version, 'ticket version') !== TICKET_VERSION) throw invalid(`unknown version ${String(version)}`)
    checkProjectName(projectName)
    checkAdvertisedAddress(address)
    const authorityHistory = expectByteString(history, 'ticket authority history')
    if (authorityHistory.length === 0 || authorityHistory.length > DEFAULT_MAX_IDENTITY_HISTORY_BYTES) {
      throw invalid('the authority history is empty or too large')
    }
    return {
      projectName,
      address,
      authorityHistory,
      code: expectBytes(code, TICKET_CODE_BYTES, 'ticket code'),
      expires: expectUint(expires, 'ticket expiry'),
    }
  } catch (cause) {
    if (cause instanceof OckamError && cause.code === 'OCKAM_ERR_AUTHORITY_TICKET_TEXT_INVALID') throw cause
    throw invalid(cause instanceof Error ? cause.message : 'malformed fields', cause)
  }
}

/**
 * Verifies the authority history a ticket carries and returns the identity to trust. Throws
 * the identity verification error (OCKAM_ERR_CBOR_*, OCKAM_ERR_IDENTITY_*).
 */
export function verifyTicketAuthority(ticket: Ticket, now: number, crypto: CryptoProvider): VerifiedIdentity {
  return verifyIdentityHistory(ticket.authorityHistory, { now }, crypto)
}
