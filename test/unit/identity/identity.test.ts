import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { isOckamError } from '../../../runtime/errors.js'
import { encodeCbor } from '../../../runtime/trust/cbor.js'
import { DEFAULT_MAX_IDENTITY_CHANGES } from '../../../runtime/trust/constants.js'
import type { KeyPair } from '../../../runtime/trust/crypto/provider.js'
import {
  CHANGE_VERSION,
  type ChangeData,
  createIdentity,
  createMemoryIdentityStore,
  decodeChangeData,
  decodeHistory,
  encodeChangeData,
  encodeHistory,
  exportIdentity,
  IDENTITY_TEXT_PREFIX,
  identifierBytes,
  importIdentity,
  isIdentifier,
  rotateIdentity,
  type SignedChange,
  signingInput,
  verifyIdentityHistory,
} from '../../../runtime/trust/identity/index.js'
import { fromTextForm, toTextForm } from '../../../runtime/trust/text-form.js'
import { crypto, mutationOf, refusal, refusalAsync, signer, singleByteChanges, T0 } from './fixtures.js'

const at = { now: T0 }

/** Builds a history from raw key pairs, so tests can make the malformed ones the library never would. */
function rawHistory(
  steps: readonly {
    key: KeyPair
    data?: Partial<ChangeData>
    omitPreviousHash?: boolean
    previousKey?: KeyPair | null
    selfKey?: KeyPair
  }[],
): Uint8Array {
  const changes: SignedChange[] = []
  let previousHash: Uint8Array | undefined
  steps.forEach((step, index) => {
    const data = encodeChangeData({
      version: CHANGE_VERSION,
      publicKey: step.key.publicKey,
      created: T0,
      ...(previousHash === undefined || step.omitPreviousHash === true ? {} : { previousChangeHash: previousHash }),
      ...step.data,
    })
    const message = signingInput('change', data)
    const signature = crypto.ed25519Sign((step.selfKey ?? step.key).secretKey, message)
    const previousKey = step.previousKey === undefined ? steps[index - 1]?.key : step.previousKey
    changes.push(
      previousKey === undefined || previousKey === null
        ? { data, signature }
        : { data, signature, previousSignature: crypto.ed25519Sign(previousKey.secretKey, message) },
    )
    previousHash = crypto.sha256(data)
  })
  return encodeHistory(changes)
}

test('a new identity verifies; its identifier is I + hex SHA-256 of the first change data bytes', async () => {
  const identity = await createIdentity(signer, signer.generateKey(), { created: T0 }, crypto)
  assert.ok(isIdentifier(identity.identifier))
  const [first] = decodeHistory(identity.history)
  assert.ok(first !== undefined)
  assert.equal(identity.identifier, `I${Buffer.from(crypto.sha256(first.data)).toString('hex')}`)
  assert.deepEqual(identifierBytes(identity.identifier), crypto.sha256(first.data))
  const again = verifyIdentityHistory(identity.history, at, crypto)
  assert.deepEqual(again, identity)
  assert.equal(identity.changes.length, 1)
  assert.deepEqual(identity.latestChangeHash, crypto.sha256(first.data))
})

test('rotation keeps the identifier, keeps earlier changes byte for byte, and verifies', async () => {
  const k1 = signer.generateKey()
  const k2 = signer.generateKey()
  const k3 = signer.generateKey()
  const v1 = await createIdentity(signer, k1, { created: T0, expires: T0 + 86_400 }, crypto)
  const v2 = await rotateIdentity(v1, signer, k1, k2, { created: T0 + 10 }, crypto)
  const v3 = await rotateIdentity(v2, signer, k2, k3, { created: T0 + 20, expires: T0 + 1000 }, crypto)
  assert.equal(v2.identifier, v1.identifier)
  assert.equal(v3.identifier, v1.identifier)
  assert.equal(v3.changes.length, 3)
  assert.deepEqual(v3.publicKey, await signer.publicKey(k3))
  assert.deepEqual(decodeHistory(v3.history).slice(0, 2), decodeHistory(v2.history))
  assert.deepEqual(verifyIdentityHistory(v3.history, { now: T0 + 20 }, crypto), v3)
  assert.equal(v3.changes[2]?.expires, T0 + 1000)
  assert.equal(v3.changes[1]?.expires, undefined)
  // The change after the first is signed by the previous key: rotating with a wrong current handle is refused.
  await refusalAsync(
    () => rotateIdentity(v3, signer, k1, signer.generateKey(), { created: T0 + 30 }, crypto),
    'OCKAM_ERR_IDENTITY_KEY_MISMATCH',
  )
})

