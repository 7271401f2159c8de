/**
 * The outlet node killed (SIGKILL, or its machine gone) with real CLI processes in three state
 * folders: unlike a graceful stop (portal-faults.test.ts) nothing tells the inlet, whose own
 * connection to the project stays up. A new connection's open that goes unanswered makes the
 * inlet's route session probe its route at once; the failed probe drops the route, so the
 * client in the middle of a stream sees a reset within seconds instead of after three missed
 * pings. Then the outlet node is started again and the time until a new connection through the
 * inlet is served is measured; the second round restarts it at once, before the inlet has
 * noticed anything, so the inlet's stale end-to-end channel (keys the new process does not
 * have) must be found out the same way. Last, a pooled client that keeps its connection and
 * opens no new one: its next request after the kill meets silence, which probes the route too.
 * Every figure is printed.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { test } from 'node:test'
import { json, type NodeJson, ok } from '../helpers/node-cli.js'
import { ask, type Home, logLine, relayedPortal, streamClient, untilServed } from '../helpers/portal-cli.js'

const MiB = 1024 * 1024
/**
 * Far below what three missed pings take (5 s apart, each waiting 5 s: 25–30 s), and above what
 * one unanswered open (1 s) plus a failed probe (2 s) plus a rebuild take on a loaded machine.
 */
const FAST_MS = 8_000

/** SIGKILLs the default node of `home` (its pid from `node list`); returns when the signal was sent. */
async function killNode(home: Home): Promise<number> {
  const nodes = await json<NodeJson[]>(['node', 'list'], home.env)
  const pid = nodes.find((n) => n.name === 'default')?.pid
  assert.ok(typeof pid === 'number', `the outlet node runs: ${JSON.stringify(nodes)}`)
  process.kill(pid, 'SIGKILL')
  return performance.now()
}

/** A client that keeps one connection to the echoing target and sends requests on it. */
async function keptClient(port: number) {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true })
  await once(socket, 'connect')
  const ended = new Promise<{ ending: string; at: number }>((resolve) => {
    socket.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ ending: error.code ?? error.message, at: performance.now() }),
    )
    socket.on('end', () => resolve({ ending: 'end', at: performance.now() }))
  })
  let received = ''
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString()
  })
  const request = async (text: string): Promise<void> => {
    const before = received.length
    socket.write(text)
    while (received.length < before + text.length) await once(socket, 'data')
    assert.equal(received.slice(before), text)
  }
  socket.write('e') // the target answers its name, then echoes
  while (!received.includes('\n')) await once(socket, 'data')
  return { request, send: (text: string) => socket.write(text), ended, destroy: () => socket.destroy() }
}

test('the outlet node killed (SIGKILL): a client sees a reset within seconds, and new connections are served soon after node start', {
  timeout: 120_000,
}, async (t) => {
  const { bank, analysis, inlet } = await relayedPortal(t, 'ockam-killed')

  // (a) Killed, and down for a while. The stream just stalls: no byte says the far end is gone.
  const cut = await streamClient(inlet)
  await cut.reached(MiB)
  const killed = await killNode(bank)
  // A new connection is what shows it: its open goes unanswered, the route is probed and dropped.
  const during = ask(inlet)
  const ended = await cut.ended
  const resetMs = ended.at - killed
  t.diagnostic(`killed, left down: the streaming client was reset ${resetMs.toFixed(0)} ms after SIGKILL`)
  assert.equal(ended.ending, 'reset', `the cut stream ended with a reset (after ${ended.bytes} bytes), not a FIN`)
  assert.ok(ended.pure, 'every byte before the reset was the target’s')
  assert.ok(resetMs < FAST_MS, `the client was reset ${resetMs.toFixed(0)} ms after SIGKILL (want < ${FAST_MS})`)
  const down = await logLine(analysis, 'the route going down', (l) => l.event === 'inlet.route.down')
  assert.equal(down.code, 'OCKAM_ERR_PORTAL_ROUTE_UNANSWERED', `the inlet said why: ${String(down.msg)}`)
  await ok(['node', 'start', 'default'], bank.env)
  const started = performance.now()
  const back = await untilServed(inlet, 'target', 'a new connection after the outlet node is back')
  t.diagnostic(`killed, left down: a new connection served ${back.toFixed(0)} ms after node start returned`)
  assert.ok(back < FAST_MS, `served ${back.toFixed(0)} ms after node start (want < ${FAST_MS})`)
  // The connection made while the node was down waited for the route; it ends either way, never hangs.
  const waited = await during
  t.diagnostic(
    `the connection made while the node was down: ${waited.ending === 'end' && waited.echoed ? 'served' : `ended ${waited.ending}`} ${(performance.now() - started).toFixed(0)} ms after node start`,
  )
  assert.ok(waited.ending === 'end' || waited.ending === 'ECONNRESET', `it ended: ${waited.ending}`)

  // (b) Killed and started again at once: the relay name is back (new process, new channel
  // keys) before the inlet noticed anything, so its end-to-end channel is stale.
  const cut2 = await streamClient(inlet)
  await cut2.reached(MiB)
  const killed2 = await killNode(bank)
  await ok(['node', 'start', 'default'], bank.env)
  const started2 = performance.now()
  const back2 = await untilServed(inlet, 'target', 'a new connection after the quick restart')
  const ended2 = await cut2.ended
  t.diagnostic(
    `killed, restarted at once: node start returned ${(started2 - killed2).toFixed(0)} ms after SIGKILL; a new connection served ${back2.toFixed(0)} ms after that; the streaming client reset ${(ended2.at - killed2).toFixed(0)} ms after SIGKILL`,
  )
  assert.equal(ended2.ending, 'reset', `the second cut stream ended with a reset (after ${ended2.bytes} bytes)`)
  assert.ok(ended2.pure)
  assert.ok(back2 < FAST_MS, `served ${back2.toFixed(0)} ms after node start (want < ${FAST_MS})`)

  // (c) A pooled client: one kept connection, no new ones. Its next request after the kill goes
  // into silence, and that alone makes the inlet probe and drop the route.
  const pooled = await keptClient(inlet)
  await pooled.request('select 1;')
  const killed3 = await killNode(bank)
  pooled.send('select 2;')
  const ended3 = await pooled.ended
  pooled.destroy()
  const pooledMs = ended3.at - killed3
  t.diagnostic(`killed under a pooled client: its kept connection was reset ${pooledMs.toFixed(0)} ms after SIGKILL`)
  assert.equal(ended3.ending, 'ECONNRESET', 'the kept connection was reset')
  assert.ok(pooledMs < FAST_MS, `reset ${pooledMs.toFixed(0)} ms after SIGKILL (want < ${FAST_MS}; pings take 25–30 s)`)
})
