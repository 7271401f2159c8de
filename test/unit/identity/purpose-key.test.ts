import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { encodeCbor } from '../../../runtime/trust/cbor.js'
import {
  createIdentity,
  createPurposeKeyAttestation,
  decodePurposeKeyAttestation,
  decodePurposeKeyData,
  encodePurposeKeyData,
  identifierFromHash,
  rotateIdentity,
  signingInput,
  type VerifiedPurposeKey,
  verifyPurposeKeyAttestation,
} from '../../../runtime/trust/identity/index.js'
import { crypto, mutationOf, refusal, refusalAsync, signer, singleByteChanges, T0 } from './fixtures.js'

const window = { created: T0, expires: T0 + 3600 }

async function setup() {
  const key = signer.generateKey()
  const identity = await createIdentity(signer, key, { created: T0 }, crypto)
  const staticKey = crypto.x25519GenerateKeyPair().publicKey
  const attestation = await createPurposeKeyAttestation(signer, key, identity, {
    purpose: 'secure-channel',
    publicKey: staticKey,
    ...window,
  })
  return { key, identity, staticKey, attestation }
}

test('an attestation binds an X25519 static key to the identity at its latest change', async () => {
  const { identity, staticKey, attestation } = await setup()
  const verified = verifyPurposeKeyAttestation(
    attestation,
    identity,
    { purpose: 'secure-channel', now: T0 + 10 },
    crypto,
  )
  assert.deepEqual(verified.publicKey, staticKey)
  assert.equal(verified.subject, identity.identifier)
  assert.deepEqual(verified.subjectChangeHash, identity.latestChangeHash)
  assert.equal(verified.expires, window.expires)
})

test('a key attested for one purpose is refused for the other', async () => {
  const { key, identity, attestation } = await setup()
  refusal(
    () => verifyPurposeKeyAttestation(attestation, identity, { purpose: 'credential-signing', now: T0 }, crypto),
    'OCKAM_ERR_PURPOSE_KEY_WRONG_PURPOSE',
  )
  const signing = await createPurposeKeyAttestation(signer, key, identity, {
    purpose: 'credential-signing',
    publicKey: crypto.ed25519GenerateKeyPair().publicKey,
    ...window,
  })
  assert.ok(verifyPurposeKeyAttestation(signing, identity, { purpose: 'credential-signing', now: T0 }, crypto))
  refusal(
    () => verifyPurposeKeyAttestation(signing, identity, { purpose: 'secure-channel', now: T0 }, crypto),
    'OCKAM_ERR_PURPOSE_KEY_WRONG_PURPOSE',
  )
})

test('an attestation of another identity is refused', async () => {
  const { attestation } = await setup()
  const other = await setup()
  refusal(
    () => verifyPurposeKeyAttestation(attestation, other.identity, { purpose: 'secure-channel', now: T0 }, crypto),
    'OCKAM_ERR_PURPOSE_KEY_WRONG_SUBJECT',
  )
})

test('after a rotation, attestations made before it are stale and the old key cannot make new ones', async () => {
  const { key, identity, attestation, staticKey } = await setup()
  const next = signer.generateKey()
  const rotated = await rotateIdentity(identity, signer, key, next, { created: T0 + 1 }, crypto)
  refusal(
    () => verifyPurposeKeyAttestation(attestation, rotated, { purpose: 'secure-channel', now: T0 }, crypto),
    'OCKAM_ERR_PURPOSE_KEY_STALE',
  )
  await refusalAsync(
    () =>
      createPurposeKeyAttestation(signer, key, rotated, { purpose: 'secure-channel', publicKey: staticKey, ...window }),
    'OCKAM_ERR_IDENTITY_KEY_MISMATCH',
  )
  // A holder of the old key who forges an attestation naming the new latest change still fails: wrong signer.
  const forgedData = encodePurposeKeyData({
    subject: rotated.identifier,
    subjectChangeHash: rotated.latestChangeHash,
    purpose: 'secure-channel',
    publicKey: staticKey,
    ...window,
  })
  const forged = encodeCbor([forgedData, await signer.sign(key, signingInput('purposeKey', forgedData))])
  refusal(
    () => verifyPurposeKeyAttestation(forged, rotated, { purpose: 'secure-channel', now: T0 }, crypto),
    'OCKAM_ERR_PURPOSE_KEY_BAD_SIGNATURE',
  )
  const fresh = await createPurposeKeyAttestation(signer, next, rotated, {
    purpose: 'secure-channel',
    publicKey: staticKey,
    ...window,
  })
  assert.ok(verifyPurposeKeyAttestation(fresh, rotated, { purpose: 'secure-channel', now: T0 }, crypto))
})

