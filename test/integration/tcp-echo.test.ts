import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import { tcpOf } from '../../runtime/defaults.js'
import { startTestNode } from '../helpers/testnet.js'

test('a message to another node’s echo over TCP comes back along the return route', async (t) => {
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const reply = await a.node.context.request([tcp(b.address), local('echo')], Buffer.from('hello'), {
    timeoutMs: 5_000,
  })
  assert.equal(Buffer.from(reply.payload).toString(), 'hello')
  assert.equal(b.node.counters.get('echo.messages'), 1)
  // The connection is reused for a second message.
  await a.node.context.request([tcp(b.address), local('echo')], Buffer.from('again'), { timeoutMs: 5_000 })
  assert.equal(tcpOf(a.node).connections().length, 1)
})
