import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll, allowIngress, connectionEgress } from '../../../runtime/access-control.js'
import { local, tcp } from '../../../runtime/address.js'
import type { Context } from '../../../runtime/context.js'
import { isOckamError } from '../../../runtime/errors.js'
import type { Message } from '../../../runtime/message.js'
import { forwarderWorker } from '../../../workers/forwarder.js'
import { collector, FakeTransport, gate, message, TCP_INGRESS, testRouter, text } from './router-fixtures.js'

test('a worker accepts only local messages unless it opts in to an ingress', async () => {
  const { router, counters, logs } = testRouter()
  const svc = collector(1)
  const open = collector(1)
  await router.startWorker([local('svc')], svc.worker)
  await router.startWorker([local('open')], open.worker, { incoming: allowIngress('tcp') })
  await assert.rejects(router.send(message([local('svc')], { ingress: TCP_INGRESS, text: 'net' })), (e) =>
    isOckamError(e, 'OCKAM_ERR_ROUTER_ACCESS_DENIED'),
  )
  await assert.rejects(
    router.send(message([local('open')], { ingress: { kind: 'relay', registration: 'r1' }, text: 'relay' })),
    (e) => isOckamError(e, 'OCKAM_ERR_ROUTER_ACCESS_DENIED'),
  )
  await router.send(message([local('svc')], { text: 'local' }))
  await router.send(message([local('open')], { ingress: TCP_INGRESS, text: 'opted-in' }))
  await Promise.all([svc.done, open.done])
  await router.stop()
  assert.deepEqual(svc.messages.map(text), ['local'])
  assert.deepEqual(open.messages.map(text), ['opted-in'])
  assert.equal(counters.get('router.denied.OCKAM_ERR_ROUTER_ACCESS_DENIED'), 2)
  const [line] = logs.withCode('OCKAM_ERR_ROUTER_ACCESS_DENIED')
  assert.equal(line?.peer, TCP_INGRESS.peer)
  assert.equal(line?.ingress, 'tcp')
})

test('a network message may not make the node dial; a local one may; so may a vouched-for one', async () => {
  const { router, counters } = testRouter()
  const transport = new FakeTransport(local('conn'))
  router.addTransport(transport)
  const conn = collector(2)
  await router.startWorker([local('conn')], conn.worker, { incoming: allowAll })

  await router.send(message([tcp('10.0.0.1:4000'), local('echo')], { text: 'local' }))
  await assert.rejects(router.send(message([tcp('10.0.0.2:4000')], { ingress: TCP_INGRESS, text: 'net' })), (e) =>
    isOckamError(e, 'OCKAM_ERR_ROUTER_NO_DIAL'),
  )
  await router.send(message([tcp('10.0.0.3:4000')], { ingress: TCP_INGRESS, forwardedBy: 'forward', text: 'fwd' }))
  await conn.done
  await router.stop()
  const out = conn.messages

  assert.deepEqual(transport.calls, [
    { address: '1#10.0.0.1:4000', mayDial: true },
    { address: '1#10.0.0.2:4000', mayDial: false },
    { address: '1#10.0.0.3:4000', mayDial: true },
  ])
  assert.deepEqual(out.map(text), ['local', 'fwd'])
  // The transport address is replaced by the local address of its sending worker.
  assert.deepEqual(out[0]?.onward, [local('conn'), local('echo')])
  assert.equal(counters.get('router.denied.OCKAM_ERR_ROUTER_NO_DIAL'), 1)
})

test('an address type without a transport and an empty route are refused', async () => {
  const { router } = testRouter()
  await assert.rejects(router.send(message([tcp('h:1')])), (e) => isOckamError(e, 'OCKAM_ERR_ROUTER_NO_TRANSPORT'))
  await assert.rejects(router.send(message([])), (e) => isOckamError(e, 'OCKAM_ERR_ROUTER_EMPTY_ROUTE'))
  await assert.rejects(router.send(message([local('nobody')])), (e) => isOckamError(e, 'OCKAM_ERR_ROUTER_NO_WORKER'))
})

