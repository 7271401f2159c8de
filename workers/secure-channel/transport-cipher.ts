/**
 * The post-handshake frame cipher of the secure channel (DESIGN §5). Pure: bytes in, bytes out.
 *
 * Frame = 8-byte big-endian nonce n ‖ ENCRYPT(k_i, n, empty ad, plaintext), where the key of
 * interval i = floor(n / rekeyInterval) is REKEY applied i times to the split() key. The nonce
 * keeps counting across rekeys, so no (key, nonce) pair ever repeats and a frame names its key.
 *
 * Receiver rules, each closing a known hole:
 * - state (next nonce, window bits, current key) is committed only after the AEAD tag verified,
 *   so tampered, forged or replayed frames change nothing;
 * - a key is derived at most one interval ahead of the last authenticated frame, so a forged
 *   nonce costs at most one REKEY, and a nonce far ahead (2^63, 2^64-1) costs none;
 * - over an ordered path only the next nonce is accepted: a higher one means a frame was lost,
 *   reported as OCKAM_ERR_NOISE_NONCE_GAP, on which the channel must close (a dropped frame must
 *   never become a silent hole in a stream);
 * - over a reordering path a sliding bitmap window accepts each nonce at most once.
 */
import { OckamError } from '../../runtime/errors.js'
import { copyBytes } from '../../runtime/trust/bytes.js'
import { AEAD_KEY_BYTES, type CryptoProvider } from '../../runtime/trust/crypto/provider.js'
import { noiseDecrypt, noiseEncryptParts, noiseRekey } from '../../runtime/trust/noise/cipher-state.js'
import { NOISE_MAX_NONCE, NOISE_TAG_BYTES } from '../../runtime/trust/noise/constants.js'
import type { NoiseSuite } from '../../runtime/trust/noise/suite.js'
import {
  DEFAULT_MAX_TRANSPORT_MESSAGE_BYTES,
  DEFAULT_REKEY_INTERVAL_MESSAGES,
  DEFAULT_REPLAY_WINDOW_FRAMES,
  MAX_REKEY_INTERVAL_MESSAGES,
  MAX_REPLAY_WINDOW_FRAMES,
  MAX_TRANSPORT_MESSAGE_BYTES_LIMIT,
  TRANSPORT_NONCE_BYTES,
} from './constants.js'

const EMPTY = new Uint8Array(0)
const TWO_POW_32 = 0x1_0000_0000
/** A nonce whose high word exceeds this is not a safe integer: beyond any key we would derive. */
const MAX_SAFE_HIGH_WORD = Math.floor(NOISE_MAX_NONCE / TWO_POW_32)

export interface TransportCipherOptions {
  readonly provider: CryptoProvider
  readonly suite: NoiseSuite
  /** The split() key for this direction; copied, never modified in place by the caller's side. */
  readonly key: Uint8Array
  /** Frames per key before REKEY; both sides must agree. Default DEFAULT_REKEY_INTERVAL_MESSAGES. */
  readonly rekeyInterval?: number
  /** Largest Noise message (ciphertext ‖ tag); both sides must agree. Default 65,535. */
  readonly maxMessageBytes?: number
}

export type TransportOrdering = 'ordered' | 'reordering'

export interface TransportReceiverOptions extends TransportCipherOptions {
  /** 'ordered' (default): exactly the next nonce. 'reordering': a replay window. */
  readonly ordering?: TransportOrdering
  /** Window width in frames for 'reordering'. Default DEFAULT_REPLAY_WINDOW_FRAMES. */
  readonly replayWindowFrames?: number
}

export interface TransportSenderState {
  readonly nextNonce: number
  readonly keyInterval: number
}

export interface TransportReceiverState {
  readonly ordering: TransportOrdering
  /** Ordered: the only nonce acceptable next. Reordering: highest accepted + 1. */
  readonly nextNonce: number
  /** Interval of the newest key held (that of the last authenticated frame; 0 before any). */
  readonly keyInterval: number
  /** Intervals whose keys are held (reordering keeps older ones while the window covers them). */
  readonly heldKeyIntervals: readonly number[]
  /** Reordering only: the window bitmap, hex, indexed by nonce modulo the window width. */
  readonly window?: string
}

export interface TransportSender {
  /** Largest plaintext one frame carries. */
  readonly maxPlaintextBytes: number
  /**
   * Seals one plaintext into one frame (nonce ‖ ciphertext ‖ tag). The plaintext may be given in
   * parts (routes, then a payload): they are sealed as their concatenation, never copied into one.
   */
  seal(plaintext: Uint8Array | readonly Uint8Array[]): Uint8Array
  state(): TransportSenderState
  /** Best-effort wipe of the key; later calls throw OCKAM_ERR_STOPPED. */
  destroy(): void
}

