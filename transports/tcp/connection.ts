/**
 * One TCP connection as a worker. Its local address is the sending side: a message routed to
 * it loses that first hop and goes out as a frame. Frames that arrive are turned into messages
 * whose return route starts with this address and whose ingress names this connection.
 *
 * Backpressure both ways: reading hands each chunk's frames on at once and pauses the socket
 * while a destination mailbox or the node's buffer budget is full; writing waits for `drain`,
 * which keeps this worker's mailbox filling up, which makes its senders wait.
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { connectionEgress } from '../../runtime/access-control.js'
import { type Address, addressKey, local } from '../../runtime/address.js'
import type { BufferBudget } from '../../runtime/buffer-budget.js'
import type { Context } from '../../runtime/context.js'
import { channels } from '../../runtime/diagnostics.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import type { LocalMetadata, Message } from '../../runtime/message.js'
import type { RateLimitedLog } from '../../runtime/rate-limited-log.js'
import type { Router } from '../../runtime/router.js'
import type { Worker } from '../../runtime/worker.js'
import { TCP_CONNECTION_PREFIX, WIRE_VERSION } from './constants.js'
import { decodeFrameBody, encodeFrameHeader, HEARTBEAT_FRAME } from './frame-codec.js'
import { FrameReader } from './frame-reader.js'

export interface TcpConnectionLimits {
  readonly maxFrameBytes: number
  readonly frameTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly idleTimeoutMs: number
  readonly closeTimeoutMs: number
}

export interface TcpConnectionOptions {
  readonly socket: Socket
  readonly direction: 'inbound' | 'outbound'
  /** `host:port` of the other end, for logs and ingress metadata. */
  readonly peer: string
  readonly router: Router
  readonly budget: BufferBudget
  readonly limits: TcpConnectionLimits
  readonly violations: RateLimitedLog
  readonly onClosed: (connection: TcpConnection) => void
}

let nextId = 0

export class TcpConnection implements Worker {
  readonly address: Address
  readonly peer: string
  readonly direction: 'inbound' | 'outbound'
  readonly #socket: Socket
  readonly #router: Router
  readonly #budget: BufferBudget
  readonly #limits: TcpConnectionLimits
  readonly #violations: RateLimitedLog
  readonly #onClosed: (connection: TcpConnection) => void
  readonly #reader: FrameReader
  #frameTimer: NodeJS.Timeout | undefined
  #livenessTimer: NodeJS.Timeout | undefined
  #lastReadAt = Date.now()
  /**
   * True while the read loop waits on this node (a full mailbox, the buffer budget). The peer's
   * heartbeats then sit unread in the kernel, so silence is ours, not the peer's.
   */
  #waitingLocally = false
  /** The peer ended (or the socket closed) while frames were waiting: close once they are delivered. */
  #peerGone = false
  #corked = false
  #lastWriteAt = Date.now()
  #closed = false
  /** What every frame from this peer carries as local metadata (the same for all of them). */
  readonly #metadata: LocalMetadata
  bytesIn = 0
  bytesOut = 0

