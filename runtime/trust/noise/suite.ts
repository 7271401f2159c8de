/**
 * The two Noise protocols we speak and how each encodes its 64-bit nonce into the 96-bit AEAD
 * nonce (Noise §12.3 / §12.4). Both use 25519 for DH and SHA256 for hashing.
 */
import { OckamError } from '../../errors.js'
import { AEAD_NONCE_BYTES, type AeadAlgorithm } from '../crypto/provider.js'

export type NoiseCipherName = 'AESGCM' | 'ChaChaPoly'

export type NoiseProtocolName = 'Noise_XX_25519_AESGCM_SHA256' | 'Noise_XX_25519_ChaChaPoly_SHA256'

export interface NoiseSuite {
  readonly protocolName: NoiseProtocolName
  readonly cipher: NoiseCipherName
  readonly aead: AeadAlgorithm
  /** True when the 64-bit counter is written big-endian after the 4 zero bytes (AESGCM). */
  readonly bigEndianNonce: boolean
}

export const NOISE_XX_AESGCM: NoiseSuite = Object.freeze({
  protocolName: 'Noise_XX_25519_AESGCM_SHA256',
  cipher: 'AESGCM',
  aead: 'aes-256-gcm',
  bigEndianNonce: true,
})

export const NOISE_XX_CHACHAPOLY: NoiseSuite = Object.freeze({
  protocolName: 'Noise_XX_25519_ChaChaPoly_SHA256',
  cipher: 'ChaChaPoly',
  aead: 'chacha20-poly1305',
  bigEndianNonce: false,
})

/** Every suite we accept, the default (DESIGN §5: AESGCM; ChaChaPoly as an option) first. */
export const NOISE_SUITES: readonly NoiseSuite[] = Object.freeze([NOISE_XX_AESGCM, NOISE_XX_CHACHAPOLY])

/** Looks a suite up by its full Noise protocol name; anything else is refused, never guessed. */
export function noiseSuiteByName(protocolName: string): NoiseSuite {
  for (const suite of NOISE_SUITES) if (suite.protocolName === protocolName) return suite
  throw new OckamError('OCKAM_ERR_NOISE_UNSUPPORTED', `unsupported Noise protocol ${JSON.stringify(protocolName)}`, {
    hint: `use one of ${NOISE_SUITES.map((s) => s.protocolName).join(', ')}`,
  })
}

const TWO_POW_32 = 0x1_0000_0000

/**
 * The 12-byte AEAD nonce for Noise nonce `n` (a safe integer): 4 zero bytes, then the 64-bit
 * counter, big-endian for AESGCM and little-endian for ChaChaPoly.
 */
export function encodeNoiseNonce(suite: NoiseSuite, n: number): Uint8Array {
  const out = new Uint8Array(AEAD_NONCE_BYTES)
  const view = new DataView(out.buffer)
  const high = Math.floor(n / TWO_POW_32)
  const low = n >>> 0
  if (suite.bigEndianNonce) {
    view.setUint32(4, high, false)
    view.setUint32(8, low, false)
  } else {
    view.setUint32(4, low, true)
    view.setUint32(8, high, true)
  }
  return out
}

/** Nonce 2^64-1, reserved for REKEY: all counter bytes are 0xff, so both byte orders agree. */
export function rekeyNonce(): Uint8Array {
  const out = new Uint8Array(AEAD_NONCE_BYTES)
  out.fill(0xff, 4)
  return out
}
