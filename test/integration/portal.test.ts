/**
 * Inlet → outlet over one TCP hop between two in-process nodes, with real sockets: bulk data
 * both ways arrives intact, many connections at once stay independent, and a half-close is
 * carried through.
 */
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { test } from 'node:test'
import { sharedCreditPool } from '../../workers/portal/credit-pool.js'
import { connectTo, echoHandler, exchange, randomData, sha256, startPortalPair, startTarget } from './portal-helpers.js'

const MiB = 1024 * 1024

test('64 MiB of random bytes each way arrive intact (SHA-256), then both ends close cleanly', async (t) => {
  const upload = randomData(64 * MiB)
  const download = Buffer.from(upload).reverse()
  let targetSide!: Promise<{ receivedHash: string; ending: string }>
  const target = await startTarget(t, (socket) => {
    targetSide = exchange(socket, download)
  })
  const pair = await startPortalPair(t, target.address)
  const started = performance.now()
  const client = await connectTo(pair.inlet.address)
  const clientSide = await exchange(client, upload)
  const seconds = (performance.now() - started) / 1000
  const server = await targetSide
  t.diagnostic(
    `128 MiB through the portal in ${seconds.toFixed(2)} s (${((128 / seconds) | 0).toString()} MiB/s total)`,
  )
  assert.equal(server.receivedHash, sha256(upload), 'the target received the upload intact')
  assert.equal(clientSide.receivedHash, sha256(download), 'the client received the download intact')
  assert.equal(clientSide.ending, 'end', 'the client saw a FIN, not a reset')
  assert.equal(server.ending, 'end')
  const inlet = pair.inlet.stats()
  const outlet = pair.outlet.stats()
  assert.equal(inlet.bytesIn, upload.length)
  assert.equal(inlet.bytesOut, download.length)
  assert.equal(outlet.bytesIn, download.length)
  assert.equal(outlet.bytesOut, upload.length)
  assert.equal(inlet.resets + outlet.resets, 0)
  assert.equal(inlet.portalsOpened, 1)
  // Every reservation comes back once both portals are closed.
  assert.equal(sharedCreditPool(pair.inletNode.node.router).held, 0)
  assert.equal(pair.inletNode.node.counters.get('portal.inlet.closed'), 1)
})

test('200 concurrent connections through one inlet all arrive intact', async (t) => {
  const target = await startTarget(t, echoHandler)
  const pair = await startPortalPair(t, target.address)
  const sizes = Array.from({ length: 200 }, (_, i) => 1 + ((i * 7919) % 96) * 1024)
  const base = randomData(100 * 1024)
  const results = await Promise.all(
    sizes.map(async (size, i) => {
      const data = base.subarray(i % 1000, (i % 1000) + size)
      const client = await connectTo(pair.inlet.address)
      const result = await exchange(client, data)
      return { expected: sha256(data), ...result }
    }),
  )
  for (const [i, r] of results.entries()) {
    assert.equal(r.ending, 'end', `connection ${i} ended with ${r.ending}`)
    assert.equal(r.receivedHash, r.expected, `connection ${i} echoed intact`)
  }
  assert.equal(pair.inlet.stats().portalsOpened, 200)
  assert.equal(pair.inlet.stats().resets, 0)
})

test('half-close: a client that shuts its write side still receives the whole response', async (t) => {
  const response = randomData(3 * MiB)
  let targetSawEnd = false
  const target = await startTarget(t, (socket: Socket) => {
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    // The target answers only after the request's end: that FIN must have crossed the portal.
    socket.on('end', () => {
      targetSawEnd = true
      socket.write(Buffer.concat(chunks))
      socket.end(response)
    })
  })
  const pair = await startPortalPair(t, target.address)
  const client = await connectTo(pair.inlet.address)
  const request = Buffer.from('request body, then FIN')
  const result = await exchange(client, request)
  assert.ok(targetSawEnd, 'the FIN reached the target')
  assert.equal(result.ending, 'end')
  assert.equal(result.receivedHash, sha256(Buffer.concat([request, response])))
  assert.equal(pair.inlet.stats().resets, 0)
})
