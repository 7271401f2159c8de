/**
 * A batch's messages and a close of the channel that receives it: once this end closed the
 * channel, nothing more of the peer comes out of it, as for frames still waiting in the
 * decryptor's mailbox (a revoked peer's batch must not keep delivering after the revocation).
 */
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local } from '../../runtime/address.js'
import { type CounterEvent, counterChannel } from '../../runtime/diagnostics.js'
import { LOCAL_INGRESS, type Message } from '../../runtime/message.js'
import type { OckamNode } from '../../runtime/node.js'
import { METRICS } from '../../workers/secure-channel/metrics.js'
import { gate } from '../unit/runtime/router-fixtures.js'
import { waitForCounter } from '../unit/secure-channel/fixtures.js'
import { startChannelPair } from './channel-pair.js'

/** Resolves once `node`'s channel delivered or dropped `total` messages (event-driven, no polling). */
function settled(node: OckamNode, total: number): Promise<void> {
  const count = () => node.counters.get(METRICS.messagesDelivered) + node.counters.get(METRICS.messagesUndeliverable)
  if (count() >= total) return Promise.resolve()
  return new Promise((resolve) => {
    const onEvent = (message: unknown) => {
      if ((message as CounterEvent).node !== node.name || count() < total) return
      diagnosticsChannel.unsubscribe(counterChannel.name, onEvent)
      resolve()
    }
    diagnosticsChannel.subscribe(counterChannel.name, onEvent)
  })
}

test('messages of a batch not yet handed on when this end closes the channel are not delivered', async (t) => {
  const { a, b, channel, responder } = await startChannelPair(t)
  // A slow service: takes one message, holds one more in its mailbox, and waits.
  const slow = gate()
  t.after(() => slow.open())
  const received: Message[] = []
  await b.node.startWorker(
    local('slow'),
    {
      handleMessage: async (ctx, message) => {
        received.push(message)
        ctx.counters.inc('test.slow')
        await slow.promise
      },
    },
    { incoming: allowAll, mailboxCapacity: 1 },
  )
  await Promise.all(
    ['m1', 'm2', 'm3', 'm4', 'm5'].map((text) =>
      a.node.router.send({
        onward: [channel.address, local('slow')],
        return: [],
        payload: Buffer.from(text),
        local: { ingress: LOCAL_INGRESS, batchable: true },
      }),
    ),
  )
  await waitForCounter(b.node, METRICS.batchesReceived, (n) => n === 1)
  await waitForCounter(b.node, 'test.slow', (n) => n === 1)
  await waitForCounter(b.node, 'router.mailbox_full_waits', (n) => n === 1)
  // m1 is being handled, m2 waits in the mailbox, m3 waits for room: the peer is refused now.
  await responder.close()
  slow.open()
  // m3 was on its way into the full mailbox before the close; m4 and m5 were not.
  // Every message of the batch is accounted for: delivered, or dropped for the close.
  await settled(b.node, 5)
  await waitForCounter(b.node, 'test.slow', (n) => n >= 3)
  assert.deepEqual(
    received.map((m) => Buffer.from(m.payload).toString()),
    ['m1', 'm2', 'm3'],
    'nothing of the batch after the close',
  )
})
