/**
 * Kill detection through the relay, in-process: the far end of an inlet's route goes silent
 * without anything closing — a worker on the project node, between the inlet's project channel
 * and `forward_to_postgres`, starts swallowing every message both ways, as when the outlet node
 * is killed or its machine vanishes (the inlet's TCP connection to the project stays up). A
 * burst of new connections then finds it out: their opens go unanswered, the route session
 * probes once, and the failed probe tears the route down long before three missed pings would.
 * The open portal is reset; the opens of the burst are sent again on the rebuilt route (no byte
 * of theirs had gone anywhere), so those clients are served once the far end answers again.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { type TestContext, test } from 'node:test'
import { allowAll } from '../../runtime/access-control.js'
import { local } from '../../runtime/address.js'
import type { Context } from '../../runtime/context.js'
import type { OckamError } from '../../runtime/errors.js'
import type { Message } from '../../runtime/message.js'
import { startTcpInlet, type TcpInletOptions } from '../../workers/portal/inlet.js'
import { startTcpOutlet } from '../../workers/portal/outlet.js'
import { type RouteSession, startRouteSession } from '../../workers/portal/route-session.js'
import { connectTo, echoHandler, eventually, exchange, randomData, sha256, startTarget } from './portal-helpers.js'
import { DEADLINE_MS, next, openRouteThrough, relayNet } from './relay-helpers.js'

const PING_INTERVAL_MS = 2_000
const MAX_MISSED_PINGS = 3
const PROBE_TIMEOUT_MS = 300
const OPEN_SLOW_MS = 100
const BURST = 20

/**
 * An inlet on a route session whose route runs through `hole`, a worker on the project node
 * between the inlet's project channel and `forward_to_postgres`: `silence(true)` makes it
 * swallow every message both ways, as when the outlet node is killed (the inlet's TCP connection
 * to the project stays up). `inletOptions` says what makes the inlet ask for a probe.
 */
async function silentFarEnd(t: TestContext, inletOptions: (session: RouteSession) => Partial<TcpInletOptions>) {
  const relay = await relayNet(t)
  const target = await startTarget(t, echoHandler)
  const outlet = await startTcpOutlet(relay.member.node, { target: target.address, allow: () => true, logWindowMs: 0 })
  t.after(() => outlet.stop())
  await relay.memberSession(t).whenUp(DEADLINE_MS)
  let silent = false
  await relay.project.node.startWorker(
    local('hole'),
    {
      async handleMessage(ctx: Context, message: Message) {
        if (silent) return
        await ctx.forward({ ...message, onward: message.onward.slice(1), return: [ctx.address, ...message.return] })
      },
    },
    // Relay plumbing: it takes the end-to-end frames the member channels pass through (sealed).
    { incoming: { ...allowAll, acceptsSealed: true } },
  )
  const inletNode = relay.inlet.node
  const session = startRouteSession({
    name: 'postgres',
    context: inletNode.context,
    log: relay.inlet.logs.log,
    pingIntervalMs: PING_INTERVAL_MS,
    maxMissedPings: MAX_MISSED_PINGS,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    backoff: { initialMs: 20, maxMs: 200 },
    open: (signal) => openRouteThrough(relay, 'hole', outlet.address, signal, 1000),
    onDown: (error) => inlet.routeLost(error),
    heard: () => inlet.heard(),
  })
  t.after(() => session.stop())
  const inlet = await startTcpInlet(inletNode, {
    listen: '127.0.0.1:0',
    to: () => session.route(DEADLINE_MS),
    openTimeoutMs: DEADLINE_MS,
    logWindowMs: 0,
    ...inletOptions(session),
  })
  t.after(() => inlet.stop())
  await next(session, 'up')
  return {
    relay,
    inletNode,
    session,
    inlet,
    silence: (on: boolean) => {
      silent = on
    },
  }
}

