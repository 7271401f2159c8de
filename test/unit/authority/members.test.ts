/** Members: roles, enroller limits, the last admin, listing, credentials only for existing members. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_ATTRIBUTE, ENROLLER_ATTRIBUTE } from '../../../runtime/authority/attributes.js'
import { createAuthorityService } from '../../../runtime/authority/authority.js'
import { DEFAULT_MEMBER_CREDENTIAL_TTL_SECONDS } from '../../../runtime/authority/constants.js'
import { checkProjectSettings } from '../../../runtime/authority/project.js'
import { verifyCredential } from '../../../runtime/trust/credentials/credential.js'
import type { IdentitiesService } from '../../../runtime/trust/identities/index.js'
import { createIdentity, rotateIdentity } from '../../../runtime/trust/identity/create.js'
import { createMemorySigner } from '../../../runtime/trust/identity/memory-signer.js'
import { crypto, enrolledMember, newIdentity, projectHost, withCode } from './helpers.js'

test('the creator is the only admin; the authority identity is distinct and not a member', async (t) => {
  const host = await projectHost(t)
  assert.equal(host.project.name, 'demo')
  assert.equal(host.project.authority, host.authorityIdentity.identifier)
  assert.equal(host.project.settings.credentialTtlSeconds, DEFAULT_MEMBER_CREDENTIAL_TTL_SECONDS)
  const members = host.authority.listMembers(host.admin.identifier)
  assert.equal(members.length, 1)
  assert.equal(members[0]?.role, 'admin')
  assert.deepEqual({ ...members[0]?.attributes }, { [ADMIN_ATTRIBUTE]: 'true' })
  assert.equal(host.authority.memberRole(host.authorityIdentity.identifier), undefined)
  assert.throws(
    () =>
      host.authority.createProject({
        name: 'second',
        authorityIdentity: 'authority',
        advertisedAddress: 'example.com:4000',
        admin: host.admin.identifier,
      }),
    withCode('OCKAM_ERR_AUTHORITY_PROJECT_EXISTS'),
  )
})

test('project creation checks its name, address, settings and that the authority is not the admin', async (t) => {
  const host = await projectHost(t)
  const base = { name: 'x', authorityIdentity: 'authority', advertisedAddress: 'h:1', admin: host.admin.identifier }
  const cases: Array<[Partial<typeof base> & { credentialTtlSeconds?: number; passthrough?: boolean }, string]> = [
    [{ name: 'Bad_Name' }, 'OCKAM_ERR_AUTHORITY_PROJECT_NAME_INVALID'],
    [{ advertisedAddress: '0.0.0.0:4000' }, 'OCKAM_ERR_AUTHORITY_ADDRESS_INVALID'],
    [{ advertisedAddress: '[::]:4000' }, 'OCKAM_ERR_AUTHORITY_ADDRESS_INVALID'],
    [{ advertisedAddress: 'host:0' }, 'OCKAM_ERR_AUTHORITY_ADDRESS_INVALID'],
    [{ advertisedAddress: 'host' }, 'OCKAM_ERR_AUTHORITY_ADDRESS_INVALID'],
    [{ credentialTtlSeconds: 5 }, 'OCKAM_ERR_AUTHORITY_SETTINGS_INVALID'],
    [{ passthrough: 'no' as unknown as boolean }, 'OCKAM_ERR_AUTHORITY_SETTINGS_INVALID'],
    [{ admin: host.authorityIdentity.identifier }, 'OCKAM_ERR_INVALID_ARGUMENT'],
  ]
  for (const [change, code] of cases) {
    assert.throws(() => host.authority.createProject({ ...base, ...change }), withCode(code as never), code)
  }
})

test('admins add members, enrollers and admins; enrollers add and delete plain members only', async (t) => {
  const host = await projectHost(t)
  const admin = host.admin.identifier
  const enroller = (await host.newcomer()).identifier
  const plain = (await host.newcomer()).identifier
  const another = (await host.newcomer()).identifier
  assert.equal(host.authority.addMember(admin, enroller, { role: 'enroller' }).role, 'enroller')
  const added = host.authority.addMember(enroller, plain, { attributes: { team: 'blue', relay: 'web' } })
  assert.deepEqual({ ...added.attributes }, { team: 'blue', relay: 'web' })
  assert.equal(added.addedBy, enroller)
  assert.equal(added.hasHistory, false)

  const limit = withCode('OCKAM_ERR_AUTHORITY_ENROLLER_LIMIT')
  assert.throws(() => host.authority.addMember(enroller, another, { role: 'admin' }), limit)
  assert.throws(() => host.authority.addMember(enroller, another, { role: 'enroller' }), limit)
  assert.throws(() => host.authority.addMember(enroller, another, { attributes: { relay: '*' } }), limit)
  assert.throws(() => host.authority.addMember(enroller, admin, { attributes: { x: 'y' } }), limit)
  await assert.rejects(host.authority.deleteMember(enroller, admin), limit)
  const other = (await host.newcomer()).identifier
  host.authority.addMember(admin, other, { role: 'enroller' })
  await assert.rejects(host.authority.deleteMember(enroller, other), limit)
  assert.throws(
    () => host.authority.addMember(enroller, another, { attributes: { [ENROLLER_ATTRIBUTE]: 'true' } }),
    withCode('OCKAM_ERR_AUTHORITY_RESERVED_ATTRIBUTE'),
  )
  assert.throws(
    () => host.authority.addMember(admin, another, { attributes: { [ADMIN_ATTRIBUTE]: 'true' } }),
    withCode('OCKAM_ERR_AUTHORITY_RESERVED_ATTRIBUTE'),
  )

  // An enroller changes a plain member's attributes; an admin promotes one.
  assert.deepEqual(
    { ...host.authority.addMember(enroller, plain, { attributes: { team: 'red' } }).attributes },
    { team: 'red' },
  )
  assert.equal(host.authority.addMember(admin, plain, { role: 'admin' }).role, 'admin')
  const deleted = await host.authority.deleteMember(admin, plain)
  assert.equal(deleted.member.identifier, plain)
  assert.equal(host.authority.memberRole(plain), undefined)
})

test('the last admin cannot be deleted or demoted; with a second admin it can', async (t) => {
  const host = await projectHost(t)
  const admin = host.admin.identifier
  await assert.rejects(host.authority.deleteMember(admin, admin), withCode('OCKAM_ERR_AUTHORITY_LAST_ADMIN'))
  assert.throws(
    () => host.authority.addMember(admin, admin, { role: 'member' }),
    withCode('OCKAM_ERR_AUTHORITY_LAST_ADMIN'),
  )
  const second = (await host.newcomer()).identifier
  host.authority.addMember(admin, second, { role: 'admin' })
  await host.authority.deleteMember(second, admin)
  assert.equal(host.authority.memberRole(admin), undefined)
  await assert.rejects(host.authority.deleteMember(second, second), withCode('OCKAM_ERR_AUTHORITY_LAST_ADMIN'))
})

test('a non-member or a plain member cannot reach the member list, show, add or delete', async (t) => {
  const host = await projectHost(t)
  const member = (await enrolledMember(host)).identifier
  const stranger = (await host.newcomer()).identifier
  const denied = withCode('OCKAM_ERR_AUTHORITY_ACCESS_DENIED')
  for (const actor of [member, stranger]) {
    assert.throws(() => host.authority.listMembers(actor), denied)
    assert.throws(() => host.authority.showMember(actor, host.admin.identifier), denied)
    assert.throws(() => host.authority.addMember(actor, stranger), denied)
    await assert.rejects(host.authority.deleteMember(actor, member), denied)
  }
  assert.equal(host.authority.showMember(host.admin.identifier, member).role, 'member')
  assert.throws(
    () => host.authority.showMember(host.admin.identifier, stranger),
    withCode('OCKAM_ERR_AUTHORITY_MEMBER_NOT_FOUND'),
  )
})

test('list pages by identifier', async (t) => {
  const host = await projectHost(t)
  for (let i = 0; i < 4; i++) host.authority.addMember(host.admin.identifier, (await host.newcomer()).identifier)
  const all = host.authority.listMembers(host.admin.identifier).map((member) => member.identifier)
  assert.deepEqual(all, [...all].sort())
  const first = host.authority.listMembers(host.admin.identifier, { limit: 2 })
  const rest = host.authority.listMembers(host.admin.identifier, { after: first[1]?.identifier as string })
  assert.deepEqual(
    [...first, ...rest].map((member) => member.identifier),
    all,
  )
})

test('a member gets a credential from the authority with its attributes, 15 minutes by default', async (t) => {
  const host = await projectHost(t)
  const member = await enrolledMember(host, { role: 'db' }, { relay: 'postgres' })
  const issued = await host.authority.issueMemberCredential(member.identifier)
  const verified = verifyCredential(
    issued.presentation,
    { authorities: [host.authorityIdentity.identity], subject: member, now: Math.floor(host.clock.ms / 1000) },
    crypto,
  )
  assert.equal(verified.issuer, host.authorityIdentity.identifier)
  assert.equal(verified.expires - verified.created, 15 * 60)
  assert.deepEqual(Object.fromEntries(verified.attributes), { role: 'db', relay: 'postgres' })

  const custom = await projectHost(t, { credentialTtlSeconds: 120 })
  const other = await enrolledMember(custom)
  const short = await custom.authority.issueMemberCredential(other.identifier)
  assert.equal(short.credential.expires - short.credential.created, 120)
  const shorter = await custom.authority.issueMemberCredential(other.identifier, { ttlSeconds: 60 })
  assert.equal(shorter.credential.expires - shorter.credential.created, 60)
})

test('a member added by identifier gets a credential once it presents its history; a rollback is refused', async (t) => {
  const host = await projectHost(t)
  const signer = createMemorySigner(crypto)
  const first = signer.generateKey()
  const identity = await createIdentity(signer, first, { created: Math.floor(host.clock.ms / 1000) }, crypto)
  host.authority.addMember(host.admin.identifier, identity.identifier)
  await assert.rejects(
    host.authority.issueMemberCredential(identity.identifier),
    withCode('OCKAM_ERR_IDENTITY_HISTORY_UNAVAILABLE'),
  )
  const stranger = await newIdentity(host.clock)
  await assert.rejects(
    host.authority.issueMemberCredential(identity.identifier, { history: stranger.history }),
    withCode('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'),
  )
  await host.authority.issueMemberCredential(identity.identifier, { history: identity.history })
  const rotated = await rotateIdentity(
    identity,
    signer,
    first,
    signer.generateKey(),
    { created: identity.changes[0]?.created ?? 0 },
    crypto,
  )
  const fresh = await host.authority.issueMemberCredential(identity.identifier, { history: rotated.history })
  assert.deepEqual(fresh.credential.subjectChangeHash, rotated.latestChangeHash)
  await assert.rejects(
    host.authority.issueMemberCredential(identity.identifier, { history: identity.history }),
    withCode('OCKAM_ERR_IDENTITY_ROLLBACK'),
  )
  // Without a history, the longest one held counts.
  const again = await host.authority.issueMemberCredential(identity.identifier)
  assert.deepEqual(again.credential.subjectChangeHash, rotated.latestChangeHash)
})

test('no credential for a deleted member: deleted before, or deleted while the credential was being signed', async (t) => {
  let gate: { reached: () => void; release: Promise<void> } | undefined
  const wrap = (identities: IdentitiesService): IdentitiesService => ({
    ...identities,
    async issueCredential(issuer, request) {
      const issued = await identities.issueCredential(issuer, request)
      if (gate !== undefined) {
        gate.reached()
        await gate.release
      }
      return issued
    },
  })
  const host = await projectHost(t, { wrapIdentities: wrap })
  const member = await enrolledMember(host)
  await host.authority.deleteMember(host.admin.identifier, member.identifier)
  await assert.rejects(
    host.authority.issueMemberCredential(member.identifier),
    withCode('OCKAM_ERR_AUTHORITY_MEMBER_NOT_FOUND'),
  )

  const racing = await enrolledMember(host)
  let reached!: () => void
  let release!: () => void
  const reachedPromise = new Promise<void>((resolve) => {
    reached = resolve
  })
  gate = { reached, release: new Promise<void>((resolve) => (release = resolve)) }
  const issuing = host.authority.issueMemberCredential(racing.identifier)
  await reachedPromise
  // The credential is signed; the member is deleted before it is released.
  gate = undefined
  await host.authority.deleteMember(host.admin.identifier, racing.identifier)
  release()
  await assert.rejects(issuing, withCode('OCKAM_ERR_AUTHORITY_MEMBER_NOT_FOUND'))
})

test('a credential signed while the member’s attributes changed is made again with the new attributes', async (t) => {
  let onSigned: (() => void) | undefined
  const wrap = (identities: IdentitiesService): IdentitiesService => ({
    ...identities,
    async issueCredential(issuer, request) {
      const issued = await identities.issueCredential(issuer, request)
      const hook = onSigned
      onSigned = undefined
      hook?.()
      return issued
    },
  })
  const host = await projectHost(t, { wrapIdentities: wrap })
  const member = await enrolledMember(host, { team: 'blue' })
  onSigned = () => host.authority.addMember(host.admin.identifier, member.identifier, { attributes: { team: 'red' } })
  const issued = await host.authority.issueMemberCredential(member.identifier)
  assert.equal(issued.credential.attributes.get('team'), 'red')
})

test('a deleted member is revoked for good: not re-added, not re-enrolled; its deletion is audited', async (t) => {
  const host = await projectHost(t)
  const member = await enrolledMember(host)
  const deleted = await host.authority.deleteMember(host.admin.identifier, member.identifier)
  assert.equal(deleted.revocation.seq, 1)
  assert.equal(deleted.revocation.subject, member.identifier)
  assert.equal(host.authority.isRevoked(member.identifier), true)
  assert.throws(
    () => host.authority.addMember(host.admin.identifier, member.identifier),
    withCode('OCKAM_ERR_AUTHORITY_IDENTITY_REVOKED'),
  )
  const { code } = host.authority.createTicket(host.admin.identifier)
  assert.throws(
    () => host.authority.redeemTicket(code, { identifier: member.identifier }),
    withCode('OCKAM_ERR_AUTHORITY_IDENTITY_REVOKED'),
  )
  await assert.rejects(
    host.authority.deleteMember(host.admin.identifier, member.identifier),
    withCode('OCKAM_ERR_AUTHORITY_MEMBER_NOT_FOUND'),
  )
  const last = host.authority.auditLog(host.admin.identifier).at(-2)
  assert.equal(last?.action, 'member.delete')
  assert.equal(last?.actor, host.admin.identifier)
  assert.equal(last?.details.member, member.identifier)
  assert.equal(last?.details.revocation, 1)
})

test('concurrent deletions get consecutive sequence numbers', async (t) => {
  const host = await projectHost(t)
  const members = await Promise.all(Array.from({ length: 5 }, () => enrolledMember(host)))
  const deleted = await Promise.all(
    members.map((member) => host.authority.deleteMember(host.admin.identifier, member.identifier)),
  )
  assert.deepEqual(
    deleted.map((item) => item.revocation.seq).sort((a, b) => a - b),
    [1, 2, 3, 4, 5],
  )
  const page = host.authority.entriesSince(0)
  assert.equal(page.latestSeq, 5)
  assert.deepEqual(
    page.entries.map((entry) => entry.seq),
    [1, 2, 3, 4, 5],
  )
  assert.deepEqual(
    host.authority.entriesSince(3, 1).entries.map((entry) => entry.seq),
    [4],
  )
})

test('the authority refuses a database connection that is not synchronous=FULL', async (t) => {
  const host = await projectHost(t)
  host.store.db.pragma('synchronous = NORMAL')
  assert.throws(
    () => createAuthorityService({ db: host.store.db, identities: host.identities }),
    withCode('OCKAM_ERR_INTERNAL'),
  )
  host.store.db.pragma('synchronous = FULL')
  assert.equal(createAuthorityService({ db: host.store.db, identities: host.identities }).project().name, 'demo')
})

test('the project keeps its passthrough setting: on by default, off when created so', async (t) => {
  const on = await projectHost(t)
  assert.equal(on.authority.findProject()?.settings.passthrough, true)
  assert.equal(checkProjectSettings({ passthrough: false }).passthrough, false)
  assert.equal(checkProjectSettings({ credentialTtlSeconds: 120 }).passthrough, true)
})
