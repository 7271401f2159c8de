/**
 * FrameQueue batching under a stalled path: what a channel holds must stay bounded, and the
 * backpressure of the path must reach whoever sends into the channel (a portal pauses its socket
 * only while its send into the encryptor waits). Nothing accepted may be lost or reordered.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local } from '../../../runtime/address.js'
import { LOCAL_INGRESS } from '../../../runtime/message.js'
import { NOISE_XX_AESGCM } from '../../../runtime/trust/noise/suite.js'
import { FrameQueue } from '../../../workers/secure-channel/frame-queue.js'
import { decodePlaintext, encodePayloadPlaintextParts } from '../../../workers/secure-channel/plaintext.js'
import { createTransportReceiver, createTransportSender } from '../../../workers/secure-channel/transport-cipher.js'
import { gate, testRouter } from '../runtime/router-fixtures.js'
import { PROVIDERS } from './helpers.js'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))
const TURNS = 400

for (const batched of [true, false]) {
  test(`a stalled path stops a sender of one small ${batched ? 'batchable' : 'unbatched'} message per turn, and loses nothing`, async (t) => {
    const provider = PROVIDERS[0]!
    const key = provider.randomBytes(32)
    const receiver = createTransportReceiver({ provider, suite: NOISE_XX_AESGCM, key: key.slice() })
    const { router } = testRouter()
    // The path (a TCP connection whose socket does not drain): takes one frame and waits.
    const stall = gate()
    t.after(() => {
      stall.open()
      return router.stop()
    })
    const delivered: number[] = []
    const all = gate()
    let expected = Number.POSITIVE_INFINITY
    await router.startWorker(
      [local('path')],
      {
        handleMessage: async (_ctx, m) => {
          await stall.promise
          const plaintext = decodePlaintext(receiver.open(m.payload), 1 << 20)
          const items =
            plaintext.type === 'batch' ? plaintext.messages : plaintext.type === 'payload' ? [plaintext] : []
          for (const item of items) delivered.push(item.payload[0] as number)
          if (delivered.length >= expected) all.open()
        },
      },
      { mailboxCapacity: 4 },
    )
    const lost: unknown[] = []
    const queue = new FrameQueue({
      router,
      sender: createTransportSender({ provider, suite: NOISE_XX_AESGCM, key }),
      peerRoute: [local('path')],
      metadata: { ingress: LOCAL_INGRESS },
      onLost: (error) => lost.push(error),
    })
    // The encryptor: as SecureChannelSession.onLocal does with a small message.
    await router.startWorker([local('encryptor')], {
      handleMessage: (_ctx, m) => {
        const [plaintext] = encodePayloadPlaintextParts([local('x')], [], m.payload, 65_519, 1 << 20)
        return batched ? queue.enqueueBatched(plaintext!) : queue.enqueue([plaintext!])
      },
    })
    // A portal: one small data message per turn, reading on only once its send was taken.
    let accepted = 0
    let blocked: Promise<void> | undefined
    for (let i = 0; i < TURNS; i++) {
      const sent = router.send({
        onward: [local('encryptor')],
        return: [],
        payload: Buffer.alloc(1000, i % 256),
        local: { ingress: LOCAL_INGRESS, batchable: true },
      })
      const taken = await Promise.race([
        sent.then(() => true),
        nextTurn()
          .then(nextTurn)
          .then(() => false),
      ])
      if (!taken) {
        blocked = sent
        break
      }
      accepted++
      await nextTurn()
    }
    // The path holds 1 frame in its handler and 4 in its mailbox, the encryptor's mailbox 256
    // messages, the queue a batch or two. Near TURNS, the channel holds what the path cannot take.
    assert.ok(accepted < 300, `the sender went on while nothing left: ${accepted} of ${TURNS} messages accepted`)
    expected = accepted + (blocked === undefined ? 0 : 1)
    stall.open()
    await blocked
    await all.promise
    assert.deepEqual(
      delivered,
      Array.from({ length: expected }, (_, i) => i % 256),
    )
    assert.deepEqual(lost, [])
  })
}