test('a rollback to an older history and a fork are refused by the store, which keeps what it had', async () => {
  const k1 = signer.generateKey()
  const k2 = signer.generateKey()
  const v1 = await createIdentity(signer, k1, { created: T0 }, crypto)
  const v2 = await rotateIdentity(v1, signer, k1, k2, { created: T0 + 1 }, crypto)
  const forked = await rotateIdentity(v1, signer, k1, signer.generateKey(), { created: T0 + 1 }, crypto)
  const store = createMemoryIdentityStore()
  assert.equal(store.accept(v1), v1)
  assert.equal(store.accept(v2), v2)
  assert.equal(store.accept(v2), v2)
  refusal(() => store.accept(v1), 'OCKAM_ERR_IDENTITY_ROLLBACK')
  refusal(() => store.accept(forked), 'OCKAM_ERR_IDENTITY_FORK')
  assert.equal(store.get(v1.identifier), v2)

  // A fork at the same length as the known history is still a fork.
  const other = createMemoryIdentityStore()
  other.accept(forked)
  refusal(() => other.accept(v2), 'OCKAM_ERR_IDENTITY_FORK')
})

test('the in-memory store is bounded and forgets the least recently accepted identity', async () => {
  const store = createMemoryIdentityStore({ maxEntries: 2 })
  const [a, b, c] = await Promise.all(
    [1, 2, 3].map(() => createIdentity(signer, signer.generateKey(), { created: T0 }, crypto)),
  )
  assert.ok(a !== undefined && b !== undefined && c !== undefined)
  store.accept(a)
  store.accept(b)
  store.accept(a)
  store.accept(c)
  assert.equal(store.get(b.identifier), undefined)
  assert.equal(store.get(a.identifier), a)
  assert.equal(store.get(c.identifier), c)
})

test('changing any single byte of a two-change history fails with a typed error (exhaustive)', async () => {
  const k1 = signer.generateKey()
  const v1 = await createIdentity(signer, k1, { created: T0, expires: T0 + 3600 }, crypto)
  const v2 = await rotateIdentity(v1, signer, k1, signer.generateKey(), { created: T0 + 5, expires: T0 + 7200 }, crypto)
  let count = 0
  for (const { mutated } of singleByteChanges(v2.history)) {
    refusal(() => verifyIdentityHistory(mutated, at, crypto))
    count++
  }
  assert.equal(count, v2.history.length * 3)
})

test('random mutations of a history fail with a typed error (fast-check)', async () => {
  const k1 = signer.generateKey()
  const v1 = await createIdentity(signer, k1, { created: T0 }, crypto)
  const v2 = await rotateIdentity(v1, signer, k1, signer.generateKey(), { created: T0 }, crypto)
  fc.assert(
    fc.property(mutationOf(v2.history), (mutated) => {
      refusal(() => verifyIdentityHistory(mutated, at, crypto))
    }),
    { numRuns: 300 },
  )
})

test('decodeChangeData(encodeChangeData(x)) = x (fast-check)', () => {
  const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
  const seconds = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
  const change = fc.record(
    {
      version: fc.constant(CHANGE_VERSION),
      previousChangeHash: bytes32,
      publicKey: bytes32,
      created: seconds,
      expires: seconds,
    },
    { requiredKeys: ['version', 'publicKey', 'created'] },
  )
  fc.assert(
    fc.property(change, (data) => {
      // fast-check records have a null prototype; compare the fields.
      assert.deepEqual(decodeChangeData(encodeChangeData(data)), { ...data })
    }),
    { numRuns: 300 },
  )
})

test('decodeHistory(encodeHistory(x)) = x (fast-check)', () => {
  const signature = fc.uint8Array({ minLength: 64, maxLength: 64 })
  const change = fc.record(
    { data: fc.uint8Array({ maxLength: 120 }), signature, previousSignature: signature },
    { requiredKeys: ['data', 'signature'] },
  )
  fc.assert(
    fc.property(fc.array(change, { minLength: 1, maxLength: DEFAULT_MAX_IDENTITY_CHANGES }), (changes) => {
      assert.deepEqual(
        decodeHistory(encodeHistory(changes)),
        changes.map((c) => ({ ...c })),
      )
    }),
    { numRuns: 200 },
  )
})

