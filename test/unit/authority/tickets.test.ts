/** Tickets: defaults, redemption once, concurrent redemption, expiry, revocation, other projects, limits. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ENROLLER_ATTRIBUTE, RELAY_ATTRIBUTE } from '../../../runtime/authority/attributes.js'
import {
  DEFAULT_TICKET_TTL_SECONDS,
  DEFAULT_TICKET_USAGE_COUNT,
  MAX_TICKET_TTL_SECONDS,
} from '../../../runtime/authority/constants.js'
import { decodeTicket, verifyTicketAuthority } from '../../../runtime/authority/ticket-text.js'
import { crypto, enrolledMember, projectHost, T0_MS, withCode } from './helpers.js'

test('a ticket has one use and ten minutes by default, carries the project, and stores only the code hash', async (t) => {
  const host = await projectHost(t)
  const { ticket, code, text } = host.authority.createTicket(host.admin.identifier, { attributes: { role: 'db' } })
  assert.equal(ticket.usageCount, DEFAULT_TICKET_USAGE_COUNT)
  assert.equal(DEFAULT_TICKET_USAGE_COUNT, 1)
  assert.equal(ticket.expiresAt, T0_MS + DEFAULT_TICKET_TTL_SECONDS * 1000)
  assert.equal(DEFAULT_TICKET_TTL_SECONDS, 600)
  assert.equal(ticket.status, 'active')
  assert.match(ticket.id, /^[0-9a-f]{16}$/)

  const decoded = decodeTicket(text)
  assert.equal(decoded.projectName, 'demo')
  assert.equal(decoded.address, '127.0.0.1:4000')
  assert.deepEqual(decoded.code, code)
  assert.equal(decoded.expires, Math.floor(ticket.expiresAt / 1000))
  const trusted = verifyTicketAuthority(decoded, Math.floor(host.clock.ms / 1000), crypto)
  assert.equal(trusted.identifier, host.authorityIdentity.identifier)
  assert.notEqual(trusted.identifier, host.admin.identifier)

  // The database holds the hash, never the code.
  const row = host.store.db.prepare('SELECT * FROM authority_tickets WHERE id = ?').get(ticket.id) as Record<
    string,
    unknown
  >
  assert.deepEqual(new Uint8Array(row.code_hash as Buffer), crypto.sha256(code))
  const file = host.store.db.serialize()
  assert.equal(Buffer.from(file).includes(Buffer.from(code)), false)
})

test('a ticket works once, then fails with a clear error; the redeemer is a member with its attributes', async (t) => {
  const host = await projectHost(t)
  const { code, ticket } = host.authority.createTicket(host.admin.identifier, {
    attributes: { role: 'db' },
    relay: 'postgres',
  })
  const first = await host.newcomer()
  const redeemed = host.authority.redeemTicket(code, { identifier: first.identifier, history: first.history })
  assert.equal(redeemed.member.identifier, first.identifier)
  assert.deepEqual({ ...redeemed.member.attributes }, { role: 'db', [RELAY_ATTRIBUTE]: 'postgres' })
  assert.equal(redeemed.member.role, 'member')
  assert.equal(redeemed.member.enrolledWith, ticket.id)
  assert.equal(redeemed.member.hasHistory, true)
  assert.equal(redeemed.ticket.usesLeft, 0)

  const second = await host.newcomer()
  assert.throws(
    () => host.authority.redeemTicket(code, { identifier: second.identifier }),
    (error: unknown) => {
      withCode('OCKAM_ERR_AUTHORITY_TICKET_USED')(error)
      assert.match((error as Error).message, /has been used already/)
      return true
    },
  )
  assert.equal(host.authority.memberRole(second.identifier), undefined)
  assert.equal(host.authority.listTickets(host.admin.identifier)[0]?.status, 'used')
})

test('ten concurrent enrollments with a one-use ticket: exactly one wins', async (t) => {
  const host = await projectHost(t)
  const { code } = host.authority.createTicket(host.admin.identifier)
  const enrollees = await Promise.all(Array.from({ length: 10 }, () => host.newcomer()))
  // Each enrollment redeems then asks for a credential (an await in between), as the enrollment service does.
  const outcomes = await Promise.allSettled(
    enrollees.map(async (enrollee) => {
      await Promise.resolve()
      host.authority.redeemTicket(code, { identifier: enrollee.identifier, history: enrollee.history })
      return host.authority.issueMemberCredential(enrollee.identifier)
    }),
  )
  const won = outcomes.filter((outcome) => outcome.status === 'fulfilled')
  assert.equal(won.length, 1)
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') withCode('OCKAM_ERR_AUTHORITY_TICKET_USED')(outcome.reason)
  }
  assert.equal(host.authority.listMembers(host.admin.identifier).length, 2)
})

test('a ticket with a usage count of three admits three members, then no more', async (t) => {
  const host = await projectHost(t)
  const { code } = host.authority.createTicket(host.admin.identifier, { usageCount: 3 })
  for (let i = 0; i < 3; i++) host.authority.redeemTicket(code, { identifier: (await host.newcomer()).identifier })
  const late = await host.newcomer()
  assert.throws(
    () => host.authority.redeemTicket(code, { identifier: late.identifier }),
    withCode('OCKAM_ERR_AUTHORITY_TICKET_USED'),
  )
})

test('an expired, a revoked, an unknown and another project’s ticket fail, each with its own code', async (t) => {
  const host = await projectHost(t)
  const other = await projectHost(t, { name: 'other' })
  const enrollee = await host.newcomer()
  const enroll = (code: Uint8Array) => host.authority.redeemTicket(code, { identifier: enrollee.identifier })

  const expiring = host.authority.createTicket(host.admin.identifier, { expiresInSeconds: 60 })
  host.clock.ms += 60_000
  assert.throws(() => enroll(expiring.code), withCode('OCKAM_ERR_AUTHORITY_TICKET_EXPIRED'))
  assert.equal(host.authority.listTickets(host.admin.identifier)[0]?.status, 'expired')

  const revoked = host.authority.createTicket(host.admin.identifier)
  assert.equal(host.authority.revokeTicket(host.admin.identifier, revoked.ticket.id).status, 'revoked')
  assert.throws(() => enroll(revoked.code), withCode('OCKAM_ERR_AUTHORITY_TICKET_REVOKED'))

  const foreign = other.authority.createTicket(other.admin.identifier)
  assert.throws(() => enroll(foreign.code), withCode('OCKAM_ERR_AUTHORITY_TICKET_UNKNOWN'))
  assert.throws(() => enroll(new Uint8Array(5)), withCode('OCKAM_ERR_AUTHORITY_TICKET_UNKNOWN'))
  assert.equal(host.authority.memberRole(enrollee.identifier), undefined)
  // The other project's ticket still works there: nothing was spent.
  other.authority.redeemTicket(foreign.code, { identifier: enrollee.identifier })
  assert.equal(other.authority.memberRole(enrollee.identifier), 'member')
})

test('a failed enrollment spends nothing: an existing member or a bad history leaves the use', async (t) => {
  const host = await projectHost(t)
  const member = await enrolledMember(host)
  const { code, ticket } = host.authority.createTicket(host.admin.identifier)
  assert.throws(
    () => host.authority.redeemTicket(code, { identifier: member.identifier }),
    withCode('OCKAM_ERR_AUTHORITY_ALREADY_MEMBER'),
  )
  const newcomer = await host.newcomer()
  const stranger = await host.newcomer()
  assert.throws(
    () => host.authority.redeemTicket(code, { identifier: newcomer.identifier, history: stranger.history }),
    withCode('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'),
  )
  const after = host.authority.listTickets(host.admin.identifier).find((info) => info.id === ticket.id)
  assert.equal(after?.usesLeft, 1)
  host.authority.redeemTicket(code, { identifier: newcomer.identifier })
})

test('tickets refuse reserved and computed attributes, for admins too; options are bounded', async (t) => {
  const host = await projectHost(t)
  const admin = host.admin.identifier
  for (const name of [
    'ockam-admin',
    'OCKAM-enroller',
    'ockam-anything',
    'identifier',
    'has_credential',
    'Identifier',
  ]) {
    assert.throws(
      () => host.authority.createTicket(admin, { attributes: { [name]: 'true' } }),
      withCode('OCKAM_ERR_AUTHORITY_RESERVED_ATTRIBUTE'),
      name,
    )
  }
  assert.throws(
    () => host.authority.createTicket(admin, { usageCount: 0 }),
    withCode('OCKAM_ERR_AUTHORITY_TICKET_INVALID'),
  )
  assert.throws(
    () => host.authority.createTicket(admin, { expiresInSeconds: MAX_TICKET_TTL_SECONDS + 1 }),
    withCode('OCKAM_ERR_AUTHORITY_TICKET_INVALID'),
  )
  assert.throws(
    () => host.authority.createTicket(admin, { relay: 'Postgres' }),
    withCode('OCKAM_ERR_RELAY_NAME_INVALID'),
  )
  assert.throws(
    () => host.authority.createTicket(admin, { relay: 'a', attributes: { relay: 'b' } }),
    withCode('OCKAM_ERR_AUTHORITY_TICKET_INVALID'),
  )
  const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, 'v']))
  assert.throws(
    () => host.authority.createTicket(admin, { attributes: many }),
    withCode('OCKAM_ERR_AUTHORITY_ATTRIBUTES_INVALID'),
  )
  // __proto__ is just a name.
  const proto = JSON.parse('{"__proto__":"x"}') as Record<string, string>
  const { code } = host.authority.createTicket(admin, { attributes: proto })
  const member = await host.newcomer()
  const redeemed = host.authority.redeemTicket(code, { identifier: member.identifier })
  assert.equal(Object.getOwnPropertyDescriptor(redeemed.member.attributes, '__proto__')?.value, 'x')
})

test('enrollers: tickets with plain attributes only; they see and revoke only their own', async (t) => {
  const host = await projectHost(t)
  const enroller = (await enrolledMember(host, {}, { enroller: true })).identifier
  assert.equal(host.authority.memberRole(enroller), 'enroller')
  const made = host.authority.createTicket(enroller, { attributes: { team: 'a' }, relay: 'web' })
  assert.throws(
    () => host.authority.createTicket(enroller, { enroller: true }),
    withCode('OCKAM_ERR_AUTHORITY_ENROLLER_LIMIT'),
  )
  assert.throws(
    () => host.authority.createTicket(enroller, { relay: '*' }),
    withCode('OCKAM_ERR_AUTHORITY_ENROLLER_LIMIT'),
  )
  assert.throws(
    () => host.authority.createTicket(enroller, { attributes: { relay: '*' } }),
    withCode('OCKAM_ERR_AUTHORITY_ENROLLER_LIMIT'),
  )
  assert.throws(
    () => host.authority.createTicket(enroller, { attributes: { [ENROLLER_ATTRIBUTE]: 'true' } }),
    withCode('OCKAM_ERR_AUTHORITY_RESERVED_ATTRIBUTE'),
  )
  const adminTicket = host.authority.createTicket(host.admin.identifier)
  assert.deepEqual(
    host.authority.listTickets(enroller).map((info) => info.id),
    [made.ticket.id],
  )
  assert.equal(host.authority.listTickets(host.admin.identifier).length, 3)
  assert.throws(
    () => host.authority.revokeTicket(enroller, adminTicket.ticket.id),
    withCode('OCKAM_ERR_AUTHORITY_TICKET_NOT_FOUND'),
  )
  assert.equal(host.authority.revokeTicket(enroller, made.ticket.id).status, 'revoked')
})

test('members without a role and non-members cannot create, list or revoke tickets', async (t) => {
  const host = await projectHost(t)
  const member = (await enrolledMember(host)).identifier
  const stranger = (await host.newcomer()).identifier
  for (const actor of [member, stranger, 'not an identifier']) {
    assert.throws(() => host.authority.createTicket(actor), withCode('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
    assert.throws(() => host.authority.listTickets(actor), withCode('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
    assert.throws(() => host.authority.revokeTicket(actor, 'x'), withCode('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
  }
})

test('every ticket change is in the audit log with who made it', async (t) => {
  const host = await projectHost(t)
  const { code, ticket } = host.authority.createTicket(host.admin.identifier, { attributes: { a: 'b' } })
  const member = await host.newcomer()
  host.authority.redeemTicket(code, { identifier: member.identifier })
  host.authority.revokeTicket(host.admin.identifier, ticket.id)
  const log = host.authority.auditLog(host.admin.identifier)
  assert.deepEqual(
    log.map((entry) => [entry.actor, entry.action]),
    [
      [host.admin.identifier, 'project.create'],
      [host.admin.identifier, 'ticket.create'],
      [member.identifier, 'ticket.redeem'],
      [host.admin.identifier, 'ticket.revoke'],
    ],
  )
  assert.equal(log[1]?.details.ticket, ticket.id)
  assert.equal(JSON.stringify(log).includes(Buffer.from(code).toString('hex')), false)
  assert.throws(() => host.authority.auditLog(member.identifier), withCode('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
})
