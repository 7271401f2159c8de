/**
 * Numbers fixed by the Noise specification (revision 34) for the suites we implement. They are
 * protocol constants, not tunables: changing one breaks interoperability with the test vectors.
 */

/** Noise §3: every handshake and transport message is at most 65,535 bytes on the wire. */
export const NOISE_MAX_MESSAGE_BYTES = 65_535

/** DHLEN for 25519. */
export const NOISE_DH_BYTES = 32

/** HASHLEN for SHA256; also the length of h, ck and every derived cipher key. */
export const NOISE_HASH_BYTES = 32

/** Length of the AEAD authentication tag appended by ENCRYPT (AESGCM and ChaChaPoly). */
export const NOISE_TAG_BYTES = 16

/**
 * The largest nonce a cipher state will use. Noise allows up to 2^64-2 (2^64-1 is reserved for
 * REKEY); we stop at 2^53-1 so a nonce stays an exact JavaScript number on every hot path.
 * At a million messages a second that is 285 years of one channel.
 */
export const NOISE_MAX_NONCE = Number.MAX_SAFE_INTEGER