test('the far end goes silent behind a live connection: one probe for a burst of opens, the route down well before missed pings would, the burst served once it answers again', {
  timeout: 30_000,
}, async (t) => {
  const { relay, inletNode, session, inlet, silence } = await silentFarEnd(t, (session) => ({
    openSlowMs: OPEN_SLOW_MS,
    onOpenUnanswered: (open) => void session.probe(`an open went unanswered for ${open.waitedMs} ms`),
  }))
  const first = randomData(64 * 1024)
  const served = await exchange(await connectTo(inlet.address), first)
  assert.equal(served.receivedHash, sha256(first), 'the route works before the silence')

  // A client in the middle of a conversation, its portal open.
  const talking = exchange(await connectTo(inlet.address), Buffer.from('hello'), { end: false })
  await eventually(() => inlet.stats().portalsOpen === 1 && inlet.stats().bytesOut >= 5, 'the open portal echoed')

  silence(true)
  const silentAt = performance.now()
  const down = next<[OckamError]>(session, 'down')
  const burst = await Promise.all(
    Array.from({ length: BURST }, async (_, i) => {
      const data = randomData(1024 + i)
      return { data, transfer: exchange(await connectTo(inlet.address), data) }
    }),
  )
  const [error] = await down
  const ms = performance.now() - silentAt
  const pings = MAX_MISSED_PINGS * PING_INTERVAL_MS
  assert.ok(
    ms < PING_INTERVAL_MS,
    `the route went down ${ms.toFixed(0)} ms after the far end went silent: want < ${PING_INTERVAL_MS} ms (missed pings: ≥ ${pings} ms)`,
  )
  t.diagnostic(`route down ${ms.toFixed(0)} ms after the silence (three missed pings: ≥ ${pings} ms)`)
  assert.equal(error.code, 'OCKAM_ERR_PORTAL_ROUTE_UNANSWERED', error.message)
  assert.equal(session.state.probes, 1, `${BURST} unanswered opens: exactly one probe`)
  assert.equal(inletNode.counters.get('inlet.route.probes'), 1)
  assert.equal(inletNode.counters.get('inlet.route.probes.unanswered'), 1)
  const line = relay.inlet.logs.lines.find((l) => l.event === 'inlet.route.down')
  assert.equal(line?.code, 'OCKAM_ERR_PORTAL_ROUTE_UNANSWERED')
  assert.match(
    String(line?.msg),
    /a probe along the route went unanswered within 300 ms, after an open went unanswered/,
  )
  assert.equal((await talking).ending, 'reset', 'the open portal was reset: its bytes ran over the lost route')
  const reset = relay.inlet.logs.lines.find((l) => l.event === 'portal.reset' && l.reason === 'path-lost')
  assert.equal(reset?.cause, 'OCKAM_ERR_PORTAL_ROUTE_UNANSWERED', 'the reset line says why the route was lost')

  // The far end answers again (the node is back): the rebuilt route carries the burst's opens.
  silence(false)
  const results = await Promise.all(burst.map(async ({ data, transfer }) => ({ data, result: await transfer })))
  for (const [i, { data, result }] of results.entries()) {
    assert.equal(result.ending, 'end', `burst connection ${i} was served, not reset`)
    assert.equal(result.receivedHash, sha256(data), `burst connection ${i} got its echo`)
  }
  assert.equal(session.state.ups, 2)
  assert.equal(inlet.stats().resetsByReason['path-lost'], 1, 'only the open portal was reset')
})

test('the far end goes silent while a kept connection talks: the data sent into the silence probes the route, down well before missed pings would', {
  timeout: 30_000,
}, async (t) => {
  const probes: string[] = []
  const { session, inlet, silence } = await silentFarEnd(t, (session) => ({
    silenceCheckMs: OPEN_SLOW_MS,
    onSentIntoSilence: (quiet) => {
      probes.push('silence')
      void session.probe(`data heard nothing back for ${quiet.quietMs} ms`)
    },
  }))
  // A pooled client: one connection, request after request, with idle gaps between them.
  const client = await connectTo(inlet.address)
  const echoOf = async (text: string) => {
    const answer = once(client, 'data')
    client.write(text)
    assert.equal(String((await answer)[0]), text)
  }
  await echoOf('select 1')
  await new Promise((resolve) => setTimeout(resolve, 3 * OPEN_SLOW_MS)) // idle: nothing to probe
  await echoOf('select 2')
  assert.deepEqual(probes, [], 'answered requests and idle gaps are not silence')

  silence(true)
  const silentAt = performance.now()
  const down = next<[OckamError]>(session, 'down')
  const reset = new Promise<string>((resolve) => {
    client.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
    client.on('close', () => resolve('close'))
  })
  client.write('select 3') // no new connection: only this data meets the silence
  const [error] = await down
  const ms = performance.now() - silentAt
  t.diagnostic(
    `route down ${ms.toFixed(0)} ms after the silence (three missed pings: ≥ ${MAX_MISSED_PINGS * PING_INTERVAL_MS} ms)`,
  )
  assert.ok(ms < PING_INTERVAL_MS, `down after ${ms.toFixed(0)} ms: want < ${PING_INTERVAL_MS} ms`)
  assert.equal(error.code, 'OCKAM_ERR_PORTAL_ROUTE_UNANSWERED', error.message)
  assert.match(error.message, /after data heard nothing back/)
  assert.equal(session.state.probes, 1)
  assert.equal(await reset, 'ECONNRESET', 'the kept connection was reset, not left hanging')
})

test('after the silence tore the route down, an inlet whose portals are all gone does not go on probing the rebuilt route', {
  timeout: 30_000,
}, async (t) => {
  let told = 0
  const { session, inlet, silence } = await silentFarEnd(t, (session) => ({
    silenceCheckMs: OPEN_SLOW_MS,
    onSentIntoSilence: (quiet) => {
      told++
      void session.probe(`data heard nothing back for ${quiet.quietMs} ms`)
    },
  }))
  const client = await connectTo(inlet.address)
  const reset = new Promise<void>((resolve) => client.on('close', () => resolve()))
  client.on('error', () => {})
  const answer = once(client, 'data')
  client.write('select 1')
  await answer
  silence(true)
  const down = next(session, 'down')
  client.write('select 2') // read, sent, never answered: the last thing the inlet did was a read
  await down
  await reset
  await eventually(() => inlet.stats().portalsActive === 0, 'the portal is gone')
  silence(false)
  await next(session, 'up')
  const toldAtUp = told
  const probesAtUp = session.state.probes
  await new Promise((resolve) => setTimeout(resolve, 6 * OPEN_SLOW_MS)) // idle, no portal: nothing to probe
  assert.equal(told - toldAtUp, 0, 'no portal is open: nothing was sent into silence')
  assert.equal(session.state.probes, probesAtUp, 'the rebuilt route is not probed while the inlet is idle')
})