test('a connection sends local messages, replies to its own peer and forwarded messages only', async () => {
  const { router } = testRouter()
  const out = collector(3)
  await router.startWorker([local('tcp-out')], out.worker, { incoming: connectionEgress('tcp-out') })
  const own = { kind: 'tcp', connection: 'tcp-out', peer: 'p:1' } as const
  const other = { kind: 'tcp', connection: 'tcp-other', peer: 'p:2' } as const
  await router.send(message([local('tcp-out')], { text: 'local' }))
  await router.send(message([local('tcp-out')], { ingress: own, text: 'reply' }))
  await router.send(message([local('tcp-out')], { ingress: other, forwardedBy: 'forward', text: 'forwarded' }))
  for (const ingress of [other, { kind: 'channel', channel: 'c', identifier: 'I', attributes: {} } as const]) {
    await assert.rejects(router.send(message([local('tcp-out')], { ingress, text: 'relayed' })), (e) =>
      isOckamError(e, 'OCKAM_ERR_ROUTER_ACCESS_DENIED'),
    )
  }
  await out.done
  await router.stop()
  assert.deepEqual(out.messages.map(text), ['local', 'reply', 'forwarded'])
})

test('the forwarding service vouches for the next hop only, within its targets, keeping the ingress', async () => {
  const { router, counters } = testRouter()
  const transport = new FakeTransport(local('conn'))
  router.addTransport(transport)
  const conn = collector(1)
  await router.startWorker([local('conn')], conn.worker, { incoming: allowAll })
  await router.startWorker([local('forward')], forwarderWorker({ targets: ['10.0.0.7:9'] }), {
    incoming: allowIngress('tcp'),
  })
  // The forwarder handles one message at a time: once 'ok' is through, 'no' was handled.
  await router.send(message([local('forward'), tcp('10.0.0.8:9')], { ingress: TCP_INGRESS, text: 'no' }))
  await router.send(message([local('forward'), tcp('10.0.0.7:9'), local('echo')], { ingress: TCP_INGRESS, text: 'ok' }))
  await conn.done
  await router.stop()
  const out = conn.messages
  assert.deepEqual(transport.calls, [{ address: '1#10.0.0.7:9', mayDial: true }])
  assert.equal(out.length, 1)
  assert.deepEqual(out[0]?.local, { ingress: TCP_INGRESS, forwardedBy: 'forward' })
  assert.deepEqual(out[0]?.return, [local('forward')])
  assert.equal(counters.get('forwarder.denied'), 1)
})

test('a reply keeps the request ingress but not the forwarder’s vouching', async () => {
  const { router } = testRouter()
  const transport = new FakeTransport(local('conn'))
  router.addTransport(transport)
  const refused = gate<unknown>()
  await router.startWorker(
    [local('svc')],
    { handleMessage: (ctx, m) => ctx.reply(m, m.payload).catch(refused.open) },
    { incoming: allowAll },
  )
  // The request came from the network through a forwarder; its return route names another peer.
  const request: Message = {
    ...message([local('svc')], { ingress: TCP_INGRESS, forwardedBy: 'forward', text: 'x' }),
    return: [tcp('10.0.0.66:1')],
  }
  await router.send(request)
  assert.ok(isOckamError(await refused.promise, 'OCKAM_ERR_ROUTER_NO_DIAL'))
  await router.stop()
  assert.deepEqual(transport.calls, [{ address: '1#10.0.0.66:1', mayDial: false }])
})

test('a worker handles one message at a time, in the order they arrived', async () => {
  const { router } = testRouter()
  const order: string[] = []
  let active = 0
  let maxActive = 0
  const done = gate()
  await router.startWorker([local('w')], {
    async handleMessage(_ctx, m) {
      active++
      maxActive = Math.max(maxActive, active)
      await new Promise<void>((resolve) => setImmediate(resolve))
      order.push(text(m))
      active--
      if (order.length === 20) done.open()
    },
  })
  for (let i = 0; i < 20; i++) await router.send(message([local('w')], { text: String(i) }))
  await done.promise
  assert.equal(maxActive, 1)
  assert.deepEqual(
    order,
    Array.from({ length: 20 }, (_, i) => String(i)),
  )
})

