/**
 * Credit conformance on a real path. An observer on the route checks, at every data message,
 * that what the sender has sent never exceeds what the receiver granted (both ways, many
 * portals, credit returns included). Hostile peers that overshoot are closed with the typed
 * error and their client or target connection is reset.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local, tcp } from '../../runtime/address.js'
import type { Context } from '../../runtime/context.js'
import type { Message } from '../../runtime/message.js'
import { DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES, PORTAL_DATA_COST_OVERHEAD } from '../../workers/portal/constants.js'
import { startTcpInlet } from '../../workers/portal/inlet.js'
import { decodePortalMessage, encodeData, encodeOpen, encodeOpened } from '../../workers/portal/messages.js'
import { startTestNode } from '../helpers/testnet.js'
import {
  connectTo,
  echoHandler,
  eventually,
  exchange,
  randomData,
  sha256,
  startPortalPair,
  startTarget,
} from './portal-helpers.js'

interface Ledger {
  granted: number
  consumed: number
  maxOutstanding: number
}

/**
 * A worker on the path (outlet node) that forwards everything both ways and keeps, per portal
 * and direction, the credit granted and used as seen at this point of the path.
 */
function creditObserver(violations: string[]) {
  const ledgers = new Map<string, Ledger>()
  let returns = 0
  const ledger = (key: string) => {
    let l = ledgers.get(key)
    if (l === undefined) {
      l = { granted: 0, consumed: 0, maxOutstanding: 0 }
      ledgers.set(key, l)
    }
    return l
  }
  const worker = {
    async handleMessage(ctx: Context, message: Message) {
      const onward = message.onward.slice(1)
      // Toward the inlet the next hop is the TCP connection back; toward the outlet it is local.
      const down = onward[0]?.value.startsWith('tcp-') === true
      const inletPortal = (down ? onward.at(-1) : message.return.at(-1))?.value ?? '?'
      const m = decodePortalMessage(message.payload)
      // Credit granted by the side a message comes from is for the opposite direction.
      const sameDirection = ledger(`${inletPortal}:${down ? 'down' : 'up'}`)
      const opposite = ledger(`${inletPortal}:${down ? 'up' : 'down'}`)
      if (m.type === 'open' || m.type === 'opened' || m.type === 'credit') {
        opposite.granted += m.type === 'credit' ? m.amount : m.credit
      } else if (m.type === 'return') {
        returns++
        sameDirection.granted -= m.amount
      } else if (m.type === 'data') {
        sameDirection.consumed += m.bytes.length + PORTAL_DATA_COST_OVERHEAD
        const outstanding = sameDirection.consumed
        if (outstanding > sameDirection.granted) {
          violations.push(
            `${inletPortal} ${down ? 'down' : 'up'}: used ${outstanding} > granted ${sameDirection.granted}`,
          )
        }
        sameDirection.maxOutstanding = Math.max(sameDirection.maxOutstanding, sameDirection.granted - outstanding)
      }
      await ctx.forward({ ...message, onward, return: [ctx.address, ...message.return] })
    },
  }
  return { worker, ledgers, returns: () => returns }
}

test('on the wire, no sender ever uses more credit than granted (8 portals, both ways, with returns)', {
  timeout: 20_000,
}, async (t) => {
  const violations: string[] = []
  const observer = creditObserver(violations)
  const target = await startTarget(t, echoHandler)
  const pair = await startPortalPair(t, target.address, {
    via: ['observer'],
    // A small window and a fast sweep: many grants, and idle senders give credit back.
    inlet: { windowBytes: 64 * 1024, sweepIntervalMs: 20 },
    outlet: { windowBytes: 64 * 1024, sweepIntervalMs: 20 },
  })
  await pair.outletNode.node.startWorker(local('observer'), observer.worker, { incoming: allowAll })
  const data = randomData(4 * 1024 * 1024)
  const clients = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const client = await connectTo(pair.inlet.address)
      let received = 0
      client.on('data', (chunk: Buffer) => {
        received += chunk.length
      })
      const half = (i + 1) * 256 * 1024
      client.write(data.subarray(0, half))
      return { client, half, received: () => received, done: exchange(client, undefined) }
    }),
  )
  // Once the first halves are echoed, every sender is idle: the sweep gives their credit back.
  await eventually(() => clients.every((c) => c.received() >= c.half), 'first halves echoed')
  await eventually(() => observer.returns() >= 16, 'idle senders on both sides returned credit')
  for (const c of clients) c.client.end(data.subarray(c.half))
  const results = await Promise.all(clients.map(async (c) => ({ result: await c.done, expected: sha256(data) })))
  for (const { result, expected } of results) assert.equal(result.receivedHash, expected)
  assert.deepEqual(violations, [])
  assert.equal(observer.ledgers.size, 16, 'both directions of 8 portals were observed')
  assert.equal(pair.inletNode.node.counters.get('portal.inlet.opened'), 8)
  t.diagnostic(
    `largest unused credit seen: ${Math.max(...[...observer.ledgers.values()].map((l) => l.maxOutstanding))} bytes (window 65,536)`,
  )
})

