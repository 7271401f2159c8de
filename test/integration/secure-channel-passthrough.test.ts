/**
 * Secure-channel passthrough (PROTOCOL.md "Passthrough", THREATS.md): an end-to-end channel's
 * frames cross the member ↔ project channels without a second seal, only on the connections of
 * those channels' own frames, and reach nothing on the way but relay and channel plumbing.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import type { Address } from '../../runtime/address.js'
import { local, tcp } from '../../runtime/address.js'
import { LOCAL_INGRESS, type Message } from '../../runtime/message.js'
import type { OckamNode } from '../../runtime/node.js'
import { listSecureChannels } from '../../workers/secure-channel/index.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { METRICS } from '../../workers/secure-channel/metrics.js'
import { trustIdentifiers } from '../../workers/secure-channel/trust-policy.js'
import { startTestNode } from '../helpers/testnet.js'
import { waitForCounter } from '../unit/secure-channel/fixtures.js'
import { DEADLINE_MS, type RelayNet, relayNet } from './relay-helpers.js'

const MESSAGES = 50

async function endToEnd(net: RelayNet, toProjectOptions: { passthrough?: boolean; maxMessageBytes?: number } = {}) {
  const toProject = await createSecureChannel(net.inlet.node, [tcp(net.project.address), local('api')], {
    identity: net.inletId,
    trust: trustIdentifiers(net.projectId.identity.identifier),
    timeoutMs: DEADLINE_MS,
    ...toProjectOptions,
  })
  const e2e = await createSecureChannel(
    net.inlet.node,
    [toProject.address, local('forward_to_postgres'), local('api')],
    { identity: net.inletId, trust: trustIdentifiers(net.memberId.identity.identifier), timeoutMs: DEADLINE_MS },
  )
  return { toProject, e2e }
}

async function echoes(net: RelayNet, e2e: { address: ReturnType<typeof local> }, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const payload = Buffer.from(`echo-${i}`)
    const reply = await net.inlet.node.context.request([e2e.address, local('echo')], payload, {
      timeoutMs: DEADLINE_MS,
    })
    assert.deepEqual(Buffer.from(reply.payload), payload)
  }
}

test('end-to-end frames pass through the project without a second seal, both ways; the end-to-end channel still authenticates them', async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  const { e2e } = await endToEnd(net)
  const project = net.project.node.counters
  const sealedBefore = project.get(METRICS.framesReceived)
  const passedBefore = project.get(METRICS.passthroughReceived)
  await echoes(net, e2e, MESSAGES)
  const passed = project.get(METRICS.passthroughReceived) - passedBefore
  const sealed = project.get(METRICS.framesReceived) - sealedBefore
  t.diagnostic(`${MESSAGES} echoes: the project passed ${passed} frames through and opened ${sealed}`)
  // Each echo is one end-to-end frame each way, and each crosses the project once.
  assert.ok(passed >= 2 * MESSAGES, `passed ${passed}`)
  // Only the member channels' own traffic (relay pings) is still opened at the project.
  assert.ok(sealed < MESSAGES / 2, `opened ${sealed}`)
  assert.ok(net.inlet.node.counters.get(METRICS.passthroughSent) >= MESSAGES)
  assert.ok(net.member.node.counters.get(METRICS.passthroughSent) >= MESSAGES)
  assert.equal(project.get(METRICS.passthroughRefused), 0)
})

test('passthrough: false seals the end-to-end frames again on that member channel', async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  const { e2e } = await endToEnd(net, { passthrough: false })
  const project = net.project.node.counters
  const sealedBefore = project.get(METRICS.framesReceived)
  const sentBefore = net.inlet.node.counters.get(METRICS.passthroughSent)
  await echoes(net, e2e, MESSAGES)
  assert.equal(net.inlet.node.counters.get(METRICS.passthroughSent), sentBefore, 'the inlet passed nothing through')
  assert.ok(project.get(METRICS.framesReceived) - sealedBefore >= MESSAGES, 'the project opened each frame')
})

test("a frame over the member channel's message limit is not passed through: it takes the sealed way and is refused there with its typed error", async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  const limit = 1024
  const { e2e } = await endToEnd(net, { maxMessageBytes: limit })
  const inlet = net.inlet.node
  await echoes(net, e2e, 1) // a small frame passes through
  const sent = inlet.counters.get(METRICS.passthroughSent)
  assert.ok(sent >= 1, `passed through ${sent}`)
  const errors = inlet.counters.get('router.handler_errors')
  const oversized = inlet.counters.get(`router.handler_errors.OCKAM_ERR_SECURE_CHANNEL_MESSAGE_TOO_LARGE`)
  await inlet.context.send([e2e.address, local('echo')], Buffer.alloc(2 * limit, 7))
  await waitForCounter(inlet, 'router.handler_errors', (value) => value > errors, DEADLINE_MS)
  assert.equal(inlet.counters.get(METRICS.passthroughSent), sent, 'the oversized frame was not passed through')
  assert.equal(
    inlet.counters.get(`router.handler_errors.OCKAM_ERR_SECURE_CHANNEL_MESSAGE_TOO_LARGE`),
    oversized + 1,
    'refused as the sealed path refuses it',
  )
})

test('a frame sent to a channel passthrough address over another connection is refused', async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  await endToEnd(net)
  const responders = listSecureChannels(net.project.node).filter((s) => s.role === 'responder')
  assert.ok(responders.length >= 2)
  const intruder = await startTestNode(t, 'intruder', { listen: [] })
  const project = net.project.node.counters
  const refusedBefore = project.get(METRICS.passthroughRefused)
  const forwardedBefore = project.get('relay.forward.inbound')
  for (const session of responders) {
    const passthrough = session.decryptorAddress.replace(/-d$/, '-p')
    await intruder.node.context.send(
      [tcp(net.project.address), local(passthrough), local('forward_to_postgres'), local('api')],
      Buffer.from('not a frame'),
    )
  }
  const deadline = Date.now() + DEADLINE_MS
  while (project.get(METRICS.passthroughRefused) - refusedBefore < responders.length && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve))
  }
  assert.equal(project.get(METRICS.passthroughRefused) - refusedBefore, responders.length)
  assert.equal(project.get('relay.forward.inbound'), forwardedBefore, 'nothing reached the relay')
})

test("a passed-through frame reaches relay and channel plumbing only: one aimed at the owner's listener is refused at the relay, and again at the owner", async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  const { toProject } = await endToEnd(net)
  const member = net.member.node.counters
  const project = net.project.node.counters
  const passedBefore = project.get(METRICS.passthroughReceived)
  const handshakesBefore = member.get(METRICS.handshakesStarted)
  // As a hostile or broken end would: a "sealed" frame aimed at the member's secure-channel
  // listener, which must only ever see handshakes (sealed by the member's channel).
  await net.inlet.node.router.send({
    onward: [toProject.address, local('forward_to_postgres'), local('api')],
    return: [],
    payload: Buffer.from('pretend frame'),
    local: { ingress: LOCAL_INGRESS, sealed: true },
  })
  await settle(net.project.node, 'relay.forward.passthrough_refused', 1)
  assert.equal(project.get('relay.forward.passthrough_refused'), 1, 'the relay refused it')
  assert.equal(project.get(METRICS.passthroughReceived) - passedBefore, 1, 'it crossed into the project passed through')

  // Second line, should a project let one by: the owner's relay receiver hands nothing that
  // arrived passed through to its listener.
  const memberSide = listSecureChannels(net.member.node).find(
    (s) => s.role === 'initiator' && s.peerIdentifier === net.projectId.identity.identifier,
  )
  const receiver = net.member.node.router.workerAddresses().find((a: Address) => a.value.startsWith('relay-postgres-'))
  assert.ok(memberSide && receiver)
  const refusedBefore = member.get('relay.receiver.refused')
  await net.member.node.router
    .send({
      onward: [receiver, local('api')],
      return: [],
      payload: Buffer.alloc(34),
      local: {
        ingress: {
          kind: 'channel',
          channel: memberSide.address,
          identifier: net.projectId.identity.identifier,
          attributes: {},
        },
        sealed: true,
        passedThrough: true,
      },
    })
    .catch(() => {})
  await settle(net.member.node, 'relay.receiver.refused', refusedBefore + 1)
  assert.equal(member.get('relay.receiver.refused') - refusedBefore, 1)
  assert.equal(member.get(METRICS.handshakesStarted), handshakesBefore, 'the listener saw no handshake')
})

/** A worker that records what reaches it (a stand-in for any service). */
async function spy(node: OckamNode, name: string): Promise<Message[]> {
  const got: Message[] = []
  await node.startWorker(
    local(name),
    { handleMessage: (_ctx, message) => void got.push(message) },
    { incoming: allowAll },
  )
  return got
}

