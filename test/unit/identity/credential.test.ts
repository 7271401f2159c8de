import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { type CborValue, decodeCbor, encodeCbor } from '../../../runtime/trust/cbor.js'
import {
  DEFAULT_MAX_ATTRIBUTE_KEY_BYTES,
  DEFAULT_MAX_ATTRIBUTE_VALUE_BYTES,
  DEFAULT_MAX_CREDENTIAL_ATTRIBUTES,
} from '../../../runtime/trust/constants.js'
import {
  CREDENTIAL_TEXT_PREFIX,
  credentialFromText,
  credentialToText,
  decodeCredentialData,
  decodeCredentialPresentation,
  encodeCredentialData,
  issueCredential,
  type VerifiedCredential,
  verifyCredential,
} from '../../../runtime/trust/credentials/index.js'
import {
  createPurposeKeyAttestation,
  identifierFromHash,
  rotateIdentity,
  signingInput,
} from '../../../runtime/trust/identity/index.js'
import { issue, makeAuthority, makeMember, subjectOf } from './credential-fixtures.js'
import { crypto, mutationOf, refusal, refusalAsync, signer, singleByteChanges, T0 } from './fixtures.js'

const asValue = (bytes: Uint8Array): CborValue => decodeCbor(bytes)

const authority = await makeAuthority()
const member = await makeMember()
const presentation = await issue(authority, member.identity)
const options = (overrides: Partial<Parameters<typeof verifyCredential>[1]> = {}) => ({
  authorities: [authority.identity],
  subject: subjectOf(member.identity),
  now: T0 + 10,
  ...overrides,
})

test('an issued credential verifies against its authority and names its subject and attributes', () => {
  const credential = verifyCredential(presentation, options(), crypto)
  assert.equal(credential.subject, member.identity.identifier)
  assert.equal(credential.issuer, authority.identity.identifier)
  assert.deepEqual(
    credential.attributes,
    new Map([
      ['role', 'analyst'],
      ['env', 'prod'],
    ]),
  )
  assert.equal(credential.created, T0)
  assert.equal(credential.expires, T0 + 900)
  assert.deepEqual(verifyCredential(presentation, options({ subject: 'any' }), crypto), credential)
})

test('expired and not-yet-valid credentials are refused, with ±60 s of skew', () => {
  assert.ok(verifyCredential(presentation, options({ now: T0 - 60 }), crypto))
  refusal(() => verifyCredential(presentation, options({ now: T0 - 61 }), crypto), 'OCKAM_ERR_CREDENTIAL_NOT_YET_VALID')
  assert.ok(verifyCredential(presentation, options({ now: T0 + 900 + 59 }), crypto))
  refusal(() => verifyCredential(presentation, options({ now: T0 + 900 + 60 }), crypto), 'OCKAM_ERR_CREDENTIAL_EXPIRED')
  refusal(
    () => verifyCredential(presentation, options({ now: T0 + 10 * 86_400 }), crypto),
    'OCKAM_ERR_CREDENTIAL_EXPIRED',
  )
})

test('a credential from an issuer that is not a trusted authority is refused', async () => {
  const other = await makeAuthority()
  refusal(
    () => verifyCredential(presentation, options({ authorities: [other.identity] }), crypto),
    'OCKAM_ERR_CREDENTIAL_UNTRUSTED_ISSUER',
  )
  refusal(
    () => verifyCredential(presentation, options({ authorities: [] }), crypto),
    'OCKAM_ERR_CREDENTIAL_UNTRUSTED_ISSUER',
  )
  // A member cannot issue credentials about itself: it is not an authority.
  const selfIssued = await issue(other, member.identity)
  refusal(() => verifyCredential(selfIssued, options(), crypto), 'OCKAM_ERR_CREDENTIAL_UNTRUSTED_ISSUER')
})

test('a credential about another identity, or about an older change of the subject, is refused', async () => {
  const stranger = await makeMember()
  refusal(
    () => verifyCredential(presentation, options({ subject: subjectOf(stranger.identity) }), crypto),
    'OCKAM_ERR_CREDENTIAL_WRONG_SUBJECT',
  )
  const rotated = await rotateIdentity(
    member.identity,
    signer,
    member.key,
    signer.generateKey(),
    { created: T0 },
    crypto,
  )
  refusal(
    () => verifyCredential(presentation, options({ subject: subjectOf(rotated) }), crypto),
    'OCKAM_ERR_CREDENTIAL_SUBJECT_STALE',
  )
})

