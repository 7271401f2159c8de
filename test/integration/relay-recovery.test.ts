/**
 * The relay session brings the relay back by itself: after the project's TCP listener is killed
 * and restarted, and after the whole project node restarts in-process on the same address. No
 * call is made to the session in between; the tests only wait for its events and then use the
 * relay end to end again.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import { tcpOf } from '../../runtime/defaults.js'
import type { OckamError } from '../../runtime/errors.js'
import { type RelaySessionState, startRelayService } from '../../workers/relay/index.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { trustIdentifiers } from '../../workers/secure-channel/trust-policy.js'
import { DEADLINE_MS, next, type RelayNet, relayNet } from './relay-helpers.js'

async function echoThroughRelay(net: RelayNet): Promise<void> {
  const toProject = await createSecureChannel(net.inlet.node, [tcp(net.project.address), local('api')], {
    identity: net.inletId,
    trust: trustIdentifiers(net.projectId.identity.identifier),
    timeoutMs: DEADLINE_MS,
  })
  const e2e = await createSecureChannel(
    net.inlet.node,
    [toProject.address, local('forward_to_postgres'), local('api')],
    { identity: net.inletId, trust: trustIdentifiers(net.memberId.identity.identifier), timeoutMs: DEADLINE_MS },
  )
  const reply = await net.inlet.node.context.request([e2e.address, local('echo')], Buffer.from('again'), {
    timeoutMs: DEADLINE_MS,
  })
  assert.equal(Buffer.from(reply.payload).toString(), 'again')
  await e2e.close()
  await toProject.close()
}

test("killing the project's TCP listener: the relay comes back without any call", async (t) => {
  const net = await relayNet(t)
  const session = net.memberSession(t)
  await session.whenUp(DEADLINE_MS)
  await echoThroughRelay(net)
  const address = net.project.address
  const transport = tcpOf(net.project.node)

  const down = next<[OckamError]>(session, 'down')
  const killed = performance.now()
  assert.equal(await transport.unlisten(address), true)
  const [error] = await down
  const detected = performance.now()
  t.diagnostic(`loss detected after ${(detected - killed).toFixed(1)} ms (${error.code}: ${error.message})`)

  const up = next<[RelaySessionState]>(session, 'up')
  const relistened = performance.now()
  await transport.listen(address)
  const [state] = await up
  t.diagnostic(`relay back ${(performance.now() - relistened).toFixed(1)} ms after the listener returned`)
  assert.equal(state.status, 'up')
  assert.equal(state.ups, 2)
  assert.equal(state.forwardAddress, 'forward_to_postgres')
  assert.deepEqual(
    net.service.registrations().map((r) => r.name),
    ['postgres'],
  )
  await echoThroughRelay(net)
})

test('restarting the project node in-process: the relay comes back without any call', async (t) => {
  const net = await relayNet(t)
  const session = net.memberSession(t)
  await session.whenUp(DEADLINE_MS)
  await echoThroughRelay(net)
  const address = net.project.address

  const down = next<[OckamError]>(session, 'down')
  const stopped = performance.now()
  await net.project.node.stop()
  const [error] = await down
  t.diagnostic(`loss detected after ${(performance.now() - stopped).toFixed(1)} ms (${error.code})`)
  // Let it fail at least once against nothing, then bring the project back on the same address.
  await next(session, 'down')
  assert.ok(session.state.attempts >= 2)

  const up = next<[RelaySessionState]>(session, 'up')
  const restarted = performance.now()
  await net.startProject(t, address)
  assert.equal(net.project.address, address)
  const [state] = await up
  t.diagnostic(
    `relay back ${(performance.now() - restarted).toFixed(1)} ms after the project node restarted (backoff 20–200 ms)`,
  )
  assert.equal(state.ups, 2)
  assert.deepEqual(
    net.service.registrations().map((r) => [r.name, r.identifier]),
    [['postgres', net.memberId.identity.identifier]],
  )
  await echoThroughRelay(net)
})

test('stop() through the AbortSignal ends the loop while the project is unreachable', async (t) => {
  const net = await relayNet(t)
  await net.project.node.stop()
  const controller = new AbortController()
  const session = net.memberSession(t, { signal: controller.signal })
  const [error] = await next<[OckamError]>(session, 'down')
  assert.equal(error.code, 'OCKAM_ERR_TCP_CONNECT_FAILED')
  const stopped = next(session, 'stopped')
  controller.abort()
  await stopped
  assert.equal(session.state.status, 'stopped')
  await assert.rejects(session.whenUp(100), (e: OckamError) => e.code === 'OCKAM_ERR_STOPPED')
})

test('a relay service that stops answering: pings are counted as missed, then the session rebuilds', async (t) => {
  const net = await relayNet(t)
  const session = net.memberSession(t, { pingIntervalMs: 50, maxMissedPings: 3, requestTimeoutMs: 50 })
  await session.whenUp(DEADLINE_MS)
  const missedBefore = net.member.node.counters.get('relay.session.ping_missed')
  const down = next<[OckamError]>(session, 'down')
  const silenced = performance.now()
  // The TCP connection and the channel stay up; only the service is gone.
  await net.service.stop()
  const [error] = await down
  t.diagnostic(`silence detected after ${(performance.now() - silenced).toFixed(1)} ms (3 × 50 ms pings)`)
  assert.equal(error.code, 'OCKAM_ERR_RELAY_LOST')
  assert.equal(net.member.node.counters.get('relay.session.ping_missed') - missedBefore, 3)
  const up = next<[RelaySessionState]>(session, 'up')
  net.service = await startRelayService(net.project.node, { authorize: net.authorize })
  const [state] = await up
  assert.equal(state.ups, 2)
  await echoThroughRelay(net)
})
