/**
 * A portal over a secure channel whose path stalls (the far node stops taking frames, TCP
 * fills): the inlet must stop reading its client, whatever credit the far end granted. Small
 * portal data is batched; it must not become frames piling up in the channel while the client
 * writes on.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local } from '../../runtime/address.js'
import { PORTAL_PROTOCOL_VERSION } from '../../workers/portal/constants.js'
import { startTcpInlet } from '../../workers/portal/inlet.js'
import { encodeOpened, OPEN } from '../../workers/portal/messages.js'
import { gate } from '../unit/runtime/router-fixtures.js'
import { startChannelPair } from './channel-pair.js'
import { connectTo } from './portal-helpers.js'

const MiB = 1024 * 1024

test('a stalled path stops the inlet reading its client, with small writes and ample credit', {
  timeout: 30_000,
}, async (t) => {
  const { a, b, channel } = await startChannelPair(t)
  // The far end: answers an open with a large grant, then takes no more (its mailbox fills, the
  // channel's decryptor waits, the far node stops reading TCP).
  const stall = gate()
  t.after(() => stall.open())
  await b.node.startWorker(
    local('outlet'),
    {
      handleMessage: async (ctx, message) => {
        if (message.payload[0] === OPEN) {
          await ctx.send(message.return, encodeOpened(PORTAL_PROTOCOL_VERSION, 0x7fff_0000))
          return
        }
        await stall.promise
      },
    },
    { incoming: allowAll },
  )
  const inlet = await startTcpInlet(a.node, { listen: '127.0.0.1:0', to: [channel.address, local('outlet')] })
  const client = await connectTo(inlet.address)
  t.after(() => client.destroy())
  client.on('error', () => {}) // reset when the nodes stop
  // Small writes, one per turn, as an interactive client makes them.
  const TOTAL = 64 * MiB
  const piece = Buffer.alloc(1024, 7)
  let written = 0
  let last = -1
  let still = 0
  while (written < TOTAL) {
    if (client.writableLength < 4 * MiB) {
      client.write(piece)
      written += piece.length
    }
    await new Promise<void>((resolve) => setImmediate(resolve))
    // The inlet stopped reading: its count stays put while the client's buffer grows.
    const read = inlet.stats().bytesIn
    still = read === last ? still + 1 : 0
    last = read
    if (still > 2000) break
  }
  const read = inlet.stats().bytesIn
  stall.open()
  client.destroy()
  assert.ok(
    read < 24 * MiB,
    `the inlet read ${(read / MiB).toFixed(1)} MiB of ${(written / MiB).toFixed(1)} MiB through a stalled path`,
  )
})
