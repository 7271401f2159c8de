import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createNativeCryptoProvider, createPortableCryptoProvider } from '../../../runtime/trust/crypto/index.js'
import { createPublicKeyCache, createSecretKeyCache } from '../../../runtime/trust/crypto/key-cache.js'

test('the public key cache is bounded and evicts the least recently used key', () => {
  const built: number[] = []
  const cache = createPublicKeyCache(2, (bytes) => {
    built.push(bytes[0] as number)
    return { id: bytes[0] }
  })
  const key = (n: number) => new Uint8Array([n, 0, 0])
  cache.get(key(1))
  cache.get(key(2))
  cache.get(key(1)) // 1 is now the most recent
  cache.get(key(3)) // evicts 2
  assert.equal(cache.size, 2)
  cache.get(key(1))
  cache.get(key(2))
  assert.deepEqual(built, [1, 2, 3, 2])
  for (let i = 0; i < 100; i++) cache.get(key(i))
  assert.equal(cache.size, 2)
})

test('the public key cache keys by bytes, not by array identity or offset', () => {
  let builds = 0
  const cache = createPublicKeyCache(4, () => ({ n: ++builds }))
  const backing = new Uint8Array([9, 1, 2, 3, 9])
  const a = cache.get(backing.subarray(1, 4))
  const b = cache.get(new Uint8Array([1, 2, 3]))
  assert.equal(a, b)
  assert.equal(builds, 1)
})

test('a cache of size 0 builds every time and holds nothing', () => {
  let builds = 0
  const cache = createPublicKeyCache(0, () => ({ n: ++builds }))
  cache.get(new Uint8Array([1]))
  cache.get(new Uint8Array([1]))
  assert.equal(builds, 2)
  assert.equal(cache.size, 0)
})

test('the secret key cache serves the same array, and rebuilds when its bytes changed', () => {
  let builds = 0
  const cache = createSecretKeyCache((bytes) => ({ first: bytes[0], n: ++builds }))
  const secret = new Uint8Array(32).fill(1)
  const first = cache.get(secret)
  assert.equal(cache.get(secret), first)
  assert.equal(builds, 1)
  // Equal bytes in another array are another entry: the cache never keys by secret bytes.
  cache.get(secret.slice())
  assert.equal(builds, 2)
  secret.fill(2)
  const rebuilt = cache.get(secret)
  assert.equal(rebuilt.first, 2)
  assert.equal(builds, 3)
})

test('native signing and DH follow a secret array that is overwritten in place', () => {
  const native = createNativeCryptoProvider()
  const portable = createPortableCryptoProvider()
  const secret = new Uint8Array(32).fill(3)
  const message = new TextEncoder().encode('cache')
  const peer = portable.x25519GenerateKeyPair().publicKey
  const before = native.ed25519Sign(secret, message)
  const dhBefore = native.x25519(secret, peer)
  secret.fill(4)
  assert.deepEqual(native.ed25519Sign(secret, message), portable.ed25519Sign(secret, message))
  assert.notDeepEqual(native.ed25519Sign(secret, message), before)
  assert.deepEqual(native.x25519(secret, peer), portable.x25519(secret, peer))
  assert.notDeepEqual(native.x25519(secret, peer), dhBefore)
  assert.deepEqual(native.ed25519PublicKey(secret), portable.ed25519PublicKey(secret))
})

test('native verification gives the same answers with the key cache disabled', () => {
  const cached = createNativeCryptoProvider()
  const uncached = createNativeCryptoProvider({ verifyKeyCacheEntries: 0 })
  const { secretKey, publicKey } = cached.ed25519GenerateKeyPair()
  const message = new TextEncoder().encode('m')
  const signature = cached.ed25519Sign(secretKey, message)
  for (const p of [cached, uncached, cached]) {
    assert.equal(p.ed25519Verify(publicKey, message, signature), true)
    assert.equal(p.ed25519Verify(publicKey, new TextEncoder().encode('n'), signature), false)
  }
  assert.throws(() => createNativeCryptoProvider({ verifyKeyCacheEntries: -1 }))
})
