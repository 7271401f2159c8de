/**
 * The Noise prologue of our secure channel. Noise mixes the prologue into h before the first
 * message, so if the two sides disagree on any byte of it, message 2 fails to authenticate. The
 * wire version and the suite are chosen from unauthenticated bytes (a version byte, a suite
 * offer); binding them here means a man in the middle who rewrites either gets a failed
 * handshake, never a downgraded one (DESIGN §5).
 *
 * Exact bytes: the ASCII string `ockam-runtime/<wireVersion>/<protocolName>`, with wireVersion in
 * decimal without leading zeros, e.g. `ockam-runtime/1/Noise_XX_25519_AESGCM_SHA256`
 * (44 bytes). The protocol name is also hashed into h by InitializeSymmetric; naming it again
 * keeps the whole channel identity in one readable string.
 */
import { OckamError } from '../../errors.js'
import type { NoiseSuite } from './suite.js'

export const PROLOGUE_LABEL = 'ockam-runtime'

/** The largest wire version the prologue accepts: a version is carried in one byte on the wire. */
export const PROLOGUE_MAX_WIRE_VERSION = 255

export function secureChannelPrologue(wireVersion: number, suite: NoiseSuite): Uint8Array {
  if (!Number.isInteger(wireVersion) || wireVersion < 0 || wireVersion > PROLOGUE_MAX_WIRE_VERSION) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `wire version ${wireVersion} is not an integer in 0..255`)
  }
  return new TextEncoder().encode(`${PROLOGUE_LABEL}/${wireVersion}/${suite.protocolName}`)
}