test('a hostile outlet that sends beyond its credit: the inlet resets the client with CREDIT_EXCEEDED', {
  timeout: 10_000,
}, async (t) => {
  const outletNode = await startTestNode(t, 'fake-outlet')
  const inletNode = await startTestNode(t, 'inlet', { listen: [] })
  const fakeResets: string[] = []
  await outletNode.node.startWorker(
    local('outlet'),
    {
      async handleMessage(ctx, message) {
        const m = decodePortalMessage(message.payload)
        if (m.type === 'reset') {
          fakeResets.push(m.reason ?? String(m.code))
          return
        }
        if (m.type !== 'open') return
        // Open, then send more than the inlet's credit C in one burst (sent in one tick, so
        // they arrive together, before any write to the client could earn more credit).
        const sends = [ctx.reply(message, encodeOpened(1, 0))]
        const chunk = 8 * 1024
        for (let seq = 0, used = 0; used <= m.credit; seq++, used += chunk + PORTAL_DATA_COST_OVERHEAD) {
          sends.push(ctx.reply(message, encodeData(seq, new Uint8Array(chunk))))
        }
        await Promise.all(sends)
      },
    },
    { incoming: allowAll },
  )
  const inlet = await startTcpInlet(inletNode.node, {
    listen: '127.0.0.1:0',
    to: [tcp(outletNode.address), local('outlet')],
    logWindowMs: 0,
    windowBytes: 32 * 1024,
  })
  const client = await connectTo(inlet.address)
  const result = await exchange(client, Buffer.from('hello'), { end: false })
  assert.equal(result.ending, 'reset', 'the client sees a reset, not a FIN')
  const line = inletNode.logs.lines.find((l) => l.code === 'OCKAM_ERR_PORTAL_CREDIT_EXCEEDED')
  assert.ok(line, 'the inlet logged the violation with its code')
  assert.equal(line.reason, 'protocol-error')
  await eventually(() => fakeResets.length > 0, 'the hostile outlet got a reset')
  assert.deepEqual(fakeResets, ['protocol-error'])
  assert.ok(inlet.stats().bufferedBytes === 0)
})

test('a hostile inlet that sends beyond the outlet grant: the outlet resets its target connection', {
  timeout: 10_000,
}, async (t) => {
  let targetSide!: Promise<{ ending: string }>
  const target = await startTarget(t, (socket) => {
    targetSide = exchange(socket, undefined, { end: false })
  })
  const pair = await startPortalPair(t, target.address, { outlet: { windowBytes: 32 * 1024 } })
  const resets: string[] = []
  let opened!: () => void
  const isOpen = new Promise<void>((resolve) => {
    opened = resolve
  })
  let granted = 0
  let outletPortal: Message | undefined
  const hostile = await pair.inletNode.node.startWorker(
    local('hostile-inlet'),
    {
      handleMessage(_ctx, message) {
        const m = decodePortalMessage(message.payload)
        if (m.type === 'opened') {
          granted = m.credit
          outletPortal = message
          opened()
        } else if (m.type === 'reset') resets.push(m.reason ?? '?')
      },
    },
    { incoming: allowAll },
  )
  await hostile.send(pair.route, encodeOpen(1, 65_536))
  await isOpen
  // A portal starts with the credit an idle one keeps, not its whole window.
  assert.equal(granted, DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES)
  // More than the grant in one burst (one tick: it arrives together, before the target drains).
  const chunk = new Uint8Array(8 * 1024)
  const sends: Promise<void>[] = []
  for (let seq = 0, used = 0; used <= granted; seq++, used += chunk.length + PORTAL_DATA_COST_OVERHEAD) {
    sends.push(hostile.send((outletPortal as Message).return, encodeData(seq, chunk)))
  }
  await Promise.all(sends)
  assert.equal((await targetSide).ending, 'reset', 'the target sees a reset')
  await eventually(() => resets.length > 0, 'the hostile inlet got a reset')
  assert.deepEqual(resets, ['protocol-error'])
  assert.ok(pair.outletNode.logs.withCode('OCKAM_ERR_PORTAL_CREDIT_EXCEEDED').length === 1)
  assert.equal(pair.outlet.stats().resetsByReason['protocol-error'], 1)
})
