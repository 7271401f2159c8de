import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isOckamError, OckamError } from '../../../runtime/errors.js'
import { DEFAULT_MAX_VERIFY_BATCH_ITEMS } from '../../../runtime/trust/constants.js'
import { createPurposeKeyAttestation } from '../../../runtime/trust/identity/index.js'
import { type VerifyItem, type VerifyOutcome, verifyBatch } from '../../../runtime/trust/verify-batch.js'
import { issue, makeAuthority, makeMember, subjectOf } from './credential-fixtures.js'
import { crypto, signer, T0 } from './fixtures.js'

const authority = await makeAuthority()
const member = await makeMember()
const credential = await issue(authority, member.identity)
const expired = await issue(authority, member.identity, { created: T0 - 2000, expires: T0 - 1000 })
const staticKey = crypto.x25519GenerateKeyPair().publicKey
const channelAttestation = await createPurposeKeyAttestation(signer, member.key, member.identity, {
  purpose: 'secure-channel',
  publicKey: staticKey,
  created: T0,
  expires: T0 + 3600,
})
const now = T0 + 1

/** What a pool task does to its arguments and results: a structured clone each way. */
function acrossThreads(items: readonly VerifyItem[]): VerifyOutcome[] {
  return structuredClone(verifyBatch(structuredClone(items), crypto))
}

test('a batch returns one outcome per item, in order, as plain data that survives a structured clone', () => {
  const broken = member.identity.history.slice(0, -1)
  const outcomes = acrossThreads([
    { kind: 'identity', history: member.identity.history, now },
    { kind: 'identity', history: broken, now },
    { kind: 'purpose-key', attestation: channelAttestation, identity: member.identity, purpose: 'secure-channel', now },
    {
      kind: 'credential',
      presentation: credential,
      authorities: [authority.identity],
      subject: subjectOf(member.identity),
      now,
    },
    { kind: 'credential', presentation: credential, authorities: [], subject: 'any', now },
  ])
  assert.equal(outcomes.length, 5)
  const [identity, bad, purposeKey, verified, untrusted] = outcomes
  assert.ok(identity?.ok === true && identity.kind === 'identity')
  assert.deepEqual(identity.identity, member.identity)
  assert.ok(bad?.ok === false)
  assert.ok(OckamError.isSerialized(bad.error))
  assert.equal(bad.error.code, 'OCKAM_ERR_CBOR_MALFORMED')
  assert.ok(purposeKey?.ok === true && purposeKey.kind === 'purpose-key')
  assert.deepEqual(purposeKey.purposeKey.publicKey, staticKey)
  assert.ok(verified?.ok === true && verified.kind === 'credential')
  assert.equal(verified.credential.attributes.get('role'), 'analyst')
  assert.ok(untrusted?.ok === false)
  const error = OckamError.fromJSON(untrusted.error)
  assert.ok(isOckamError(error, 'OCKAM_ERR_CREDENTIAL_UNTRUSTED_ISSUER'))
  assert.ok(error.hint !== undefined)
})

test('a peer item verifies a whole handshake payload; a bad credential does not fail the peer', () => {
  const [outcome] = acrossThreads([
    {
      kind: 'peer',
      history: member.identity.history,
      secureChannelAttestation: channelAttestation,
      credentials: [credential, expired],
      authorities: [authority.identity],
      now,
    },
  ])
  assert.ok(outcome?.ok === true && outcome.kind === 'peer')
  assert.equal(outcome.identity.identifier, member.identity.identifier)
  assert.deepEqual(outcome.secureChannelKey.publicKey, staticKey)
  const [good, old] = outcome.credentials
  assert.ok(good?.ok === true)
  assert.equal(good.credential.subject, member.identity.identifier)
  assert.ok(old?.ok === false)
  assert.equal(old.error.code, 'OCKAM_ERR_CREDENTIAL_EXPIRED')
})

test('a peer item fails as a whole when the attestation is not for its history', async () => {
  const stranger = await makeMember()
  const [outcome] = verifyBatch(
    [
      {
        kind: 'peer',
        history: stranger.identity.history,
        secureChannelAttestation: channelAttestation,
        credentials: [],
        authorities: [authority.identity],
        now,
      },
    ],
    crypto,
  )
  assert.ok(outcome?.ok === false)
  assert.equal(outcome.error.code, 'OCKAM_ERR_PURPOSE_KEY_WRONG_SUBJECT')
})

test('malformed items become failures; only a malformed batch throws', () => {
  const [unknown, nowMissing] = verifyBatch(
    [
      { kind: 'nonsense' } as unknown as VerifyItem,
      { kind: 'identity', history: member.identity.history } as unknown as VerifyItem,
    ],
    crypto,
  )
  assert.ok(unknown?.ok === false && unknown.error.code === 'OCKAM_ERR_INVALID_ARGUMENT')
  assert.ok(nowMissing?.ok === false && nowMissing.error.code === 'OCKAM_ERR_INVALID_ARGUMENT')
  const [crash] = verifyBatch([{ kind: 'identity', history: null, now } as unknown as VerifyItem], crypto)
  assert.ok(crash?.ok === false)
  assert.match(crash.error.code, /^OCKAM_ERR_/)
  const tooMany = Array.from(
    { length: DEFAULT_MAX_VERIFY_BATCH_ITEMS + 1 },
    () => ({ kind: 'identity', history: member.identity.history, now }) as const,
  )
  assert.throws(
    () => verifyBatch(tooMany, crypto),
    (e: unknown) => isOckamError(e, 'OCKAM_ERR_INVALID_ARGUMENT'),
  )
  assert.deepEqual(verifyBatch([], crypto), [])
})
