/** Stopping hooks run before the transports stop (so a channel's close still reaches its peer), newest first. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local, tcp } from '../../../runtime/address.js'
import { createDefaultNode, tcpOf } from '../../../runtime/defaults.js'
import { captureLog } from '../../helpers/log-capture.js'

test('stopping hooks run newest first while listeners and connections are still up; a failing one does not stop the rest', async (t) => {
  const server = createDefaultNode({
    name: 'server',
    listen: ['127.0.0.1:0'],
    pool: { threads: 0 },
    log: captureLog('s').log,
  })
  await server.start()
  const client = createDefaultNode({ name: 'client', pool: { threads: 0 }, log: captureLog('c').log })
  await client.start()
  t.after(() => client.stop())
  const address = tcpOf(server).listenAddresses()[0] as string
  await client.context.request([tcp(address), local('echo')], Buffer.from('x'))

  const seen: string[] = []
  server.onStopping(() => {
    seen.push(
      `first listeners=${tcpOf(server).listenAddresses().length} connections=${tcpOf(server).connections().length}`,
    )
  })
  server.onStopping(() => {
    seen.push('second')
    throw new Error('hook failure')
  })
  const removed = server.onStopping(() => {
    seen.push('removed')
  })
  removed()
  await server.stop()
  assert.deepEqual(seen, ['second', 'first listeners=1 connections=1'])
  assert.equal(tcpOf(server).listenAddresses().length, 0)
  await server.stop()
  assert.equal(seen.length, 2, 'hooks run once')
})
