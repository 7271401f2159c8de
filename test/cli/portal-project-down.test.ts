/**
 * Issue 7's fault "relay down" with real CLI processes in three state folders: the project node
 * (the relay service) stops while a client is in the middle of an endless stream through it. The
 * client sees a reset, the inlet's node logs why, and once the project node is started again the
 * relay and the inlet's route come back by themselves: the time from `node start` returning to
 * the first new connection served is printed.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ok } from '../helpers/node-cli.js'
import { logLine, nodeLog, relayedPortal, streamClient, untilServed } from '../helpers/portal-cli.js'

const MiB = 1024 * 1024

test('the project node (relay) down mid-stream: the client sees a reset, the inlet says why, new connections work once it is back', {
  timeout: 120_000,
}, async (t) => {
  const { project, analysis, inlet } = await relayedPortal(t, 'ockam-pdown')

  const cut = await streamClient(inlet)
  await cut.reached(MiB)
  const stopped = performance.now()
  await ok(['node', 'stop', 'demo'], project.env)
  const ended = await cut.ended
  assert.equal(
    ended.ending,
    'reset',
    `the stream through the stopped relay ended with a reset (after ${ended.bytes} bytes)`,
  )
  assert.ok(ended.pure, 'every byte before the reset was the target’s')
  const down = await logLine(analysis, 'the inlet’s route going down', (l) => l.event === 'inlet.route.down')
  const reset = await logLine(
    analysis,
    'the client connection reset because the route was lost',
    (l) => l.event === 'portal.reset' && l.reason === 'path-lost',
  )
  t.diagnostic(
    `project node stop: client reset ${(ended.at - stopped).toFixed(0)} ms after the stop command was run; the inlet logged ${down.code} and ${reset.code}`,
  )

  await ok(['node', 'start', 'demo'], project.env)
  const back = await untilServed(inlet, 'target', 'a new connection after the project node is back')
  t.diagnostic(`project node down: a new connection served ${back.toFixed(0)} ms after node start returned`)
  const ups = nodeLog(analysis).filter((l) => l.event === 'inlet.route.up').length
  assert.ok(ups >= 2, `the inlet's route came up again by itself (${ups} times up)`)
})
