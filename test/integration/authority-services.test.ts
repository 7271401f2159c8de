/**
 * The authority workers in a node, reached the way members reach them: through a (simulated,
 * test-only) secure channel that stamps the authenticated peer on each message. Enrollment,
 * credentials, member administration, the revocation feed and its subscriber, and refusal of
 * every ingress that is not an authenticated channel.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { local } from '../../runtime/address.js'
import type { RevocationEntry } from '../../runtime/authority/revocation-entry.js'
import { createRevocationStore, type RevocationStore } from '../../runtime/authority/revocation-store.js'
import { decodeTicket } from '../../runtime/authority/ticket-text.js'
import { isOckamError, type OckamError } from '../../runtime/errors.js'
import type { Ingress } from '../../runtime/message.js'
import { OckamNode } from '../../runtime/node.js'
import { openStateStore } from '../../runtime/state/store.js'
import { verifyCredential } from '../../runtime/trust/credentials/credential.js'
import type { VerifiedIdentity } from '../../runtime/trust/identity/types.js'
import { enroll, membersClient, requestCredential } from '../../workers/authority/client.js'
import {
  CREDENTIALS_ADDRESS,
  ENROLLMENT_ADDRESS,
  MEMBERS_ADDRESS,
  REVOCATIONS_ADDRESS,
} from '../../workers/authority/constants.js'
import { createMembersHandler } from '../../workers/authority/handlers.js'
import { decodeResponse, encodeMembersRequest } from '../../workers/authority/protocol.js'
import { revocationSubscriber } from '../../workers/authority/revocation-subscriber.js'
import { type AuthorityWorkers, channelIngressOnly, startAuthorityWorkers } from '../../workers/authority/workers.js'
import { captureLog } from '../helpers/log-capture.js'
import { simulatedChannel } from '../unit/authority/channel-sim.js'
import { crypto, type Host, newIdentity, projectHost, withCode } from '../unit/authority/helpers.js'

interface Setup {
  host: Host
  node: OckamNode
  workers: AuthorityWorkers
  /** A channel from `identity` to the project; returns routes to the four services. */
  connect(identity: { identifier: string }): Promise<{
    enrollment: ReturnType<typeof local>[]
    credentials: ReturnType<typeof local>[]
    members: ReturnType<typeof local>[]
    revocations: ReturnType<typeof local>[]
    channel: string
    close(): Promise<void>
  }>
}

let channels = 0

async function setup(t: TestContext, options: { entriesPerMessage?: number } = {}): Promise<Setup> {
  const host = await projectHost(t)
  const node = new OckamNode({ name: 'project', log: captureLog('project').log })
  await node.start()
  t.after(() => node.stop())
  const workers = await startAuthorityWorkers(node.context, host.authority, options)
  const project = host.authorityIdentity.identifier
  return {
    host,
    node,
    workers,
    async connect(identity) {
      const name = `channel-${++channels}`
      const channel = await simulatedChannel(node.context, { name, member: identity.identifier, project })
      const via = (service: string) => [channel.out, local(service)]
      return {
        enrollment: via(ENROLLMENT_ADDRESS),
        credentials: via(CREDENTIALS_ADDRESS),
        members: via(MEMBERS_ADDRESS),
        revocations: via(REVOCATIONS_ADDRESS),
        channel: name,
        close: () => channel.close(),
      }
    },
  }
}

/** A member enrolled over the wire with a fresh ticket. */
async function enrolled(s: Setup, options: { relay?: string; enroller?: boolean } = {}): Promise<VerifiedIdentity> {
  const identity = await newIdentity(s.host.clock)
  const { text } = s.host.authority.createTicket(s.host.admin.identifier, options)
  const ticket = decodeTicket(text)
  const routes = await s.connect(identity)
  await enroll(s.node.context, routes.enrollment, {
    project: ticket.projectName,
    code: ticket.code,
    history: identity.history,
  })
  return identity
}

const rejectsWith = (code: Parameters<typeof withCode>[0]) => withCode(code)

