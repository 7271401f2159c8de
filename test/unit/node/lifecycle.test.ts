import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { test } from 'node:test'
import { local, tcp } from '../../../runtime/address.js'
import { createDefaultNode, tcpOf } from '../../../runtime/defaults.js'
import type { CounterEvent } from '../../../runtime/diagnostics.js'
import { isOckamError } from '../../../runtime/errors.js'
import { captureLog } from '../../helpers/log-capture.js'

test('stop closes connections and releases the listening port', async () => {
  const logs = captureLog('n')
  const server = createDefaultNode({ name: 'server', listen: ['127.0.0.1:0'], pool: { threads: 0 }, log: logs.log })
  await server.start()
  const address = tcpOf(server).listenAddresses()[0] as string
  const client = createDefaultNode({ name: 'client', pool: { threads: 0 }, log: captureLog('c').log })
  await client.start()
  await client.context.request([tcp(address), local('echo')], Buffer.from('x'))
  assert.equal(tcpOf(client).connections().length, 1)

  const clientSawClose = new Promise<void>((resolve) => {
    const onClosed = (event: unknown) => {
      if ((event as { node: string }).node === 'client') {
        diagnosticsChannel.unsubscribe('ockam:tcp:connection:closed', onClosed)
        resolve()
      }
    }
    diagnosticsChannel.subscribe('ockam:tcp:connection:closed', onClosed)
  })
  await server.stop()
  await clientSawClose
  assert.equal(tcpOf(client).connections().length, 0)

  // The port is free again.
  const port = Number(address.split(':')[1])
  const probe = createServer()
  probe.listen(port, '127.0.0.1')
  await once(probe, 'listening')
  probe.close()
  await client.stop()
  await assert.rejects(client.context.request([local('echo')], Buffer.from('x')), (e) => isOckamError(e))
})

test('counters are published on the ockam:counter diagnostics channel', async (t) => {
  const events: CounterEvent[] = []
  const listener = (event: unknown) => events.push(event as CounterEvent)
  diagnosticsChannel.subscribe('ockam:counter', listener)
  t.after(() => diagnosticsChannel.unsubscribe('ockam:counter', listener))
  const node = createDefaultNode({ name: 'counted', pool: { threads: 0 }, log: captureLog('x').log })
  await node.start()
  t.after(() => node.stop())
  await node.context.request([local('echo')], Buffer.from('x'))
  const echo = events.filter((e) => e.node === 'counted' && e.name === 'echo.messages')
  assert.deepEqual(
    echo.map((e) => e.value),
    [1],
  )
  assert.equal(node.counters.get('echo.messages'), 1)
})

test('a port in use is a clear typed error and the node is left stopped', async (t) => {
  const holder = createServer()
  holder.listen(0, '127.0.0.1')
  await once(holder, 'listening')
  t.after(() => holder.close())
  const port = (holder.address() as { port: number }).port
  const node = createDefaultNode({
    name: 'busy',
    listen: [`127.0.0.1:${port}`],
    pool: { threads: 0 },
    log: captureLog('b').log,
  })
  await assert.rejects(
    node.start(),
    (e) => isOckamError(e, 'OCKAM_ERR_TCP_LISTEN_FAILED') && /EADDRINUSE/.test(e.message),
  )
  // Nothing is left listening or connected.
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.destroy()
  assert.equal(tcpOf(node).listenAddresses().length, 0)
})
