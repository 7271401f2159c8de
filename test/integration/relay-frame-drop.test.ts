/**
 * Issue 7: a relay that drops one frame. The project node (relay service) drops exactly one
 * message of the end-to-end channel on its way through `forward_to_postgres` in the middle of a
 * stream. The receiving end of that channel sees the nonce gap and closes the channel (never a
 * silent hole); the inlet's route session resets its portals, so the client sees a reset — not a
 * shortened stream that looks complete — and what it did receive is an exact prefix.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local } from '../../runtime/address.js'
import type { Context } from '../../runtime/context.js'
import type { Message } from '../../runtime/message.js'
import { startTcpInlet } from '../../workers/portal/inlet.js'
import { startTcpOutlet } from '../../workers/portal/outlet.js'
import { startRouteSession } from '../../workers/portal/route-session.js'
import { SECURE_CHANNEL_METRICS } from '../../workers/secure-channel/index.js'
import { connectTo, exchange, randomData, sha256, startTarget, type Transfer } from './portal-helpers.js'
import { DEADLINE_MS, next, openRouteThrough, relayNet } from './relay-helpers.js'

const MiB = 1024 * 1024

/**
 * On the project node, between the inlet's project channel and `forward_to_NAME`, both ways:
 * once armed, drops the next message going `direction` (a frame of the end-to-end channel).
 */
function dropper(direction: 'toInlet' | 'toOutlet') {
  let armed = false
  let dropped = 0
  const worker = {
    async handleMessage(ctx: Context, message: Message) {
      const onward = message.onward.slice(1)
      const toOutlet = onward[0]?.value.startsWith('forward_to_') === true
      if (armed && toOutlet === (direction === 'toOutlet')) {
        armed = false
        dropped++
        return
      }
      await ctx.forward({ ...message, onward, return: [ctx.address, ...message.return] })
    },
  }
  return {
    worker,
    arm: () => {
      armed = true
    },
    dropped: () => dropped,
  }
}

for (const direction of ['toInlet', 'toOutlet'] as const) {
  test(`the relay drops one end-to-end frame ${direction === 'toInlet' ? 'toward the inlet' : 'toward the outlet'} mid-stream: the client and the target see a reset, never a FIN`, {
    timeout: 20_000,
  }, async (t) => {
    const relay = await relayNet(t)
    const payload = randomData(32 * MiB)
    let targetSide!: Promise<Transfer>
    let targetReceived = 0
    const target = await startTarget(t, (socket) => {
      socket.on('data', (chunk: Buffer) => {
        targetReceived += chunk.length
      })
      targetSide = exchange(socket, direction === 'toInlet' ? payload : undefined, { end: false })
    })
    const outlet = await startTcpOutlet(relay.member.node, {
      target: target.address,
      allow: () => true,
      logWindowMs: 0,
    })
    t.after(() => outlet.stop())
    await relay.memberSession(t).whenUp(DEADLINE_MS)
    const drop = dropper(direction)
    // Relay plumbing: it takes the end-to-end frames the member channels pass through (sealed).
    await relay.project.node.startWorker(local('dropper'), drop.worker, {
      incoming: { ...allowAll, acceptsSealed: true },
    })

    const inletNode = relay.inlet.node
    const session = startRouteSession({
      name: 'postgres',
      context: inletNode.context,
      log: inletNode.log,
      pingIntervalMs: 60_000,
      open: (signal) => openRouteThrough(relay, 'dropper', outlet.address, signal),
      onDown: () => inlet.resetAll('path-lost'),
    })
    t.after(() => session.stop())
    const inlet = await startTcpInlet(inletNode, {
      listen: '127.0.0.1:0',
      to: () => session.route(DEADLINE_MS),
      logWindowMs: 0,
    })
    t.after(() => inlet.stop())
    await next(session, 'up')

    const client = await connectTo(inlet.address)
    let clientReceived = 0
    client.on('data', (chunk: Buffer) => {
      clientReceived += chunk.length
    })
    const clientSide = exchange(client, direction === 'toOutlet' ? payload : undefined, { end: false })
    // Arm once the stream is well under way, then drop the next frame going that way.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if ((direction === 'toInlet' ? clientReceived : targetReceived) < MiB) return
        clearInterval(timer)
        drop.arm()
        resolve()
      }, 5)
      setTimeout(() => {
        clearInterval(timer)
        reject(new Error('the stream did not get going'))
      }, DEADLINE_MS).unref()
    })
    const [clientEnd, targetEnd] = await Promise.all([clientSide, targetSide])
    assert.equal(drop.dropped(), 1)
    assert.equal(clientEnd.ending, 'reset', 'the client saw a reset')
    assert.equal(targetEnd.ending, 'reset', 'the target saw a reset')
    const receiver = direction === 'toInlet' ? clientEnd : targetEnd
    assert.ok(receiver.receivedBytes < payload.length, 'the receiver got less than was sent, and knows it')
    assert.equal(
      receiver.receivedHash,
      sha256(payload.subarray(0, receiver.receivedBytes)),
      'what arrived is an exact prefix: no hole',
    )
    // The end that received the gap closed its channel; the inlet's route went down for it.
    const detecting = direction === 'toInlet' ? inletNode : relay.member.node
    assert.equal(detecting.counters.get(`${SECURE_CHANNEL_METRICS.framesRejected}.OCKAM_ERR_NOISE_NONCE_GAP`), 1)
    const down = relay.inlet.logs.lines.find((l) => l.event === 'inlet.route.down')
    assert.match(String(down?.msg), /a channel of the route closed \(frame-lost\)/)
    t.diagnostic(`dropped after ${(receiver.receivedBytes / MiB).toFixed(1)} MiB: ${down?.msg}`)
  })
}
