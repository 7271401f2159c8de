/**
 * What a node in the middle of a channel sees and can do. A "tap" on the middle node forwards
 * like the forwarding service and keeps every payload it forwards; tests let it tamper with,
 * replay, inject or drop frames. Also: an impostor answering message 1, a channel nested
 * inside another through a node that sees only the inner channel's ciphertext, and batches
 * (several small messages in one frame) kept whole, in order, or lost whole.
 */
import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { allowAll, allowIngress } from '../../runtime/access-control.js'
import { local, tcp } from '../../runtime/address.js'
import type { Context } from '../../runtime/context.js'
import { LOCAL_INGRESS, type LocalMetadata, type Message } from '../../runtime/message.js'
import type { OckamNode } from '../../runtime/node.js'
import { forwarderWorker } from '../../workers/forwarder.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../../workers/secure-channel/listener.js'
import { METRICS } from '../../workers/secure-channel/metrics.js'
import { trustAnyone, trustIdentifiers } from '../../workers/secure-channel/trust-policy.js'
import type { SecureChannel } from '../../workers/secure-channel/types.js'
import { startTestNode } from '../helpers/testnet.js'
import { containsBytes, makeMaterial, openVault, rejectsWith, waitForCounter } from '../unit/secure-channel/fixtures.js'

type Step = (message: Message, forward: (payload: Uint8Array) => Promise<void>) => Promise<void>

interface Tap {
  /** Every payload the tap forwarded, in order, with its direction. */
  readonly seen: { toward: 'responder' | 'initiator'; payload: Uint8Array }[]
  /** Replaces the default forwarding for the next message toward the responder. */
  next(step: Step): void
}

/**
 * A forwarding service on `node` at `tap` that may dial `responder` (`host:port`), records, and
 * can interfere with messages toward the responder (those that did not come from it).
 */
async function startTap(node: OckamNode, responder: string): Promise<Tap> {
  const forwarder = forwarderWorker({ targets: [responder] })
  const seen: Tap['seen'] = []
  const steps: Step[] = []
  await node.startWorker(
    local('tap'),
    {
      async handleMessage(ctx: Context, message: Message) {
        const ingress = message.local.ingress
        const toward = ingress.kind === 'tcp' && ingress.peer === responder ? 'initiator' : 'responder'
        seen.push({ toward, payload: new Uint8Array(message.payload) })
        const forward = (payload: Uint8Array) => forwarder.handleMessage(ctx, { ...message, payload }) as Promise<void>
        const step = toward === 'responder' ? steps.shift() : undefined
        if (step === undefined) await forward(message.payload)
        else await step(message, forward)
      },
    },
    { incoming: allowIngress('tcp', 'channel') },
  )
  return { seen, next: (step) => void steps.push(step) }
}

async function inbox(node: OckamNode): Promise<Message[]> {
  const received: Message[] = []
  await node.startWorker(
    local('inbox'),
    {
      handleMessage: (ctx, message) => {
        received.push(message)
        ctx.counters.inc('test.inbox')
      },
    },
    { incoming: allowAll },
  )
  return received
}

/** A → M (tap) → B, with a channel from A to B's listener through the tap. */
async function relayed(t: TestContext, batch: { initiator?: boolean; responder?: boolean } = {}) {
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const m = await startTestNode(t, 'm')
  const tap = await startTap(m.node, b.address)
  const vault = await openVault(t)
  const alice = await makeMaterial(vault)
  const bob = await makeMaterial(vault)
  let responder: SecureChannel | undefined
  await startSecureChannelListener(b.node, {
    identity: bob,
    trust: trustIdentifiers(alice.identity.identifier),
    onChannel: (channel) => {
      responder = channel
    },
    ...(batch.responder === undefined ? {} : { batch: batch.responder }),
  })
  const received = await inbox(b.node)
  const channel = await createSecureChannel(a.node, [tcp(m.address), local('tap'), tcp(b.address), local('api')], {
    identity: alice,
    trust: trustIdentifiers(bob.identity.identifier),
    ...(batch.initiator === undefined ? {} : { batch: batch.initiator }),
  })
  return { a, b, m, tap, alice, bob, channel, responder: responder!, received }
}