test('times to sign are whole seconds; milliseconds by mistake are refused', async () => {
  const key = signer.generateKey()
  await refusalAsync(() => createIdentity(signer, key, { created: Date.now() }, crypto), 'OCKAM_ERR_INVALID_ARGUMENT')
  await refusalAsync(() => createIdentity(signer, key, { created: T0 + 0.5 }, crypto), 'OCKAM_ERR_INVALID_ARGUMENT')
  await refusalAsync(
    () => createIdentity(signer, key, { created: T0, expires: T0 }, crypto),
    'OCKAM_ERR_INVALID_ARGUMENT',
  )
})

test('broken chains are refused: previous hash, missing or wrong previous-key signature', () => {
  const [a, b, c] = [crypto.ed25519GenerateKeyPair(), crypto.ed25519GenerateKeyPair(), crypto.ed25519GenerateKeyPair()]
  assert.ok(verifyIdentityHistory(rawHistory([{ key: a }, { key: b }]), at, crypto))
  refusal(
    () => verifyIdentityHistory(rawHistory([{ key: a, data: { previousChangeHash: new Uint8Array(32) } }]), at, crypto),
    'OCKAM_ERR_IDENTITY_BROKEN_CHAIN',
  )
  refusal(
    () => verifyIdentityHistory(rawHistory([{ key: a, previousKey: b }]), at, crypto),
    'OCKAM_ERR_IDENTITY_BROKEN_CHAIN',
  )
  refusal(
    () =>
      verifyIdentityHistory(
        rawHistory([{ key: a }, { key: b, data: { previousChangeHash: new Uint8Array(32) } }]),
        at,
        crypto,
      ),
    'OCKAM_ERR_IDENTITY_BROKEN_CHAIN',
  )
  refusal(
    () => verifyIdentityHistory(rawHistory([{ key: a }, { key: b, omitPreviousHash: true }]), at, crypto),
    'OCKAM_ERR_IDENTITY_BROKEN_CHAIN',
  )
  refusal(
    () => verifyIdentityHistory(rawHistory([{ key: a }, { key: b, previousKey: null }]), at, crypto),
    'OCKAM_ERR_IDENTITY_BROKEN_CHAIN',
  )
  // Signed by the new key and by someone else than the previous key: a hijack attempt.
  refusal(
    () => verifyIdentityHistory(rawHistory([{ key: a }, { key: b, previousKey: c }]), at, crypto),
    'OCKAM_ERR_IDENTITY_BAD_SIGNATURE',
  )
  // Claims key b but is signed by c.
  refusal(
    () => verifyIdentityHistory(rawHistory([{ key: a }, { key: b, selfKey: c }]), at, crypto),
    'OCKAM_ERR_IDENTITY_BAD_SIGNATURE',
  )
  refusal(
    () => verifyIdentityHistory(rawHistory([{ key: a, selfKey: c }]), at, crypto),
    'OCKAM_ERR_IDENTITY_BAD_SIGNATURE',
  )
})

test('a signature made for another purpose does not verify as a change signature', () => {
  const a = crypto.ed25519GenerateKeyPair()
  const data = encodeChangeData({ version: CHANGE_VERSION, publicKey: a.publicKey, created: T0 })
  for (const signature of [
    crypto.ed25519Sign(a.secretKey, data),
    crypto.ed25519Sign(a.secretKey, signingInput('purposeKey', data)),
  ]) {
    refusal(
      () => verifyIdentityHistory(encodeHistory([{ data, signature }]), at, crypto),
      'OCKAM_ERR_IDENTITY_BAD_SIGNATURE',
    )
  }
})

test('versions, times and lengths are checked', () => {
  const a = crypto.ed25519GenerateKeyPair()
  const b = crypto.ed25519GenerateKeyPair()
  refusal(
    () => verifyIdentityHistory(rawHistory([{ key: a, data: { version: 2 } }]), at, crypto),
    'OCKAM_ERR_IDENTITY_UNSUPPORTED_VERSION',
  )
  refusal(
    () => verifyIdentityHistory(rawHistory([{ key: a, data: { expires: T0 } }]), at, crypto),
    'OCKAM_ERR_IDENTITY_INVALID_TIMES',
  )
  refusal(
    () => verifyIdentityHistory(rawHistory([{ key: a }, { key: b, data: { created: T0 - 1 } }]), at, crypto),
    'OCKAM_ERR_IDENTITY_INVALID_TIMES',
  )
  const keys = Array.from({ length: DEFAULT_MAX_IDENTITY_CHANGES + 1 }, () => ({ key: a }))
  refusal(() => verifyIdentityHistory(rawHistory(keys), at, crypto), 'OCKAM_ERR_IDENTITY_TOO_MANY_CHANGES')
  assert.equal(
    verifyIdentityHistory(rawHistory(keys.slice(1)), at, crypto).changes.length,
    DEFAULT_MAX_IDENTITY_CHANGES,
  )
  refusal(() => verifyIdentityHistory(encodeCbor([]), at, crypto), 'OCKAM_ERR_CBOR_SCHEMA')
  refusal(
    () => verifyIdentityHistory(encodeCbor([[new Uint8Array([0x18]), new Uint8Array(64), null]]), at, crypto),
    'OCKAM_ERR_CBOR_MALFORMED',
  )
})