test('the validity window is checked with ±60 s of skew', async () => {
  const { identity, attestation } = await setup()
  const check = (now: number) =>
    verifyPurposeKeyAttestation(attestation, identity, { purpose: 'secure-channel', now }, crypto)
  assert.ok(check(window.created - 60))
  refusal(() => check(window.created - 61), 'OCKAM_ERR_PURPOSE_KEY_NOT_YET_VALID')
  assert.ok(check(window.expires + 59))
  refusal(() => check(window.expires + 60), 'OCKAM_ERR_PURPOSE_KEY_EXPIRED')
})

test('invalid fields and versions are refused', async () => {
  const { key, identity, staticKey } = await setup()
  const fields: VerifiedPurposeKey = {
    subject: identity.identifier,
    subjectChangeHash: identity.latestChangeHash,
    purpose: 'secure-channel',
    publicKey: staticKey,
    created: T0,
    expires: T0,
  }
  const sign = async (data: Uint8Array) => encodeCbor([data, await signer.sign(key, signingInput('purposeKey', data))])
  const verify = (bytes: Uint8Array) =>
    verifyPurposeKeyAttestation(bytes, identity, { purpose: 'secure-channel', now: T0 }, crypto)
  refusal(() => verify(encodePurposeKeyData(fields)), 'OCKAM_ERR_CBOR_SCHEMA')
  refusal(() => decodePurposeKeyData(encodeCbor([2, 1, 2])), 'OCKAM_ERR_PURPOSE_KEY_INVALID')
  refusal(
    () => decodePurposeKeyData(encodeCbor([1, new Uint8Array(32), new Uint8Array(32), 3, staticKey, T0, T0 + 1])),
    'OCKAM_ERR_PURPOSE_KEY_INVALID',
  )
  const zeroWindow = await sign(encodePurposeKeyData(fields))
  refusal(() => verify(zeroWindow), 'OCKAM_ERR_PURPOSE_KEY_INVALID')
  await refusalAsync(
    () =>
      createPurposeKeyAttestation(signer, key, identity, {
        purpose: 'secure-channel',
        publicKey: staticKey,
        created: T0,
        expires: T0,
      }),
    'OCKAM_ERR_INVALID_ARGUMENT',
  )
})

test('changing any single byte of an attestation fails with a typed error (exhaustive)', async () => {
  const { identity, attestation } = await setup()
  for (const { mutated } of singleByteChanges(attestation)) {
    refusal(() => verifyPurposeKeyAttestation(mutated, identity, { purpose: 'secure-channel', now: T0 }, crypto))
  }
})

test('random mutations of an attestation fail with a typed error (fast-check)', async () => {
  const { identity, attestation } = await setup()
  fc.assert(
    fc.property(mutationOf(attestation), (mutated) => {
      refusal(() => verifyPurposeKeyAttestation(mutated, identity, { purpose: 'secure-channel', now: T0 }, crypto))
    }),
    { numRuns: 300 },
  )
})

test('decode(encode(x)) = x for attestation data (fast-check)', () => {
  const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
  const fields = fc
    .record({
      subject: bytes32.map(identifierFromHash),
      subjectChangeHash: bytes32,
      purpose: fc.constantFrom('secure-channel' as const, 'credential-signing' as const),
      publicKey: bytes32,
      created: fc.integer({ min: 0, max: 2 ** 40 }),
      lifetime: fc.integer({ min: 1, max: 2 ** 40 }),
    })
    .map(({ lifetime, ...rest }) => ({ ...rest, expires: rest.created + lifetime }))
  fc.assert(
    fc.property(fields, (value) => {
      assert.deepEqual(decodePurposeKeyData(encodePurposeKeyData(value)), value)
    }),
    { numRuns: 300 },
  )
})

test('decodePurposeKeyAttestation keeps the exact data bytes', async () => {
  const { attestation } = await setup()
  const parsed = decodePurposeKeyAttestation(attestation)
  assert.deepEqual(encodeCbor([parsed.data, parsed.signature]), attestation)
})
