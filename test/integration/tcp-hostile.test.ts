/**
 * Hostile peers against a listening node (issue 2, "Must show"): for every attack the node
 * closes the connection itself, with the right error code in one log line and one counter, gives
 * back every byte it held for that peer, never holds more than the peer really sent, and keeps
 * answering an honest client while the attack is in progress. Everything waits on events
 * (socket close, replies, counters) under one generous deadline; timings go to diagnostics.
 */
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import { createConnection, type Socket } from 'node:net'
import { getDefaultHighWaterMark } from 'node:stream'
import { type TestContext, test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import { tcpOf } from '../../runtime/defaults.js'
import type { CounterEvent } from '../../runtime/diagnostics.js'
import type { OckamErrorCode } from '../../runtime/errors.js'
import type { OckamNode } from '../../runtime/node.js'
import { DEFAULT_MAX_FRAME_BYTES, WIRE_VERSION } from '../../transports/tcp/constants.js'
import { decodeFrameBody, encodeFrame } from '../../transports/tcp/frame-codec.js'
import { FrameReader } from '../../transports/tcp/frame-reader.js'
import { startTestNode, type TestNode } from '../helpers/testnet.js'

/** The one deadline every wait in this file runs under: generous, so only a real hang fails. */
const DEADLINE_MS = 15_000

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${DEADLINE_MS} ms`)), DEADLINE_MS)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/** Resolves when the node's counter `name` reaches `value` (via the ockam:counter channel). */
function counterReaches(node: OckamNode, name: string, value: number): Promise<void> {
  if (node.counters.get(name) >= value) return Promise.resolve()
  return new Promise((resolve) => {
    const onEvent = (event: unknown) => {
      const e = event as CounterEvent
      if (e.node === node.name && e.name === name && e.value >= value) {
        diagnosticsChannel.unsubscribe('ockam:counter', onEvent)
        resolve()
      }
    }
    diagnosticsChannel.subscribe('ockam:counter', onEvent)
  })
}

/** Seeded xorshift32, so every run sends the same "random" bytes. */
function seededBytes(seed: number, length: number): Buffer {
  let x = seed >>> 0 || 1
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(value)
  return b
}

/** A raw TCP client that speaks (or abuses) the framing by hand. */
class RawPeer {
  readonly socket: Socket
  readonly closedAt: Promise<number>
  closed = false
  sent = 0
  readonly received: Buffer[] = []
  #onData: ((chunk: Buffer) => void) | undefined

  private constructor(socket: Socket) {
    this.socket = socket
    socket.setNoDelay(true)
    // The node closing on us may reset the connection (it had unread bytes): that is expected.
    socket.on('error', () => {})
    this.closedAt = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true
        resolve(performance.now())
      }),
    )
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk)
      this.#onData?.(chunk)
    })
  }

  /** Connects and waits for the node's version byte: the node's side of the connection is up. */
  static async connect(address: string): Promise<RawPeer> {
    const [host, port] = address.split(':')
    const peer = new RawPeer(createConnection({ host: host as string, port: Number(port) }))
    await within(
      new Promise<void>((resolve, reject) => {
        peer.#onData = () => resolve()
        peer.socket.once('close', () => reject(new Error('closed before the version byte')))
      }),
      'the node accepts the connection',
    )
    peer.#onData = undefined
    peer.key = `127.0.0.1:${peer.socket.localPort}`
    return peer
  }

  /** `host:port` of this end, as the node names the peer in logs (kept: a closed socket forgets it). */
  key = ''

  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return
    this.sent += bytes.length
    this.socket.write(bytes)
  }

  onData(listener: ((chunk: Buffer) => void) | undefined): void {
    this.#onData = listener
  }
}

/** Watches a node's buffer budget: the highest `used` seen and a wait for a level. */
function watchBudget(node: OckamNode): { max(): number; reset(): void; reaches(bytes: number): Promise<void> } {
  const budget = node.budget
  const take = budget.take.bind(budget)
  let max = 0
  const waiters: Array<{ bytes: number; resolve: () => void }> = []
  budget.take = (bytes: number) => {
    take(bytes)
    max = Math.max(max, budget.used)
    for (const w of waiters.splice(0)) {
      if (budget.used >= w.bytes) w.resolve()
      else waiters.push(w)
    }
  }
  return {
    max: () => max,
    reset: () => {
      max = budget.used
    },
    reaches: (bytes) =>
      budget.used >= bytes ? Promise.resolve() : new Promise((resolve) => waiters.push({ bytes, resolve })),
  }
}

function echo(client: TestNode, target: TestNode, text: string): Promise<string> {
  return within(
    client.node.context
      .request([tcp(target.address), local('echo')], Buffer.from(text), { timeoutMs: DEADLINE_MS })
      .then((reply) => Buffer.from(reply.payload).toString()),
    `echo "${text}"`,
  )
}

function bytesOutOf(node: OckamNode): number {
  return tcpOf(node)
    .connections()
    .reduce((n, c) => n + c.bytesOut, 0)
}

interface Attack {
  readonly name: string
  /** Sent first; the node must still be holding the connection open after it. */
  readonly prefix: Buffer
  /** How many of the prefix's bytes the node holds for an unfinished frame. */
  readonly held: number
  /** Sent after the honest request completed; empty = silence (the node times out). */
  readonly trigger: Buffer
  readonly code: OckamErrorCode
}

async function runAttack(
  t: TestContext,
  target: TestNode,
  honest: TestNode,
  budget: ReturnType<typeof watchBudget>,
  attack: Attack,
): Promise<void> {
  const { node, logs } = target
  const counter = `tcp.closed.${attack.code}`
  const before = node.counters.get(counter)
  budget.reset()
  const honestOutBefore = bytesOutOf(honest.node)

  const peer = await RawPeer.connect(target.address)
  const startedAt = performance.now()
  peer.write(attack.prefix)
  await within(budget.reaches(attack.held), 'the node holds the partial frame')

  // An honest client is served while the hostile connection is open and mid-attack.
  const honestStarted = performance.now()
  assert.equal(await echo(honest, target, `during ${attack.name}`), `during ${attack.name}`)
  const honestMs = performance.now() - honestStarted
  assert.equal(peer.closed, false, 'the hostile connection is still open when the honest reply arrives')

  const triggeredAt = performance.now()
  peer.write(attack.trigger)
  const closedAt = await within(peer.closedAt, 'the node closes the hostile connection')

  assert.equal(node.counters.get(counter) - before, 1, `${counter} went up by one`)
  const lines = logs.lines.filter((l) => l.peer === peer.key)
  assert.equal(lines.length, 1, `one log line for ${peer.key}: ${JSON.stringify(lines)}`)
  assert.equal(lines[0]?.code, attack.code)
  assert.equal(node.budget.used, 0, 'every held byte is given back')
  const honestBytes = bytesOutOf(honest.node) - honestOutBefore
  assert.ok(
    budget.max() <= peer.sent + honestBytes,
    `held at most ${budget.max()} bytes, sent ${peer.sent} hostile + ${honestBytes} honest`,
  )
  assert.ok(
    !tcpOf(node)
      .connections()
      .some((c) => c.peer === peer.key),
    'the connection is gone from the node',
  )
  t.diagnostic(
    `${attack.code}: sent ${peer.sent} B, node held at most ${budget.max()} B, honest echo ${honestMs.toFixed(1)} ms, ` +
      `closed ${(closedAt - triggeredAt).toFixed(1)} ms after the trigger (${(closedAt - startedAt).toFixed(1)} ms after connect)`,
  )
}

function attacks(): Attack[] {
  const random = seededBytes(0x0c4a11, 4096)
  if (random[0] === WIRE_VERSION) random[0] = WIRE_VERSION + 1
  const garbage = seededBytes(0xbadf00d, 4096)
  assert.ok(garbage.readUInt32BE(0) > DEFAULT_MAX_FRAME_BYTES, 'the seed gives a length above the maximum')
  const body64 = seededBytes(0x5eed, 64)
  body64[0] = 17 + ((body64[0] as number) % 239) // a hop count above the maximum of 16
  const hops = Buffer.concat([Uint8Array.of(255), Buffer.alloc(10_000 * 3, Buffer.from([0, 1, 0x61]))])
  const hopsFrame = Buffer.concat([u32(hops.length), hops])
  const http = Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
  const v = Uint8Array.of(WIRE_VERSION)
  return [
    {
      name: 'random bytes (first byte not the version)',
      prefix: Buffer.alloc(0),
      held: 0,
      trigger: random,
      code: 'OCKAM_ERR_TCP_VERSION_MISMATCH',
    },
    {
      name: 'the version byte then random bytes',
      prefix: Buffer.concat([v, garbage.subarray(0, 3)]),
      held: 3,
      trigger: garbage.subarray(3),
      code: 'OCKAM_ERR_TCP_FRAME_TOO_LARGE',
    },
    {
      name: 'the version byte, a plausible length, then a random body',
      prefix: Buffer.concat([v, u32(64), body64.subarray(0, 63)]),
      held: 4 + 63,
      trigger: body64.subarray(63),
      code: 'OCKAM_ERR_TCP_FRAME_MALFORMED',
    },
    {
      name: 'a 4 GiB length prefix (0xFFFFFFFF)',
      prefix: Buffer.from([WIRE_VERSION, 0xff, 0xff, 0xff]),
      held: 3,
      trigger: Buffer.from([0xff]),
      code: 'OCKAM_ERR_TCP_FRAME_TOO_LARGE',
    },
    {
      name: 'a length one byte above the maximum',
      prefix: Buffer.concat([v, u32(DEFAULT_MAX_FRAME_BYTES + 1).subarray(0, 3)]),
      held: 3,
      trigger: u32(DEFAULT_MAX_FRAME_BYTES + 1).subarray(3),
      code: 'OCKAM_ERR_TCP_FRAME_TOO_LARGE',
    },
    {
      name: 'a route of 10,000 hops (hop count 255)',
      prefix: Buffer.concat([v, hopsFrame.subarray(0, hopsFrame.length - 1)]),
      held: hopsFrame.length - 1,
      trigger: hopsFrame.subarray(hopsFrame.length - 1),
      code: 'OCKAM_ERR_TCP_FRAME_MALFORMED',
    },
    {
      name: 'a wrong version byte',
      prefix: Buffer.alloc(0),
      held: 0,
      trigger: Buffer.from([WIRE_VERSION + 1]),
      code: 'OCKAM_ERR_TCP_VERSION_MISMATCH',
    },
    {
      name: 'an HTTP request',
      prefix: Buffer.alloc(0),
      held: 0,
      trigger: http,
      code: 'OCKAM_ERR_TCP_VERSION_MISMATCH',
    },
    {
      name: 'a zero-length frame body',
      prefix: Buffer.from([WIRE_VERSION, 0, 0, 0]),
      held: 3,
      trigger: Buffer.from([0]),
      code: 'OCKAM_ERR_TCP_FRAME_MALFORMED',
    },
    {
      name: 'a one-byte frame body',
      prefix: Buffer.from([WIRE_VERSION, 0, 0, 0]),
      held: 3,
      trigger: Buffer.from([1, 0]),
      code: 'OCKAM_ERR_TCP_FRAME_MALFORMED',
    },
  ]
}

test('each hostile input closes only its own connection, with its code, one log line, nothing held', async (t) => {
  const target = await startTestNode(t, 'target', { tcp: { logWindowMs: 0 } })
  const honest = await startTestNode(t, 'honest', { listen: [] })
  const budget = watchBudget(target.node)
  assert.equal(await echo(honest, target, 'warm-up'), 'warm-up')
  for (const attack of attacks()) {
    await t.test(attack.name, (st) => runAttack(st, target, honest, budget, attack))
  }
  // The honest connection was the same one all along: no attack disturbed it.
  assert.equal(tcpOf(honest.node).connections().length, 1)
  assert.equal(target.node.counters.get('tcp.closed.OCKAM_ERR_TCP_CONNECTION_CLOSED'), 0)
})

test('a frame left unfinished closes with OCKAM_ERR_TCP_FRAME_TIMEOUT; trickling bytes does not extend it', async (t) => {
  const frameTimeoutMs = 400
  const target = await startTestNode(t, 'target', { tcp: { logWindowMs: 0, frameTimeoutMs } })
  const honest = await startTestNode(t, 'honest', { listen: [] })
  const budget = watchBudget(target.node)
  assert.equal(await echo(honest, target, 'warm-up'), 'warm-up')

  await t.test('a header and half a body, then silence', async (st) => {
    const attack: Attack = {
      name: 'a truncated frame',
      prefix: Buffer.concat([Uint8Array.of(WIRE_VERSION), u32(1000), Buffer.alloc(500, 0x61)]),
      held: 504,
      trigger: Buffer.alloc(0),
      code: 'OCKAM_ERR_TCP_FRAME_TIMEOUT',
    }
    const sentAt = performance.now()
    await runAttack(st, target, honest, budget, attack)
    const line = target.logs.withCode('OCKAM_ERR_TCP_FRAME_TIMEOUT').at(-1)
    assert.equal(line?.heldBytes, 504)
    st.diagnostic(
      `closed ${(performance.now() - sentAt).toFixed(1)} ms after the partial frame (timeout ${frameTimeoutMs} ms)`,
    )
  })

  await t.test('one byte at a time (slowloris)', async (st) => {
    const before = target.node.counters.get('tcp.closed.OCKAM_ERR_TCP_FRAME_TIMEOUT')
    const peer = await RawPeer.connect(target.address)
    const body = Buffer.concat([u32(2000), Buffer.alloc(1996, 0x61)])
    peer.write(Uint8Array.of(WIRE_VERSION))
    const startedAt = performance.now()
    let next = 0
    // The attack itself is a timer: one byte every 20 ms, never finishing within the timeout.
    const trickle = setInterval(() => peer.write(body.subarray(next, ++next)), 20)
    try {
      const closedAt = await within(peer.closedAt, 'the node closes the trickling connection')
      const elapsed = closedAt - startedAt
      assert.ok(elapsed >= frameTimeoutMs - 5, `closed after ${elapsed} ms, before the ${frameTimeoutMs} ms timeout`)
      st.diagnostic(`slowloris sent ${peer.sent} B in ${elapsed.toFixed(1)} ms before being closed`)
    } finally {
      clearInterval(trickle)
    }
    assert.equal(target.node.counters.get('tcp.closed.OCKAM_ERR_TCP_FRAME_TIMEOUT') - before, 1)
    assert.equal(target.logs.lines.filter((l) => l.peer === peer.key).length, 1)
    assert.equal(target.node.budget.used, 0)
  })
})

test('regression: a steady stream of frames split across chunks is not closed by the frame timeout', async (t) => {
  // The timer was armed for the first partial frame and never restarted while every chunk ended
  // inside a later frame, so a busy connection was closed frameTimeoutMs after it got busy.
  const frameTimeoutMs = 100
  const target = await startTestNode(t, 'target', { tcp: { logWindowMs: 0, frameTimeoutMs } })
  const peer = await RawPeer.connect(target.address)
  const reader = new FrameReader({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES })
  reader.push(Buffer.concat(peer.received)) // the node's version byte
  const frame = (i: number) =>
    encodeFrame({ onward: [local('echo')], return: [local('me')], payload: Buffer.from(`frame ${i}`) })
  const half = (f: Buffer) => Math.floor(f.length / 2)

  let sent = 0
  let replies = 0
  const startedAt = performance.now()
  const done = new Promise<void>((resolve, reject) => {
    peer.onData((chunk) => {
      for (const body of reader.push(chunk)) {
        const reply = decodeFrameBody(body)
        if (reply.onward.length === 0) continue // a heartbeat
        if (Buffer.from(reply.payload).toString() !== `frame ${replies}`) reject(new Error('out of order'))
        replies++
      }
      // Each write ends frame k and starts frame k+1, so the node is always inside a frame.
      if (replies === sent && !peer.closed) {
        if (performance.now() - startedAt > 4 * frameTimeoutMs) {
          resolve()
          return
        }
        const current = frame(sent)
        const following = frame(sent + 1)
        peer.write(Buffer.concat([current.subarray(half(current)), following.subarray(0, half(following))]))
        sent++
      }
    })
    peer.socket.once('close', () =>
      reject(
        new Error(
          `the node closed a busy connection after ${replies} replies: ${JSON.stringify(target.logs.lines.filter((l) => l.peer === peer.key))}`,
        ),
      ),
    )
  })
  const first = frame(0)
  peer.write(Buffer.concat([Uint8Array.of(WIRE_VERSION), first.subarray(0, half(first))]))
  const firstTail = first.subarray(half(first))
  const second = frame(1)
  peer.write(Buffer.concat([firstTail, second.subarray(0, half(second))]))
  sent = 1
  await within(done, 'streaming for four frame timeouts')
  assert.equal(peer.closed, false)
  assert.equal(target.node.counters.get('tcp.closed.OCKAM_ERR_TCP_FRAME_TIMEOUT'), 0)
  t.diagnostic(
    `${replies} frames echoed over ${(performance.now() - startedAt).toFixed(0)} ms, timeout ${frameTimeoutMs} ms`,
  )
  peer.socket.destroy()
})

test('200 hostile connections in a burst: every one counted, the log rate-limited', async (t) => {
  const target = await startTestNode(t, 'target') // default log window
  const honest = await startTestNode(t, 'honest', { listen: [] })
  const count = 200
  const startedAt = performance.now()
  const peers = await Promise.all(Array.from({ length: count }, () => RawPeer.connect(target.address)))
  const connectedAt = performance.now()
  for (const peer of peers) peer.write(Uint8Array.of(WIRE_VERSION + 1))
  assert.equal(await echo(honest, target, 'during the burst'), 'during the burst')
  await within(Promise.all(peers.map((p) => p.closedAt)), 'the node closes all 200')
  const closedAt = performance.now()
  assert.equal(target.node.counters.get('tcp.closed.OCKAM_ERR_TCP_VERSION_MISMATCH'), count)
  const lines = target.logs.withCode('OCKAM_ERR_TCP_VERSION_MISMATCH')
  assert.ok(lines.length >= 1 && lines.length <= 2, `${lines.length} log lines for ${count} violations`)
  assert.equal(target.node.budget.used, 0)
  assert.equal(tcpOf(target.node).connections().length, 1) // the honest one
  t.diagnostic(
    `${count} connections in ${(connectedAt - startedAt).toFixed(1)} ms, all closed ${(closedAt - connectedAt).toFixed(1)} ms later, ${lines.length} log line(s)`,
  )
})

test('a peer asking the node to dial 200 addresses: no dial, every refusal counted, the log rate-limited', async (t) => {
  const target = await startTestNode(t, 'target') // default log window
  const honest = await startTestNode(t, 'honest', { listen: [] })
  const peer = await RawPeer.connect(target.address)
  const count = 200
  const frames = Array.from({ length: count }, (_, i) =>
    encodeFrame({
      onward: [tcp(`10.${i >> 8}.${i & 0xff}.1:${4000 + i}`), local('echo')],
      return: [local('me')],
      payload: Buffer.from('relay me'),
    }),
  )
  const startedAt = performance.now()
  peer.write(Buffer.concat([Uint8Array.of(WIRE_VERSION), ...frames]))
  await within(
    counterReaches(target.node, 'router.denied.OCKAM_ERR_ROUTER_NO_DIAL', count),
    'every dial request is refused',
  )
  const refusedAt = performance.now()
  assert.equal(target.node.counters.get('tcp.frames.undeliverable'), count)
  assert.equal(target.node.counters.get('tcp.connect_failures'), 0)
  assert.ok(
    !tcpOf(target.node)
      .connections()
      .some((c) => c.direction === 'outbound'),
    'no connection was opened',
  )
  const lines = target.logs.withCode('OCKAM_ERR_ROUTER_NO_DIAL')
  assert.ok(lines.length >= 1 && lines.length <= 2, `${lines.length} log lines for ${count} refusals`)
  // Refusing a message is not a protocol violation: the connection stays, and others are served.
  assert.equal(peer.closed, false)
  assert.equal(await echo(honest, target, 'meanwhile'), 'meanwhile')
  t.diagnostic(`${count} refusals in ${(refusedAt - startedAt).toFixed(1)} ms, ${lines.length} log line(s)`)
  peer.socket.destroy()
})

/**
 * The most one read of a socket hands the connection: libuv reads at most 64 KiB, and while the
 * reader is busy the stream may buffer up to its high-water mark on top.
 */
const MAX_CHUNK_BYTES = 64 * 1024 + getDefaultHighWaterMark(false)

/** N peers each start a 3 MiB frame (the test raises the maximum) and push 1 MiB of it. */
async function slowPeers(target: TestNode, count: number): Promise<RawPeer[]> {
  const peers = await Promise.all(Array.from({ length: count }, () => RawPeer.connect(target.address)))
  for (const peer of peers) {
    peer.write(Buffer.concat([Uint8Array.of(WIRE_VERSION), u32(3 * 1024 * 1024)]))
    peer.write(Buffer.alloc(1024 * 1024, 0x61))
  }
  return peers
}

const BUDGET_BYTES = 64 * 1024
const SLOW_PEERS = 16

test('slow peers spend the buffer budget: reading pauses, the overshoot is bounded, honest peers go on', async (t) => {
  const frameTimeoutMs = 1_000
  const target = await startTestNode(t, 'target', {
    bufferBudgetBytes: BUDGET_BYTES,
    tcp: { logWindowMs: 0, frameTimeoutMs, maxFrameBytes: 4 * 1024 * 1024 },
  })
  const honest = await startTestNode(t, 'honest', { listen: [] })
  const budget = watchBudget(target.node)
  assert.equal(await echo(honest, target, 'warm-up'), 'warm-up')

  const startedAt = performance.now()
  const peers = await slowPeers(target, SLOW_PEERS)
  // Every slow connection reads past the limit once, then waits.
  await within(counterReaches(target.node, 'tcp.budget_waits', SLOW_PEERS), 'every slow connection pauses')
  const pausedAt = performance.now()
  const read = tcpOf(target.node)
    .connections()
    .reduce((n, c) => n + c.bytesIn, 0)
  const bound = BUDGET_BYTES + SLOW_PEERS * MAX_CHUNK_BYTES
  assert.ok(target.node.budget.exhausted)
  assert.ok(budget.max() <= bound, `held ${budget.max()} B, bound ${bound} B`)
  const attempted = peers.reduce((n, p) => n + p.sent, 0)
  assert.ok(read < attempted / 4, `the node read ${read} of ${attempted} B: it stopped reading`)

  // Regression: connections that hold nothing kept pausing while others spent the budget, so an
  // honest client stalled until the slow peers were evicted.
  for (let i = 0; i < 3; i++) assert.equal(await echo(honest, target, `honest ${i}`), `honest ${i}`)
  assert.equal(target.node.counters.get('tcp.closed.OCKAM_ERR_TCP_FRAME_TIMEOUT'), 0, 'before any eviction')
  const honestDoneAt = performance.now()

  // The slow peers hang up. A paused connection is not reading, so it learns of that only when
  // its frame timeout evicts it; then every byte comes back.
  for (const peer of peers) peer.socket.destroy()
  await within(counterReaches(target.node, 'tcp.connections.closed', SLOW_PEERS), 'the slow connections close')
  const evictedAt = performance.now()
  assert.equal(target.node.budget.used, 0)
  assert.equal(await echo(honest, target, 'after'), 'after')
  t.diagnostic(
    `paused after ${(pausedAt - startedAt).toFixed(1)} ms; held at most ${budget.max()} B ` +
      `(limit ${BUDGET_BYTES}, bound ${bound}); read ${read} of ${attempted} B; 3 honest echoes in ` +
      `${(honestDoneAt - pausedAt).toFixed(1)} ms; evicted ${(evictedAt - honestDoneAt).toFixed(0)} ms after hang-up`,
  )
})

test('stopping a node with paused slow peers gives the whole budget back at once', async (t) => {
  const target = await startTestNode(t, 'target', {
    bufferBudgetBytes: BUDGET_BYTES,
    tcp: { logWindowMs: 0, maxFrameBytes: 4 * 1024 * 1024 },
  })
  const peers = await slowPeers(target, SLOW_PEERS)
  await within(counterReaches(target.node, 'tcp.budget_waits', SLOW_PEERS), 'every slow connection pauses')
  assert.ok(target.node.budget.used >= BUDGET_BYTES)
  const stoppingAt = performance.now()
  await within(target.node.stop(), 'the node stops')
  assert.equal(target.node.budget.used, 0)
  await within(Promise.all(peers.map((p) => p.closedAt)), 'the peers see their connections close')
  t.diagnostic(`stopped and released in ${(performance.now() - stoppingAt).toFixed(1)} ms`)
})