test('a failing handler does not stop its worker', async () => {
  const { router, counters, logs } = testRouter()
  const got: string[] = []
  const done = gate()
  await router.startWorker([local('w')], {
    handleMessage(_ctx, m) {
      const t = text(m)
      if (t === 'throw') throw new Error('sync failure')
      if (t === 'reject') return Promise.reject(new Error('async failure'))
      got.push(t)
      if (t === 'last') done.open()
    },
  })
  for (const t of ['a', 'throw', 'b', 'reject', 'last']) await router.send(message([local('w')], { text: t }))
  await done.promise
  assert.deepEqual(got, ['a', 'b', 'last'])
  assert.equal(counters.get('router.handler_errors'), 2)
  // Both failures have the same code at the same worker: one line (rate-limited), two counts.
  const lines = logs.lines.filter((l) => l.msg === 'worker failed to handle a message')
  assert.deepEqual(
    lines.map((l) => l.code),
    ['OCKAM_ERR_INTERNAL'],
  )
})

test('stopWorker waits for the message in flight, drops the queue, then runs shutdown', async () => {
  const { router } = testRouter()
  const events: string[] = []
  const started = gate()
  const release = gate()
  const context = await router.startWorker([local('w')], {
    async handleMessage(_ctx, m) {
      events.push(`start ${text(m)}`)
      started.open()
      await release.promise
      events.push(`end ${text(m)}`)
    },
    shutdown: () => void events.push('shutdown'),
  })
  await router.send(message([local('w')], { text: '1' }))
  await router.send(message([local('w')], { text: '2' }))
  await started.promise
  let stopped = false
  const stopping = router.stopWorker(local('w')).then(() => {
    stopped = true
  })
  // The address is gone at once; the worker itself is not stopped until its message is handled.
  assert.equal(router.hasWorker(local('w')), false)
  await assert.rejects(router.send(message([local('w')])), (e) => isOckamError(e, 'OCKAM_ERR_ROUTER_NO_WORKER'))
  await new Promise<void>((resolve) => setImmediate(resolve))
  assert.equal(stopped, false)
  assert.equal(context.signal.aborted, false)
  release.open()
  await stopping
  assert.deepEqual(events, ['start 1', 'end 1', 'shutdown'])
  assert.ok(isOckamError(context.signal.reason, 'OCKAM_ERR_STOPPED'))
  await router.stopWorker(local('w')) // twice is fine
})

test('regression: a worker awaiting its own stop from its handler does not deadlock', async () => {
  const { router } = testRouter()
  const events: string[] = []
  const done = gate()
  await router.startWorker([local('w')], {
    async handleMessage(ctx, m) {
      events.push(`start ${text(m)}`)
      await new Promise<void>((resolve) => setImmediate(resolve))
      if (text(m) === '2') {
        await ctx.stopWorker(ctx.address)
        events.push('stop returned')
        done.open()
      }
      events.push(`end ${text(m)}`)
    },
    shutdown: () => void events.push('shutdown'),
  })
  // Message 2 is queued behind message 1, so it runs inside an ongoing drain of the mailbox.
  for (const t of ['1', '2', '3']) await router.send(message([local('w')], { text: t }))
  await done.promise
  // stop() also waits for the worker's own stop, which finishes after message 2.
  await router.stop()
  assert.deepEqual(events, ['start 1', 'end 1', 'start 2', 'stop returned', 'end 2', 'shutdown'])
})

test('regression: a worker stopping itself in its first message still gets shutdown after that message', async () => {
  const { router } = testRouter()
  const events: string[] = []
  const done = gate()
  await router.startWorker([local('w')], {
    async handleMessage(ctx) {
      events.push('start')
      void ctx.stopWorker(ctx.address)
      await new Promise<void>((resolve) => setImmediate(resolve))
      events.push('end')
    },
    shutdown: () => {
      events.push('shutdown')
      done.open()
    },
  })
  await router.send(message([local('w')]))
  await done.promise
  await router.stop()
  assert.deepEqual(events, ['start', 'end', 'shutdown'])
})