test('enrollment over a channel: the ticket works once, then fails with a clear error', async (t) => {
  const s = await setup(t)
  const { text } = s.host.authority.createTicket(s.host.admin.identifier, {
    attributes: { team: 'bank' },
    relay: 'postgres',
  })
  const ticket = decodeTicket(text)
  const bank = await newIdentity(s.host.clock)
  const routes = await s.connect(bank)
  const result = await enroll(s.node.context, routes.enrollment, {
    project: ticket.projectName,
    code: ticket.code,
    history: bank.history,
  })
  assert.equal(result.member.identifier, bank.identifier)
  assert.deepEqual({ ...result.member.attributes }, { team: 'bank', relay: 'postgres' })
  const credential = verifyCredential(
    result.credential,
    { authorities: [s.host.authorityIdentity.identity], subject: bank, now: Math.floor(s.host.clock.ms / 1000) },
    crypto,
  )
  assert.equal(credential.attributes.get('relay'), 'postgres')

  const late = await newIdentity(s.host.clock)
  const lateRoutes = await s.connect(late)
  await assert.rejects(
    enroll(s.node.context, lateRoutes.enrollment, { project: 'demo', code: ticket.code, history: late.history }),
    (error: unknown) => {
      rejectsWith('OCKAM_ERR_AUTHORITY_TICKET_USED')(error)
      assert.match((error as OckamError).message, /has been used already/)
      assert.match((error as OckamError).hint ?? '', /new one/)
      return true
    },
  )
})

test('enrollment refuses another project’s name and a history that is not the channel’s peer', async (t) => {
  const s = await setup(t)
  const { code } = s.host.authority.createTicket(s.host.admin.identifier)
  const enrollee = await newIdentity(s.host.clock)
  const impostor = await newIdentity(s.host.clock)
  const routes = await s.connect(enrollee)
  await assert.rejects(
    enroll(s.node.context, routes.enrollment, { project: 'other', code, history: enrollee.history }),
    rejectsWith('OCKAM_ERR_AUTHORITY_WRONG_PROJECT'),
  )
  await assert.rejects(
    enroll(s.node.context, routes.enrollment, { project: 'demo', code, history: impostor.history }),
    rejectsWith('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'),
  )
  // Neither attempt spent the ticket.
  await enroll(s.node.context, routes.enrollment, { project: 'demo', code, history: enrollee.history })
})

test('ten concurrent enrollments over ten channels with a one-use ticket: exactly one wins', async (t) => {
  const s = await setup(t)
  const { code } = s.host.authority.createTicket(s.host.admin.identifier)
  const enrollees = await Promise.all(Array.from({ length: 10 }, () => newIdentity(s.host.clock)))
  const routes = await Promise.all(enrollees.map((identity) => s.connect(identity)))
  const outcomes = await Promise.allSettled(
    enrollees.map((identity, i) =>
      enroll(s.node.context, routes[i]?.enrollment ?? [], { project: 'demo', code, history: identity.history }),
    ),
  )
  assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1)
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') rejectsWith('OCKAM_ERR_AUTHORITY_TICKET_USED')(outcome.reason)
  }
})