test('bad signatures are refused: tampered signature, key not attested, attestation by another identity', async () => {
  const parsed = decodeCredentialPresentation(presentation)
  const badSignature = parsed.signature.slice()
  badSignature[0] = (badSignature[0] as number) ^ 1
  const tampered = encodeCbor([
    [parsed.data, badSignature],
    [parsed.attestation.data, parsed.attestation.signature],
  ])
  refusal(() => verifyCredential(tampered, options(), crypto), 'OCKAM_ERR_CREDENTIAL_BAD_SIGNATURE')

  // Signed by a key the authority never attested, presented with the real attestation.
  const rogue = signer.generateKey()
  const forged = encodeCbor([
    [parsed.data, await signer.sign(rogue, signingInput('credential', parsed.data))],
    [parsed.attestation.data, parsed.attestation.signature],
  ])
  refusal(() => verifyCredential(forged, options(), crypto), 'OCKAM_ERR_CREDENTIAL_BAD_SIGNATURE')

  // A signature by the credential key over the data without domain separation is not a credential signature.
  const undomained = encodeCbor([
    [parsed.data, await signer.sign(authority.credentialKey, parsed.data)],
    [parsed.attestation.data, parsed.attestation.signature],
  ])
  refusal(() => verifyCredential(undomained, options(), crypto), 'OCKAM_ERR_CREDENTIAL_BAD_SIGNATURE')

  // The rogue key attested by a member for itself does not make the member's word count for the authority.
  const impostor = await makeMember()
  const impostorAttestation = await createPurposeKeyAttestation(signer, impostor.key, impostor.identity, {
    purpose: 'credential-signing',
    publicKey: await signer.publicKey(rogue),
    created: T0,
    expires: T0 + 900,
  })
  // The credential data still names the authority as issuer; only the attestation is the impostor's.
  const claimingAuthority = encodeCbor([
    [parsed.data, await signer.sign(rogue, signingInput('credential', parsed.data))],
    asValue(impostorAttestation),
  ])
  refusal(() => verifyCredential(claimingAuthority, options(), crypto), 'OCKAM_ERR_PURPOSE_KEY_WRONG_SUBJECT')
})

test('after the authority rotates, credentials presented with its old attestation are refused', async () => {
  const rotated = await rotateIdentity(
    authority.identity,
    signer,
    authority.identityKey,
    signer.generateKey(),
    { created: T0 },
    crypto,
  )
  refusal(
    () => verifyCredential(presentation, options({ authorities: [rotated] }), crypto),
    'OCKAM_ERR_PURPOSE_KEY_STALE',
  )
})

test('attributes are bounded at issue and at verification, and odd names stay plain data', async () => {
  const tooMany = Object.fromEntries(
    Array.from({ length: DEFAULT_MAX_CREDENTIAL_ATTRIBUTES + 1 }, (_, i) => [`k${i}`, 'v']),
  )
  await refusalAsync(() => issue(authority, member.identity, { attributes: tooMany }), 'OCKAM_ERR_CREDENTIAL_INVALID')
  await refusalAsync(
    () => issue(authority, member.identity, { attributes: { ['k'.repeat(DEFAULT_MAX_ATTRIBUTE_KEY_BYTES + 1)]: 'v' } }),
    'OCKAM_ERR_CREDENTIAL_INVALID',
  )
  await refusalAsync(
    () =>
      issue(authority, member.identity, { attributes: { k: 'é'.repeat(DEFAULT_MAX_ATTRIBUTE_VALUE_BYTES / 2 + 1) } }),
    'OCKAM_ERR_CREDENTIAL_INVALID',
  )
  await refusalAsync(
    () => issue(authority, member.identity, { attributes: { '': 'v' } }),
    'OCKAM_ERR_CREDENTIAL_INVALID',
  )
  await refusalAsync(() => issue(authority, member.identity, { expires: T0 }), 'OCKAM_ERR_INVALID_ARGUMENT')
  const odd = new Map([
    ['__proto__', 'a'],
    ['constructor', 'b'],
    ['k'.repeat(DEFAULT_MAX_ATTRIBUTE_KEY_BYTES), 'é'.repeat(DEFAULT_MAX_ATTRIBUTE_VALUE_BYTES / 2)],
  ])
  const credential = verifyCredential(await issue(authority, member.identity, { attributes: odd }), options(), crypto)
  assert.deepEqual(credential.attributes, odd)
  assert.equal(credential.attributes.get('toString'), undefined)

  // Built by hand (bypassing the issuer's checks), an oversized attribute set is refused on decode.
  const fields = decodeCredentialData(decodeCredentialPresentation(presentation).data)
  const data = encodeCbor([
    1,
    new Uint8Array(32),
    fields.subjectChangeHash,
    new Map(Object.entries(tooMany)),
    new Uint8Array(32),
    T0,
    T0 + 1,
  ])
  refusal(() => decodeCredentialData(data), 'OCKAM_ERR_CREDENTIAL_INVALID')
  refusal(
    () =>
      decodeCredentialData(
        encodeCbor([
          1,
          new Uint8Array(32),
          fields.subjectChangeHash,
          new Map([['k', 1]]),
          new Uint8Array(32),
          T0,
          T0 + 1,
        ]),
      ),
    'OCKAM_ERR_CREDENTIAL_INVALID',
  )
  refusal(() => decodeCredentialData(encodeCbor([2])), 'OCKAM_ERR_CREDENTIAL_INVALID')
})

