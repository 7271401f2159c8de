/** Trust policies of secure channels: the three kinds, the deferred members decision, attribute merging and expiry. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isOckamError } from '../../../runtime/errors.js'
import type { VerifiedCredential } from '../../../runtime/trust/credentials/types.js'
import {
  attributesOf,
  checkTrustPolicy,
  decideTrust,
  trustAnyone,
  trustIdentifiers,
  trustMembers,
} from '../../../workers/secure-channel/trust-policy.js'

const ALICE = `I${'a'.repeat(64)}`
const BOB = `I${'b'.repeat(64)}`

function credential(attributes: Record<string, string> | [string, string][], expires: number): VerifiedCredential {
  return {
    subject: ALICE,
    subjectChangeHash: new Uint8Array(32),
    issuer: BOB,
    attributes: new Map(Array.isArray(attributes) ? attributes : Object.entries(attributes)),
    created: 0,
    expires,
  }
}

test('anyone admits every verified peer; identifiers only the listed ones', () => {
  const peer = { identifier: ALICE, attributes: {}, credentialCount: 0 }
  assert.equal(decideTrust(trustAnyone(), peer, 'complete').allowed, true)
  assert.equal(decideTrust(trustIdentifiers(ALICE, BOB), peer, 'identity').allowed, true)
  const refused = decideTrust(trustIdentifiers(BOB), peer, 'identity')
  assert.equal(refused.allowed, false)
  assert.match(refused.reason ?? '', /not among the trusted identifiers/)
  assert.throws(
    () => trustIdentifiers('alice'),
    (e: unknown) => isOckamError(e, 'OCKAM_ERR_IDENTITY_INVALID_IDENTIFIER'),
  )
  assert.throws(
    () => trustIdentifiers(),
    (e: unknown) => isOckamError(e, 'OCKAM_ERR_INVALID_ARGUMENT'),
  )
})

test('members: deferred at the identity phase, then a valid credential and the expression decide', () => {
  const policy = trustMembers('role.analyst and not contractor')
  const member = { identifier: ALICE, attributes: { role: 'analyst' }, credentialCount: 1 }
  assert.equal(decideTrust(policy, { ...member, credentialCount: 0, attributes: {} }, 'identity').allowed, true)
  assert.equal(decideTrust(policy, member, 'complete').allowed, true)
  assert.equal(
    decideTrust(policy, { ...member, attributes: { role: 'analyst', contractor: 'true' } }, 'complete').allowed,
    false,
  )
  const noCredential = decideTrust(trustMembers(), { ...member, credentialCount: 0 }, 'complete')
  assert.deepEqual(noCredential, {
    allowed: false,
    reason: 'the peer holds no valid credential from a trusted authority',
  })
  assert.equal(decideTrust(trustMembers(), member, 'complete').allowed, true)
  const resource = trustMembers('(= subject.relay resource.name)', { name: 'postgres' })
  assert.equal(decideTrust(resource, { ...member, attributes: { relay: 'postgres' } }, 'complete').allowed, true)
  assert.equal(decideTrust(resource, { ...member, attributes: { relay: 'mysql' } }, 'complete').allowed, false)
  assert.throws(
    () => checkTrustPolicy(trustMembers(), []),
    (e: unknown) => isOckamError(e, 'OCKAM_ERR_INVALID_ARGUMENT'),
  )
  assert.throws(
    () => trustMembers('role.'),
    (e: unknown) => isOckamError(e, 'OCKAM_ERR_POLICY_PARSE'),
  )
})

test('attributes merge in order from credentials still valid (with skew), as plain data', () => {
  const merged = attributesOf(
    [
      credential({ role: 'analyst', env: 'prod' }, 1000),
      credential(
        [
          ['env', 'staging'],
          ['__proto__', 'x'],
          ['constructor', 'y'],
        ],
        2000,
      ),
      credential({ expired: 'true' }, 100),
    ],
    500,
    60,
  )
  assert.deepEqual(Object.entries(merged.attributes), [
    ['role', 'analyst'],
    ['env', 'staging'],
    ['__proto__', 'x'],
    ['constructor', 'y'],
  ])
  assert.equal(Object.getPrototypeOf(merged.attributes), null)
  assert.ok(Object.isFrozen(merged.attributes))
  assert.equal(merged.valid, 2)
  assert.equal(merged.nextExpiry, 1060)
  assert.deepEqual({ ...attributesOf([credential({ a: '1' }, 1000)], 1059, 60).attributes }, { a: '1' })
  assert.deepEqual({ ...attributesOf([credential({ a: '1' }, 1000)], 1060, 60).attributes }, {})
})
