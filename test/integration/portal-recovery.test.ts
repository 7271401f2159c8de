/**
 * Failures at this layer and recovery from them: the outlet's target down, the route down (no
 * node listening), no answer (no outlet at the address). In each case the client sees a reset,
 * a log line says why, and once the cause is gone new connections work without any action on
 * the inlet.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import { startTcpInlet } from '../../workers/portal/inlet.js'
import { startTcpOutlet } from '../../workers/portal/outlet.js'
import { freePort } from '../helpers/node-cli.js'
import { startTestNode } from '../helpers/testnet.js'
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

async function echoWorks(inletAddress: string): Promise<void> {
  const data = randomData(256 * 1024)
  const result = await exchange(await connectTo(inletAddress), data)
  assert.equal(result.ending, 'end')
  assert.equal(result.receivedHash, sha256(data))
}

test('target down: the client is reset and both nodes say why; once the target is up, new connections work', async (t) => {
  const port = await freePort()
  const pair = await startPortalPair(t, `127.0.0.1:${port}`)
  const down = await exchange(await connectTo(pair.inlet.address), Buffer.from('hello?'), { end: false })
  assert.equal(down.ending, 'reset')
  const outletLine = pair.outletNode.logs.withCode('OCKAM_ERR_PORTAL_TARGET_UNREACHABLE')[0]
  assert.ok(outletLine, 'the outlet logged the unreachable target')
  assert.match(String(outletLine.msg), /cannot connect to its target 127\.0\.0\.1:\d+: ECONNREFUSED/)
  await eventually(
    () =>
      pair.inletNode.logs.lines.some((l) => l.code === 'OCKAM_ERR_PORTAL_RESET' && l.reason === 'target-unreachable'),
    'the inlet logged the reason the outlet gave',
  )
  assert.equal(pair.outlet.stats().resetsByReason['target-unreachable'], 1)

  await startTarget(t, echoHandler, port)
  await echoWorks(pair.inlet.address)
  assert.equal(pair.inlet.stats().portalsOpened, 1)
})

test('route down (no node listening): reset plus a log line naming the route; new connections work once it is up', async (t) => {
  const port = await freePort()
  const target = await startTarget(t, echoHandler)
  const inletNode = await startTestNode(t, 'inlet', { listen: [] })
  const inlet = await startTcpInlet(inletNode.node, {
    listen: '127.0.0.1:0',
    to: [tcp(`127.0.0.1:${port}`), local('outlet')],
    logWindowMs: 0,
  })
  for (let attempt = 0; attempt < 2; attempt++) {
    const down = await exchange(await connectTo(inlet.address), Buffer.from('hello?'), { end: false })
    assert.equal(down.ending, 'reset')
  }
  const lines = inletNode.logs.withCode('OCKAM_ERR_PORTAL_OPEN_FAILED')
  assert.equal(lines.length, 2, 'each attempt tried again and said so')
  assert.equal(lines[0]?.cause, 'OCKAM_ERR_TCP_CONNECT_FAILED')
  assert.match(
    String(lines[0]?.msg),
    new RegExp(`cannot open a portal over \\[1#127\\.0\\.0\\.1:${port} => 0#outlet\\]`),
  )
  assert.match(String(lines[0]?.msg), /ECONNREFUSED/)

  const outletNode = await startTestNode(t, 'outlet-node', { listen: [`127.0.0.1:${port}`] })
  await startTcpOutlet(outletNode.node, { target: target.address, allow: () => true })
  await echoWorks(inlet.address)
})

test('no answer (nothing at the outlet address): reset after the open timeout; works once the outlet starts', async (t) => {
  const target = await startTarget(t, echoHandler)
  const pair = await startPortalPair(t, target.address, { outlet: { address: 'elsewhere' } })
  const inlet = await startTcpInlet(pair.inletNode.node, {
    listen: '127.0.0.1:0',
    to: () => [tcp(pair.outletNode.address), local('late-outlet')],
    openTimeoutMs: 300,
    logWindowMs: 0,
  })
  const started = performance.now()
  const down = await exchange(await connectTo(inlet.address), Buffer.from('hello?'), { end: false })
  assert.equal(down.ending, 'reset')
  assert.ok(performance.now() - started >= 290, 'reset at the open timeout')
  const line = pair.inletNode.logs.withCode('OCKAM_ERR_PORTAL_OPEN_FAILED')[0]
  assert.match(
    String(line?.msg),
    /no answer from the outlet within 300 ms over \[1#127\.0\.0\.1:\d+ => 0#late-outlet\]/,
  )
  assert.equal(line?.reason, 'timeout')

  await startTcpOutlet(pair.outletNode.node, { target: target.address, allow: () => true, address: 'late-outlet' })
  await echoWorks(inlet.address)
  assert.equal(inlet.stats().resets, 1)
})

test('an outlet that stops resets its open portals; the inlet logs it and its clients see a reset', async (t) => {
  const target = await startTarget(t, (socket) => socket.resume())
  const pair = await startPortalPair(t, target.address)
  const client = await connectTo(pair.inlet.address)
  const result = exchange(client, Buffer.from('start'), { end: false })
  await eventually(() => pair.outlet.stats().bytesOut === 5, 'the portal is open and carried the first bytes')
  await pair.outlet.stop()
  assert.equal((await result).ending, 'reset')
  await eventually(
    () => pair.inletNode.logs.lines.some((l) => l.code === 'OCKAM_ERR_PORTAL_RESET' && l.reason === 'shutdown'),
    'the inlet logged that the outlet shut down',
  )
})