function connectionOf(node: OckamNode): string {
  const connections = node.router.workerAddresses().filter((a: Address) => a.value.startsWith('tcp-'))
  assert.equal(connections.length, 1)
  return (connections[0] as Address).value
}

/** What a node's TCP connection worker hands the router for a frame an attacker injected into it. */
async function inject(node: OckamNode, onward: Address[], returnHops: number): Promise<void> {
  const connection = connectionOf(node)
  const ret = [local(connection), ...Array.from({ length: returnHops }, (_, i) => local(`x${i}`))]
  await node.router
    .send({
      onward,
      return: ret,
      payload: Buffer.from('forged'),
      local: { ingress: { kind: 'tcp', connection, peer: '127.0.0.1:1' } },
    })
    .catch(() => {})
}

async function settle(node: OckamNode, counter: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS
  while (node.counters.get(counter) < atLeast && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
}

test('no passthrough hop makes a frame authenticated: injected frames aimed through an encryptor or a nested channel are refused', async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  const { toProject, e2e } = await endToEnd(net)
  const memberSpy = await spy(net.member.node, 'spy')
  const projectSpy = await spy(net.project.node, 'pspy')
  const outer = toProject.address.value.slice(0, -2)
  const inner = e2e.address.value.slice(0, -2)
  const inlet = net.inlet.node.counters
  const refusedBefore = inlet.get(METRICS.passthroughRefused)

  // An injector on the inlet's connection to the project: through the outer channel's
  // passthrough address into the end-to-end channel's, then its encryptor, to the member's spy.
  await inject(net.inlet.node, [local(`${outer}-p`), local(`${inner}-p`), local(`${inner}-e`), local('spy')], 4)
  // Or straight into the end-to-end encryptor.
  await inject(net.inlet.node, [local(`${outer}-p`), local(`${inner}-e`), local('spy')], 0)
  // A project node that turns hostile: through its channel to the inlet, into the end-to-end channel.
  const projectSide = listSecureChannels(net.project.node).find(
    (s) => s.role === 'responder' && s.peerIdentifier === net.inletId.identity.identifier,
  )
  assert.ok(projectSide)
  await net.project.node.context.send(
    [local(projectSide.address), local(`${inner}-p`), local(`${inner}-e`), local('spy')],
    Buffer.from('forged by the project'),
  )
  await settle(net.inlet.node, METRICS.passthroughRefused, refusedBefore + 3)
  assert.equal(inlet.get(METRICS.passthroughRefused) - refusedBefore, 3)

  // An injector on the member's connection: its own channel's encryptor would carry it to the
  // project as the member.
  const memberSide = listSecureChannels(net.member.node).find(
    (s) => s.role === 'initiator' && s.peerIdentifier === net.projectId.identity.identifier,
  )
  assert.ok(memberSide)
  const memberOuter = memberSide.address.slice(0, -2)
  const memberRefused = net.member.node.counters.get(METRICS.passthroughRefused)
  await inject(net.member.node, [local(`${memberOuter}-p`), local(`${memberOuter}-e`), local('pspy')], 0)
  await settle(net.member.node, METRICS.passthroughRefused, memberRefused + 1)
  assert.equal(net.member.node.counters.get(METRICS.passthroughRefused) - memberRefused, 1)

  // The legitimate path still works, and nothing reached either spy.
  await echoes(net, e2e, 3)
  assert.equal(memberSpy.length, 0, 'the member saw no forged message')
  assert.equal(projectSpy.length, 0, 'the project saw no forged message')
})

