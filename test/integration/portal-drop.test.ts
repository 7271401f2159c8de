/**
 * A message lost on the path (a test worker drops one data message) must never turn into a
 * clean, shortened stream: the receiving portal sees the gap in sequence numbers, resets its
 * socket, and tells the other side, which resets its socket too.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local } from '../../runtime/address.js'
import type { Context } from '../../runtime/context.js'
import type { Message } from '../../runtime/message.js'
import { DATA } from '../../workers/portal/messages.js'
import {
  connectTo,
  eventually,
  exchange,
  randomData,
  startPortalPair,
  startTarget,
  type Transfer,
} from './portal-helpers.js'

const MiB = 1024 * 1024

/** Forwards both ways like a relay hop, dropping the `n`-th data message going `direction`. */
function dropper(direction: 'toInlet' | 'toOutlet', n: number) {
  let seen = 0
  let dropped = 0
  const worker = {
    async handleMessage(ctx: Context, message: Message) {
      const onward = message.onward.slice(1)
      const toInlet = onward[0]?.value.startsWith('tcp-') === true
      if (message.payload[0] === DATA && toInlet === (direction === 'toInlet') && ++seen === n) {
        dropped++
        return
      }
      await ctx.forward({ ...message, onward, return: [ctx.address, ...message.return] })
    },
  }
  return { worker, dropped: () => dropped }
}

for (const direction of ['toInlet', 'toOutlet'] as const) {
  test(`a data message dropped on the way ${direction === 'toInlet' ? 'to the inlet' : 'to the outlet'}: both ends see a reset, never a FIN`, {
    timeout: 15_000,
  }, async (t) => {
    const payload = randomData(4 * MiB)
    let targetSide!: Promise<Transfer>
    const target = await startTarget(t, (socket) => {
      // Toward the inlet: the target sends and keeps its write side open (it could still tell a
      // FIN from a reset); toward the outlet it only receives.
      targetSide = exchange(socket, direction === 'toInlet' ? payload : undefined, { end: false })
    })
    const pair = await startPortalPair(t, target.address, { via: ['dropper'] })
    const drop = dropper(direction, 10)
    await pair.outletNode.node.startWorker(local('dropper'), drop.worker, { incoming: allowAll })
    const client = await connectTo(pair.inlet.address)
    const clientSide = await exchange(client, direction === 'toOutlet' ? payload : undefined, { end: false })
    const server = await targetSide
    assert.equal(drop.dropped(), 1)
    assert.equal(clientSide.ending, 'reset', 'the client saw a reset')
    assert.equal(server.ending, 'reset', 'the target saw a reset')
    const receiver = direction === 'toInlet' ? clientSide : server
    assert.ok(receiver.receivedBytes < payload.length, 'the receiver got less than was sent, and knows it')
    const detecting = direction === 'toInlet' ? pair.inletNode : pair.outletNode
    await eventually(() => detecting.logs.withCode('OCKAM_ERR_PORTAL_OUT_OF_ORDER').length === 1, 'gap logged')
    const line = detecting.logs.withCode('OCKAM_ERR_PORTAL_OUT_OF_ORDER')[0]
    assert.equal(line?.got, (line?.expected as number) + 1, 'the gap is exactly the dropped message')
    const other = direction === 'toInlet' ? pair.outlet : pair.inlet
    await eventually(() => other.stats().resets === 1, 'the other side reset too')
    assert.equal(other.stats().resetsByReason['protocol-error'], 1, 'because its peer reported the error')
  })
}
