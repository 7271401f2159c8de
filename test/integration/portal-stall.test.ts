/**
 * Head-of-line isolation: ten portals on one route, one client that never reads. The other
 * nine keep flowing (throughput measured against the nine alone, reported), the stalled portal
 * holds at most its window, and the node's buffered-bytes gauge stays within its limits.
 */
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { test } from 'node:test'
import { DEFAULT_PORTAL_WINDOW_BYTES } from '../../workers/portal/constants.js'
import { sharedCreditPool } from '../../workers/portal/credit-pool.js'
import { connectTo, exchange, randomData, sha256, startPortalPair, startTarget } from './portal-helpers.js'

const MiB = 1024 * 1024
const PER_PORTAL = 8 * MiB

test('a stalled reader does not slow the nine other portals of its route; memory stays bounded', {
  timeout: 30_000,
}, async (t) => {
  const download = randomData(PER_PORTAL)
  // Every connection to the target gets the same download, then a FIN.
  const target = await startTarget(t, (socket: Socket) => {
    socket.resume()
    socket.end(download)
  })
  const pair = await startPortalPair(t, target.address)
  const node = pair.inletNode.node
  const pool = sharedCreditPool(node.router)
  const expected = sha256(download)

  const runNine = async () => {
    const started = performance.now()
    const results = await Promise.all(
      Array.from({ length: 9 }, async () => exchange(await connectTo(pair.inlet.address), Buffer.alloc(0))),
    )
    const seconds = (performance.now() - started) / 1000
    for (const r of results) {
      assert.equal(r.ending, 'end')
      assert.equal(r.receivedHash, expected)
    }
    return (9 * PER_PORTAL) / MiB / seconds
  }

  await runNine() // warm-up: the first run pays for JIT and connection set-up
  const alone = await runNine()

  // The stalled client: connected, never reading, until the nine are done.
  const stalled = await connectTo(pair.inlet.address)
  stalled.pause()
  let maxGauge = 0
  let maxStalledHeld = 0
  const sampler = setInterval(() => {
    maxGauge = Math.max(maxGauge, node.counters.get('portal.buffered_bytes'))
    maxStalledHeld = Math.max(maxStalledHeld, pair.inlet.stats().bufferedBytes)
  }, 2)
  const rssBefore = process.memoryUsage().rss
  const withStalled = await runNine()
  const rssAfter = process.memoryUsage().rss
  // Now only the stalled portal is open: whatever the inlet still holds is its share.
  const stalledHeld = pair.inlet.stats().bufferedBytes
  clearInterval(sampler)

  t.diagnostic(
    `nine portals alone: ${alone.toFixed(0)} MiB/s; with a stalled tenth: ${withStalled.toFixed(0)} MiB/s ` +
      `(ratio ${(withStalled / alone).toFixed(2)}); stalled portal holds ${stalledHeld} bytes; ` +
      `gauge max ${maxGauge} bytes; RSS ${(rssBefore / MiB).toFixed(0)} → ${(rssAfter / MiB).toFixed(0)} MiB`,
  )
  assert.ok(stalledHeld > 0, 'the stalled portal did receive data it could not deliver')
  assert.ok(stalledHeld <= DEFAULT_PORTAL_WINDOW_BYTES, `the stalled portal holds at most one window (${stalledHeld})`)
  assert.ok(maxGauge <= 10 * DEFAULT_PORTAL_WINDOW_BYTES, `gauge ${maxGauge} within ten windows`)
  assert.ok(maxGauge <= pool.limit)
  // Generous on purpose (a shared 2-core box drifts): a stall of the route would be ~0.
  assert.ok(withStalled > alone * 0.25, `the nine kept their throughput (${withStalled} vs ${alone} MiB/s)`)

  // The stalled client still gets its whole stream once it reads.
  const lateTransfer = exchange(stalled, Buffer.alloc(0))
  stalled.resume()
  const late = await lateTransfer
  assert.equal(late.ending, 'end')
  assert.equal(late.receivedHash, expected)
  assert.equal(pair.inlet.stats().resets, 0)
})
