/**
 * Many portals, a small node-wide pool: 300 portals whose full windows would need 300 MiB share
 * 4 MiB per node. Opening them takes only the small first grants (no receiver waits for the
 * pool); a bulk exchange grows their windows until the pool is spent; reservations never exceed
 * the pool; idle senders give credit back; every portal carries its bytes both ways.
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
const PORTALS = 300
const KEEP = DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES

test('300 portals share a 4 MiB pool per node: bounded reservations, credit back from idle senders, all work', {
  timeout: 30_000,
}, async (t) => {
  const target = await startTarget(t, echoHandler)
  const inletPool = new CreditPool(4 * MiB)
  const outletPool = new CreditPool(4 * MiB)
  const pair = await startPortalPair(t, target.address, {
    inlet: { pool: inletPool, sweepIntervalMs: 20 },
    outlet: { pool: outletPool, sweepIntervalMs: 20 },
  })
  let maxReserved = 0
  const sampler = setInterval(() => {
    maxReserved = Math.max(maxReserved, inletPool.reserved, outletPool.reserved)
  }, 1)
  t.after(() => clearInterval(sampler))
  const clients = await Promise.all(Array.from({ length: PORTALS }, () => connectTo(pair.inlet.address)))
  await eventually(() => pair.inlet.stats().portalsOpen === PORTALS, `${PORTALS} portals open`)
  // Each portal starts with the credit an idle one keeps: 300 of them fit the pool with room.
  assert.equal(inletPool.waits + outletPool.waits, 0, 'opening never waited for the pool')
  assert.ok(inletPool.reserved <= PORTALS * KEEP, `opening reserved ${inletPool.reserved}`)
  const opened = inletPool.reserved

  const data = randomData(512 * 1024)
  const half = 256 * 1024
  const transfers = clients.map((client) => {
    let received = 0
    client.on('data', (chunk: Buffer) => {
      received += chunk.length
    })
    const done = exchange(client, undefined)
    client.write(data.subarray(0, half))
    return { client, done, received: () => received }
  })
  // Bulk senders grow their windows until the pool is spent: fair shares.
  await eventually(() => transfers.every((x) => x.received() >= half), 'first halves echoed', 20_000)
  const waits = inletPool.waits + outletPool.waits
  // Nobody sends: after a sweep or two every sender is idle and gives back all but 8 KiB.
  await eventually(() => inletPool.waiting === 0 && outletPool.waiting === 0, 'every receiver has credit', 10_000)
  await eventually(
    () => inletPool.reserved <= PORTALS * KEEP + 1 * MiB && outletPool.reserved <= PORTALS * KEEP + 1 * MiB,
    'idle portals keep little',
  )
  t.diagnostic(
    `after open: inlet pool ${(opened / MiB).toFixed(2)} MiB reserved, no waits; ${waits} waits during the exchange; ` +
      `idle: ${(inletPool.reserved / MiB).toFixed(2)} MiB reserved (${PORTALS} portals × 8 KiB kept = ${((PORTALS * 8) / 1024).toFixed(2)} MiB); max ${(maxReserved / MiB).toFixed(1)} MiB`,
  )
  // Flushes release credit that the same receivers take back at once, so the pool is spent
  // without necessarily a receiver finding it empty: its high-water mark is the evidence.
  assert.ok(maxReserved >= 0.95 * 4 * MiB, `the pool really was spent during the exchange (${maxReserved})`)
  for (const x of transfers) x.client.end(data.subarray(half))
  const results = await Promise.all(transfers.map((x) => x.done))
  clearInterval(sampler)
  for (const r of results) {
    assert.equal(r.ending, 'end')
    assert.equal(r.receivedHash, sha256(data))
  }
  assert.ok(maxReserved <= 4 * MiB, `reservations stayed within the pool (${maxReserved})`)
  assert.equal(pair.inlet.stats().resets, 0)
})