const send = (node: OckamNode, channel: SecureChannel, text: string) =>
  node.context.send([channel.address, local('inbox')], Buffer.from(text))

/** As a portal sends its data: a channel may hold these until the end of the turn. */
const BATCHABLE: LocalMetadata = { ingress: LOCAL_INGRESS, batchable: true }

/** Sends `texts` as batchable messages, all in this turn of the event loop. */
const sendTogether = (node: OckamNode, channel: SecureChannel, texts: readonly string[]) =>
  Promise.all(
    texts.map((text) =>
      node.router.send({
        onward: [channel.address, local('inbox')],
        return: [],
        payload: Buffer.from(text),
        local: BATCHABLE,
      }),
    ),
  )

const texts = (received: readonly Message[]) => received.map((m) => Buffer.from(m.payload).toString())

test('a relaying node forwards only ciphertext: no payload, no identity, no static key in clear', async (t) => {
  const { a, tap, alice, bob, channel } = await relayed(t)
  const marker = Buffer.from(`plaintext-marker-${'x'.repeat(48)}`)
  const reply = await a.node.context.request([channel.address, local('echo')], marker, { timeoutMs: 5000 })
  assert.deepEqual(Buffer.from(reply.payload), marker)
  const large = Buffer.concat(Array.from({ length: 2000 }, () => marker))
  const replyLarge = await a.node.context.request([channel.address, local('echo')], large, { timeoutMs: 5000 })
  assert.equal(Buffer.compare(Buffer.from(replyLarge.payload), large), 0)

  assert.ok(
    tap.seen.some((s) => s.toward === 'initiator') && tap.seen.length >= 8,
    'both directions went through the tap',
  )
  const secrets = [
    marker,
    alice.identity.publicKey,
    bob.identity.publicKey,
    alice.identity.history.subarray(0, 40),
    bob.identity.history.subarray(0, 40),
    alice.staticKeyAttestation.subarray(0, 40),
    bob.staticKeyAttestation.subarray(0, 40),
    Buffer.from(alice.identity.identifier),
    Buffer.from(alice.identity.identifier.slice(1), 'hex'),
  ]
  for (const { payload } of tap.seen) {
    for (const secret of secrets) assert.ok(!containsBytes(payload, secret), 'the relay saw something in clear')
  }
  assert.equal(tap.seen[0]!.payload.length, 34, 'message 1 is version, suite and an ephemeral key: nothing else')
})

test('replayed, tampered and far-future frames are rejected and change nothing; the channel goes on', async (t) => {
  const { a, b, tap, channel, received } = await relayed(t)
  let captured: Uint8Array | undefined
  tap.next(async (message, forward) => {
    captured = new Uint8Array(message.payload)
    const tampered = captured.slice()
    tampered[20]! ^= 0x40
    await forward(tampered) // arrives first, with the right nonce: refused, nonce not consumed
    await forward(captured)
  })
  await send(a.node, channel, 'one')
  await waitForCounter(b.node, 'test.inbox', (n) => n === 1)
  tap.next(async (message, forward) => {
    await forward(message.payload)
    await forward(captured!) // a replay of the previous frame
    const far = captured!.slice()
    new DataView(far.buffer).setBigUint64(0, 2n ** 63n, false)
    await forward(far)
    new DataView(far.buffer).setBigUint64(0, 2n ** 64n - 1n, false)
    await forward(far)
  })
  await send(a.node, channel, 'two')
  await send(a.node, channel, 'three')
  await waitForCounter(b.node, 'test.inbox', (n) => n === 3)
  const counters = b.node.counters
  assert.equal(counters.get(`${METRICS.framesRejected}.OCKAM_ERR_NOISE_DECRYPT_FAILED`), 1)
  assert.equal(counters.get(`${METRICS.framesRejected}.OCKAM_ERR_NOISE_REPLAY`), 1)
  assert.equal(counters.get(`${METRICS.framesRejected}.unproven_gap`), 2)
  assert.deepEqual(
    received.map((m) => Buffer.from(m.payload).toString()),
    ['one', 'two', 'three'],
    'each genuine message exactly once, in order',
  )
  assert.equal(channel.isOpen, true)
})

