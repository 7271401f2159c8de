/**
 * Noise §5.2 SymmetricState over SHA256: the chaining key ck, the handshake hash h and a
 * CipherState. HKDF is written out with HMAC-SHA256 exactly as Noise §4.3 defines it.
 */

import { concatBytes } from '../bytes.js'
import type { CryptoProvider } from '../crypto/provider.js'
import { CipherState } from './cipher-state.js'
import { NOISE_HASH_BYTES } from './constants.js'
import type { NoiseSuite } from './suite.js'

const EMPTY = new Uint8Array(0)
const BYTE_1 = Uint8Array.of(1)

/** Noise §4.3 HKDF(chaining_key, input_key_material, num_outputs) for num_outputs 2 or 3. */
export function noiseHkdf(
  provider: CryptoProvider,
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
  outputs: 2 | 3,
): Uint8Array[] {
  const tempKey = provider.hmacSha256(chainingKey, inputKeyMaterial)
  const output1 = provider.hmacSha256(tempKey, BYTE_1)
  const output2 = provider.hmacSha256(tempKey, concatBytes(output1, Uint8Array.of(2)))
  if (outputs === 2) return [output1, output2]
  return [output1, output2, provider.hmacSha256(tempKey, concatBytes(output2, Uint8Array.of(3)))]
}

export interface SplitKeys {
  /** c1's key: initiator → responder. */
  readonly initiatorToResponder: Uint8Array
  /** c2's key: responder → initiator. */
  readonly responderToInitiator: Uint8Array
}

export class SymmetricState {
  readonly #provider: CryptoProvider
  readonly #cipher: CipherState
  #ck: Uint8Array
  #h: Uint8Array

  /** InitializeSymmetric(protocol_name). */
  constructor(provider: CryptoProvider, suite: NoiseSuite) {
    this.#provider = provider
    this.#cipher = new CipherState(provider, suite)
    const name = new TextEncoder().encode(suite.protocolName)
    if (name.length <= NOISE_HASH_BYTES) {
      this.#h = new Uint8Array(NOISE_HASH_BYTES)
      this.#h.set(name)
    } else {
      this.#h = provider.sha256(name)
    }
    this.#ck = this.#h.slice()
  }

  hasKey(): boolean {
    return this.#cipher.hasKey()
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempKey] = noiseHkdf(this.#provider, this.#ck, inputKeyMaterial, 2) as [Uint8Array, Uint8Array]
    this.#ck = ck
    this.#cipher.initializeKey(tempKey)
  }

  mixHash(data: Uint8Array): void {
    this.#h = this.#provider.sha256(concatBytes(this.#h, data))
  }

  /** MixKeyAndHash for psk tokens: not used by XX, kept so the state is the spec's whole object. */
  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [ck, tempH, tempKey] = noiseHkdf(this.#provider, this.#ck, inputKeyMaterial, 3) as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ]
    this.#ck = ck
    this.mixHash(tempH)
    this.#cipher.initializeKey(tempKey)
  }

  /** A copy of h. */
  handshakeHash(): Uint8Array {
    return this.#h.slice()
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.#cipher.encryptWithAd(this.#h, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.#cipher.decryptWithAd(this.#h, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  /** Split(): the two transport keys (HASHLEN = 32 = key length, so no truncation). */
  split(): SplitKeys {
    const [k1, k2] = noiseHkdf(this.#provider, this.#ck, EMPTY, 2) as [Uint8Array, Uint8Array]
    return { initiatorToResponder: k1, responderToInitiator: k2 }
  }

  /** Best-effort wipe once the handshake is over. */
  destroy(): void {
    this.#ck.fill(0)
    this.#cipher.destroy()
  }
}
