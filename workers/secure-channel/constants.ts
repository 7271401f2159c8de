/**
 * Defaults and fixed sizes of the secure channel's transport (post-handshake) cipher. Both sides
 * of a channel must use the same rekey interval and maximum message size: they are part of the
 * protocol, not local tuning.
 */
import { type Address, LOCAL } from '../../runtime/address.js'
import { NOISE_MAX_MESSAGE_BYTES, NOISE_TAG_BYTES } from '../../runtime/trust/noise/constants.js'

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

/** The address every node's secure-channel listener takes by default (what `/secure/api` names). */
export const DEFAULT_SECURE_CHANNEL_LISTENER_ADDRESS = 'api'

/**
 * Version of the secure-channel handshake, sent in clear in message 1 and bound by the Noise
 * prologue (with the suite), so a rewritten version byte fails the handshake instead of
 * downgrading it.
 */
export const SECURE_CHANNEL_WIRE_VERSION = 2

/**
 * The decryptor's second address is `sc-<id>-p` (its first is `sc-<id>-d`): where the peer
 * sends sealed frames of nested channels in the clear (PROTOCOL.md, "Passthrough").
 */
export const PASSTHROUGH_SUFFIX = 'p'

/** A secure channel's decryptor address, `sc-<id>-d`. */
export function isDecryptorAddress(address: Address | undefined): boolean {
  return address !== undefined && address.type === LOCAL && /^sc-[0-9a-z]+-d$/.test(address.value)
}

/**
 * A sealed frame is passed through only toward the plumbing that takes passed-through frames on
 * the peer (their access controls say `acceptsSealed`): a relay's forwarder (`forward_to_NAME`),
 * a relay registration's receiver (`relay-NAME-…`), a channel's decryptor (`sc-ID-d`). Anything
 * else beyond the channel (a generic forwarder, a service) gets the frame sealed as before.
 * test/unit/secure-channel/passthrough.test.ts keeps this in step with the relay's names.
 */
export function passesThroughTo(next: Address | undefined): boolean {
  if (next === undefined || next.type !== LOCAL) return false
  return next.value.startsWith('forward_to_') || next.value.startsWith('relay-') || isDecryptorAddress(next)
}

/**
 * Milliseconds a handshake may take, from message 1 to the channel being usable (initiator) or
 * from message 1 to message 3 (responder). Three messages and two pool verifications take a few
 * ms on loopback; 10 s leaves room for slow paths through a relay and a busy pool, and is short
 * enough that a half-open slot held by a silent peer comes back quickly.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000

/**
 * Handshakes a listener holds half-open at once (message 1 answered, message 3 not yet
 * verified), whatever path they came from. Each costs the responder an X25519 key pair, two DH
 * and a vault slot; beyond this, message 1 is dropped and counted.
 */
export const DEFAULT_MAX_HALF_OPEN_PER_LISTENER = 256

/**
 * Half-open handshakes one incoming path (one TCP connection, relay registration or enclosing
 * channel) may hold on a listener: one noisy peer cannot take every slot of the listener. A
 * relay registration carries its member's sessions, which reuse channels, so 16 is plenty.
 */
export const DEFAULT_MAX_HALF_OPEN_PER_CONNECTION = 16

/**
 * Largest application payload (unit: bytes) one channel message carries. Larger than one Noise
 * message: payloads that do not fit one frame are split into fragments and reassembled in order
 * (an ordered channel never loses or reorders fragments; a gap closes it). Bounds what a
 * receiver holds for one message in reassembly.
 */
export const DEFAULT_MAX_CHANNEL_MESSAGE_BYTES = 256 * 1024

/**
 * Batching (PROTOCOL.md, "Batching"): a message whose plaintext is at most this many bytes (unit:
 * bytes) waits, with the channel's other small messages, until the end of the current turn of
 * the event loop, and they leave sealed in one frame. Larger ones (bulk data) leave at once.
 */
export const DEFAULT_BATCH_MAX_ITEM_BYTES = 4 * 1024

/**
 * A batch leaves at once when it holds this many bytes (unit: bytes), without waiting for the end
 * of the turn: enough small messages to amortise a seal, never a frame's worth of delay for bulk.
 */
export const DEFAULT_BATCH_FLUSH_BYTES = 16 * 1024

/** Smallest delay before an automatic credential refresh (unit: ms), whatever the lifetime. */
export const MIN_CREDENTIAL_REFRESH_DELAY_MS = 1_000

/**
 * Lifetime of a secure-channel static key attestation made by createSecureChannelIdentity (unit:
 * seconds): 30 days. Peers refuse an expired attestation; the owner attests its key again.
 */
export const DEFAULT_SECURE_CHANNEL_KEY_LIFETIME_SECONDS = 30 * 86_400