export interface TransportReceiver {
  readonly maxPlaintextBytes: number
  /**
   * Authenticates and decrypts one frame. Throws, with no state change:
   * OCKAM_ERR_NOISE_MESSAGE_MALFORMED / _MESSAGE_TOO_LARGE (bad length), OCKAM_ERR_NOISE_REPLAY,
   * OCKAM_ERR_NOISE_NONCE_GAP (ordered: close the channel), OCKAM_ERR_NOISE_NONCE_TOO_FAR
   * (reordering), OCKAM_ERR_NOISE_DECRYPT_FAILED.
   */
  open(frame: Uint8Array): Uint8Array
  /**
   * Whether a frame that `open` refused with OCKAM_ERR_NOISE_NONCE_GAP is genuine: it
   * authenticates under the key of its interval, derived at most one REKEY ahead. Only then does
   * the gap prove a lost frame; a forged frame claiming a later nonce must not close a channel.
   * Commits nothing. False for frames beyond the next interval (unprovable: no derivation is
   * spent on them), for frames that are not ahead, and in reordering mode.
   */
  provesGap(frame: Uint8Array): boolean
  state(): TransportReceiverState
  destroy(): void
}

interface Settings {
  readonly provider: CryptoProvider
  readonly suite: NoiseSuite
  readonly key: Uint8Array
  readonly rekeyInterval: number
  readonly maxMessageBytes: number
}

function invalid(message: string): OckamError {
  return new OckamError('OCKAM_ERR_INVALID_ARGUMENT', message)
}

function settingsOf(options: TransportCipherOptions): Settings {
  const { provider, suite, key } = options
  if (!(key instanceof Uint8Array) || key.length !== AEAD_KEY_BYTES) {
    throw new OckamError('OCKAM_ERR_CRYPTO_INVALID_KEY', `a transport key must be ${AEAD_KEY_BYTES} bytes`)
  }
  const rekeyInterval = options.rekeyInterval ?? DEFAULT_REKEY_INTERVAL_MESSAGES
  if (!Number.isInteger(rekeyInterval) || rekeyInterval < 1 || rekeyInterval > MAX_REKEY_INTERVAL_MESSAGES) {
    throw invalid(`rekeyInterval must be an integer in 1..${MAX_REKEY_INTERVAL_MESSAGES}, got ${rekeyInterval}`)
  }
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_TRANSPORT_MESSAGE_BYTES
  if (
    !Number.isInteger(maxMessageBytes) ||
    maxMessageBytes < NOISE_TAG_BYTES ||
    maxMessageBytes > MAX_TRANSPORT_MESSAGE_BYTES_LIMIT
  ) {
    throw invalid(`maxMessageBytes must be an integer in ${NOISE_TAG_BYTES}..${MAX_TRANSPORT_MESSAGE_BYTES_LIMIT}`)
  }
  return { provider, suite, key: copyBytes(key), rekeyInterval, maxMessageBytes }
}

function stopped(): OckamError {
  return new OckamError('OCKAM_ERR_STOPPED', 'the transport cipher was destroyed')
}

/** The frame's nonce, or Infinity when it does not fit a safe integer (no key is that far). */
function readNonce(frame: Uint8Array): number {
  const view = new DataView(frame.buffer, frame.byteOffset, TRANSPORT_NONCE_BYTES)
  const high = view.getUint32(0, false)
  if (high > MAX_SAFE_HIGH_WORD) return Number.POSITIVE_INFINITY
  const n = high * TWO_POW_32 + view.getUint32(4, false)
  return n > NOISE_MAX_NONCE ? Number.POSITIVE_INFINITY : n
}

/** The exact 64-bit nonce a frame claims, for error data (only on the error path). */
function claimedNonce(frame: Uint8Array): string {
  const view = new DataView(frame.buffer, frame.byteOffset, TRANSPORT_NONCE_BYTES)
  return view.getBigUint64(0, false).toString()
}

/** Length checks before any other work: never touch a frame the protocol cannot have produced. */
function checkFrame(frame: Uint8Array, maxMessageBytes: number): void {
  if (!(frame instanceof Uint8Array)) throw invalid('a transport frame must be a Uint8Array')
  if (frame.length < TRANSPORT_NONCE_BYTES + NOISE_TAG_BYTES) {
    throw new OckamError(
      'OCKAM_ERR_NOISE_MESSAGE_MALFORMED',
      `a transport frame of ${frame.length} bytes is shorter than nonce and tag (${TRANSPORT_NONCE_BYTES + NOISE_TAG_BYTES})`,
      { hint: 'drop the frame' },
    )
  }
  if (frame.length - TRANSPORT_NONCE_BYTES > maxMessageBytes) {
    throw new OckamError(
      'OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE',
      `a transport frame carries a ${frame.length - TRANSPORT_NONCE_BYTES}-byte message, over ${maxMessageBytes}`,
      { hint: 'drop the frame; both sides must use the same maximum message size' },
    )
  }
}

