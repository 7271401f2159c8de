/**
 * The outlet node in a child process (two event loops, the shape of two machines): bulk data
 * both ways intact; then the outlet process is killed mid-stream (the client sees a reset and
 * the inlet says the route is gone) and restarted on the same port (new connections work, with
 * no action on the inlet).
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { local, tcp } from '../../runtime/address.js'
import { startTcpInlet } from '../../workers/portal/inlet.js'
import { startTestNode } from '../helpers/testnet.js'
import {
  connectTo,
  echoHandler,
  eventually,
  exchange,
  randomData,
  sha256,
  startTarget,
  type Transfer,
} from './portal-helpers.js'

const CHILD = fileURLToPath(new URL('./portal-outlet-child.js', import.meta.url))
const MiB = 1024 * 1024

async function startOutletProcess(
  t: TestContext,
  listen: string,
  target: string,
): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [CHILD, listen, target], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('the outlet process exited before it was ready')
    }),
  ])) as [string]
  return { child, address: (JSON.parse(line) as { address: string }).address }
}

test('through an outlet in another process: 32 MiB each way intact; killed and restarted, it serves again', {
  timeout: 30_000,
}, async (t) => {
  const upload = randomData(32 * MiB)
  const download = Buffer.from(upload).reverse()
  let mode: 'bulk' | 'echo' | 'hold' = 'bulk'
  let targetSide: Promise<Transfer> | undefined
  const target = await startTarget(t, (socket) => {
    if (mode === 'bulk') targetSide = exchange(socket, download)
    else if (mode === 'echo') echoHandler(socket)
    else socket.resume()
  })
  const outlet = await startOutletProcess(t, '127.0.0.1:0', target.address)
  const inletNode = await startTestNode(t, 'inlet', { listen: [] })
  const inlet = await startTcpInlet(inletNode.node, {
    listen: '127.0.0.1:0',
    to: [tcp(outlet.address), local('outlet')],
    logWindowMs: 0,
    sweepIntervalMs: 50,
  })

  const started = performance.now()
  const bulk = await exchange(await connectTo(inlet.address), upload)
  const seconds = (performance.now() - started) / 1000
  t.diagnostic(`64 MiB across two processes in ${seconds.toFixed(2)} s (${(64 / seconds).toFixed(0)} MiB/s total)`)
  assert.equal(bulk.ending, 'end')
  assert.equal(bulk.receivedHash, sha256(download))
  assert.equal((await (targetSide as Promise<Transfer>)).receivedHash, sha256(upload))

  // A portal in the middle of a stream when the outlet process dies.
  mode = 'hold'
  const client = await connectTo(inlet.address)
  const cut = exchange(client, Buffer.from('first bytes'), { end: false })
  await eventually(() => inlet.stats().portalsOpen === 1, 'the portal is open')
  outlet.child.kill('SIGKILL')
  assert.equal((await cut).ending, 'reset', 'the client sees a reset')
  const line = inletNode.logs.withCode('OCKAM_ERR_PORTAL_PATH_LOST')[0]
  assert.ok(line, 'the inlet logged that the route is gone')
  assert.match(String(line.msg), /the route to the outlet is gone/)

  // While it is down, a new connection is reset with a line that names the route.
  const refused = await exchange(await connectTo(inlet.address), Buffer.from('x'), { end: false })
  assert.equal(refused.ending, 'reset')
  assert.ok(inletNode.logs.withCode('OCKAM_ERR_PORTAL_OPEN_FAILED').length >= 1)

  // Back on the same port: the next connection works, nothing done to the inlet.
  mode = 'echo'
  await startOutletProcess(t, outlet.address, target.address)
  const data = randomData(1 * MiB)
  const again = await exchange(await connectTo(inlet.address), data)
  assert.equal(again.ending, 'end')
  assert.equal(again.receivedHash, sha256(data))
})