test('a dropped frame closes the channel on both ends instead of leaving a hole', async (t) => {
  const { a, b, tap, channel, responder, received } = await relayed(t)
  await send(a.node, channel, 'before')
  await waitForCounter(b.node, 'test.inbox', (n) => n === 1)
  tap.next(async () => {}) // drop
  await send(a.node, channel, 'lost')
  await send(a.node, channel, 'after the loss')
  const closed = await responder.closed
  assert.deepEqual([closed.by, closed.reason, closed.error?.code], ['local', 'frame-lost', 'OCKAM_ERR_NOISE_NONCE_GAP'])
  const initiatorSide = await channel.closed
  assert.deepEqual([initiatorSide.by, initiatorSide.reason], ['peer', 'frame-lost'])
  assert.deepEqual(
    received.map((m) => Buffer.from(m.payload).toString()),
    ['before'],
    'nothing after the hole was delivered',
  )
})

test('small messages sent in one turn leave in one frame and arrive whole, in order; others leave alone', async (t) => {
  const { a, b, tap, channel, received } = await relayed(t)
  const seenBefore = tap.seen.length
  await sendTogether(a.node, channel, ['q1', 'q2', 'q3', 'q4', 'q5'])
  await waitForCounter(b.node, 'test.inbox', (n) => n === 5)
  assert.deepEqual(texts(received), ['q1', 'q2', 'q3', 'q4', 'q5'])
  assert.equal(tap.seen.length - seenBefore, 1, 'one frame crossed the tap')
  assert.equal(a.node.counters.get(METRICS.batchesSent), 1)
  assert.equal(b.node.counters.get(METRICS.batchesReceived), 1)
  // Not marked batchable (a control message): each leaves at once, in its own frame.
  await send(a.node, channel, 'c1')
  await send(a.node, channel, 'c2')
  await waitForCounter(b.node, 'test.inbox', (n) => n === 7)
  assert.equal(tap.seen.length - seenBefore, 3)
  assert.equal(a.node.counters.get(METRICS.batchesSent), 1)
  // Mixed in one turn: order is kept across both kinds.
  await Promise.all([sendTogether(a.node, channel, ['d1', 'd2']), send(a.node, channel, 'c3')])
  await waitForCounter(b.node, 'test.inbox', (n) => n === 10)
  assert.deepEqual(texts(received).slice(7), ['d1', 'd2', 'c3'])
})

test('a dropped batch closes the channel: none of its messages is delivered', async (t) => {
  const { a, b, tap, channel, responder, received } = await relayed(t)
  await send(a.node, channel, 'before')
  await waitForCounter(b.node, 'test.inbox', (n) => n === 1)
  tap.next(async () => {}) // drop
  await sendTogether(a.node, channel, ['lost-1', 'lost-2', 'lost-3'])
  await waitForCounter(a.node, METRICS.batchesSent, (n) => n === 1)
  await send(a.node, channel, 'after the loss')
  const closed = await responder.closed
  assert.deepEqual([closed.by, closed.reason, closed.error?.code], ['local', 'frame-lost', 'OCKAM_ERR_NOISE_NONCE_GAP'])
  assert.deepEqual(texts(received), ['before'], 'no message of the lost batch, nothing after it')
})

for (const off of ['initiator', 'responder'] as const) {
  test(`batch: false on the ${off} seals every message alone, both ways`, async (t) => {
    const { a, b, tap, channel, received } = await relayed(t, { [off]: false })
    const seenBefore = tap.seen.length
    await sendTogether(a.node, channel, ['q1', 'q2', 'q3'])
    await waitForCounter(b.node, 'test.inbox', (n) => n === 3)
    assert.deepEqual(texts(received), ['q1', 'q2', 'q3'])
    assert.equal(tap.seen.length - seenBefore, 3, 'a frame each')
    assert.equal(a.node.counters.get(METRICS.batchesSent), 0)
    assert.equal(b.node.counters.get(METRICS.batchesReceived), 0)
  })
}

