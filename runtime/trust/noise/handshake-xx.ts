/**
 * Noise §5.3 HandshakeState for the XX pattern, initiator or responder:
 *
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se
 *
 * Plain data in and out, synchronous, no I/O: the object holds the static secret and the
 * ephemeral secret, so a wrapper can keep it inside the vault's thread (DESIGN §4), addressed by
 * a handle, and ship only messages, payloads and the final split keys across the thread boundary.
 *
 * Failure policy: a message that does not parse or authenticate ends the handshake (Noise §5.3:
 * "the handshake has failed"); every later call throws OCKAM_ERR_NOISE_HANDSHAKE_STATE. A
 * payload too large to write is refused before anything changes, so the caller may retry smaller.
 */
import { isOckamError, OckamError } from '../../errors.js'
import { concatBytes, copyBytes } from '../bytes.js'
import type { CryptoProvider, KeyPair } from '../crypto/provider.js'
import { NOISE_DH_BYTES, NOISE_MAX_MESSAGE_BYTES, NOISE_TAG_BYTES } from './constants.js'
import type { NoiseSuite } from './suite.js'
import { SymmetricState } from './symmetric-state.js'

export type NoiseRole = 'initiator' | 'responder'

/** What the handshake expects next from its driver. */
export type HandshakeAction = 'write' | 'read' | 'split' | 'done' | 'failed'

export interface XXHandshakeOptions {
  readonly provider: CryptoProvider
  readonly suite: NoiseSuite
  readonly role: NoiseRole
  /** The long-term X25519 key pair (Noise `s`); the handshake never copies the secret out. */
  readonly staticKeyPair: KeyPair
  /** Both sides must pass the same bytes; see `secureChannelPrologue`. */
  readonly prologue: Uint8Array
  /**
   * The ephemeral X25519 secret to use instead of a fresh one. For test vectors only: reusing an
   * ephemeral key across handshakes destroys forward secrecy.
   */
  readonly ephemeralSecretKey?: Uint8Array
}

/** The result of Split(): plain bytes, safe to hand from the vault thread to the channel. */
export interface HandshakeResult {
  /** Key for frames this side sends (initiator: c1, responder: c2). Nonces start at 0. */
  readonly sendKey: Uint8Array
  /** Key for frames this side receives. */
  readonly receiveKey: Uint8Array
  /** h at the end of the handshake: identical on both sides, unique to this session. */
  readonly handshakeHash: Uint8Array
  /** The peer's static X25519 public key, as authenticated by the handshake. */
  readonly remoteStaticPublicKey: Uint8Array
}

export interface NoiseHandshake {
  readonly role: NoiseRole
  readonly suite: NoiseSuite
  nextAction(): HandshakeAction
  /** Largest payload the next message (to write or to read) can carry within 65,535 bytes. */
  payloadCapacity(): number
  /** Builds the next handshake message around `payload`. */
  writeMessage(payload: Uint8Array): Uint8Array
  /** Consumes the next handshake message and returns its payload. */
  readMessage(message: Uint8Array): Uint8Array
  /** The peer's static public key once it has been received (initiator: after message 2). */
  remoteStaticPublicKey(): Uint8Array | undefined
  /** The current h (a copy); final once all three messages are done. */
  handshakeHash(): Uint8Array
  /** After the three messages: the transport keys; then the handshake wipes its secrets. */
  split(): HandshakeResult
}

type Token = 'e' | 's' | 'ee' | 'es' | 'se'

const XX_MESSAGES: readonly (readonly Token[])[] = [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']]

/** Bytes each XX message adds around its payload: keys, encrypted static key, payload tag. */
export const XX_MESSAGE_OVERHEAD_BYTES: readonly number[] = Object.freeze([
  NOISE_DH_BYTES,
  NOISE_DH_BYTES + NOISE_DH_BYTES + NOISE_TAG_BYTES + NOISE_TAG_BYTES,
  NOISE_DH_BYTES + NOISE_TAG_BYTES + NOISE_TAG_BYTES,
])

function checkKey(bytes: unknown, what: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== NOISE_DH_BYTES) {
    throw new OckamError('OCKAM_ERR_CRYPTO_INVALID_KEY', `${what} must be ${NOISE_DH_BYTES} bytes`)
  }
  return bytes
}