test('the current key is checked against the clock with ±60 s of skew', () => {
  const a = crypto.ed25519GenerateKeyPair()
  const history = rawHistory([{ key: a, data: { created: T0, expires: T0 + 1000 } }])
  assert.ok(verifyIdentityHistory(history, { now: T0 - 60 }, crypto))
  refusal(() => verifyIdentityHistory(history, { now: T0 - 61 }, crypto), 'OCKAM_ERR_IDENTITY_NOT_YET_VALID')
  assert.ok(verifyIdentityHistory(history, { now: T0 + 1059 }, crypto))
  refusal(() => verifyIdentityHistory(history, { now: T0 + 1060 }, crypto), 'OCKAM_ERR_IDENTITY_EXPIRED')
  assert.throws(
    () => verifyIdentityHistory(history, { now: Number.NaN }, crypto),
    (e: unknown) => isOckamError(e, 'OCKAM_ERR_INVALID_ARGUMENT'),
  )
})

test('export and import as text, with full verification on import', async () => {
  const k1 = signer.generateKey()
  const v1 = await createIdentity(signer, k1, { created: T0 }, crypto)
  const v2 = await rotateIdentity(v1, signer, k1, signer.generateKey(), { created: T0 }, crypto)
  const text = exportIdentity(v2)
  assert.ok(text.startsWith(IDENTITY_TEXT_PREFIX))
  assert.match(text.slice(IDENTITY_TEXT_PREFIX.length), /^[A-Za-z0-9_-]+$/)
  assert.deepEqual(importIdentity(`${text}\n`, at, crypto), v2)
  refusal(() => importIdentity(text.slice(1), at, crypto), 'OCKAM_ERR_IDENTITY_TEXT_INVALID')
  refusal(() => importIdentity(`${text}=`, at, crypto), 'OCKAM_ERR_IDENTITY_TEXT_INVALID')
  refusal(() => importIdentity(`${text.slice(0, -3)}+${text.slice(-2)}`, at, crypto), 'OCKAM_ERR_IDENTITY_TEXT_INVALID')
  refusal(
    () => importIdentity(`${IDENTITY_TEXT_PREFIX}${'A'.repeat(100_000)}`, at, crypto),
    'OCKAM_ERR_IDENTITY_TEXT_INVALID',
  )
  // A final character with non-zero unused bits decodes to the same bytes: refused, one text per identity.
  const body = Buffer.from(v2.history).toString('base64url')
  if (body.length % 4 !== 0) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(body.at(-1) as string)
    const sibling = `${IDENTITY_TEXT_PREFIX}${body.slice(0, -1)}${alphabet[last + 1]}`
    refusal(() => importIdentity(sibling, at, crypto), 'OCKAM_ERR_IDENTITY_TEXT_INVALID')
  }
  // A tampered body is a verification failure, not a crash.
  const tampered = Buffer.from(v2.history)
  tampered[tampered.length - 10] = (tampered[tampered.length - 10] as number) ^ 1
  refusal(() => importIdentity(`${IDENTITY_TEXT_PREFIX}${tampered.toString('base64url')}`, at, crypto))
})

test('text form: toTextForm and fromTextForm are inverse on any bytes (fast-check)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const text = toTextForm('x-v1:', bytes)
      assert.deepEqual(fromTextForm('x-v1:', text, 300, 'OCKAM_ERR_IDENTITY_TEXT_INVALID'), bytes)
    }),
    { numRuns: 300 },
  )
})

test('verification copies the history: a reused input buffer does not change a verified identity', async () => {
  const v1 = await createIdentity(signer, signer.generateKey(), { created: T0 }, crypto)
  const pooled = Buffer.alloc(v1.history.length + 8)
  pooled.set(v1.history, 4)
  const input = pooled.subarray(4, 4 + v1.history.length)
  const verified = verifyIdentityHistory(input, at, crypto)
  pooled.fill(0)
  assert.deepEqual(verified.history, v1.history)
  assert.equal(verified.history.byteOffset, 0)
  assert.deepEqual(structuredClone(verified), verified)
})