function decrypt(settings: Settings, key: Uint8Array, n: number, frame: Uint8Array): Uint8Array {
  return noiseDecrypt(settings.provider, settings.suite, key, n, EMPTY, frame.subarray(TRANSPORT_NONCE_BYTES))
}

/** The sending half: counts nonces from 0 and rekeys at each interval boundary. */
export function createTransportSender(options: TransportCipherOptions): TransportSender {
  const settings = settingsOf(options)
  const { provider, suite, rekeyInterval } = settings
  const maxPlaintextBytes = settings.maxMessageBytes - NOISE_TAG_BYTES
  let key: Uint8Array | undefined = settings.key
  let interval = 0
  let next = 0

  return {
    maxPlaintextBytes,
    seal(plaintext) {
      if (key === undefined) throw stopped()
      const parts: readonly Uint8Array[] = plaintext instanceof Uint8Array ? [plaintext] : plaintext
      let length = 0
      for (const part of parts) {
        if (!(part instanceof Uint8Array)) throw invalid('a transport plaintext must be a Uint8Array')
        length += part.length
      }
      if (length > maxPlaintextBytes) {
        throw new OckamError(
          'OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE',
          `a ${length}-byte plaintext does not fit one frame (at most ${maxPlaintextBytes})`,
          { hint: 'split the payload across frames', data: { limit: maxPlaintextBytes } },
        )
      }
      const n = next
      const frameInterval = Math.floor(n / rekeyInterval)
      const frameKey = frameInterval === interval ? key : noiseRekey(provider, suite, key)
      // Sealed straight into the frame: the nonce goes into the headroom, nothing is copied after.
      const frame = noiseEncryptParts(provider, suite, frameKey, n, EMPTY, parts, TRANSPORT_NONCE_BYTES)
      const view = new DataView(frame.buffer, frame.byteOffset, TRANSPORT_NONCE_BYTES)
      view.setUint32(0, Math.floor(n / TWO_POW_32), false)
      view.setUint32(4, n >>> 0, false)
      if (frameKey !== key) {
        key.fill(0)
        key = frameKey
        interval = frameInterval
      }
      next = n + 1
      return frame
    },
    state: () => ({ nextNonce: next, keyInterval: interval }),
    destroy() {
      key?.fill(0)
      key = undefined
    },
  }
}

/** The receiving half, ordered (default) or with a replay window. */
export function createTransportReceiver(options: TransportReceiverOptions): TransportReceiver {
  const ordering = options.ordering ?? 'ordered'
  if (ordering === 'ordered') {
    if (options.replayWindowFrames !== undefined) throw invalid('replayWindowFrames needs ordering: reordering')
    return createOrderedReceiver(settingsOf(options))
  }
  if (ordering !== 'reordering') throw invalid(`unknown ordering ${String(ordering)}`)
  const window = options.replayWindowFrames ?? DEFAULT_REPLAY_WINDOW_FRAMES
  if (!Number.isInteger(window) || window < 1 || window > MAX_REPLAY_WINDOW_FRAMES) {
    throw invalid(`replayWindowFrames must be an integer in 1..${MAX_REPLAY_WINDOW_FRAMES}, got ${window}`)
  }
  return createReorderingReceiver(settingsOf(options), window)
}

function createOrderedReceiver(settings: Settings): TransportReceiver {
  const { provider, suite, rekeyInterval } = settings
  let key: Uint8Array | undefined = settings.key
  let interval = 0
  let next = 0

  return {
    maxPlaintextBytes: settings.maxMessageBytes - NOISE_TAG_BYTES,
    open(frame) {
      if (key === undefined) throw stopped()
      checkFrame(frame, settings.maxMessageBytes)
      const n = readNonce(frame)
      if (n < next) {
        throw new OckamError('OCKAM_ERR_NOISE_REPLAY', `frame nonce ${n} was already accepted (next is ${next})`, {
          hint: 'drop the frame',
          data: { expected: next, received: n },
        })
      }
      if (n > next) {
        throw new OckamError('OCKAM_ERR_NOISE_NONCE_GAP', `frame nonce ${claimedNonce(frame)} skips ahead of ${next}`, {
          hint: 'close the channel: frames were lost on a path that must not lose them',
          data: { expected: next, received: claimedNonce(frame) },
        })
      }
      // n === next, so its interval is the current one or the one after: at most one REKEY.
      const frameInterval = Math.floor(n / rekeyInterval)
      const frameKey = frameInterval === interval ? key : noiseRekey(provider, suite, key)
      const plaintext = decrypt(settings, frameKey, n, frame)
      if (frameKey !== key) {
        key.fill(0)
        key = frameKey
        interval = frameInterval
      }
      next = n + 1
      return plaintext
    },
    provesGap(frame) {
      if (key === undefined) return false
      checkFrame(frame, settings.maxMessageBytes)
      const n = readNonce(frame)
      if (n <= next || n === Number.POSITIVE_INFINITY) return false
      const frameInterval = Math.floor(n / rekeyInterval)
      if (frameInterval > interval + 1) return false
      const frameKey = frameInterval === interval ? key : noiseRekey(provider, suite, key)
      try {
        decrypt(settings, frameKey, n, frame)
        return true
      } catch {
        return false
      } finally {
        if (frameKey !== key) frameKey.fill(0)
      }
    },
    state: () => ({ ordering: 'ordered', nextNonce: next, keyInterval: interval, heldKeyIntervals: [interval] }),
    destroy() {
      key?.fill(0)
      key = undefined
    },
  }
}