function stateError(message: string): OckamError {
  return new OckamError('OCKAM_ERR_NOISE_HANDSHAKE_STATE', message, {
    hint: 'drive the handshake with nextAction(); after a failure start a new handshake',
  })
}

class XXHandshakeState implements NoiseHandshake {
  readonly role: NoiseRole
  readonly suite: NoiseSuite
  readonly #provider: CryptoProvider
  readonly #symmetric: SymmetricState
  readonly #s: KeyPair
  #e: KeyPair | undefined
  #injectedEphemeral: Uint8Array | undefined
  #re: Uint8Array | undefined
  #rs: Uint8Array | undefined
  #index = 0
  #failed = false
  #done = false
  #finalHash: Uint8Array | undefined

  constructor(options: XXHandshakeOptions) {
    if (options.role !== 'initiator' && options.role !== 'responder') {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `unknown Noise role ${String(options.role)}`)
    }
    if (!(options.prologue instanceof Uint8Array)) {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'the Noise prologue must be a Uint8Array')
    }
    this.role = options.role
    this.suite = options.suite
    this.#provider = options.provider
    this.#s = {
      secretKey: checkKey(options.staticKeyPair?.secretKey, 'the static secret key'),
      publicKey: checkKey(options.staticKeyPair?.publicKey, 'the static public key'),
    }
    if (options.ephemeralSecretKey !== undefined) {
      this.#injectedEphemeral = copyBytes(checkKey(options.ephemeralSecretKey, 'the ephemeral secret key'))
    }
    this.#symmetric = new SymmetricState(options.provider, options.suite)
    this.#symmetric.mixHash(options.prologue)
  }

  nextAction(): HandshakeAction {
    if (this.#failed) return 'failed'
    if (this.#done) return 'done'
    if (this.#index === XX_MESSAGES.length) return 'split'
    const initiatorWrites = this.#index % 2 === 0
    return initiatorWrites === (this.role === 'initiator') ? 'write' : 'read'
  }

  payloadCapacity(): number {
    const overhead = XX_MESSAGE_OVERHEAD_BYTES[this.#index]
    return overhead === undefined ? 0 : NOISE_MAX_MESSAGE_BYTES - overhead
  }

  writeMessage(payload: Uint8Array): Uint8Array {
    this.#expect('write')
    if (!(payload instanceof Uint8Array)) {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a handshake payload must be a Uint8Array')
    }
    const overhead = XX_MESSAGE_OVERHEAD_BYTES[this.#index]!
    if (overhead + payload.length > NOISE_MAX_MESSAGE_BYTES) {
      throw new OckamError(
        'OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE',
        `handshake message ${this.#index + 1} would be ${overhead + payload.length} bytes, over ${NOISE_MAX_MESSAGE_BYTES}`,
        { hint: `keep the payload within ${this.payloadCapacity()} bytes`, data: { limit: this.payloadCapacity() } },
      )
    }
    return this.#failOnThrow(() => {
      const parts: Uint8Array[] = []
      for (const token of XX_MESSAGES[this.#index]!) {
        if (token === 'e') {
          this.#e = this.#newEphemeral()
          parts.push(this.#e.publicKey)
          this.#symmetric.mixHash(this.#e.publicKey)
        } else if (token === 's') {
          parts.push(this.#symmetric.encryptAndHash(this.#s.publicKey))
        } else {
          this.#mixDh(token)
        }
      }
      parts.push(this.#symmetric.encryptAndHash(payload))
      this.#index += 1
      return concatBytes(...parts)
    })
  }

  readMessage(message: Uint8Array): Uint8Array {
    this.#expect('read')
    if (!(message instanceof Uint8Array)) {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a handshake message must be a Uint8Array')
    }
    return this.#failOnThrow(() => {
      if (message.length > NOISE_MAX_MESSAGE_BYTES) {
        throw new OckamError(
          'OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE',
          `handshake message ${this.#index + 1} is ${message.length} bytes, over ${NOISE_MAX_MESSAGE_BYTES}`,
          { hint: 'the peer is broken or hostile; abandon this handshake' },
        )
      }
      const overhead = XX_MESSAGE_OVERHEAD_BYTES[this.#index]!
      if (message.length < overhead) {
        throw new OckamError(
          'OCKAM_ERR_NOISE_MESSAGE_MALFORMED',
          `handshake message ${this.#index + 1} is ${message.length} bytes, shorter than its ${overhead}-byte minimum`,
          { hint: 'the peer is broken or hostile; abandon this handshake' },
        )
      }
      let offset = 0
      for (const token of XX_MESSAGES[this.#index]!) {
        if (token === 'e') {
          this.#re = copyBytes(message.subarray(offset, offset + NOISE_DH_BYTES))
          offset += NOISE_DH_BYTES
          this.#symmetric.mixHash(this.#re)
        } else if (token === 's') {
          const length = NOISE_DH_BYTES + (this.#symmetric.hasKey() ? NOISE_TAG_BYTES : 0)
          this.#rs = this.#symmetric.decryptAndHash(message.subarray(offset, offset + length))
          offset += length
        } else {
          this.#mixDh(token)
        }
      }
      const payload = this.#symmetric.decryptAndHash(message.subarray(offset))
      this.#index += 1
      return payload
    })
  }

  remoteStaticPublicKey(): Uint8Array | undefined {
    return this.#rs?.slice()
  }

  handshakeHash(): Uint8Array {
    return this.#finalHash?.slice() ?? this.#symmetric.handshakeHash()
  }

  split(): HandshakeResult {
    this.#expect('split')
    const keys = this.#symmetric.split()
    const initiator = this.role === 'initiator'
    const result: HandshakeResult = {
      sendKey: initiator ? keys.initiatorToResponder : keys.responderToInitiator,
      receiveKey: initiator ? keys.responderToInitiator : keys.initiatorToResponder,
      handshakeHash: this.#symmetric.handshakeHash(),
      remoteStaticPublicKey: this.#rs!.slice(),
    }
    this.#finalHash = result.handshakeHash.slice()
    this.#done = true
    this.#wipe()
    return result
  }

  #expect(action: HandshakeAction): void {
    const next = this.nextAction()
    if (next !== action) {
      throw stateError(`the ${this.role} cannot ${action} now: the handshake expects ${next}`)
    }
  }

  #failOnThrow<T>(step: () => T): T {
    try {
      return step()
    } catch (error) {
      this.#failed = true
      this.#wipe()
      throw error
    }
  }

  #newEphemeral(): KeyPair {
    const injected = this.#injectedEphemeral
    if (injected === undefined) return this.#provider.x25519GenerateKeyPair()
    this.#injectedEphemeral = undefined
    return { secretKey: injected, publicKey: this.#provider.x25519PublicKey(injected) }
  }

  /** ee, es, se: which of our keys meets which of theirs depends on the role (Noise §5.3). */
  #mixDh(token: 'ee' | 'es' | 'se'): void {
    const initiator = this.role === 'initiator'
    let local: KeyPair | undefined
    let remote: Uint8Array | undefined
    if (token === 'ee') {
      local = this.#e
      remote = this.#re
    } else if ((token === 'es') === initiator) {
      local = this.#e
      remote = this.#rs
    } else {
      local = this.#s
      remote = this.#re
    }
    if (local === undefined || remote === undefined) throw new OckamError('OCKAM_ERR_INTERNAL', `${token} without keys`)
    this.#symmetric.mixKey(this.#dh(local.secretKey, remote))
  }

  /**
   * The remote key is hostile input. The provider contract says a small-order key throws
   * OCKAM_ERR_CRYPTO_DH_FAILED, but OpenSSL refuses the all-zero result itself with its own
   * error, so anything untyped from the DH is reported as that failure too.
   */
  #dh(secretKey: Uint8Array, remote: Uint8Array): Uint8Array {
    try {
      return this.#provider.x25519(secretKey, remote)
    } catch (cause) {
      if (isOckamError(cause)) throw cause
      throw new OckamError(
        'OCKAM_ERR_CRYPTO_DH_FAILED',
        `the peer's ${NOISE_DH_BYTES}-byte key was refused by X25519`,
        {
          cause,
          hint: 'the peer is broken or hostile; abandon this handshake',
        },
      )
    }
  }

  #wipe(): void {
    this.#symmetric.destroy()
    this.#e?.secretKey.fill(0)
    this.#e = undefined
    this.#injectedEphemeral?.fill(0)
    this.#injectedEphemeral = undefined
  }
}

/** A fresh XX handshake for one side; drive it with nextAction(), write/readMessage and split(). */
export function createXXHandshake(options: XXHandshakeOptions): NoiseHandshake {
  return new XXHandshakeState(options)
}
