/**
 * Limits and tolerances of the trust libraries (deterministic CBOR, identities, purpose keys,
 * credentials). Every decoder checks its input against these before it allocates anything
 * derived from the input. They are sized so that a Noise handshake message (at most 65,535
 * bytes) can carry one identity history, one attestation and a few credentials.
 */

/** Largest CBOR input the generic strict decoder accepts, in bytes. */
export const DEFAULT_CBOR_MAX_BYTES = 64 * 1024

/**
 * Deepest nesting of arrays and maps the strict decoder accepts. Our structures nest at most 3
 * deep; the bound exists because the underlying decoder recurses and would overflow the stack.
 */
export const DEFAULT_CBOR_MAX_DEPTH = 16

/** Tolerated difference between the verifier's clock and the signer's, in seconds (DESIGN §6). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60

/** Most changes (the first key plus rotations) an identity history may hold. */
export const DEFAULT_MAX_IDENTITY_CHANGES = 16

/** Largest encoded identity change history, in bytes (16 changes take about 3.5 KiB). */
export const DEFAULT_MAX_IDENTITY_HISTORY_BYTES = 8 * 1024

/** Largest encoded purpose key attestation, in bytes (a valid one takes about 200). */
export const DEFAULT_MAX_ATTESTATION_BYTES = 1024

/** Largest encoded credential presentation (credential plus issuer attestation), in bytes. */
export const DEFAULT_MAX_CREDENTIAL_BYTES = 8 * 1024

/** Most attributes one credential may carry. */
export const DEFAULT_MAX_CREDENTIAL_ATTRIBUTES = 32

/** Longest attribute name, in UTF-8 bytes. */
export const DEFAULT_MAX_ATTRIBUTE_KEY_BYTES = 64

/** Longest attribute value, in UTF-8 bytes. */
export const DEFAULT_MAX_ATTRIBUTE_VALUE_BYTES = 512

/**
 * Most identifiers an in-memory identity store remembers before it forgets the least recently
 * accepted one (an unbounded map would let anyone with fresh identities grow our memory).
 */
export const DEFAULT_MAX_KNOWN_IDENTITIES = 10_000

/** Most items one verifyBatch call accepts, so one pool task cannot hold a thread for long. */
export const DEFAULT_MAX_VERIFY_BATCH_ITEMS = 256

/** Most credentials one peer (one handshake) may present. */
export const DEFAULT_MAX_PEER_CREDENTIALS = 4
