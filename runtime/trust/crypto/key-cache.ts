/**
 * Caches of OpenSSL key objects for the native provider. Building a KeyObject from raw bytes is
 * most of the cost of a native sign or DH (an Ed25519 private import derives the public key), so
 * keys that come back are worth keeping ready.
 *
 * - Public keys: a small LRU keyed by the key bytes. Public keys are not secret, and the cache
 *   is bounded, so a flood of distinct keys costs nothing but misses.
 * - Secret keys: keyed by the caller's Uint8Array itself (a WeakMap), never by its bytes, so no
 *   secret becomes a map key or a string, and an entry lives no longer than the caller's array.
 *   The bytes are compared on every hit, so an array that was overwritten (or zeroed) since is
 *   rebuilt rather than served stale.
 */
import { timingSafeEqual } from 'node:crypto'

export interface KeyCache<K> {
  get(bytes: Uint8Array): K
  readonly size: number
}

export function createPublicKeyCache<K>(maxEntries: number, build: (bytes: Uint8Array) => K): KeyCache<K> {
  const entries = new Map<string, K>()
  return {
    get(bytes) {
      const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
      const hit = entries.get(id)
      if (hit !== undefined) {
        // Map iteration order is insertion order: re-inserting marks this key most recently used.
        entries.delete(id)
        entries.set(id, hit)
        return hit
      }
      const built = build(bytes)
      if (maxEntries > 0) {
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string)
        entries.set(id, built)
      }
      return built
    },
    get size() {
      return entries.size
    },
  }
}

interface SecretEntry<K> {
  readonly copy: Uint8Array
  readonly key: K
}

export function createSecretKeyCache<K extends object>(build: (bytes: Uint8Array) => K): Omit<KeyCache<K>, 'size'> {
  const entries = new WeakMap<Uint8Array, SecretEntry<K>>()
  return {
    get(bytes) {
      const hit = entries.get(bytes)
      if (hit !== undefined && hit.copy.length === bytes.length && timingSafeEqual(hit.copy, bytes)) return hit.key
      const key = build(bytes)
      entries.set(bytes, { copy: bytes.slice(), key })
      return key
    },
  }
}
