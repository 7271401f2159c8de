/**
 * Who may use a portal: the outlet's policy hook at open and on re-check, the inlet's on the
 * outlet side, caps per peer and per inlet, relay ingress refused, and a portal that accepts
 * messages only from the path its peer used (its address alone is not enough).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local, tcp } from '../../runtime/address.js'
import { isOckamError } from '../../runtime/errors.js'
import type { Message } from '../../runtime/message.js'
import { startTcpInlet } from '../../workers/portal/inlet.js'
import { decodePortalMessage, encodeData, encodeOpen, encodeOpened } from '../../workers/portal/messages.js'
import { startTestNode } from '../helpers/testnet.js'
import { connectTo, echoHandler, eventually, exchange, startPortalPair, startTarget } from './portal-helpers.js'

test('an outlet policy that denies: the client is reset at once, both sides log the reason', async (t) => {
  const target = await startTarget(t, echoHandler)
  const seen: Message[] = []
  const pair = await startPortalPair(t, target.address, {
    outlet: {
      allow: (message) => {
        seen.push(message)
        return false
      },
    },
  })
  const result = await exchange(await connectTo(pair.inlet.address), Buffer.from('hi'), { end: false })
  assert.equal(result.ending, 'reset')
  assert.equal(seen.length, 1)
  assert.equal(seen[0]?.local.ingress.kind, 'tcp', 'the hook sees the ingress of the open')
  assert.equal(target.sockets.size, 0, 'the target was never contacted')
  assert.equal(pair.outletNode.logs.withCode('OCKAM_ERR_PORTAL_DENIED').length, 1)
  await eventually(
    () => pair.inletNode.logs.lines.some((l) => l.code === 'OCKAM_ERR_PORTAL_RESET' && l.reason === 'denied'),
    'the inlet logged the denial',
  )
})

test('recheck resets the portals the policy now denies, on either side', async (t) => {
  const target = await startTarget(t, (socket) => socket.resume())
  let outletAllows = true
  const pair = await startPortalPair(t, target.address, { outlet: { allow: () => outletAllows } })
  const first = exchange(await connectTo(pair.inlet.address), Buffer.from('a'), { end: false })
  const second = exchange(await connectTo(pair.inlet.address), Buffer.from('b'), { end: false })
  await eventually(() => pair.outlet.stats().portalsOpen === 2, 'two portals open')
  assert.equal(pair.outlet.recheck(), 0, 'nothing changed yet')
  outletAllows = false
  assert.equal(pair.outlet.recheck(), 2)
  assert.equal((await first).ending, 'reset')
  assert.equal((await second).ending, 'reset')

  outletAllows = true
  const third = exchange(await connectTo(pair.inlet.address), Buffer.from('c'), { end: false })
  await eventually(() => pair.inlet.stats().portalsOpen === 1, 'a new portal opens')
  assert.equal(
    pair.inlet.recheck((opened) => opened.local.ingress.kind !== 'tcp'),
    1,
  )
  assert.equal((await third).ending, 'reset')
  // Two resets the outlet asked for (reason denied) and the inlet's own.
  assert.equal(pair.inlet.stats().resetsByReason.denied, 3)
})

test('the per-peer cap refuses the portal over the cap; closing one makes room', async (t) => {
  const target = await startTarget(t, echoHandler)
  const pair = await startPortalPair(t, target.address, { outlet: { maxPortalsPerPeer: 2 } })
  const held = [await connectTo(pair.inlet.address), await connectTo(pair.inlet.address)]
  const transfers = held.map((socket) => exchange(socket, Buffer.from('x'), { end: false }))
  await eventually(() => pair.outlet.stats().portalsOpen === 2, 'two portals open')
  const over = await exchange(await connectTo(pair.inlet.address), Buffer.from('y'), { end: false })
  assert.equal(over.ending, 'reset')
  assert.equal(pair.outletNode.logs.withCode('OCKAM_ERR_PORTAL_TOO_MANY').length, 1)
  held[0]?.end()
  await eventually(() => pair.outlet.stats().portalsOpen === 1, 'one portal closed')
  const room = await exchange(await connectTo(pair.inlet.address), Buffer.from('z'))
  assert.equal(room.ending, 'end')
  held[1]?.end()
  for (const transfer of transfers) assert.equal((await transfer).ending, 'end')
})

test('an inlet at its cap resets further clients at accept', async (t) => {
  const target = await startTarget(t, echoHandler)
  const pair = await startPortalPair(t, target.address, { inlet: { maxPortals: 1 } })
  const first = await connectTo(pair.inlet.address)
  const kept = exchange(first, Buffer.from('x'), { end: false })
  await eventually(() => pair.inlet.stats().portalsOpen === 1, 'one portal open')
  // The reset may come before the client even sees its connect complete.
  const second = await connectTo(pair.inlet.address).then(
    async (socket) => (await exchange(socket, Buffer.from('y'), { end: false })).ending,
    (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? 'reset' : error.code),
  )
  assert.equal(second, 'reset')
  assert.equal(pair.inletNode.logs.withCode('OCKAM_ERR_PORTAL_TOO_MANY').length, 1)
  first.end()
  assert.equal((await kept).ending, 'end')
})

test('relay ingress never reaches an outlet; a portal takes messages only from the path its peer used', async (t) => {
  const target = await startTarget(t, (socket) => socket.resume())
  const pair = await startPortalPair(t, target.address)
  const router = pair.outletNode.node.router
  await assert.rejects(
    router.send({
      onward: [pair.outlet.address],
      return: [local('nobody')],
      payload: encodeOpen(1, 65_536),
      local: { ingress: { kind: 'relay', registration: 'r1' } },
    }),
    (error) => isOckamError(error, 'OCKAM_ERR_ROUTER_ACCESS_DENIED'),
  )

  // A legitimate peer opens a portal and learns the outlet portal's address...
  let outletPortal: Message | undefined
  const peer = await pair.inletNode.node.startWorker(
    local('peer'),
    {
      handleMessage(_ctx, message) {
        if (decodePortalMessage(message.payload).type === 'opened') outletPortal = message
      },
    },
    { incoming: allowAll },
  )
  await peer.send(pair.route, encodeOpen(1, 65_536))
  await eventually(() => outletPortal !== undefined, 'opened')
  const portalAddress = outletPortal?.return.at(-1)
  assert.ok(portalAddress)
  // ...but another node that names that address over its own connection is refused.
  const intruder = await startTestNode(t, 'intruder', { listen: [] })
  await intruder.node.context.send([tcp(pair.outletNode.address), portalAddress], encodeData(0, Buffer.from('evil')))
  await eventually(
    () =>
      pair.outletNode.logs.lines.some(
        (l) => l.code === 'OCKAM_ERR_ROUTER_ACCESS_DENIED' && l.address === `0#${portalAddress.value}`,
      ),
    'the intruder was refused by the portal access control',
  )
  assert.equal(pair.outlet.stats().bytesOut, 0, 'nothing reached the target')
})

test('another portal protocol version is refused with a version reset, whichever side speaks it', async (t) => {
  const target = await startTarget(t, echoHandler)
  const pair = await startPortalPair(t, target.address)
  // An inlet speaking version 2 to the real outlet.
  const answers: string[] = []
  const oldInlet = await pair.inletNode.node.startWorker(
    local('v2-inlet'),
    {
      handleMessage(_ctx, message) {
        const m = decodePortalMessage(message.payload)
        answers.push(m.type === 'reset' ? `reset:${m.reason}` : m.type)
      },
    },
    { incoming: allowAll },
  )
  await oldInlet.send(pair.route, encodeOpen(2, 65_536))
  await eventually(() => answers.length === 1, 'the outlet answered')
  assert.deepEqual(answers, ['reset:version'])
  assert.equal(target.sockets.size, 0)

  // An outlet answering version 2 to the real inlet: the client is reset and so is that outlet.
  const fakeAnswers: string[] = []
  await pair.outletNode.node.startWorker(
    local('v2-outlet'),
    {
      async handleMessage(ctx, message) {
        const m = decodePortalMessage(message.payload)
        if (m.type === 'open') await ctx.reply(message, encodeOpened(2, 65_536))
        else fakeAnswers.push(m.type === 'reset' ? `reset:${m.reason}` : m.type)
      },
    },
    { incoming: allowAll },
  )
  const inlet = await startTcpInlet(pair.inletNode.node, {
    listen: '127.0.0.1:0',
    to: [tcp(pair.outletNode.address), local('v2-outlet')],
    logWindowMs: 0,
  })
  const result = await exchange(await connectTo(inlet.address), Buffer.from('hi'), { end: false })
  assert.equal(result.ending, 'reset')
  await eventually(() => fakeAnswers.length === 1, 'the v2 outlet was told')
  assert.deepEqual(fakeAnswers, ['reset:version'])
  assert.equal(pair.inletNode.logs.withCode('OCKAM_ERR_PORTAL_VERSION').length, 1)
})