test('regression: no message is handled before initialize has finished', async () => {
  const { router } = testRouter()
  const events: string[] = []
  const init = gate()
  const handled = gate()
  const starting = router.startWorker([local('w')], {
    async initialize() {
      events.push('initialize')
      await init.promise
      events.push('initialized')
    },
    handleMessage: (_ctx, m) => {
      events.push(text(m))
      handled.open()
    },
  })
  // The address is registered while initialize runs, so a message can arrive then.
  await router.send(message([local('w')], { text: 'early' }))
  await new Promise<void>((resolve) => setImmediate(resolve))
  init.open()
  await starting
  await handled.promise
  assert.deepEqual(events, ['initialize', 'initialized', 'early'])
})

test('a failing initialize frees the address and rejects start', async () => {
  const { router } = testRouter()
  await assert.rejects(
    router.startWorker([local('w')], {
      initialize: () => Promise.reject(new Error('no')),
      handleMessage: () => {},
    }),
    /no/,
  )
  assert.equal(router.hasWorker(local('w')), false)
  await router.startWorker([local('w')], { handleMessage: () => {} })
})

test('a full mailbox makes send wait (backpressure), and the wait can be aborted', async () => {
  const { router, counters } = testRouter()
  const release = gate()
  const started = gate()
  await router.startWorker(
    [local('slow')],
    {
      async handleMessage() {
        started.open()
        await release.promise
      },
    },
    { mailboxCapacity: 1 },
  )
  await router.send(message([local('slow')], { text: 'in flight' }))
  await started.promise
  await router.send(message([local('slow')], { text: 'queued' }))
  assert.equal(router.queuedAt(local('slow')), 1)
  let delivered = false
  const waiting = router.send(message([local('slow')], { text: 'waits' })).then(() => {
    delivered = true
  })
  const controller = new AbortController()
  const aborted = router.send(message([local('slow')], { text: 'gives up' }), { signal: controller.signal })
  controller.abort()
  await assert.rejects(aborted, (e) => isOckamError(e, 'OCKAM_ERR_ABORTED'))
  assert.equal(delivered, false)
  assert.equal(counters.get('router.mailbox_full_waits'), 2)
  release.open()
  await waiting
  await router.stop()
})

test('a worker may have several addresses: one mailbox, one handler, one stop', async () => {
  const { router } = testRouter()
  const seen: string[] = []
  let active = 0
  let maxActive = 0
  const done = gate()
  let ctx: Context | undefined
  ctx = await router.startWorker([local('a'), local('b')], {
    async handleMessage(c, m) {
      active++
      maxActive = Math.max(maxActive, active)
      await new Promise<void>((resolve) => setImmediate(resolve))
      seen.push(`${m.onward[0]?.value}:${text(m)}:${c === ctx}`)
      active--
      if (seen.length === 4) done.open()
    },
  })
  assert.deepEqual(ctx.addresses, [local('a'), local('b')])
  assert.deepEqual(ctx.address, local('a'))
  for (const [to, t] of [
    ['a', '1'],
    ['b', '2'],
    ['a', '3'],
    ['b', '4'],
  ] as const) {
    await router.send(message([local(to)], { text: t }))
  }
  await done.promise
  assert.deepEqual(seen, ['a:1:true', 'b:2:true', 'a:3:true', 'b:4:true'])
  assert.equal(maxActive, 1)
  assert.deepEqual(
    router.workerAddresses().filter((a) => a.value === 'a' || a.value === 'b'),
    [local('a')],
  )

  // An address already taken refuses the whole worker, registering none of its addresses.
  await assert.rejects(router.startWorker([local('c'), local('b')], { handleMessage: () => {} }), (e) =>
    isOckamError(e, 'OCKAM_ERR_ROUTER_ADDRESS_TAKEN'),
  )
  assert.equal(router.hasWorker(local('c')), false)
  await assert.rejects(router.startWorker([tcp('h:1')], { handleMessage: () => {} }), (e) =>
    isOckamError(e, 'OCKAM_ERR_ADDRESS_INVALID'),
  )

  // Stopping it by its second address frees both.
  await router.stopWorker(local('b'))
  assert.equal(router.hasWorker(local('a')), false)
  assert.equal(router.hasWorker(local('b')), false)
})

