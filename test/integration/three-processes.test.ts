/**
 * Issue 2's routing acceptance test with three nodes in three processes: A (a `message send`
 * CLI process), B (a node with a forwarding service allowed to reach C) and C (a node with
 * echo). A plain TCP server D, owned by the test, counts connections made to it.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { runCli, spawnNode } from '../helpers/cli.js'
import { tcpRoute } from '../helpers/node-cli.js'

test('routing through an explicit forwarder works; without it B refuses and never dials', async (t) => {
  let connectionsToD = 0
  const d = createServer((socket) => {
    connectionsToD++
    socket.destroy()
  })
  d.listen(0, '127.0.0.1')
  await once(d, 'listening')
  t.after(() => d.close())
  const dAddress = `127.0.0.1:${(d.address() as { port: number }).port}`

  const c = await spawnNode(t, 'c')
  const cAddress = c.listeners[0] as string
  const b = await spawnNode(t, 'b', ['--forward-to', cAddress])
  const bAddress = b.listeners[0] as string

  // 1. Without the forwarding service, B refuses a route onward to C and does not dial it.
  const direct = await runCli([
    'message',
    'send',
    'hi',
    '--to',
    `${tcpRoute(bAddress)}${tcpRoute(cAddress)}/service/echo`,
    '--timeout',
    '1500',
  ])
  assert.equal(direct.code, 1)
  assert.match(direct.stderr, /OCKAM_ERR_TIMEOUT/)
  await b.waitForLine((l) => l.code === 'OCKAM_ERR_ROUTER_NO_DIAL')

  // 2. The same through B's forwarding service reaches C's echo and comes back.
  const started = performance.now()
  const forwarded = await runCli([
    'message',
    'send',
    'hello',
    '--to',
    `${tcpRoute(bAddress)}/service/forward${tcpRoute(cAddress)}/service/echo`,
  ])
  t.diagnostic(`forwarded round trip incl. process start: ${(performance.now() - started).toFixed(0)} ms`)
  assert.equal(forwarded.code, 0, forwarded.stderr)
  assert.equal(forwarded.stdout, 'hello\n')

  // 3. Now B has a connection to C; a direct route still cannot use it.
  const reuse = await runCli([
    'message',
    'send',
    'hi',
    '--to',
    `${tcpRoute(bAddress)}${tcpRoute(cAddress)}/service/echo`,
    '--timeout',
    '1500',
  ])
  assert.equal(reuse.code, 1)
  await b.waitForLine((l) => l.code === 'OCKAM_ERR_ROUTER_ACCESS_DENIED')

  // 4. A route naming D, to which B has no connection, does not make B dial D — neither
  //    directly nor through the forwarder, whose targets do not include D.
  const toD = await runCli([
    'message',
    'send',
    'hi',
    '--to',
    `${tcpRoute(bAddress)}${tcpRoute(dAddress)}/service/echo`,
    '--timeout',
    '1000',
  ])
  const viaForwarder = await runCli([
    'message',
    'send',
    'hi',
    '--to',
    `${tcpRoute(bAddress)}/service/forward${tcpRoute(dAddress)}/service/echo`,
    '--timeout',
    '1000',
  ])
  assert.equal(toD.code, 1)
  assert.equal(viaForwarder.code, 1)
  await b.waitForLine(
    (l) => l.address === '0#forward' && (l.err as { code?: string } | undefined)?.code === 'OCKAM_ERR_ROUTER_NO_DIAL',
  )
  assert.equal(connectionsToD, 0, 'B must never connect to D')
})
