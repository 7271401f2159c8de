/** TCP connection behaviour between two in-process nodes on 127.0.0.1. */
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { test } from 'node:test'
import { local, tcp } from '../../../runtime/address.js'
import { startTestNode } from '../../helpers/testnet.js'

test('regression: writes that wait for drain leave no listeners behind on the socket', async (t) => {
  const accepted: Socket[] = []
  const onSocket = (message: unknown) => void accepted.push((message as { socket: Socket }).socket)
  diagnosticsChannel.subscribe('net.server.socket', onSocket)
  t.after(() => diagnosticsChannel.unsubscribe('net.server.socket', onSocket))
  const warnings: Error[] = []
  const onWarning = (warning: Error) => void warnings.push(warning)
  process.on('warning', onWarning)
  t.after(() => process.off('warning', onWarning))

  const target = await startTestNode(t, 'target')
  const client = await startTestNode(t, 'client', { listen: [] })
  const closeListenersAtStart = { value: -1 }
  // Each 60 KB reply is over the socket's high-water mark, so every write waits for 'drain'.
  for (let i = 0; i < 30; i++) {
    const reply = await client.node.context.request([tcp(target.address), local('echo')], Buffer.alloc(60_000, i), {
      timeoutMs: 10_000,
    })
    assert.equal(reply.payload.length, 60_000)
    if (i === 0) closeListenersAtStart.value = accepted[0]?.listenerCount('close') ?? -1
  }
  const socket = accepted[0]
  assert.ok(socket !== undefined, 'saw the accepted socket')
  assert.equal(socket.listenerCount('close'), closeListenersAtStart.value)
  assert.equal(socket.listenerCount('drain'), 0)
  await new Promise<void>((resolve) => setImmediate(resolve)) // warnings are emitted on nextTick
  assert.deepEqual(
    warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
    [],
  )
  t.diagnostic(
    `'close' listeners on the accepted socket after 30 backpressured replies: ${socket.listenerCount('close')}`,
  )
})
