/**
 * The far end of the TCP benches: an Ockam node (the built-in `echo` service plus a counting
 * `sink`) and the raw-socket baseline servers, either in this process or in a child process
 * (two event loops, closer to two real nodes). The child answers CPU-time questions over IPC so
 * CPU-seconds can cover both ends.
 */
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { allowIngress } from '../../runtime/access-control.js'
import { local } from '../../runtime/address.js'
import { createDefaultNode, tcpOf } from '../../runtime/defaults.js'
import { createLogger } from '../../runtime/log.js'
import type { Worker } from '../../runtime/worker.js'
import { cpuMicros } from './cpu.js'
import { startRawServers } from './raw-frames.js'

export const SINK_ADDRESS = 'bench-sink'
/** First payload byte of a sink message: count it, or reply with the count and reset. */
export const SINK_DATA = 0
export const SINK_FINISH = 1

export interface PeerAddresses {
  /** `127.0.0.1:PORT` of the Ockam node's TCP listener. */
  readonly ockam: string
  readonly rawEcho: string
  readonly rawSink: string
}

export interface Peer {
  readonly kind: 'in-process' | 'child-process'
  readonly addresses: PeerAddresses
  /** CPU time of the peer's process in µs, or 0 when it is this process (already counted). */
  cpuMicros(): Promise<number>
  stop(): Promise<void>
}

/** Counts SINK_DATA messages; answers SINK_FINISH with the count (u32 BE) and starts over. */
export function sinkWorker(): Worker {
  let count = 0
  return {
    async handleMessage(ctx, message) {
      if (message.payload[0] === SINK_FINISH) {
        const reply = Buffer.allocUnsafe(4)
        reply.writeUInt32BE(count, 0)
        count = 0
        await ctx.reply(message, reply)
      } else {
        count++
      }
    },
  }
}

export async function startPeerServices(): Promise<{ addresses: PeerAddresses; stop(): Promise<void> }> {
  const node = createDefaultNode({
    name: 'bench-peer',
    listen: ['127.0.0.1:0'],
    pool: { threads: 0 },
    log: createLogger({ name: 'bench-peer', level: 'warn' }),
  })
  await node.start()
  await node.startWorker(local(SINK_ADDRESS), sinkWorker(), { incoming: allowIngress('tcp') })
  const raw = await startRawServers()
  const ockam = tcpOf(node).listenAddresses()[0]
  if (ockam === undefined) throw new Error('the peer node does not listen')
  return {
    addresses: { ockam, rawEcho: raw.echo, rawSink: raw.sink },
    async stop() {
      await raw.close()
      await node.stop()
    },
  }
}

export async function startInProcessPeer(): Promise<Peer> {
  const services = await startPeerServices()
  return { kind: 'in-process', addresses: services.addresses, cpuMicros: async () => 0, stop: () => services.stop() }
}

type ChildMessage = { type: 'ready'; addresses: PeerAddresses } | { type: 'cpu'; micros: number }

/** Forks `peer-child.js`; the child exits when told to or when this process goes away. */
export async function startChildPeer(): Promise<Peer> {
  const child = fork(new URL('./peer-child.js', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = once(child, 'exit')
  const next = async (type: ChildMessage['type']): Promise<ChildMessage> => {
    const timeout = AbortSignal.timeout(10_000)
    for (;;) {
      const [message] = (await once(child, 'message', { signal: timeout })) as [ChildMessage]
      if (message.type === type) return message
    }
  }
  const ready = next('ready')
  const failed = exited.then(() => {
    throw new Error('the peer child process exited before it was ready')
  })
  const first = await Promise.race([ready, failed])
  failed.catch(() => {}) // the child exits at stop(): expected from then on
  if (first.type !== 'ready') throw new Error('unexpected first message from the peer child')
  return {
    kind: 'child-process',
    addresses: first.addresses,
    async cpuMicros() {
      const reply = next('cpu')
      child.send({ type: 'cpu' })
      const message = await reply
      return message.type === 'cpu' ? message.micros : 0
    },
    async stop() {
      if (child.exitCode !== null) return
      child.send({ type: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** What the child answers: its CPU time. */
export function childCpuReply(): ChildMessage {
  return { type: 'cpu', micros: cpuMicros() }
}
