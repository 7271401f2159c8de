/**
 * A burst of new portals on a small pool: each starts with the credit an idle portal keeps, so
 * opening 200 of them at once, each echoing a request, never waits for the pool — and so never
 * waits for the sweep to bring idle credit back (its period here is a minute, far beyond the
 * test). With a full window per new portal, the 4 MiB pool was spent by a handful of them.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local } from '../../runtime/address.js'
import type { Context } from '../../runtime/context.js'
import type { Message } from '../../runtime/message.js'
import { DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES, PORTAL_MIN_GRANT_BYTES } from '../../workers/portal/constants.js'
import { CreditPool } from '../../workers/portal/credit-pool.js'
import { OPENED } from '../../workers/portal/messages.js'
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

const MiB = 1024 * 1024
const PORTALS = 200

test('200 portals opened in a burst on a 4 MiB pool each echo at once: no receiver waits for the pool', {
  timeout: 20_000,
}, async (t) => {
  const target = await startTarget(t, echoHandler)
  const inletPool = new CreditPool(4 * MiB)
  const outletPool = new CreditPool(4 * MiB)
  const pair = await startPortalPair(t, target.address, {
    inlet: { pool: inletPool, sweepIntervalMs: 60_000 },
    outlet: { pool: outletPool, sweepIntervalMs: 60_000 },
  })
  let maxReserved = 0
  const sample = () => {
    maxReserved = Math.max(maxReserved, inletPool.reserved, outletPool.reserved)
  }
  const sampler = setInterval(sample, 1)
  t.after(() => clearInterval(sampler))
  const request = randomData(1024)
  // All 200 are open at once (none ends before every one has its echo).
  const clients = await Promise.all(Array.from({ length: PORTALS }, () => connectTo(pair.inlet.address)))
  const transfers = clients.map((client) => {
    let received = 0
    client.on('data', (chunk: Buffer) => {
      received += chunk.length
    })
    const done = exchange(client, request, { end: false })
    return { client, done, received: () => received }
  })
  await eventually(() => transfers.every((x) => x.received() === request.length), 'every request echoed', 10_000)
  assert.equal(pair.inlet.stats().portalsOpen, PORTALS)
  for (const x of transfers) x.client.end()
  const results = await Promise.all(transfers.map((x) => x.done))
  sample()
  clearInterval(sampler)
  for (const r of results) {
    assert.equal(r.ending, 'end')
    assert.equal(r.receivedHash, sha256(request))
  }
  t.diagnostic(
    `${inletPool.waits + outletPool.waits} waits; max ${(maxReserved / 1024).toFixed(0)} KiB reserved per node`,
  )
  assert.equal(inletPool.waits, 0, 'no inlet receiver waited for the pool')
  assert.equal(outletPool.waits, 0, 'no outlet receiver waited for the pool')
  // What a burst takes: the first grant of each portal, plus the small grants replacing what
  // each request and echo consumed.
  assert.ok(maxReserved <= PORTALS * 2 * DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES, `max reserved ${maxReserved}`)
  assert.equal(pair.inlet.stats().resets, 0)
})

test('a portal that opened with no credit gets it once open, although the pool had room only while it was opening', {
  timeout: 20_000,
}, async (t) => {
  const target = await startTarget(t, echoHandler)
  // Room for one first grant and a minimum one: a third portal opens with none.
  const inletPool = new CreditPool(DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES + PORTAL_MIN_GRANT_BYTES)
  // A gate on the path that can hold `opened` messages: the third portal stays opening while the
  // pool gets room back (a wake that cannot grant yet).
  let gateOpen = true
  const held: Array<() => Promise<void>> = []
  const pair = await startPortalPair(t, target.address, {
    via: ['gate'],
    inlet: { pool: inletPool, sweepIntervalMs: 60_000 },
    outlet: { sweepIntervalMs: 60_000 },
  })
  await pair.outletNode.node.startWorker(
    local('gate'),
    {
      async handleMessage(ctx: Context, message: Message) {
        const forward = () =>
          ctx.forward({ ...message, onward: message.onward.slice(1), return: [ctx.address, ...message.return] })
        if (!gateOpen && message.payload[0] === OPENED) held.push(forward)
        else await forward()
      },
    },
    { incoming: allowAll },
  )
  const first = await connectTo(pair.inlet.address)
  const second = await connectTo(pair.inlet.address)
  await eventually(() => pair.inlet.stats().portalsOpen === 2, 'two portals open')
  gateOpen = false
  const third = await connectTo(pair.inlet.address)
  await eventually(() => inletPool.waiting === 1 && held.length === 1, 'the third portal waits for the pool, opening')
  // The first portal's echo flushes (credit back to the pool, a wake), then it closes.
  const request = randomData(1024)
  const firstDone = await exchange(first, request)
  assert.equal(firstDone.receivedHash, sha256(request))
  await eventually(
    () => inletPool.available >= DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES,
    'the first portal gave its credit back',
  )
  assert.equal(inletPool.waiting, 0, 'the third portal was woken while it could not grant')
  gateOpen = true
  for (const forward of held.splice(0)) await forward()
  const results = await Promise.all([exchange(second, request), exchange(third, request)])
  for (const r of results) {
    assert.equal(r.ending, 'end')
    assert.equal(r.receivedHash, sha256(request))
  }
  assert.ok(inletPool.waits > 0)
})
