/**
 * Handshake timeouts and half-open limits between real nodes: a silent listener, an initiator
 * that never sends message 3, a listener flooded with message 1 from one connection and from
 * several, malformed message 1, and an aborted channel creation. Each leaves no worker, no
 * vault handshake and no half-open slot behind.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local, tcp } from '../../runtime/address.js'
import type { OckamNode } from '../../runtime/node.js'
import { createXXHandshake } from '../../runtime/trust/noise/handshake-xx.js'
import { secureChannelPrologue } from '../../runtime/trust/noise/prologue.js'
import { NOISE_XX_AESGCM } from '../../runtime/trust/noise/suite.js'
import { encodeMessage1 } from '../../workers/secure-channel/handshake-payload.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../../workers/secure-channel/listener.js'
import { METRICS } from '../../workers/secure-channel/metrics.js'
import { trustAnyone } from '../../workers/secure-channel/trust-policy.js'
import { startTestNode } from '../helpers/testnet.js'
import { crypto, makeMaterial, openVault, rejectsWith, waitForCounter } from '../unit/secure-channel/fixtures.js'

/** A raw message 1 from a throwaway initiator (a peer that will never send message 3). */
function rawMessage1(): Uint8Array {
  const handshake = createXXHandshake({
    provider: crypto,
    suite: NOISE_XX_AESGCM,
    role: 'initiator',
    staticKeyPair: crypto.x25519GenerateKeyPair(),
    prologue: secureChannelPrologue(1, NOISE_XX_AESGCM),
  })
  return encodeMessage1(NOISE_XX_AESGCM, handshake.writeMessage(new Uint8Array(0)))
}

/** A worker counting the replies (messages 2) that come back to it. */
async function replies(node: OckamNode): Promise<void> {
  await node.startWorker(
    local('replies'),
    { handleMessage: (ctx) => ctx.counters.inc('test.replies') },
    { incoming: allowAll },
  )
}

function channelWorkers(node: OckamNode): string[] {
  return node.router
    .workerAddresses()
    .map((a) => a.value)
    .filter((v) => v.startsWith('sc-'))
}

test('an initiator whose listener never answers times out and leaves nothing behind', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const vault = await openVault(t, 'thread')
  const alice = await makeMaterial(vault)
  await b.node.startWorker(local('void'), { handleMessage: () => {} }, { incoming: allowAll })
  const started = Date.now()
  await assert.rejects(
    createSecureChannel(a.node, [tcp(b.address), local('void')], {
      identity: alice,
      trust: trustAnyone(),
      timeoutMs: 200,
    }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_HANDSHAKE_TIMEOUT'),
  )
  const elapsed = Date.now() - started
  assert.ok(elapsed >= 190 && elapsed < 2000, `timed out after ${elapsed} ms`)
  assert.deepEqual(channelWorkers(a.node), [])
  assert.equal(a.node.counters.get(METRICS.handshaking), 0)
  assert.equal(a.node.counters.get(METRICS.handshakesTimedOut), 1)
  assert.equal(await vault.handshakeCount(), 0, 'the vault handshake was aborted')
})

test('an aborted creation rejects typed and leaves nothing behind', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const vault = await openVault(t)
  const alice = await makeMaterial(vault)
  await b.node.startWorker(local('void'), { handleMessage: () => {} }, { incoming: allowAll })
  const controller = new AbortController()
  const creating = createSecureChannel(a.node, [tcp(b.address), local('void')], {
    identity: alice,
    trust: trustAnyone(),
    signal: controller.signal,
  })
  await waitForCounter(b.node, 'tcp.frames.received', (n) => n === 1)
  controller.abort()
  await assert.rejects(creating, rejectsWith('OCKAM_ERR_ABORTED'))
  assert.deepEqual(channelWorkers(a.node), [])
  assert.equal(await vault.handshakeCount(), 0)
  await assert.rejects(
    createSecureChannel(a.node, [local('void')], { identity: alice, trust: trustAnyone(), signal: controller.signal }),
    rejectsWith('OCKAM_ERR_ABORTED'),
  )
})

test('a responder whose initiator never sends message 3 gives its slot back at the timeout', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const vault = await openVault(t, 'thread')
  const bob = await makeMaterial(vault)
  await startSecureChannelListener(b.node, { identity: bob, trust: trustAnyone(), handshakeTimeoutMs: 200 })
  await replies(a.node)
  await a.node.context.send([tcp(b.address), local('api')], rawMessage1(), { returnRoute: [local('replies')] })
  await waitForCounter(a.node, 'test.replies', (n) => n === 1)
  assert.equal(b.node.counters.get(METRICS.halfOpen), 1)
  await waitForCounter(b.node, METRICS.handshakesTimedOut, (n) => n === 1)
  assert.equal(b.node.counters.get(METRICS.halfOpen), 0)
  assert.deepEqual(channelWorkers(b.node), [])
  assert.equal(await vault.handshakeCount(), 0)
})

test('half-open limits per listener and per connection drop message 1 beyond them; malformed ones are dropped too', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [] })
  const c = await startTestNode(t, 'c', { listen: [] })
  const b = await startTestNode(t, 'b')
  const vault = await openVault(t)
  const bob = await makeMaterial(vault)
  const listener = await startSecureChannelListener(b.node, {
    identity: bob,
    trust: trustAnyone(),
    maxHalfOpen: 3,
    maxHalfOpenPerConnection: 2,
  })
  await replies(a.node)
  await replies(c.node)
  const toB = [tcp(b.address), local('api')]
  for (let i = 0; i < 3; i += 1) await a.node.context.send(toB, rawMessage1(), { returnRoute: [local('replies')] })
  await waitForCounter(b.node, METRICS.halfOpenRefused, (n) => n === 1)
  await waitForCounter(a.node, 'test.replies', (n) => n === 2)
  assert.equal(listener.halfOpen, 2, 'one connection holds at most 2')

  for (let i = 0; i < 2; i += 1) await c.node.context.send(toB, rawMessage1(), { returnRoute: [local('replies')] })
  await waitForCounter(b.node, METRICS.halfOpenRefused, (n) => n === 2)
  await waitForCounter(c.node, 'test.replies', (n) => n === 1)
  assert.equal(listener.halfOpen, 3, 'the listener holds at most 3')
  assert.equal(b.node.counters.get(METRICS.halfOpen), 3)

  const bad = rawMessage1()
  await c.node.context.send(toB, bad.subarray(0, 20), { returnRoute: [local('replies')] })
  const wrongVersion = bad.slice()
  wrongVersion[0] = 9
  await c.node.context.send(toB, wrongVersion, { returnRoute: [local('replies')] })
  await waitForCounter(b.node, METRICS.message1Malformed, (n) => n === 2)
  assert.equal(listener.halfOpen, 3)
  assert.equal(a.node.counters.get('test.replies') + c.node.counters.get('test.replies'), 3)
})
