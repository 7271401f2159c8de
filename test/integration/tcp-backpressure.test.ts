/**
 * A connection that stops reading because this node is busy (a full mailbox) is not the peer
 * going silent: it must not be closed as HEARTBEAT_MISSED, and nothing is lost.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local, tcp } from '../../runtime/address.js'
import type { OckamNode } from '../../runtime/node.js'
import { encodeFrame } from '../../transports/tcp/frame-codec.js'
import { startTestNode } from '../helpers/testnet.js'

const timing = { heartbeatIntervalMs: 40, idleTimeoutMs: 120 }

/**
 * `slow` on `node`: a one-message mailbox whose handler holds every message until `release`;
 * `done` resolves once `count` messages were handled, `received` lists their payloads in order.
 */
async function gatedSlowWorker(node: OckamNode, count: number) {
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const received: string[] = []
  let allReceived!: () => void
  const done = new Promise<void>((resolve) => {
    allReceived = resolve
  })
  await node.startWorker(
    local('slow'),
    {
      async handleMessage(_ctx, message) {
        await gate
        received.push(Buffer.from(message.payload).toString())
        if (received.length === count) allReceived()
      },
    },
    { incoming: allowAll, mailboxCapacity: 1 },
  )
  return { release, received, done }
}

test('a connection blocked on a full local mailbox outlives the idle timeout and loses nothing', async (t) => {
  const server = await startTestNode(t, 'server', { tcp: timing })
  const client = await startTestNode(t, 'client', { listen: [], tcp: timing })
  const { release, received, done } = await gatedSlowWorker(server.node, 20)
  for (let i = 0; i < 20; i++) {
    await client.node.context.send([tcp(server.address), local('slow')], Buffer.from(String(i)))
  }
  // Hold the worker for several idle timeouts while the connection cannot read.
  const holdMs = timing.idleTimeoutMs * 4
  const started = performance.now()
  await new Promise<void>((resolve) => setTimeout(resolve, holdMs)) // the condition under test is elapsed time itself
  release()
  let deadline: NodeJS.Timeout | undefined
  await Promise.race([
    done,
    new Promise((_, reject) => {
      deadline = setTimeout(() => reject(new Error(`only ${received.length} of 20 delivered within 10 s`)), 10_000)
    }),
  ])
  clearTimeout(deadline)
  t.diagnostic(
    `held ${holdMs} ms, all 20 delivered ${(performance.now() - started).toFixed(0)} ms after the hold began`,
  )
  assert.deepEqual(
    received,
    Array.from({ length: 20 }, (_, i) => String(i)),
  )
  assert.equal(server.node.counters.get('tcp.closed.OCKAM_ERR_TCP_HEARTBEAT_MISSED'), 0)
  assert.equal(client.node.counters.get('tcp.closed.OCKAM_ERR_TCP_HEARTBEAT_MISSED'), 0)
  assert.ok(server.node.counters.get('router.mailbox_full_waits') > 0, 'the mailbox really was full')
})

test('frames that arrived before the peer ended the connection are all delivered, even behind a full mailbox', async (t) => {
  const server = await startTestNode(t, 'server')
  const count = 20
  const { release, received, done } = await gatedSlowWorker(server.node, count)
  const [host, port] = server.address.split(':')
  const socket = connect({ host: host as string, port: Number(port) })
  socket.on('error', () => {})
  socket.on('data', () => {})
  await once(socket, 'connect')
  const frames = [Buffer.of(1)]
  for (let i = 0; i < count; i++) {
    frames.push(Buffer.from(encodeFrame({ onward: [local('slow')], return: [], payload: Buffer.from(String(i)) })))
  }
  // The frames fill the mailbox and wait; the FIN follows them. The node's socket ends its side
  // once it has read the FIN, so the client's 'end' says the FIN arrived while frames waited.
  socket.end(Buffer.concat(frames))
  await once(socket, 'end', { signal: AbortSignal.timeout(5_000) })
  release()
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref())
  await Promise.race([done, deadline])
  assert.deepEqual(
    received,
    Array.from({ length: count }, (_, i) => String(i)),
  )
  assert.equal(server.node.counters.get('tcp.frames.undeliverable'), 0)
})
