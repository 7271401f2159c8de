/**
 * The relay end to end over loopback TCP with real secure channels: a member registers
 * `postgres` over its channel to the project; an inlet-side node reaches the member's listener
 * through `forward_to_postgres` and runs an end-to-end channel through it; anything else sent
 * through the registration is refused at the member; names cannot be taken over; the service
 * drops dead registrations and rate-limits registrations per member.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import type { OckamError } from '../../runtime/errors.js'
import { isOckamError } from '../../runtime/errors.js'
import { startRelayReceiver } from '../../workers/relay/index.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { trustIdentifiers } from '../../workers/secure-channel/trust-policy.js'
import { projectHost } from '../unit/authority/helpers.js'
import { rejectsWith, waitForCounter } from '../unit/secure-channel/fixtures.js'
import { DEADLINE_MS, member, next, relayNet } from './relay-helpers.js'

test('inlet node -> project forward_to_postgres -> member api: an end-to-end channel, echo through it', async (t) => {
  const net = await relayNet(t)
  const started = performance.now()
  const session = net.memberSession(t)
  const up = await session.whenUp(DEADLINE_MS)
  t.diagnostic(`relay up after ${(performance.now() - started).toFixed(1)} ms`)
  assert.equal(up.forwardAddress, 'forward_to_postgres')
  assert.deepEqual(
    net.service.registrations().map((r) => [r.name, r.identifier]),
    [['postgres', net.memberId.identity.identifier]],
  )

  const toProject = await createSecureChannel(net.inlet.node, [tcp(net.project.address), local('api')], {
    identity: net.inletId,
    trust: trustIdentifiers(net.projectId.identity.identifier),
    timeoutMs: DEADLINE_MS,
  })
  const e2eStarted = performance.now()
  const e2e = await createSecureChannel(
    net.inlet.node,
    [toProject.address, local('forward_to_postgres'), local('api')],
    { identity: net.inletId, trust: trustIdentifiers(net.memberId.identity.identifier), timeoutMs: DEADLINE_MS },
  )
  t.diagnostic(`end-to-end handshake through the relay: ${(performance.now() - e2eStarted).toFixed(1)} ms`)
  assert.equal(e2e.peerIdentifier, net.memberId.identity.identifier)
  const rttStarted = performance.now()
  const reply = await net.inlet.node.context.request([e2e.address, local('echo')], Buffer.from('hello'), {
    timeoutMs: DEADLINE_MS,
  })
  t.diagnostic(`echo round trip through the relay: ${(performance.now() - rttStarted).toFixed(1)} ms`)
  assert.equal(Buffer.from(reply.payload).toString(), 'hello')
  const ingress = reply.local.ingress
  assert.ok(ingress.kind === 'channel' && ingress.identifier === net.memberId.identity.identifier)
  assert.ok(net.project.node.counters.get('relay.forward.inbound') >= 3)
  assert.ok(net.project.node.counters.get('relay.forward.answers') >= 2)
})

test('a message sent straight to forward_to_postgres/service/echo is refused at the member', async (t) => {
  const net = await relayNet(t)
  const session = net.memberSession(t)
  await session.whenUp(DEADLINE_MS)
  const echoBefore = net.member.node.counters.get('echo.messages')

  // Over plain TCP to the project, and through the inlet's own channel to the project.
  await net.inlet.node.context.send(
    [tcp(net.project.address), local('forward_to_postgres'), local('echo')],
    Buffer.from('tcp'),
  )
  await waitForCounter(net.member.node, 'relay.receiver.refused', (n) => n >= 1, DEADLINE_MS)
  const toProject = await createSecureChannel(net.inlet.node, [tcp(net.project.address), local('api')], {
    identity: net.inletId,
    trust: trustIdentifiers(net.projectId.identity.identifier),
    timeoutMs: DEADLINE_MS,
  })
  await assert.rejects(
    net.inlet.node.context.request([toProject.address, local('forward_to_postgres'), local('echo')], Buffer.from('x'), {
      timeoutMs: 300,
    }),
    rejectsWith('OCKAM_ERR_TIMEOUT'),
  )
  await waitForCounter(net.member.node, 'relay.receiver.refused', (n) => n >= 2, DEADLINE_MS)
  // Other listener-adjacent guesses: another worker's address, a made-up decryptor.
  await net.inlet.node.context.send(
    [tcp(net.project.address), local('forward_to_postgres'), local('sc-0123456789abcdef-d')],
    Buffer.from('guess'),
  )
  await waitForCounter(net.member.node, 'relay.receiver.refused', (n) => n >= 3, DEADLINE_MS)
  assert.equal(net.member.node.counters.get('echo.messages'), echoBefore)
  // The relay still works for what it is for.
  assert.equal(session.state.status, 'up')
})

test('registrations: names are checked, attributes decide, a live name cannot be taken over', async (t) => {
  const net = await relayNet(t)
  const session = net.memberSession(t)
  await session.whenUp(DEADLINE_MS)

  const thief = await member(net.vault, net.authority, { relay: '*' })
  const taken = net.memberSession(t, {}, thief)
  const [takenError] = await next<[OckamError]>(taken, 'down')
  assert.ok(isOckamError(takenError, 'OCKAM_ERR_RELAY_NAME_TAKEN'), String(takenError))
  await taken.stop()

  const stranger = await member(net.vault, net.authority, { relay: 'other' })
  const refused = net.memberSession(t, {}, stranger)
  const [refusedError] = await next<[OckamError]>(refused, 'down')
  assert.ok(isOckamError(refusedError, 'OCKAM_ERR_RELAY_NOT_ALLOWED'), String(refusedError))
  assert.equal(refused.state.lastError?.code, 'OCKAM_ERR_RELAY_NOT_ALLOWED')
  assert.ok(refused.state.attempts >= 1)
  await refused.stop()

  const bad = net.memberSession(t, { name: 'Bad_Name' }, thief)
  const [badError] = await next<[OckamError]>(bad, 'down')
  assert.ok(isOckamError(badError, 'OCKAM_ERR_RELAY_NAME_INVALID'), String(badError))
  await bad.stop()

  // The owner's registration was untouched by all of this.
  assert.deepEqual(
    net.service.registrations().map((r) => [r.name, r.identifier]),
    [['postgres', net.memberId.identity.identifier]],
  )
  assert.equal(session.state.status, 'up')
  assert.equal(session.state.ups, 1)
  // Stopping unregisters: the name's worker is gone at once, the owner stays recorded.
  await session.stop()
  assert.equal(net.service.registrations().length, 0)
  assert.equal(net.project.node.router.hasWorker(local('forward_to_postgres')), false)
  assert.equal(net.owners.get('postgres'), net.memberId.identity.identifier)
})

test('the service drops a registration that stops pinging, and rate-limits registrations per member', async (t) => {
  const net = await relayNet(t, { registrationTimeoutMs: 200, rateLimit: { registrations: 3, windowMs: 60_000 } })
  const channel = await createSecureChannel(net.member.node, [tcp(net.project.address), local('api')], {
    identity: net.memberId,
    trust: trustIdentifiers(net.projectId.identity.identifier),
    timeoutMs: DEADLINE_MS,
  })
  const receiver = await startRelayReceiver(net.member.node.router, {
    name: 'postgres',
    channel: channel.address.value,
  })
  t.after(() => receiver.stop())
  const registered = performance.now()
  const ok = await receiver.request('register', { timeoutMs: DEADLINE_MS })
  assert.equal(ok.forwardAddress, 'forward_to_postgres')
  assert.equal(ok.timeoutMs, 200)
  // No pings: the service's sweep removes it.
  await waitForCounter(net.project.node, 'relay.dropped.timeout', (n) => n >= 1, DEADLINE_MS)
  t.diagnostic(
    `a silent registration was dropped after ${(performance.now() - registered).toFixed(1)} ms (timeout 200)`,
  )
  assert.equal(net.project.node.router.hasWorker(local('forward_to_postgres')), false)
  await assert.rejects(
    receiver.request('ping', { timeoutMs: DEADLINE_MS }),
    rejectsWith('OCKAM_ERR_RELAY_NOT_REGISTERED'),
  )
  // Two more attempts fit the window of 3; the fourth is refused.
  await receiver.request('register', { timeoutMs: DEADLINE_MS })
  await receiver.request('register', { timeoutMs: DEADLINE_MS })
  await assert.rejects(
    receiver.request('register', { timeoutMs: DEADLINE_MS }),
    rejectsWith('OCKAM_ERR_RELAY_RATE_LIMITED'),
  )
})

test('a registration whose channel closed is dropped without waiting for its timeout', async (t) => {
  const net = await relayNet(t, { registrationTimeoutMs: 60_000 })
  const channel = await createSecureChannel(net.member.node, [tcp(net.project.address), local('api')], {
    identity: net.memberId,
    trust: trustIdentifiers(net.projectId.identity.identifier),
    timeoutMs: DEADLINE_MS,
  })
  const receiver = await startRelayReceiver(net.member.node.router, {
    name: 'postgres',
    channel: channel.address.value,
  })
  t.after(() => receiver.stop())
  await receiver.request('register', { timeoutMs: DEADLINE_MS })
  const closed = performance.now()
  await channel.close()
  await waitForCounter(net.project.node, 'relay.dropped.channel-closed', (n) => n >= 1, DEADLINE_MS)
  t.diagnostic(`dropped ${(performance.now() - closed).toFixed(1)} ms after the channel closed (timeout 60 s)`)
  assert.equal(net.service.registrations().length, 0)
})

test("with the authority's claimRelay as the hook: persisted owner, relay attribute, members only", async (t) => {
  const host = await projectHost(t)
  // The channel identities are made with the real clock; the authority's test clock starts in the past.
  host.clock.ms = Date.now()
  const net = await relayNet(t, {}, (name, identifier, attributes) =>
    host.authority.claimRelay(name, identifier, attributes),
  )
  const add = (
    material: { identity: { identifier: string; history: Uint8Array } },
    attributes: Record<string, string>,
  ) =>
    host.authority.addMember(host.admin.identifier, material.identity.identifier, {
      attributes,
      history: material.identity.history,
    })
  add(net.memberId, { relay: 'postgres' })
  const session = net.memberSession(t)
  await session.whenUp(DEADLINE_MS)
  assert.equal(host.authority.relayOwner('postgres')?.owner, net.memberId.identity.identifier)
  // The owner's session stops: the name is not live, but it is still not anyone else's.
  await session.stop()
  assert.equal(net.service.registrations().length, 0)
  const thief = await member(net.vault, net.authority, { relay: '*' })
  add(thief, { relay: '*' })
  const taken = net.memberSession(t, {}, thief)
  const [takenError] = await next<[OckamError]>(taken, 'down')
  assert.ok(isOckamError(takenError, 'OCKAM_ERR_RELAY_NAME_TAKEN'), String(takenError))
  await taken.stop()
  // Holding a credential with relay=* from the trusted authority is not enough: not a member.
  const outsider = await member(net.vault, net.authority, { relay: '*' })
  const refused = net.memberSession(t, { name: 'other' }, outsider)
  const [refusedError] = await next<[OckamError]>(refused, 'down')
  assert.ok(isOckamError(refusedError, 'OCKAM_ERR_AUTHORITY_ACCESS_DENIED'), String(refusedError))
  await refused.stop()
})
