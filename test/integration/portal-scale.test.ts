/**
 * Many portals, a small node-wide pool: 300 portals whose full windows would need 75 MiB share
 * 8 MiB per node. Reservations never exceed the pool; idle senders give credit back so every
 * portal gets some; then every portal still carries its bytes both ways.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
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

test('300 portals share an 8 MiB pool per node: bounded reservations, credit back from idle senders, all work', {
  timeout: 30_000,
}, async (t) => {
  const target = await startTarget(t, echoHandler)
  const inletPool = new CreditPool(8 * MiB)
  const outletPool = new CreditPool(8 * MiB)
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
  const opened = inletPool.reserved
  // Nobody sends: after a sweep or two every sender is idle and gives back all but 8 KiB, and
  // the receivers that waited for the pool get their grants.
  await eventually(() => inletPool.waiting === 0 && outletPool.waiting === 0, 'every receiver has credit', 10_000)
  await eventually(() => inletPool.reserved <= PORTALS * 8 * 1024 + 8 * 256 * 1024, 'idle portals keep little')
  t.diagnostic(
    `after open: inlet pool ${(opened / MiB).toFixed(1)} MiB reserved; ${inletPool.waits + outletPool.waits} waits for the pool; ` +
      `idle: ${(inletPool.reserved / MiB).toFixed(2)} MiB reserved (${PORTALS} portals × 8 KiB kept = ${((PORTALS * 8) / 1024).toFixed(2)} MiB); max ${(maxReserved / MiB).toFixed(1)} MiB`,
  )
  assert.ok(inletPool.waits + outletPool.waits > 0, 'the pool really was short at some point')
  const data = randomData(64 * 1024)
  const results = await Promise.all(clients.map((client) => exchange(client, data)))
  clearInterval(sampler)
  for (const r of results) {
    assert.equal(r.ending, 'end')
    assert.equal(r.receivedHash, sha256(data))
  }
  assert.ok(maxReserved <= 8 * MiB, `reservations stayed within the pool (${maxReserved})`)
  assert.equal(pair.inlet.stats().resets, 0)
})
