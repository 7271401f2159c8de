/**
 * Shared pieces of the portal integration tests: real TCP targets and clients on 127.0.0.1,
 * and an inlet → outlet pair over a TCP route between two in-process nodes.
 */
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { TestContext } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import type { Route } from '../../runtime/route.js'
import { startTcpInlet, type TcpInlet, type TcpInletOptions } from '../../workers/portal/inlet.js'
import { startTcpOutlet, type TcpOutlet, type TcpOutletOptions } from '../../workers/portal/outlet.js'
import { startTestNode, type TestNode } from '../helpers/testnet.js'

export interface Target {
  readonly address: string
  readonly server: Server
  readonly sockets: Set<Socket>
  close(): Promise<void>
}

/** A TCP server on 127.0.0.1 that hands each connection to `handler`; closed with the test. */
export async function startTarget(t: TestContext, handler: (socket: Socket) => void, port = 0): Promise<Target> {
  const sockets = new Set<Socket>()
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    handler(socket)
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  const bound = server.address() as { port: number }
  const close = async () => {
    for (const socket of sockets) socket.destroy()
    if (server.listening) await new Promise((resolve) => server.close(resolve))
  }
  t.after(close)
  return { address: `127.0.0.1:${bound.port}`, server, sockets, close }
}

/** Echoes every byte and half-closes after the client does. */
export function echoHandler(socket: Socket): void {
  socket.pipe(socket)
}

export interface Transfer {
  /** SHA-256 (hex) of the bytes received until the peer's FIN or reset. */
  readonly receivedHash: string
  readonly receivedBytes: number
  /** How the connection ended: 'end' (a FIN after all bytes), 'reset', or another error code. */
  readonly ending: string
}

/**
 * Writes `data` and hashes what comes back until the connection closes; resolves then.
 *
 * With `end: true` the client sends its FIN after `data` (a complete request). With `end:
 * false` it keeps its write side open, which lets it tell a reset from a FIN even when libuv
 * reports the reset as an EOF: libuv takes a partial read plus POLLHUP for EOF without reading
 * again (libuv issue 4992, fixed upstream in 2026), so a Node client with unread data when the
 * RST arrives sees 'end'. Writing one byte then fails (EPIPE/ECONNRESET) after a reset and
 * succeeds after a FIN, since the portal is only half-closed then.
 */
export function exchange(
  socket: Socket,
  data: Uint8Array | undefined,
  options: { end?: boolean } = {},
): Promise<Transfer> {
  const hash = createHash('sha256')
  let receivedBytes = 0
  let ending: string | undefined
  socket.on('data', (chunk: Buffer) => {
    hash.update(chunk)
    receivedBytes += chunk.length
  })
  socket.on('end', () => {
    if (ending !== undefined) return
    if (!socket.writable) {
      ending = 'end'
      return
    }
    socket.write(Uint8Array.of(0), (error) => {
      ending ??= error ? 'reset' : 'end'
      socket.destroy()
    })
  })
  socket.on('error', (error: NodeJS.ErrnoException) => {
    ending ??= error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'reset' : (error.code ?? error.message)
  })
  if (data !== undefined) {
    if (options.end === false) socket.write(data)
    else socket.end(data)
  }
  return new Promise((resolve) => {
    socket.on('close', () => resolve({ receivedHash: hash.digest('hex'), receivedBytes, ending: ending ?? 'close' }))
  })
}

export async function connectTo(address: string): Promise<Socket> {
  const [host, port] = address.split(':')
  const socket = connect({ host: host ?? '127.0.0.1', port: Number(port), allowHalfOpen: true, noDelay: true })
  await once(socket, 'connect')
  return socket
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Random bytes, made once per size per process (generating 64 MiB costs ~100 ms). */
const randomCache = new Map<number, Buffer>()
export function randomData(size: number): Buffer {
  let data = randomCache.get(size)
  if (data === undefined) {
    data = randomBytes(size)
    randomCache.set(size, data)
  }
  return data
}

export interface PortalPair {
  readonly inletNode: TestNode
  readonly outletNode: TestNode
  readonly inlet: TcpInlet
  readonly outlet: TcpOutlet
  /** The inlet's route to the outlet service. */
  readonly route: Route
}

/** An outlet on one node (to `target`) and an inlet on another, over one TCP hop. */
export async function startPortalPair(
  t: TestContext,
  target: string,
  options: {
    inlet?: Partial<TcpInletOptions>
    outlet?: Partial<TcpOutletOptions>
    /** Extra hops between the TCP hop and the outlet service (a test worker on the path). */
    via?: string[]
    inletNodeOptions?: Parameters<typeof startTestNode>[2]
    outletNodeOptions?: Parameters<typeof startTestNode>[2]
  } = {},
): Promise<PortalPair> {
  const outletNode = await startTestNode(t, 'outlet-node', options.outletNodeOptions)
  const inletNode = await startTestNode(t, 'inlet-node', { listen: [], ...options.inletNodeOptions })
  const outlet = await startTcpOutlet(outletNode.node, {
    target,
    allow: () => true,
    logWindowMs: 0,
    ...options.outlet,
  })
  const route: Route = [tcp(outletNode.address), ...(options.via ?? []).map((v) => local(v)), outlet.address]
  const inlet = await startTcpInlet(inletNode.node, {
    listen: '127.0.0.1:0',
    to: route,
    logWindowMs: 0,
    ...options.inlet,
  })
  return { inletNode, outletNode, inlet, outlet, route }
}

/** Resolves when `predicate` holds, polling on a timer (for state that changes without an event). */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
