/**
 * Issue 7's faults through the relay, with real CLI processes in three state folders (DESIGN
 * §10): the target down, and the outlet node down. Each time a client in the middle of an
 * endless stream sees a reset (never a FIN that would pass for a complete stream), a node's
 * log says why, and after recovery new connections work without any command; the recovery
 * time (from the command that brings the part back, returned, to the first connection served)
 * is printed. The project node going down is in portal-project-down.test.ts (files run in
 * parallel; each stays near 30 s).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ok } from '../helpers/node-cli.js'
import { ask, logLine, relayedPortal, streamClient, untilServed } from '../helpers/portal-cli.js'

const MiB = 1024 * 1024
/** Debug: a target or client that resets its own connection is logged at debug only. */
const DEBUG = { OCKAM_LOG_LEVEL: 'debug' }

test('target down, then the outlet node down: the client sees a reset each time, the nodes say why, and new connections work after recovery', {
  timeout: 120_000,
}, async (t) => {
  const began = performance.now()
  const { bank, analysis, target, inlet } = await relayedPortal(t, 'ockam-faults', DEBUG)
  const phase = (what: string) => t.diagnostic(`${what}: ${(performance.now() - began).toFixed(0)} ms into the test`)
  phase('topology up')

  // (a) The target crashes mid-stream (its connections reset) and stops listening.
  const cut = await streamClient(inlet)
  await cut.reached(MiB)
  await target.crash()
  const a = await cut.ended
  assert.equal(a.ending, 'reset', `the cut stream ended with a reset (after ${a.bytes} bytes), not a FIN`)
  assert.ok(a.pure, 'every byte before the reset was the target’s')
  await logLine(
    bank,
    'the target connection reset',
    (l) => l.event === 'portal.reset' && l.side === 'outlet' && l.errno === 'ECONNRESET',
  )
  await logLine(analysis, 'the peer resetting the portal', (l) => l.event === 'portal.reset' && l.by === 'peer')
  // While it is down a new connection is reset at once, and both ends say why.
  const refused = await ask(inlet)
  assert.equal(refused.ending, 'ECONNRESET', 'a connection while the target is down is reset')
  await logLine(
    bank,
    'the target refusing',
    (l) => l.code === 'OCKAM_ERR_PORTAL_TARGET_UNREACHABLE' && l.errno === 'ECONNREFUSED',
  )
  await logLine(analysis, 'the outlet’s reason', (l) => l.event === 'portal.reset' && l.reason === 'target-unreachable')
  await target.restart()
  const targetBack = await untilServed(inlet, 'target', 'a new connection after the target is back')
  t.diagnostic(`target down: a new connection served ${targetBack.toFixed(0)} ms after the target listened again`)

  phase('target case done')
  // (b) The outlet node stops (its outlet and relay go with it) mid-stream.
  const cut2 = await streamClient(inlet)
  await cut2.reached(MiB)
  await ok(['node', 'stop', 'default'], bank.env)
  const b = await cut2.ended
  assert.equal(
    b.ending,
    'reset',
    `the stream cut by the outlet node stopping ended with a reset (after ${b.bytes} bytes)`,
  )
  assert.ok(b.pure)
  await logLine(analysis, 'the outlet shutting down', (l) => l.event === 'portal.reset' && l.reason === 'shutdown')
  // Told at once (the end-to-end channel's sealed close), not after missed pings.
  const down = await logLine(analysis, 'the route going down', (l) => l.event === 'inlet.route.down')
  assert.match(String(down.msg), /a channel of the route closed \(shutdown\)/)
  phase('outlet node stopped, reset seen')
  await ok(['node', 'start', 'default'], bank.env)
  phase('outlet node started')
  const outletBack = await untilServed(inlet, 'target', 'a new connection after the outlet node is back')
  t.diagnostic(`outlet node down: a new connection served ${outletBack.toFixed(0)} ms after node start returned`)
})