function createReorderingReceiver(settings: Settings, windowFrames: number): TransportReceiver {
  const { provider, suite, rekeyInterval } = settings
  /** Keys by interval, from the oldest one the window still covers to `interval`. */
  let keys: Map<number, Uint8Array> | undefined = new Map([[0, settings.key]])
  /** Bit (n mod windowFrames) says nonce n was accepted, for n in (highest - windowFrames, highest]. */
  const bits = new Uint8Array(Math.ceil(windowFrames / 8))
  let highest = -1
  let interval = 0

  const isSet = (n: number): boolean => {
    const slot = n % windowFrames
    return (bits[slot >>> 3]! & (1 << (slot & 7))) !== 0
  }
  const setBit = (n: number, on: boolean): void => {
    const slot = n % windowFrames
    if (on) bits[slot >>> 3]! |= 1 << (slot & 7)
    else bits[slot >>> 3]! &= ~(1 << (slot & 7))
  }

  const replay = (n: number, why: string): OckamError =>
    new OckamError('OCKAM_ERR_NOISE_REPLAY', `frame nonce ${n} ${why}`, {
      hint: 'drop the frame',
      data: { highest, received: n, window: windowFrames },
    })

  return {
    maxPlaintextBytes: settings.maxMessageBytes - NOISE_TAG_BYTES,
    open(frame) {
      if (keys === undefined) throw stopped()
      checkFrame(frame, settings.maxMessageBytes)
      const n = readNonce(frame)
      if (n <= highest) {
        if (n <= highest - windowFrames) throw replay(n, `is older than the ${windowFrames}-frame replay window`)
        if (isSet(n)) throw replay(n, 'was already accepted')
      }
      const frameInterval = Math.floor(n / rekeyInterval)
      if (frameInterval > interval + 1) {
        throw new OckamError(
          'OCKAM_ERR_NOISE_NONCE_TOO_FAR',
          `frame nonce ${claimedNonce(frame)} is more than one rekey interval ahead of ${Math.max(highest, 0)}`,
          {
            hint: 'drop the frame; if genuine frames keep arriving this far ahead, close and re-establish the channel',
            data: { highest, received: claimedNonce(frame) },
          },
        )
      }
      const current = keys.get(interval)!
      const held = keys.get(frameInterval)
      const frameKey = held ?? (frameInterval === interval + 1 ? noiseRekey(provider, suite, current) : undefined)
      if (frameKey === undefined) throw replay(n, 'belongs to a key interval no longer held')
      const plaintext = decrypt(settings, frameKey, n, frame)

      if (n > highest) {
        const advance = n - highest
        if (advance >= windowFrames) bits.fill(0)
        else for (let m = highest + 1; m <= n; m += 1) setBit(m, false)
        highest = n
        if (frameInterval > interval) {
          keys.set(frameInterval, frameKey)
          interval = frameInterval
        }
        const oldestCovered = Math.floor(Math.max(0, highest - windowFrames + 1) / rekeyInterval)
        for (const [heldInterval, heldKey] of keys) {
          if (heldInterval < oldestCovered) {
            heldKey.fill(0)
            keys.delete(heldInterval)
          }
        }
      }
      setBit(n, true)
      return plaintext
    },
    provesGap: () => false,
    state: () => ({
      ordering: 'reordering',
      nextNonce: highest + 1,
      keyInterval: interval,
      heldKeyIntervals: keys === undefined ? [] : [...keys.keys()].sort((a, b) => a - b),
      window: Buffer.from(bits).toString('hex'),
    }),
    destroy() {
      if (keys !== undefined) for (const heldKey of keys.values()) heldKey.fill(0)
      keys = undefined
    },
  }
}