test('changing any single byte of a credential presentation fails with a typed error (exhaustive)', () => {
  for (const { mutated } of singleByteChanges(presentation)) {
    refusal(() => verifyCredential(mutated, options(), crypto))
  }
})

test('random mutations of a credential presentation fail with a typed error (fast-check)', () => {
  fc.assert(
    fc.property(mutationOf(presentation), (mutated) => {
      refusal(() => verifyCredential(mutated, options(), crypto))
    }),
    { numRuns: 300 },
  )
})

test('decode(encode(x)) = x for credential data (fast-check)', () => {
  const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
  const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).filter((s) => s.charCodeAt(0) !== 0xfeff)
  const value = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => s.charCodeAt(0) !== 0xfeff)
  const credential: fc.Arbitrary<VerifiedCredential> = fc
    .record({
      subject: bytes32.map(identifierFromHash),
      subjectChangeHash: bytes32,
      issuer: bytes32.map(identifierFromHash),
      attributes: fc.uniqueArray(fc.tuple(name, value), { selector: ([k]) => k, maxLength: 8 }).map((e) => new Map(e)),
      created: fc.integer({ min: 0, max: 2 ** 40 }),
      lifetime: fc.integer({ min: 1, max: 2 ** 30 }),
    })
    .map(({ lifetime, ...rest }) => ({ ...rest, expires: rest.created + lifetime }))
  fc.assert(
    fc.property(credential, (fields) => {
      assert.deepEqual(decodeCredentialData(encodeCredentialData(fields)), fields)
    }),
    { numRuns: 300 },
  )
})

test('text form: prefix + base64url, strict on the way back', () => {
  const text = credentialToText(presentation)
  assert.ok(text.startsWith(CREDENTIAL_TEXT_PREFIX))
  assert.deepEqual(credentialFromText(` ${text}\n`), presentation)
  refusal(
    () => credentialFromText(text.replace(CREDENTIAL_TEXT_PREFIX, 'ockam-identity-v1:')),
    'OCKAM_ERR_CREDENTIAL_TEXT_INVALID',
  )
  refusal(() => credentialFromText(`${text}*`), 'OCKAM_ERR_CREDENTIAL_TEXT_INVALID')
  refusal(
    () => credentialFromText(`${CREDENTIAL_TEXT_PREFIX}${'A'.repeat(20_000)}`),
    'OCKAM_ERR_CREDENTIAL_TEXT_INVALID',
  )
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (noise) => {
      try {
        credentialFromText(`${CREDENTIAL_TEXT_PREFIX}${noise}`)
      } catch (error) {
        refusal(() => {
          throw error
        }, 'OCKAM_ERR_CREDENTIAL_TEXT_INVALID')
      }
    }),
    { numRuns: 300 },
  )
})

test('issuing with a key that is not the attested one is refused', async () => {
  await refusalAsync(
    () =>
      issueCredential(signer, signer.generateKey(), authority.attestation, {
        subject: subjectOf(member.identity),
        attributes: {},
        created: T0,
        expires: T0 + 1,
      }),
    'OCKAM_ERR_IDENTITY_KEY_MISMATCH',
  )
})