  constructor(options: TcpConnectionOptions) {
    // Unguessable so that a peer cannot name another peer's connection in a route (the egress
    // access control refuses that anyway; this is a second wall).
    this.address = local(`${TCP_CONNECTION_PREFIX}${(nextId++).toString(36)}-${randomBytes(6).toString('hex')}`)
    this.#metadata = Object.freeze({
      ingress: Object.freeze({ kind: 'tcp', connection: this.address.value, peer: options.peer }),
    })
    this.peer = options.peer
    this.direction = options.direction
    this.#socket = options.socket
    this.#router = options.router
    this.#budget = options.budget
    this.#limits = options.limits
    this.#violations = options.violations
    this.#onClosed = options.onClosed
    this.#reader = new FrameReader({
      maxFrameBytes: options.limits.maxFrameBytes,
      onBuffered: (delta) => (delta > 0 ? this.#budget.take(delta) : this.#budget.release(-delta)),
    })
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Bytes queued in the socket's write buffer: the outgoing side of the buffered-bytes gauge. */
  get writeBuffered(): number {
    return this.#socket.writableLength
  }

  get readBuffered(): number {
    return this.#reader.bufferedBytes
  }

  async start(): Promise<void> {
    this.#socket.setNoDelay(true)
    await this.#router.startWorker([this.address], this, { incoming: connectionEgress(this.address.value) })
    this.#socket.write(Uint8Array.of(WIRE_VERSION))
    this.#socket.on('error', () => {}) // an error is followed by 'close', which closes the connection
    const tick = Math.max(10, Math.floor(this.#limits.heartbeatIntervalMs / 2))
    this.#livenessTimer = setInterval(() => this.#checkLiveness(), tick)
    this.#livenessTimer.unref()
    this.#router.counters.inc('tcp.connections.opened')
    if (channels.connectionOpened.hasSubscribers) {
      channels.connectionOpened.publish({ node: this.#router.nodeName, peer: this.peer, direction: this.direction })
    }
    this.#startReading()
  }

  /** Not async: a write that the socket took (the usual case) returns nothing to wait for. */
  handleMessage(_ctx: Context, message: Message): Promise<void> | undefined {
    // Destroyed before close() ran (the peer reset while frames were still being delivered): a
    // write would wait for a 'close' that already fired.
    if (this.#closed || this.#socket.destroyed) {
      throw new OckamError('OCKAM_ERR_TCP_CONNECTION_CLOSED', `connection to ${this.peer} is closed`)
    }
    const onward = message.onward.slice(1)
    const header = encodeFrameHeader(onward, message.return, message.payload.length)
    const bodyLength = header.length - 4 + message.payload.length
    if (bodyLength > this.#limits.maxFrameBytes) {
      throw new OckamError(
        'OCKAM_ERR_TCP_FRAME_TOO_LARGE',
        `a ${bodyLength}-byte frame exceeds the ${this.#limits.maxFrameBytes}-byte maximum`,
        { hint: 'split the payload (secure channels and portals do this for you)' },
      )
    }
    this.#corkUntilNextTick()
    this.#socket.write(header)
    const flushed = this.#socket.write(message.payload)
    this.#lastWriteAt = Date.now()
    this.bytesOut += header.length + message.payload.length
    return !flushed && !this.#closed ? this.#drainedOrClosed() : undefined
  }

  /**
   * Everything written until the current burst of work ends leaves in one writev: the mailbox
   * drains message after message in microtasks, and process.nextTick runs after them. Measured:
   * a syscall per frame was 36% of a stream's CPU; one per tick took a 1-byte stream from ~120k
   * to ~400k messages/s between two processes, with round-trip latency unchanged.
   */
  #corkUntilNextTick(): void {
    if (this.#corked) return
    this.#corked = true
    this.#socket.cork()
    process.nextTick(() => {
      this.#corked = false
      this.#socket.uncork()
    })
  }

  /**
   * Resolves on 'drain' or 'close' and removes both listeners either way. (Racing two
   * events.once() left the loser's 'close' and 'error' listeners on the socket: one pair leaked
   * per backpressured write.)
   */
  #drainedOrClosed(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off('drain', done)
        this.#socket.off('close', done)
        resolve()
      }
      this.#socket.on('drain', done)
      this.#socket.on('close', done)
    })
  }

  /** Closes once. With an error: logged (rate-limited), counted, socket destroyed. */
  close(error?: OckamError): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#livenessTimer)
    clearTimeout(this.#frameTimer)
    this.#reader.reset()
    const counters = this.#router.counters
    counters.inc('tcp.connections.closed')
    if (error !== undefined) {
      counters.inc(`tcp.closed.${error.code}`)
      this.#violations.warn(
        error.code,
        { code: error.code, peer: this.peer, direction: this.direction, ...(error.data ?? {}) },
        `closing connection: ${error.message}`,
      )
      this.#socket.destroy()
    } else {
      this.#socket.end()
      setTimeout(() => this.#socket.destroy(), this.#limits.closeTimeoutMs).unref()
    }
    if (channels.connectionClosed.hasSubscribers) {
      channels.connectionClosed.publish({ node: this.#router.nodeName, peer: this.peer, code: error?.code })
    }
    this.#onClosed(this)
    void this.#router.stopWorker(this.address)
  }

  /**
   * Reads with 'data' events, which run straight from the socket's read callback (an async
   * iterator costs a promise and a microtask hop per chunk). A chunk's frames are delivered in
   * order; while that is pending (a full mailbox, the buffer budget) the socket is paused, so the
   * rest waits in the kernel.
   */
  #startReading(): void {
    this.#socket.on('data', this.#onData)
    this.#socket.on('end', this.#onPeerGone)
    this.#socket.on('close', this.#onPeerGone)
  }

  /**
   * The peer ended or the socket closed. While frames that already arrived are still waiting for
   * room (the socket paused), they are delivered first and the connection closes after them, as
   * a peer that sends its last frames and then its FIN expects.
   */
  readonly #onPeerGone = (): void => {
    if (this.#waitingLocally) this.#peerGone = true
    else this.close()
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closed) return
    this.#lastReadAt = Date.now()
    this.bytesIn += chunk.length
    let frames: Buffer[]
    try {
      frames = this.#reader.push(chunk)
    } catch (error) {
      this.close(isOckamError(error) ? error : undefined)
      return
    }
    this.#armFrameTimer(frames.length > 0)
    // Frames go straight into their workers' mailboxes; the first that would have to wait (a
    // full mailbox) and the ones after it wait in order, with the socket paused.
    for (let i = 0; i < frames.length; i++) {
      let waiting: Message | undefined
      try {
        waiting = this.#deliverNow(frames[i] as Buffer)
      } catch (error) {
        this.close(isOckamError(error) ? error : undefined)
        return
      }
      if (waiting !== undefined) {
        this.#waitFor(this.#sendFrame(waiting), frames.slice(i + 1))
        return
      }
    }
    // Only a connection that holds bytes waits: one whose frames all completed adds nothing to
    // the budget, and making it wait let slow peers stall every honest connection.
    if (this.#budget.exhausted && this.#reader.bufferedBytes > 0) this.#waitFor(undefined, [])
  }

  /** Pauses reading until `pending` and then `rest` are delivered (and the budget has room). */
  #waitFor(pending: Promise<void> | undefined, rest: readonly Buffer[]): void {
    this.#socket.pause()
    this.#waitingLocally = true
    void this.#deliverAll(pending, rest)
  }

  async #deliverAll(pending: Promise<void> | undefined, rest: readonly Buffer[]): Promise<void> {
    try {
      await pending
      for (const body of rest) {
        if (this.#closed) return
        const waiting = this.#deliverNow(body)
        if (waiting !== undefined) await this.#sendFrame(waiting)
      }
      if (this.#closed) return
      if (this.#budget.exhausted && this.#reader.bufferedBytes > 0) {
        this.#router.counters.inc('tcp.budget_waits')
        await this.#budget.whenAvailable()
      }
    } catch (error) {
      this.close(isOckamError(error) ? error : undefined)
      return
    }
    this.#waitingLocally = false
    this.#lastReadAt = Date.now()
    if (this.#peerGone) this.close()
    else if (!this.#closed) this.#socket.resume()
  }

  /**
   * Decodes one frame body and hands its message on at once if it can; returns the message when
   * it has to wait for room (`#sendFrame` it). Refusals are counted by the router; the
   * connection stays up for others.
   */
  #deliverNow(body: Buffer): Message | undefined {
    const decoded = decodeFrameBody(body)
    if (decoded.onward.length === 0) {
      this.#router.counters.inc('tcp.heartbeats.received')
      return undefined
    }
    this.#router.counters.inc('tcp.frames.received')
    const message: Message = {
      onward: decoded.onward,
      return: [this.address, ...decoded.return],
      payload: decoded.payload,
      local: this.#metadata,
    }
    try {
      return this.#router.trySend(message) ? undefined : message
    } catch (error) {
      this.#router.counters.inc('tcp.frames.undeliverable')
      if (!isOckamError(error)) throw error
      return undefined
    }
  }

  async #sendFrame(message: Message): Promise<void> {
    try {
      await this.#router.send(message)
    } catch (error) {
      this.#router.counters.inc('tcp.frames.undeliverable')
      if (!isOckamError(error)) throw error
    }
  }

  /**
   * Each frame gets frameTimeoutMs from its first byte. When a frame completed in this chunk, the
   * partial one after it started in this chunk too, so its deadline starts now (keeping the old
   * timer closed busy connections whose chunks kept ending inside a frame).
   */
  #armFrameTimer(frameCompleted: boolean): void {
    if (frameCompleted && this.#frameTimer !== undefined) {
      clearTimeout(this.#frameTimer)
      this.#frameTimer = undefined
    }
    if (this.#reader.inFrame) {
      if (this.#frameTimer === undefined) {
        this.#frameTimer = setTimeout(() => {
          this.close(
            new OckamError(
              'OCKAM_ERR_TCP_FRAME_TIMEOUT',
              `a frame was not completed within ${this.#limits.frameTimeoutMs} ms`,
              { data: { heldBytes: this.#reader.bufferedBytes } },
            ),
          )
        }, this.#limits.frameTimeoutMs)
        this.#frameTimer.unref()
      }
    } else if (this.#frameTimer !== undefined) {
      clearTimeout(this.#frameTimer)
      this.#frameTimer = undefined
    }
  }

  #checkLiveness(): void {
    const now = Date.now()
    if (!this.#waitingLocally && now - this.#lastReadAt >= this.#limits.idleTimeoutMs) {
      this.close(new OckamError('OCKAM_ERR_TCP_HEARTBEAT_MISSED', `nothing received for ${now - this.#lastReadAt} ms`))
      return
    }
    if (now - this.#lastWriteAt >= this.#limits.heartbeatIntervalMs && this.#socket.writableLength === 0) {
      this.#socket.write(HEARTBEAT_FRAME)
      this.#lastWriteAt = now
      this.#router.counters.inc('tcp.heartbeats.sent')
    }
  }

  toString(): string {
    return `TcpConnection(${addressKey(this.address)} ${this.direction} ${this.peer})`
  }
}