test('an impostor answering message 1 learns nothing about the initiator', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [] })
  const impostor = await startTestNode(t, 'impostor')
  const vault = await openVault(t)
  const alice = await makeMaterial(vault)
  const bob = await makeMaterial(vault)
  const mallory = await makeMaterial(vault)
  await startSecureChannelListener(impostor.node, { identity: mallory, trust: trustAnyone(), handshakeTimeoutMs: 300 })
  const heard: Uint8Array[] = []
  await impostor.node.startWorker(
    local('rec'),
    {
      async handleMessage(ctx, message) {
        heard.push(new Uint8Array(message.payload))
        await ctx.forward({ ...message, onward: [local('api')] })
      },
    },
    { incoming: allowAll },
  )
  await assert.rejects(
    createSecureChannel(a.node, [tcp(impostor.address), local('rec')], {
      identity: alice,
      trust: trustIdentifiers(bob.identity.identifier),
    }),
    rejectsWith('OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED'),
  )
  await waitForCounter(impostor.node, METRICS.handshakesTimedOut, (n) => n === 1)
  assert.equal(impostor.node.counters.get('tcp.frames.received'), 1, 'the impostor received message 1 and nothing else')
  assert.equal(heard.length, 1)
  assert.equal(heard[0]!.length, 34)
  for (const secret of [alice.identity.publicKey, alice.identity.history.subarray(0, 40), alice.staticKeyAttestation]) {
    assert.ok(!containsBytes(heard[0]!, secret))
  }
  assert.equal(impostor.node.counters.get(METRICS.channelsOpened), 0)
})

test('a channel nested in another through a node that sees only the inner ciphertext', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [] })
  const m = await startTestNode(t, 'm')
  const b = await startTestNode(t, 'b')
  const tap = await startTap(m.node, b.address)
  const vault = await openVault(t)
  const alice = await makeMaterial(vault)
  const project = await makeMaterial(vault)
  const bob = await makeMaterial(vault)
  await startSecureChannelListener(m.node, { identity: project, trust: trustAnyone() })
  await startSecureChannelListener(b.node, { identity: bob, trust: trustIdentifiers(alice.identity.identifier) })
  const received = await inbox(b.node)
  const outer = await createSecureChannel(a.node, [tcp(m.address), local('api')], {
    identity: alice,
    trust: trustIdentifiers(project.identity.identifier),
  })
  const inner = await createSecureChannel(a.node, [outer.address, local('tap'), tcp(b.address), local('api')], {
    identity: alice,
    trust: trustIdentifiers(bob.identity.identifier),
  })
  const marker = Buffer.from(`inner-secret-${'y'.repeat(40)}`)
  const reply = await a.node.context.request([inner.address, local('echo')], marker, { timeoutMs: 5000 })
  assert.deepEqual(Buffer.from(reply.payload), marker)
  assert.ok(reply.local.ingress.kind === 'channel' && reply.local.ingress.identifier === bob.identity.identifier)
  await a.node.context.send([inner.address, local('inbox')], marker)
  await waitForCounter(b.node, 'test.inbox', (n) => n === 1)
  const ingress = received[0]!.local.ingress
  assert.ok(ingress.kind === 'channel' && ingress.identifier === alice.identity.identifier, 'B sees the inner peer')

  assert.ok(tap.seen.length >= 6, 'the inner handshake and traffic went through the middle node')
  for (const { payload } of tap.seen) {
    assert.ok(!containsBytes(payload, marker), 'the middle node (outer channel peer) saw inner plaintext')
    assert.ok(!containsBytes(payload, alice.identity.publicKey))
  }
  assert.ok(m.node.counters.get(METRICS.messagesDelivered) >= 4, 'the middle node decrypted the outer layer')
  await inner.close()
  await outer.close()
})
