/** TCP connection behaviour between two in-process nodes on 127.0.0.1. */
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import { getEventListeners } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { test } from 'node:test'
import { local, tcp } from '../../../runtime/address.js'
import { tcpOf } from '../../../runtime/defaults.js'
import { isOckamError } from '../../../runtime/errors.js'
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

test('regression: failed dials leave no listener on the caller’s long-lived abort signal', async (t) => {
  const node = await startTestNode(t, 'dialer', { listen: [] })
  // A port that was just free: connecting to it is refused at once.
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))

  const session = new AbortController()
  for (let attempt = 0; attempt < 12; attempt++) {
    await assert.rejects(
      tcpOf(node.node).resolve(tcp(`127.0.0.1:${port}`), { mayDial: true, signal: session.signal }),
      (e) => isOckamError(e, 'OCKAM_ERR_TCP_CONNECT_FAILED'),
    )
  }
  assert.equal(getEventListeners(session.signal, 'abort').length, 0)
  assert.equal(node.node.counters.get('tcp.connect_failures'), 12)
})

test('a dial is refused for network messages and aborted by its signal', async (t) => {
  const node = await startTestNode(t, 'dialer', { listen: [] })
  await assert.rejects(tcpOf(node.node).resolve(tcp('127.0.0.1:9'), { mayDial: false }), (e) =>
    isOckamError(e, 'OCKAM_ERR_ROUTER_NO_DIAL'),
  )
  await assert.rejects(
    tcpOf(node.node).resolve(tcp('127.0.0.1:9'), { mayDial: true, signal: AbortSignal.abort() }),
    (e) => isOckamError(e, 'OCKAM_ERR_ABORTED'),
  )
  assert.equal(node.node.counters.get('tcp.connect_failures'), 0)
})
