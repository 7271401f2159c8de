/**
 * Defaults and fixed sizes of the secure channel's transport (post-handshake) cipher. Both sides
 * of a channel must use the same rekey interval and maximum message size: they are part of the
 * protocol, not local tuning.
 */
import { NOISE_MAX_MESSAGE_BYTES, NOISE_TAG_BYTES } from './noise/constants.js'

/**
 * Messages sealed under one key before the sender applies Noise REKEY (unit: frames). Ockam
 * uses 32. Small enough that a leaked transport key exposes at most 32 frames forward of it
 * (REKEY is one-way), large enough that rekeying (one 32-byte AEAD seal) costs nothing measurable.
 */
export const DEFAULT_REKEY_INTERVAL_MESSAGES = 32

/** Upper bound on the rekey interval option (unit: frames): rekeying must actually happen. */
export const MAX_REKEY_INTERVAL_MESSAGES = 2 ** 32

/**
 * Width of the anti-replay window in reordering mode (unit: frames behind the highest accepted
 * nonce). RFC 4303 (IPsec ESP) makes 64 the default; a frame older than that is rejected.
 */
export const DEFAULT_REPLAY_WINDOW_FRAMES = 64

/** Upper bound on the replay window option (unit: frames); the bitmap is window/8 bytes. */
export const MAX_REPLAY_WINDOW_FRAMES = 65_536

/** Bytes of the big-endian nonce in front of each transport frame's ciphertext. */
export const TRANSPORT_NONCE_BYTES = 8

/**
 * Largest Noise transport message (ciphertext ‖ tag) by default (unit: bytes): the Noise
 * limit, so the largest plaintext per frame is 65,519 bytes and the largest frame 65,543.
 */
export const DEFAULT_MAX_TRANSPORT_MESSAGE_BYTES = NOISE_MAX_MESSAGE_BYTES

/**
 * Hard ceiling for a deliberately lifted maximum message size (unit: bytes). Lifting the Noise
 * limit is a protocol change both sides must make; this only stops absurd values.
 */
export const MAX_TRANSPORT_MESSAGE_BYTES_LIMIT = 16 * 1024 * 1024

/** Bytes a frame adds to its plaintext: the nonce and the AEAD tag. */
export const TRANSPORT_FRAME_OVERHEAD_BYTES = TRANSPORT_NONCE_BYTES + NOISE_TAG_BYTES
