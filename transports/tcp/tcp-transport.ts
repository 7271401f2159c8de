/**
 * The TCP transport: listeners that accept connections, outgoing connections opened on demand
 * (one reused per peer address) and the resolution of `1#host:port` addresses for the router.
 * It never reconnects by itself: a lost connection is gone, and the session objects above it
 * decide when to try again (DESIGN §12, runtime/backoff.ts).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { type Address, TCP } from '../../runtime/address.js'
import type { BufferBudget } from '../../runtime/buffer-budget.js'
import { raceAbort } from '../../runtime/context.js'
import { abortError, OckamError, throwIfAborted } from '../../runtime/errors.js'
import type { Logger } from '../../runtime/log.js'
import { RateLimitedLog } from '../../runtime/rate-limited-log.js'
import type { Router } from '../../runtime/router.js'
import type { ResolveOptions, Transport, TransportComponents } from '../../runtime/transport.js'
import { TcpConnection, type TcpConnectionLimits } from './connection.js'
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_INBOUND_CONNECTIONS,
} from './constants.js'
import { formatHostPort, type HostPort, parseHostPort } from './host-port.js'

export interface TcpTransportOptions {
  /** Addresses to listen on at start, `host:port` (port 0 picks a free one). */
  listen?: readonly string[]
  maxFrameBytes?: number
  frameTimeoutMs?: number
  heartbeatIntervalMs?: number
  idleTimeoutMs?: number
  connectTimeoutMs?: number
  closeTimeoutMs?: number
  maxInboundConnections?: number
  /** Window of the per-reason rate limit on violation log lines; 0 logs every one (tests). */
  logWindowMs?: number
}

export interface ConnectionInfo {
  readonly address: string
  readonly peer: string
  readonly direction: 'inbound' | 'outbound'
  readonly bytesIn: number
  readonly bytesOut: number
  readonly writeBuffered: number
  readonly readBuffered: number
  /** For inbound connections: the `host:port` of the listener that accepted it. */
  readonly listener?: string
}

export class TcpTransport implements Transport {
  readonly type = TCP
  readonly name = 'tcp'
  readonly #router: Router
  readonly #budget: BufferBudget
  readonly #log: Logger
  readonly #violations: RateLimitedLog
  readonly #limits: TcpConnectionLimits
  readonly #connectTimeoutMs: number
  readonly #maxInbound: number
  readonly #initialListen: readonly string[]
  readonly #servers = new Map<string, Server>()
  readonly #connections = new Set<TcpConnection>()
  readonly #outbound = new Map<string, TcpConnection>()
  readonly #closeWatchers = new Map<string, Set<() => void>>()
  readonly #dialing = new Map<string, Promise<TcpConnection>>()
  readonly #acceptedBy = new Map<TcpConnection, string>()
  #inboundCount = 0
  #stopped = false

