/** Relay names: who may register which name, persisted ownership, no takeover, release. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createAuthorityService } from '../../../runtime/authority/authority.js'
import { crypto, enrolledMember, projectHost, withCode } from './helpers.js'

test('a member may register the name its relay attribute names, or any name with *; an admin any name', async (t) => {
  const host = await projectHost(t)
  const bank = (await enrolledMember(host, {}, { relay: 'postgres' })).identifier
  const plain = (await enrolledMember(host)).identifier
  const wildcard = (await enrolledMember(host, {}, { relay: '*' })).identifier
  const stranger = (await host.newcomer()).identifier

  assert.throws(() => host.authority.claimRelay('postgres', plain), withCode('OCKAM_ERR_RELAY_NOT_ALLOWED'))
  assert.throws(() => host.authority.claimRelay('mysql', bank), withCode('OCKAM_ERR_RELAY_NOT_ALLOWED'))
  assert.throws(() => host.authority.claimRelay('postgres', stranger), withCode('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
  // A non-member's attributes (from some credential) do not help: membership is checked here.
  assert.throws(
    () => host.authority.claimRelay('postgres', stranger, { relay: 'postgres' }),
    withCode('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'),
  )
  const claim = host.authority.claimRelay('postgres', bank)
  assert.deepEqual([claim.claimed, claim.relay.owner], [true, bank])
  assert.equal(host.authority.claimRelay('anything-1', wildcard).claimed, true)
  assert.equal(host.authority.claimRelay('admin-relay', host.admin.identifier).claimed, true)
  // The attributes the relay service saw in the channel credential are what counts when given.
  assert.throws(
    () => host.authority.claimRelay('web', plain, { relay: 'other' }),
    withCode('OCKAM_ERR_RELAY_NOT_ALLOWED'),
  )
  assert.equal(host.authority.claimRelay('web', plain, { relay: 'web' }).claimed, true)

  for (const name of ['', 'Postgres', 'a_b', 'x'.repeat(64), '*', 'a.b']) {
    assert.throws(() => host.authority.claimRelay(name, bank), withCode('OCKAM_ERR_RELAY_NAME_INVALID'), name)
  }
  assert.equal(host.authority.claimRelay('-'.repeat(63), wildcard).claimed, true)
})

test('an owned name cannot be taken over, not by a * member, an admin, or after a restart', async (t) => {
  const host = await projectHost(t)
  const bank = (await enrolledMember(host, {}, { relay: 'postgres' })).identifier
  const rival = (await enrolledMember(host, {}, { relay: 'postgres' })).identifier
  const wildcard = (await enrolledMember(host, {}, { relay: '*' })).identifier
  host.authority.claimRelay('postgres', bank)
  for (const other of [rival, wildcard, host.admin.identifier]) {
    assert.throws(() => host.authority.claimRelay('postgres', other), withCode('OCKAM_ERR_RELAY_NAME_TAKEN'))
  }
  // The owner re-registering (a reconnect) is fine and changes nothing.
  const again = host.authority.claimRelay('postgres', bank)
  assert.equal(again.claimed, false)

  const restarted = createAuthorityService({ db: host.store.db, identities: host.identities, crypto })
  assert.equal(restarted.relayOwner('postgres')?.owner, bank)
  assert.throws(() => restarted.claimRelay('postgres', rival), withCode('OCKAM_ERR_RELAY_NAME_TAKEN'))
  // A claim only counts once per owner in the audit log.
  const claims = host.authority.auditLog(host.admin.identifier).filter((entry) => entry.action === 'relay.claim')
  assert.equal(claims.length, 1)
})

test('an owner whose relay attribute was taken away can no longer register its name', async (t) => {
  const host = await projectHost(t)
  const bank = (await enrolledMember(host, {}, { relay: 'postgres' })).identifier
  host.authority.claimRelay('postgres', bank)
  host.authority.addMember(host.admin.identifier, bank, { attributes: {} })
  assert.throws(() => host.authority.claimRelay('postgres', bank), withCode('OCKAM_ERR_RELAY_NOT_ALLOWED'))
})

test('a name is released by its owner, an admin, or the owner’s deletion; not by another member', async (t) => {
  const host = await projectHost(t)
  const bank = (await enrolledMember(host, {}, { relay: '*' })).identifier
  const rival = (await enrolledMember(host, {}, { relay: '*' })).identifier
  host.authority.claimRelay('a', bank)
  host.authority.claimRelay('b', bank)
  host.authority.claimRelay('c', bank)
  assert.throws(() => host.authority.releaseRelay(rival, 'a'), withCode('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
  assert.equal(host.authority.releaseRelay(bank, 'a').owner, bank)
  assert.equal(host.authority.releaseRelay(host.admin.identifier, 'b').owner, bank)
  assert.throws(() => host.authority.releaseRelay(bank, 'a'), withCode('OCKAM_ERR_RELAY_NOT_FOUND'))
  const deleted = await host.authority.deleteMember(host.admin.identifier, bank)
  assert.deepEqual(deleted.releasedRelays, ['c'])
  assert.equal(host.authority.claimRelay('c', rival).claimed, true)
  assert.deepEqual(
    host.authority.listRelays().map((relay) => [relay.name, relay.owner]),
    [['c', rival]],
  )
})
