/**
 * A Signer that keeps Ed25519 secret keys in memory, on a CryptoProvider. For tests, benchmarks
 * and throwaway tools: a node uses its vault, which keeps secrets off the main thread and on disk.
 */
import { OckamError } from '../../errors.js'
import { toHex } from '../bytes.js'
import type { CryptoProvider } from '../crypto/provider.js'
import type { Signer } from './signer.js'

export interface MemorySigner extends Signer {
  /** Generates an Ed25519 key and returns its handle. */
  generateKey(): string
}

export function createMemorySigner(crypto: CryptoProvider): MemorySigner {
  const keys = new Map<string, { secretKey: Uint8Array; publicKey: Uint8Array }>()
  const lookup = (keyHandle: string) => {
    const key = keys.get(keyHandle)
    if (key === undefined) throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `no key with handle ${keyHandle}`)
    return key
  }
  return {
    generateKey() {
      const pair = crypto.ed25519GenerateKeyPair()
      const handle = `ed25519-${toHex(pair.publicKey).slice(0, 16)}-${keys.size}`
      keys.set(handle, pair)
      return handle
    },
    sign: async (keyHandle, data) => crypto.ed25519Sign(lookup(keyHandle).secretKey, data),
    publicKey: async (keyHandle) => lookup(keyHandle).publicKey.slice(),
  }
}