  constructor(options: TcpTransportOptions, components: TransportComponents) {
    this.#router = components.router
    this.#budget = components.budget
    this.#log = components.log
    this.#violations = new RateLimitedLog(components.log, options.logWindowMs)
    this.#limits = {
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      frameTimeoutMs: options.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    }
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    this.#maxInbound = options.maxInboundConnections ?? DEFAULT_MAX_INBOUND_CONNECTIONS
    this.#initialListen = options.listen ?? []
  }

  async start(): Promise<void> {
    for (const address of this.#initialListen) await this.listen(address)
  }

  /** Starts a listener; resolves with the bound `host:port` (useful with port 0). */
  async listen(hostPort: string): Promise<string> {
    const { host, port } = parseHostPort(hostPort)
    // Set once bound: no connection is accepted before the listen callback has run.
    let listenerKey = ''
    const server = createServer({ noDelay: true, pauseOnConnect: false }, (socket) => this.#accept(socket, listenerKey))
    await new Promise<void>((resolve, reject) => {
      server.once('error', (cause: NodeJS.ErrnoException) => {
        reject(
          new OckamError(
            'OCKAM_ERR_TCP_LISTEN_FAILED',
            `cannot listen on ${formatHostPort({ host, port })}: ${cause.code ?? cause.message}`,
            {
              cause,
              hint:
                cause.code === 'EADDRINUSE'
                  ? 'another process uses that port: pick another with --tcp-listener-address'
                  : 'check the address',
            },
          ),
        )
      })
      server.listen(port, host, () => resolve())
    })
    const bound = server.address()
    if (bound === null || typeof bound === 'string')
      throw new OckamError('OCKAM_ERR_INTERNAL', 'listener has no address')
    const boundText = formatHostPort({ host: bound.address, port: bound.port })
    listenerKey = boundText
    server.on('error', (error) => this.#log.error({ err: error, listener: boundText }, 'listener error'))
    this.#servers.set(boundText, server)
    this.#log.info({ event: 'tcp.listening', address: boundText }, `listening on ${boundText}`)
    return boundText
  }

  /**
   * Stops one listener and closes the connections it accepted (a deleted listener leaves
   * nothing behind). Resolves false if no listener has that bound address.
   */
  async unlisten(boundAddress: string): Promise<boolean> {
    const server = this.#servers.get(boundAddress)
    if (server === undefined) return false
    this.#servers.delete(boundAddress)
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const [connection, listener] of this.#acceptedBy) if (listener === boundAddress) connection.close()
    await closed
    this.#log.info({ event: 'tcp.unlistened', address: boundAddress }, `stopped listening on ${boundAddress}`)
    return true
  }

  listenAddresses(): string[] {
    return [...this.#servers.keys()]
  }

  connections(): ConnectionInfo[] {
    return [...this.#connections].map((c) => {
      const info = {
        address: c.address.value,
        peer: c.peer,
        direction: c.direction,
        bytesIn: c.bytesIn,
        bytesOut: c.bytesOut,
        writeBuffered: c.writeBuffered,
        readBuffered: c.readBuffered,
      }
      const listener = this.#acceptedBy.get(c)
      return listener === undefined ? info : { ...info, listener }
    })
  }

  /** Bytes held for peers right now: partial inbound frames plus socket write buffers. */
  bufferedBytes(): number {
    let total = 0
    for (const c of this.#connections) total += c.writeBuffered + c.readBuffered
    return total
  }

  lookup(address: Address): Address | undefined {
    const existing = this.#outbound.get(address.value)
    return existing !== undefined && !existing.closed ? existing.address : undefined
  }

  async resolve(address: Address, options: ResolveOptions): Promise<Address> {
    throwIfAborted(options.signal, 'resolving a TCP address')
    const existing = this.#outbound.get(address.value)
    if (existing !== undefined && !existing.closed) return existing.address
    if (!options.mayDial) {
      throw new OckamError(
        'OCKAM_ERR_ROUTER_NO_DIAL',
        `a message from the network asked to connect to ${address.value}; this node only dials for its own workers`,
        { hint: 'route through an explicit forwarding service (node create --forward-to)' },
      )
    }
    let dialing = this.#dialing.get(address.value)
    if (dialing === undefined) {
      dialing = this.#dial(address.value).finally(() => this.#dialing.delete(address.value))
      this.#dialing.set(address.value, dialing)
    }
    // raceAbort removes its abort listener when the dial settles: a long-lived signal (a session
    // retrying with backoff) used to keep one listener per attempt.
    const signal = options.signal
    const connection =
      signal === undefined ? await dialing : await raceAbort(dialing, signal, () => abortError(signal, 'connect'))
    return connection.address
  }

  /**
   * Calls `listener` once, when the outbound connection to `hostPort` (the one open now) closes:
   * sessions use it to notice at once that what they built over the connection is gone (the
   * peer restarted, the network dropped) instead of waiting for pings to go unanswered.
   * Returns the unsubscribe function; nothing is called if there is no such connection now.
   */
  onOutboundClosed(hostPort: string, listener: () => void): () => void {
    if (!this.#outbound.has(hostPort)) return () => {}
    let watchers = this.#closeWatchers.get(hostPort)
    if (watchers === undefined) {
      watchers = new Set()
      this.#closeWatchers.set(hostPort, watchers)
    }
    watchers.add(listener)
    return () => {
      watchers.delete(listener)
      if (watchers.size === 0 && this.#closeWatchers.get(hostPort) === watchers) this.#closeWatchers.delete(hostPort)
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    const closing = [...this.#servers.values()].map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    )
    for (const connection of this.#connections) connection.close()
    this.#servers.clear()
    await Promise.all(closing)
  }

  async #dial(hostPort: string): Promise<TcpConnection> {
    if (this.#stopped) throw new OckamError('OCKAM_ERR_STOPPED', 'the TCP transport is stopped')
    const target: HostPort = parseHostPort(hostPort)
    const socket = createConnection({ host: target.host, port: target.port, noDelay: true })
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.destroy()
          reject(
            new OckamError(
              'OCKAM_ERR_TIMEOUT',
              `connecting to ${hostPort} took longer than ${this.#connectTimeoutMs} ms`,
            ),
          )
        }, this.#connectTimeoutMs)
        socket.once('connect', () => {
          clearTimeout(timer)
          resolve()
        })
        socket.once('error', (cause: NodeJS.ErrnoException) => {
          clearTimeout(timer)
          reject(
            new OckamError(
              'OCKAM_ERR_TCP_CONNECT_FAILED',
              `cannot connect to ${hostPort}: ${cause.code ?? cause.message}`,
              {
                cause,
                hint:
                  cause.code === 'ECONNREFUSED'
                    ? 'is a node listening there? start one with: ockam-runtime node create NAME --foreground --tcp-listener-address ' +
                      hostPort
                    : 'check the address and the network',
              },
            ),
          )
        })
      })
    } catch (error) {
      this.#router.counters.inc('tcp.connect_failures')
      throw error
    }
    if (this.#stopped) {
      // stop() ran while we were connecting: it could not close what did not exist yet.
      socket.destroy()
      throw new OckamError('OCKAM_ERR_STOPPED', 'the TCP transport stopped while connecting')
    }
    const connection = this.#adopt(socket, 'outbound', hostPort)
    this.#outbound.set(hostPort, connection)
    await connection.start()
    return connection
  }

  #accept(socket: Socket, listener: string): void {
    if (this.#stopped || this.#inboundCount >= this.#maxInbound) {
      this.#router.counters.inc('tcp.refused.OCKAM_ERR_TCP_TOO_MANY_CONNECTIONS')
      socket.destroy()
      return
    }
    this.#inboundCount++
    const peer = formatHostPort({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 })
    const connection = this.#adopt(socket, 'inbound', peer)
    this.#acceptedBy.set(connection, listener)
    connection.start().catch((error: unknown) => {
      this.#log.error({ err: error, peer }, 'could not start an inbound connection')
      connection.close()
    })
  }

  #adopt(socket: Socket, direction: 'inbound' | 'outbound', peer: string): TcpConnection {
    const connection = new TcpConnection({
      socket,
      direction,
      peer,
      router: this.#router,
      budget: this.#budget,
      limits: this.#limits,
      violations: this.#violations,
      onClosed: (closed) => {
        this.#connections.delete(closed)
        this.#acceptedBy.delete(closed)
        if (closed.direction === 'inbound') this.#inboundCount--
        if (this.#outbound.get(closed.peer) === closed) {
          this.#outbound.delete(closed.peer)
          const watchers = this.#closeWatchers.get(closed.peer)
          this.#closeWatchers.delete(closed.peer)
          for (const watcher of watchers ?? []) {
            try {
              watcher()
            } catch (error) {
              this.#log.warn({ err: error, peer: closed.peer }, 'a connection-close watcher failed')
            }
          }
        }
      },
    })
    this.#connections.add(connection)
    return connection
  }
}

/** Factory in the js-libp2p shape: options now, components when the node wires it. */
export function tcpTransport(options: TcpTransportOptions = {}): (components: TransportComponents) => TcpTransport {
  return (components) => new TcpTransport(options, components)
}
