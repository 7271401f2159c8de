/** RFC 5869: HKDF-SHA256 output is at most 255 blocks of 32 bytes. Unit: bytes. */
export const HKDF_SHA256_MAX_OUTPUT_BYTES = 255 * 32

/** The most bytes one randomBytes call returns (node:crypto's own limit, 2^31 - 1). Unit: bytes. */
export const RANDOM_BYTES_MAX = 2 ** 31 - 1