test('a stopped router refuses new workers', async () => {
  const { router } = testRouter()
  await router.startWorker([local('w')], { handleMessage: () => {} })
  await router.stop()
  assert.equal(router.hasWorker(local('w')), false)
  await assert.rejects(router.startWorker([local('x')], { handleMessage: () => {} }), (e) =>
    isOckamError(e, 'OCKAM_ERR_STOPPED'),
  )
})

test('regression: refusals to dial peer-chosen addresses are logged once per window, all counted', async () => {
  const { router, counters, logs } = testRouter()
  router.addTransport(new FakeTransport(local('conn')))
  await router.startWorker([local('a')], { handleMessage: () => {} })
  await router.startWorker([local('b')], { handleMessage: () => {} })
  for (let i = 0; i < 50; i++) {
    await assert.rejects(router.send(message([tcp(`10.1.0.${i}:${1000 + i}`)], { ingress: TCP_INGRESS })), (e) =>
      isOckamError(e, 'OCKAM_ERR_ROUTER_NO_DIAL'),
    )
  }
  for (const to of ['a', 'b', 'a', 'b']) {
    await assert.rejects(router.send(message([local(to)], { ingress: TCP_INGRESS })), (e) =>
      isOckamError(e, 'OCKAM_ERR_ROUTER_ACCESS_DENIED'),
    )
  }
  assert.equal(counters.get('router.denied.OCKAM_ERR_ROUTER_NO_DIAL'), 50)
  // Before the fix the key held the peer-chosen target, so each of the 50 was a line of its own.
  assert.equal(logs.withCode('OCKAM_ERR_ROUTER_NO_DIAL').length, 1)
  // Local addresses are a bounded set: one line for each denied service.
  assert.deepEqual(
    logs.withCode('OCKAM_ERR_ROUTER_ACCESS_DENIED').map((l) => l.address),
    ['0#a', '0#b'],
  )
})

test('trySend delivers at once when a mailbox has room, says false when it would wait, and throws refusals like send', async () => {
  const { router } = testRouter()
  const started = gate()
  const release = gate()
  const secondHandled = gate()
  const seen: string[] = []
  await router.startWorker(
    [local('slow')],
    {
      async handleMessage(_ctx: Context, m: Message) {
        seen.push(text(m))
        if (seen.length === 2) secondHandled.open()
        started.open()
        await release.promise
      },
    },
    { mailboxCapacity: 1 },
  )
  assert.equal(router.trySend(message([local('slow')], { text: 'first' })), true)
  await started.promise
  assert.equal(router.trySend(message([local('slow')], { text: 'second' })), true, 'one mailbox slot')
  assert.equal(router.trySend(message([local('slow')], { text: 'third' })), false, 'the mailbox is full')
  assert.equal(router.queuedAt(local('slow')), 1)
  assert.throws(
    () => router.trySend(message([local('nobody')], { text: 'x' })),
    (e) => isOckamError(e, 'OCKAM_ERR_ROUTER_NO_WORKER'),
  )
  assert.throws(
    () => router.trySend(message([local('slow')], { ingress: TCP_INGRESS, text: 'net' })),
    (e) => isOckamError(e, 'OCKAM_ERR_ROUTER_ACCESS_DENIED'),
  )
  assert.equal(router.trySend(message([tcp('127.0.0.1:9')], { text: 'needs a dial' })), false)
  release.open()
  await secondHandled.promise
  await router.stop()
  assert.deepEqual(seen, ['first', 'second'])
})
