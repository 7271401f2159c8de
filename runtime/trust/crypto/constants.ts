/**
 * How many Ed25519 public keys the native provider keeps as ready-made OpenSSL key objects for
 * verification, least recently used first out. Verifiers see the same few identities again and
 * again (change histories, credentials, attestations); 256 entries hold a busy node's working
 * set for well under 100 KiB. Unit: entries.
 */
export const DEFAULT_VERIFY_KEY_CACHE_ENTRIES = 256

/** RFC 5869: HKDF-SHA256 output is at most 255 blocks of 32 bytes. Unit: bytes. */
export const HKDF_SHA256_MAX_OUTPUT_BYTES = 255 * 32

/** The most bytes one randomBytes call returns (node:crypto's own limit, 2^31 - 1). Unit: bytes. */
export const RANDOM_BYTES_MAX = 2 ** 31 - 1
