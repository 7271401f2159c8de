/**
 * Secure-channel passthrough (PROTOCOL.md "Passthrough", THREATS.md): an end-to-end channel's
 * frames cross the member ↔ project channels without a second seal, only on the connections of
 * those channels' own frames, and reach nothing on the way but relay and channel plumbing.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import { LOCAL_INGRESS } from '../../runtime/message.js'
import { listSecureChannels } from '../../workers/secure-channel/index.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { METRICS } from '../../workers/secure-channel/metrics.js'
import { trustIdentifiers } from '../../workers/secure-channel/trust-policy.js'
import { startTestNode } from '../helpers/testnet.js'
import { DEADLINE_MS, type RelayNet, relayNet } from './relay-helpers.js'

const MESSAGES = 50

async function endToEnd(net: RelayNet, passthrough?: boolean) {
  const toProject = await createSecureChannel(net.inlet.node, [tcp(net.project.address), local('api')], {
    identity: net.inletId,
    trust: trustIdentifiers(net.projectId.identity.identifier),
    timeoutMs: DEADLINE_MS,
    ...(passthrough === undefined ? {} : { passthrough }),
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
  const { e2e } = await endToEnd(net, false)
  const project = net.project.node.counters
  const sealedBefore = project.get(METRICS.framesReceived)
  const sentBefore = net.inlet.node.counters.get(METRICS.passthroughSent)
  await echoes(net, e2e, MESSAGES)
  assert.equal(net.inlet.node.counters.get(METRICS.passthroughSent), sentBefore, 'the inlet passed nothing through')
  assert.ok(project.get(METRICS.framesReceived) - sealedBefore >= MESSAGES, 'the project opened each frame')
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

test('a passed-through frame reaches relay and channel plumbing only: the member refuses one aimed at its listener', async (t) => {
  const net = await relayNet(t)
  await net.memberSession(t).whenUp(DEADLINE_MS)
  const { toProject } = await endToEnd(net)
  const member = net.member.node.counters
  const refusedBefore = member.get('relay.receiver.refused')
  // As a hostile or broken end would: a "sealed" frame aimed at the member's secure-channel
  // listener, which must only ever see handshakes (sealed by the member's channel).
  await net.inlet.node.router.send({
    onward: [toProject.address, local('forward_to_postgres'), local('api')],
    return: [],
    payload: Buffer.from('pretend frame'),
    local: { ingress: LOCAL_INGRESS, sealed: true },
  })
  const deadline = Date.now() + DEADLINE_MS
  while (member.get('relay.receiver.refused') === refusedBefore && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve))
  }
  assert.equal(member.get('relay.receiver.refused') - refusedBefore, 1)
  assert.ok(net.project.node.counters.get(METRICS.passthroughReceived) >= 1, 'it crossed the project passed through')
})