test('passthrough: false on a channel refuses passed-through frames too', async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  const { toProject } = await endToEnd(net, { passthrough: false })
  const outer = toProject.address.value.slice(0, -2)
  const before = net.inlet.node.counters.get(METRICS.passthroughRefused)
  const anyDecryptor = listSecureChannels(net.inlet.node).find((s) => s.address !== toProject.address.value)
  assert.ok(anyDecryptor)
  await inject(net.inlet.node, [local(`${outer}-p`), local(anyDecryptor.decryptorAddress)], 0)
  await settle(net.inlet.node, METRICS.passthroughRefused, before + 1)
  assert.equal(net.inlet.node.counters.get(METRICS.passthroughRefused) - before, 1)
})

test('a channel nested inside the end-to-end channel still opens and carries messages (sealed by the end-to-end channel)', async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  const { e2e } = await endToEnd(net)
  const inner = await createSecureChannel(net.inlet.node, [e2e.address, local('api')], {
    identity: net.inletId,
    trust: trustIdentifiers(net.memberId.identity.identifier),
    timeoutMs: DEADLINE_MS,
  })
  const reply = await net.inlet.node.context.request([inner.address, local('echo')], Buffer.from('hi'), {
    timeoutMs: DEADLINE_MS,
  })
  assert.equal(Buffer.from(reply.payload).toString(), 'hi')
  assert.equal(net.project.node.counters.get('relay.forward.answer_refused'), 0)
  assert.equal(net.member.node.counters.get('relay.receiver.refused'), 0)
})

