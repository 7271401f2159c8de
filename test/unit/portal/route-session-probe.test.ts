/**
 * The route session's probe (kill detection): one echo along the route, asked for when an open
 * goes unanswered. On one in-process node, the "far end" is a local worker that answers echoes
 * or, switched off, swallows them (a dead outlet node behind a live connection). Pings are set
 * far apart, so anything that happens here is the probe's doing.
 */
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { test } from 'node:test'
import { allowAll } from '../../../runtime/access-control.js'
import { local } from '../../../runtime/address.js'
import type { Context } from '../../../runtime/context.js'
import type { OckamError } from '../../../runtime/errors.js'
import type { Message } from '../../../runtime/message.js'
import { type RouteSession, startRouteSession } from '../../../workers/portal/route-session.js'
import { startTestNode } from '../../helpers/testnet.js'

const DEADLINE_MS = 5_000

/** The next `event` of the session (`up`: or now, if it is up), or a rejection after DEADLINE_MS. */
function next<T>(session: RouteSession, event: 'up' | 'down'): Promise<T> {
  if (event === 'up' && session.state.status === 'up') return Promise.resolve(session.state as T)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${DEADLINE_MS} ms`)), DEADLINE_MS)
    session.once(event, (value: unknown) => {
      clearTimeout(timer)
      resolve(value as T)
    })
  })
}

async function farEnd(
  t: TestContext,
  options: { probeQuietMs?: number; openNever?: boolean; heard?: () => number } = {},
) {
  const net = await startTestNode(t, 'inlet', { listen: [] })
  let answering = true
  let echoes = 0
  await net.node.startWorker(
    local('far'),
    {
      async handleMessage(ctx: Context, message: Message) {
        if (!answering) return
        echoes++
        await ctx.reply(message, message.payload)
      },
    },
    { incoming: allowAll },
  )
  const downs: OckamError[] = []
  const session = startRouteSession({
    name: 'probe-test',
    context: net.node.context,
    log: net.logs.log,
    pingIntervalMs: 60_000,
    probeTimeoutMs: 200,
    ...(options.probeQuietMs === undefined ? {} : { probeQuietMs: options.probeQuietMs }),
    ...(options.heard === undefined ? {} : { heard: options.heard }),
    backoff: { initialMs: 1, maxMs: 5 },
    open: (signal) =>
      options.openNever === true
        ? new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
        : Promise.resolve({ route: [local('outlet')], pingRoute: [local('far')], channels: [], close: async () => {} }),
    onDown: (error) => downs.push(error),
  })
  t.after(() => session.stop())
  return {
    net,
    session,
    downs,
    echoes: () => echoes,
    answer: (on: boolean) => {
      answering = on
    },
  }
}

test('an unanswered probe tears the route down at once, with its own code, however many asked for it; then it is rebuilt', async (t) => {
  const far = await farEnd(t)
  await next(far.session, 'up')
  far.answer(false)
  const began = performance.now()
  const down = next<OckamError>(far.session, 'down')
  const outcomes = await Promise.all(
    Array.from({ length: 20 }, (_, i) => far.session.probe(`open ${i} went unanswered`)),
  )
  assert.deepEqual(new Set(outcomes), new Set(['unanswered']), 'every request shared the one probe')
  const error = await down
  const ms = performance.now() - began
  assert.equal(far.session.state.probes, 1, 'twenty requests while one probe was in flight: one probe')
  assert.equal(error.code, 'OCKAM_ERR_PORTAL_ROUTE_UNANSWERED')
  assert.match(error.message, /a probe along the route went unanswered within 200 ms, after open 0 went unanswered/)
  assert.ok(ms < 1_000, `torn down ${ms.toFixed(0)} ms after the probe (its timeout is 200 ms)`)
  assert.deepEqual(
    far.downs.map((e) => e.code),
    ['OCKAM_ERR_PORTAL_ROUTE_UNANSWERED'],
    'the portals on it were told',
  )
  const line = far.net.logs.lines.find((l) => l.event === 'inlet.route.down')
  assert.equal(line?.code, 'OCKAM_ERR_PORTAL_ROUTE_UNANSWERED')
  assert.equal(far.net.node.counters.get('inlet.route.probes.unanswered'), 1)

  far.answer(true)
  await next(far.session, 'up')
  assert.equal(far.session.state.ups, 2)
  assert.equal(far.session.state.status, 'up')
})

test('an answered probe keeps the route; requests within the quiet period after it run as one probe at its end', async (t) => {
  const far = await farEnd(t, { probeQuietMs: 300 })
  await next(far.session, 'up')
  assert.equal(await far.session.probe('a slow open'), 'answered')
  assert.equal(far.net.node.counters.get('inlet.route.probes'), 1)
  const quietFrom = performance.now()
  for (let i = 0; i < 50; i++) assert.equal(await far.session.probe(`slow open ${i}`), 'deferred')
  assert.equal(far.session.state.probes, 1, 'nothing sent during the quiet period')
  await waitFor(() => far.echoes() === 2, 'the deferred probe answered')
  const waited = performance.now() - quietFrom
  assert.ok(waited >= 250, `the deferred probe ran at the end of the quiet period (after ${waited.toFixed(0)} ms)`)
  assert.equal(far.session.state.probes, 2, 'fifty requests in the quiet period: one probe')
  assert.equal(far.session.state.status, 'up')
  assert.equal(far.session.state.ups, 1)
  assert.equal(far.downs.length, 0)
})

test('a late echo on a route that carried other traffic meanwhile is a busy route, not a dead one: it stays up', async (t) => {
  let heard = 0
  const far = await farEnd(t, { heard: () => heard })
  await next(far.session, 'up')
  far.answer(false)
  const outcome = far.session.probe('a slow open')
  heard++ // a portal message from the far end while the echo is queued behind data
  assert.equal(await outcome, 'heard')
  assert.equal(far.session.state.status, 'up')
  assert.equal(far.downs.length, 0)
  assert.equal(await far.session.probe('another slow open'), 'deferred', 'it counts as an answer for the quiet period')
  assert.ok(far.net.logs.lines.some((l) => l.event === 'inlet.route.probe.late'))
})

test('a probe is ignored while the route is not up', async (t) => {
  const far = await farEnd(t, { openNever: true })
  assert.equal(await far.session.probe('an open timed out'), 'skipped')
  assert.equal(far.session.state.status, 'connecting')
  assert.equal(far.session.state.probes, 0)
  assert.equal(far.echoes(), 0)
})

test('probe options are checked up front', async (t) => {
  const net = await startTestNode(t, 'inlet', { listen: [] })
  for (const bad of [{ probeTimeoutMs: 0 }, { probeTimeoutMs: 1.5 }, { probeQuietMs: -1 }]) {
    assert.throws(
      () =>
        startRouteSession({
          name: 'x',
          context: net.node.context,
          log: net.logs.log,
          open: () => new Promise(() => {}),
          ...bad,
        }),
      (error: OckamError) => error.code === 'OCKAM_ERR_INVALID_ARGUMENT',
      JSON.stringify(bad),
    )
  }
})

async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + DEADLINE_MS
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
