/**
 * A burst of new portals on a small pool: each starts with the credit an idle portal keeps, so
 * opening 200 of them at once, each echoing a request, never waits for the pool — and so never
 * waits for the sweep to bring idle credit back (its period here is a minute, far beyond the
 * test). With a full window per new portal, the 4 MiB pool was spent by a handful of them.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES } from '../../workers/portal/constants.js'
import { CreditPool } from '../../workers/portal/credit-pool.js'
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