test('a non-member and a plain member cannot reach the member list; an admin can, over its channel', async (t) => {
  const s = await setup(t)
  const member = await enrolled(s)
  const stranger = await newIdentity(s.host.clock)
  for (const identity of [member, stranger]) {
    const members = membersClient(s.node.context, (await s.connect(identity)).members)
    await assert.rejects(members.list(), rejectsWith('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
    await assert.rejects(members.createTicket(), rejectsWith('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
    await assert.rejects(members.audit(), rejectsWith('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
  }
  const admin = membersClient(s.node.context, (await s.connect(s.host.admin)).members)
  const page = await admin.list()
  assert.deepEqual(page.members.map((m) => m.identifier).sort(), [s.host.admin.identifier, member.identifier].sort())
  assert.equal(page.next, undefined)
  const paged = await admin.list({ limit: 1 })
  assert.equal(paged.members.length, 1)
  assert.equal(paged.next, paged.members[0]?.identifier)
  assert.equal((await admin.show(member.identifier)).role, 'member')
  const added = await admin.add(stranger.identifier, { attributes: { team: 'x' }, role: 'enroller' })
  assert.equal(added.role, 'enroller')
  const created = await admin.createTicket({ relay: 'web', usageCount: 2, expiresInSeconds: 120 })
  assert.equal(created.ticket.usageCount, 2)
  assert.equal(decodeTicket(created.text).projectName, 'demo')
  assert.equal((await admin.listTickets()).tickets.length, 2)
  assert.equal((await admin.revokeTicket(created.ticket.id)).status, 'revoked')
  const deleted = await admin.delete(member.identifier)
  assert.equal(deleted.revocationSeq, 1)
  const audit = await admin.audit()
  assert.deepEqual(audit.entries.at(-1)?.action, 'member.delete')
  assert.equal(audit.entries.at(-1)?.actor, s.host.admin.identifier)
})

test('an enroller over its channel: plain members and tickets only', async (t) => {
  const s = await setup(t)
  const enroller = await enrolled(s, { enroller: true })
  const members = membersClient(s.node.context, (await s.connect(enroller)).members)
  const newcomer = await newIdentity(s.host.clock)
  assert.equal((await members.add(newcomer.identifier, { attributes: { team: 'a' } })).role, 'member')
  await assert.rejects(
    members.add(newcomer.identifier, { role: 'admin' }),
    rejectsWith('OCKAM_ERR_AUTHORITY_ENROLLER_LIMIT'),
  )
  await assert.rejects(members.createTicket({ enroller: true }), rejectsWith('OCKAM_ERR_AUTHORITY_ENROLLER_LIMIT'))
  await assert.rejects(
    members.createTicket({ attributes: { 'ockam-admin': 'true' } }),
    rejectsWith('OCKAM_ERR_AUTHORITY_RESERVED_ATTRIBUTE'),
  )
  await assert.rejects(members.delete(s.host.admin.identifier), rejectsWith('OCKAM_ERR_AUTHORITY_ENROLLER_LIMIT'))
  await assert.rejects(members.audit(), rejectsWith('OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
  await members.delete(newcomer.identifier)
})

test('only an authenticated channel reaches the services: local, TCP and relay ingress are refused', async (t) => {
  const s = await setup(t)
  const payload = encodeMembersRequest({ op: 'member-list' })
  for (const address of [ENROLLMENT_ADDRESS, CREDENTIALS_ADDRESS, MEMBERS_ADDRESS, REVOCATIONS_ADDRESS]) {
    await assert.rejects(
      s.node.context.request([local(address)], payload, { timeoutMs: 2_000 }),
      rejectsWith('OCKAM_ERR_ROUTER_ACCESS_DENIED'),
    )
    for (const ingress of [
      { kind: 'tcp', connection: 'tcp-1', peer: '10.0.0.1:1' },
      { kind: 'relay', registration: 'forward_to_x' },
    ] as const) {
      await assert.rejects(
        s.node.router.send({ onward: [local(address)], return: [], payload, local: { ingress } }),
        rejectsWith('OCKAM_ERR_ROUTER_ACCESS_DENIED'),
      )
    }
  }
  assert.equal(
    channelIngressOnly.allows({ onward: [], return: [], payload, local: { ingress: { kind: 'local' } } }),
    false,
  )
  // The handler refuses on its own too, even the admin's identifier arriving any other way.
  const handler = createMembersHandler(s.host.authority)
  const ingresses: Ingress[] = [
    { kind: 'local' },
    { kind: 'tcp', connection: 'c', peer: 'p' },
    { kind: 'relay', registration: 'r' },
    { kind: 'channel', channel: 'c', identifier: 'not-an-identifier', attributes: {} },
  ]
  for (const ingress of ingresses) {
    const response = decodeResponse(await handler(ingress, payload))
    assert.ok(response.status === 'error' && isOckamError(response.error, 'OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
  }
  const asAdmin = decodeResponse(
    await handler({ kind: 'channel', channel: 'c', identifier: s.host.admin.identifier, attributes: {} }, payload),
  )
  assert.equal(asAdmin.status, 'ok')
  // Garbage is answered with a typed error, not a crash.
  const garbage = decodeResponse(
    await handler(
      { kind: 'channel', channel: 'c', identifier: s.host.admin.identifier, attributes: {} },
      new Uint8Array([0xff, 1]),
    ),
  )
  assert.ok(garbage.status === 'error' && isOckamError(garbage.error, 'OCKAM_ERR_AUTHORITY_MESSAGE_INVALID'))
})

test('credentials: a member gets a fresh one; a deleted member gets none', async (t) => {
  const s = await setup(t)
  const member = await enrolled(s, { relay: 'web' })
  const routes = await s.connect(member)
  s.host.clock.ms += 60_000
  const presentation = await requestCredential(s.node.context, routes.credentials, member.history)
  const fresh = verifyCredential(
    presentation,
    { authorities: [s.host.authorityIdentity.identity], subject: member, now: Math.floor(s.host.clock.ms / 1000) },
    crypto,
  )
  assert.equal(fresh.created, Math.floor(s.host.clock.ms / 1000))
  assert.equal(fresh.attributes.get('relay'), 'web')
  await requestCredential(s.node.context, routes.credentials, undefined)
  await s.host.authority.deleteMember(s.host.admin.identifier, member.identifier)
  await assert.rejects(
    requestCredential(s.node.context, routes.credentials, undefined),
    rejectsWith('OCKAM_ERR_AUTHORITY_MEMBER_NOT_FOUND'),
  )
  const stranger = await newIdentity(s.host.clock)
  await assert.rejects(
    requestCredential(s.node.context, (await s.connect(stranger)).credentials, stranger.history),
    rejectsWith('OCKAM_ERR_AUTHORITY_MEMBER_NOT_FOUND'),
  )
})

function subscriberState(
  t: TestContext,
  authority: VerifiedIdentity,
): { store: RevocationStore; reopen(): RevocationStore } {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-subscriber-'))
  const opened: Array<{ close(): void }> = []
  t.after(() => {
    for (const store of opened) store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const open = () => {
    const state = openStateStore({ dir: join(dir, 'home') })
    opened.push(state)
    return createRevocationStore({ db: state.db, authority, crypto })
  }
  return { store: open(), reopen: open }
}

/** Resolves when `store` holds seq `seq`. */
function reaches(store: RevocationStore, seq: number): Promise<void> {
  if (store.lastSeq() >= seq) return Promise.resolve()
  return new Promise((resolve) => {
    const stop = store.onRevoked((entry: RevocationEntry) => {
      if (entry.seq >= seq) {
        stop()
        resolve()
      }
    })
  })
}

test('revocations: a subscriber catches up page by page, then hears each deletion as it happens', async (t) => {
  const s = await setup(t, { entriesPerMessage: 2 })
  const doomed = await Promise.all(Array.from({ length: 5 }, () => enrolled(s)))
  for (const identity of doomed.slice(0, 3))
    await s.host.authority.deleteMember(s.host.admin.identifier, identity.identifier)

  const outlet = await enrolled(s)
  const routes = await s.connect(outlet)
  const errors: OckamError[] = []
  const { store } = subscriberState(t, s.host.authorityIdentity.identity)
  const subscriber = revocationSubscriber({
    store,
    route: routes.revocations,
    peer: s.host.authorityIdentity.identifier,
    onError: (error) => errors.push(error),
  })
  await s.node.startWorker(local('revocation-subscriber'), subscriber, { incoming: channelIngressOnly })
  await reaches(store, 3)
  assert.equal(s.workers.revocations.subscribers, 1)

  const started = performance.now()
  await s.host.authority.deleteMember(s.host.admin.identifier, (doomed[3] as VerifiedIdentity).identifier)
  await reaches(store, 4)
  const pushMs = performance.now() - started
  assert.equal(store.isRevoked((doomed[3] as VerifiedIdentity).identifier), true)
  assert.deepEqual(errors, [])
  t.diagnostic(`deletion to subscriber store: ${pushMs.toFixed(1)} ms`)
})

test('revocations: a subscriber that was disconnected resynchronizes from its last seq; its store survives a restart', async (t) => {
  const s = await setup(t)
  const doomed = await Promise.all(Array.from({ length: 3 }, () => enrolled(s)))
  const outlet = await enrolled(s)
  const state = subscriberState(t, s.host.authorityIdentity.identity)
  const first = await s.connect(outlet)
  const subscriber = revocationSubscriber({ store: state.store, route: first.revocations })
  await s.node.startWorker(local('sub-1'), subscriber, { incoming: channelIngressOnly })
  await s.host.authority.deleteMember(s.host.admin.identifier, (doomed[0] as VerifiedIdentity).identifier)
  await reaches(state.store, 1)

  // The channel drops; deletions happen meanwhile; the push fails and the subscription ends.
  await first.close()
  await s.host.authority.deleteMember(s.host.admin.identifier, (doomed[1] as VerifiedIdentity).identifier)
  await s.workers.revocations.idle()
  assert.equal(s.workers.revocations.subscribers, 0)
  assert.equal(state.store.lastSeq(), 1)

  // The node restarts: the store is reopened, still refuses what it knew, and resyncs over a new channel.
  await s.node.context.stopWorker(local('sub-1'))
  const reopened = state.reopen()
  assert.equal(reopened.isRevoked((doomed[0] as VerifiedIdentity).identifier), true)
  await s.host.authority.deleteMember(s.host.admin.identifier, (doomed[2] as VerifiedIdentity).identifier)
  const second = await s.connect(outlet)
  await s.node.startWorker(local('sub-2'), revocationSubscriber({ store: reopened, route: second.revocations }), {
    incoming: channelIngressOnly,
  })
  await reaches(reopened, 3)
  for (const identity of doomed) assert.equal(reopened.isRevoked(identity.identifier), true)
})

test('revocations: a non-member cannot subscribe; the subscriber reports the refusal', async (t) => {
  const s = await setup(t)
  const stranger = await newIdentity(s.host.clock)
  const routes = await s.connect(stranger)
  const { store } = subscriberState(t, s.host.authorityIdentity.identity)
  const refused = new Promise<OckamError>((resolve) => {
    void s.node.startWorker(
      local('stranger-sub'),
      revocationSubscriber({ store, route: routes.revocations, onError: resolve }),
      { incoming: channelIngressOnly },
    )
  })
  assert.ok(isOckamError(await refused, 'OCKAM_ERR_AUTHORITY_ACCESS_DENIED'))
  assert.equal(s.workers.revocations.subscribers, 0)
})