test("a client that reaches the relay over plain TCP still gets the member's passed-through answers", async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  const e2e = await createSecureChannel(
    net.inlet.node,
    [tcp(net.project.address), local('forward_to_postgres'), local('api')],
    { identity: net.inletId, trust: trustIdentifiers(net.memberId.identity.identifier), timeoutMs: DEADLINE_MS },
  )
  await echoes(net, e2e, 5)
  assert.ok(net.member.node.counters.get(METRICS.passthroughSent) >= 5, 'the member passed its frames through')
})

test("a passed-through frame aimed at the owner's listener is refused at the relay, whatever the owner's channel does", async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  const { toProject } = await endToEnd(net)
  const projectSide = listSecureChannels(net.project.node).find(
    (s) => s.role === 'responder' && s.peerIdentifier === net.inletId.identity.identifier,
  )
  assert.ok(projectSide && toProject)
  const passthrough = projectSide.decryptorAddress.replace(/-d$/, '-p')
  const handshakesBefore = net.member.node.counters.get(METRICS.handshakesStarted)
  const project = net.project.node.counters
  // An injector on the inlet's connection, as the project's connection worker hands it on: tried
  // on each of the project's connections (only the inlet's is the channel's way in).
  for (const connection of net.project.node.router
    .workerAddresses()
    .filter((a: Address) => a.value.startsWith('tcp-'))) {
    await net.project.node.router
      .send({
        onward: [local(passthrough), local('forward_to_postgres'), local('api')],
        return: [connection],
        payload: Buffer.alloc(34),
        local: { ingress: { kind: 'tcp', connection: connection.value, peer: '127.0.0.1:1' } },
      })
      .catch(() => {})
  }
  await settle(net.project.node, 'relay.forward.passthrough_refused', 1)
  assert.equal(project.get('relay.forward.passthrough_refused'), 1)
  assert.equal(net.member.node.counters.get(METRICS.handshakesStarted), handshakesBefore, 'no handshake started')
})
