/**
 * One portal, at either end: a worker at an unguessable local address bound to one local TCP
 * socket (the client at an inlet, the target at an outlet). Bytes read from the socket go to the
 * peer portal as `data` messages within the credit the peer granted; `data` from the peer is
 * written to the socket, and credit goes back only once the socket took the bytes.
 *
 * The handler never waits: a slow socket holds its own window of data and nothing else, so the
 * route's other portals keep flowing. All outgoing messages leave through one ordered queue
 * (sequence numbers are assigned in that order). A stream ends cleanly only after an `end`
 * from each side with every sequence number accounted for; any other ending resets the local
 * socket (RST), so a client never takes a cut stream for a complete one.
 */
import type { Socket } from 'node:net'
import type { IncomingAccessControl } from '../../runtime/access-control.js'
import { type Address, addressKey, LOCAL } from '../../runtime/address.js'
import type { Context } from '../../runtime/context.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import { type LocalMetadata, type Message, sameIngress } from '../../runtime/message.js'
import type { Route } from '../../runtime/route.js'
import type { Router } from '../../runtime/router.js'
import type { Worker } from '../../runtime/worker.js'
import { PORTAL_FULL_READ_BYTES, PORTAL_MIN_GRANT_BYTES, PORTAL_PROTOCOL_VERSION } from './constants.js'
import { CreditReceiver, CreditSender } from './credit.js'
import type { CreditPool } from './credit-pool.js'
import {
  DATA,
  decodePortalMessage,
  encodeCredit,
  encodeDataFrom,
  encodeEnd,
  encodeOpened,
  encodeReset,
  encodeReturn,
  OPENED,
  type PortalMessage,
  type ResetReason,
} from './messages.js'

/** Numbers fixed per inlet or outlet. */
export interface StreamSettings {
  readonly windowBytes: number
  readonly maxChunkBytes: number
  readonly idleCreditKeepBytes: number
  readonly lingerMs: number
}

/** What a stream reports to the inlet or outlet that owns it. */
export interface StreamHost {
  readonly router: Router
  readonly pool: CreditPool
  readonly settings: StreamSettings
  /** Byte counters of the inlet or outlet (mutated in place on the hot path). */
  readonly bytes: { in: number; out: number }
  /**
   * Which came last, a socket read (sent on to the peer) or a message from a peer, of any type:
   * numbers from one counter, so `lastRead > lastHeard` says something was sent and nothing heard
   * since, and a `lastHeard` that moved is a witness that the route carries traffic.
   */
  activity: { seq: number; lastRead: number; lastHeard: number }
  /** The stream is open (handshake done): counts it, checks the inlet's policy. */
  opened(stream: PortalStream): void
  /** The stream ended; `error` is undefined for a clean end of both directions. */
  closed(stream: PortalStream, reason: ResetReason | undefined, error: OckamError | undefined): void
}

/** Data messages queued but not handed to the router yet before reading the socket pauses. */
const MAX_QUEUED_DATA_MESSAGES = 2

type State = 'opening' | 'open' | 'closed'

export class PortalStream implements Worker {
  readonly address: Address
  readonly side: 'inlet' | 'outlet'
  readonly incoming: IncomingAccessControl
  readonly #host: StreamHost
  readonly #socket: Socket
  readonly #receiver: CreditReceiver
  readonly #sender = new CreditSender()
  readonly #maxChunk: number
  #state: State = 'opening'
  /** The route to the peer portal and the ingress of its first message (sends keep it, like a reply). */
  #peerRoute: Route | undefined
  #peerLocal: LocalMetadata | undefined
  /** #peerLocal for data messages: a channel may batch them (control messages leave at once). */
  #dataLocal: LocalMetadata | undefined
  /** The peer's first message (open at an outlet, opened at an inlet): what policies re-check. */
  #peerMessage: Message | undefined
  #sendSeq = 0
  #recvSeq = 0
  readonly #queue: Uint8Array[] = []
  #queuedData = 0
  #pumping = false
  /** Bytes read from the socket and not yet sent (coalesced into chunks within one loop turn). */
  #pending: Buffer[] = []
  #pendingBytes = 0
  #flushScheduled = false
  /** The last socket read was short: the socket had nothing more, so a partial chunk need not wait. */
  #lastReadShort = false
  #reading = false
  #localEnded = false
  /** The socket closed cleanly after both directions ended; the end message may still be pending. */
  #socketClosed = false
  #endSent = false
  #peerEnded = false
  #sentSinceSweep = false
  #waitingForPool = false
  /** Costs of writes handed to the socket, in order; each write callback takes the first. */
  readonly #writeCosts: number[] = []
  #lingerTimer: NodeJS.Timeout | undefined
  readonly #abort = new AbortController()

  /** What the socket is, for log lines: `client 127.0.0.1:5000`, `target db:5432`. */
  readonly #label: string

  constructor(options: {
    address: Address
    side: 'inlet' | 'outlet'
    socket: Socket
    host: StreamHost
    label: string
  }) {
    this.address = options.address
    this.#label = options.label
    this.side = options.side
    this.#socket = options.socket
    this.#host = options.host
    const { windowBytes, idleCreditKeepBytes } = options.host.settings
    // Every portal starts with the credit an idle one keeps: a burst of new portals then takes
    // little from the pool, and the ones that send much grow their window (CreditReceiver).
    const start = Math.min(windowBytes, Math.max(PORTAL_MIN_GRANT_BYTES, idleCreditKeepBytes))
    this.#receiver = new CreditReceiver(windowBytes, options.host.pool, start)
    this.#maxChunk = options.host.settings.maxChunkBytes
    this.incoming = {
      name: 'portal',
      allows: (message) => {
        const ingress = message.local.ingress
        // Relay registrations carry no identity and reach only secure-channel listeners (DESIGN §12).
        if (ingress.kind === 'relay') return false
        return this.#peerLocal === undefined || sameIngress(this.#peerLocal.ingress, ingress)
      },
    }
    const socket = this.#socket
    socket.setNoDelay(true)
    socket.on('error', this.#onSocketError)
    socket.on('close', this.#onSocketClose)
  }

  get state(): State {
    return this.#state
  }

  get peerMessage(): Message | undefined {
    return this.#peerMessage
  }

  /** Units of peer data held for the socket (this portal's share of the buffered-bytes gauge). */
  get heldBytes(): number {
    return this.#receiver.held
  }

  /** Credit this side granted the peer and the peer has not used yet. */
  get grantedOutstanding(): number {
    return this.#receiver.outstanding
  }

  /** Fires when the stream closes; aborts an inlet's pending open. */
  get signal(): AbortSignal {
    return this.#abort.signal
  }

  get socket(): Socket {
    return this.#socket
  }

  /** The credit to announce in open/opened: the first grant of this side's window. */
  initialGrant(): number {
    const granted = this.#receiver.grant()
    if (granted === 0 && this.#receiver.wantsMore) this.#waitForPool()
    return granted
  }

  /**
   * Outlet side: the open arrived from `message` (granting `credit`) and the target socket is
   * connecting. Replies go back along the open's return route, with its ingress.
   */
  bindPeer(message: Message, credit: number): void {
    this.#bindPeerMessage(message)
    this.#sender.add(credit)
  }

  /** The peer's first message: where replies go (its return route) and with what ingress. */
  #bindPeerMessage(message: Message): void {
    this.#peerMessage = message
    this.#peerRoute = message.return
    this.#peerLocal = { ingress: message.local.ingress }
    this.#dataLocal = { ingress: message.local.ingress, batchable: true }
  }

  /** Outlet side: the target accepted; answer `opened` and start reading it. */
  targetConnected(): void {
    if (this.#state !== 'opening') return
    const credit = this.initialGrant()
    this.#enqueue(encodeOpened(PORTAL_PROTOCOL_VERSION, credit))
    this.#becomeOpen()
  }

  handleMessage(_ctx: Context, message: Message): void {
    const activity = this.#host.activity
    activity.lastHeard = ++activity.seq
    if (this.#state === 'closed') {
      this.#answerLateOpened(message)
      return
    }
    let decoded: PortalMessage
    try {
      decoded = decodePortalMessage(message.payload)
      this.#handle(decoded, message)
    } catch (error) {
      const typed = isOckamError(error) ? error : new OckamError('OCKAM_ERR_INTERNAL', String(error), { cause: error })
      this.reset(typed.code === 'OCKAM_ERR_PORTAL_VERSION' ? 'version' : 'protocol-error', typed, true)
    }
  }

  shutdown(): void {
    this.reset('shutdown', new OckamError('OCKAM_ERR_STOPPED', 'the portal worker stopped'), true)
  }

  #handle(m: PortalMessage, message: Message): void {
    switch (m.type) {
      case 'opened':
        this.#onOpened(m.version, m.credit, message)
        return
      case 'reset':
        this.reset(
          'aborted',
          new OckamError('OCKAM_ERR_PORTAL_RESET', `the ${this.#peerSide()} reset the portal (${m.reason ?? m.code})`, {
            data: { reason: m.reason ?? m.code, by: 'peer' },
          }),
          false,
          m.reason,
        )
        return
      case 'open':
        throw new OckamError('OCKAM_ERR_PORTAL_PROTOCOL', 'an open message was sent to an open portal')
      default:
        break
    }
    if (this.#state !== 'open') {
      throw new OckamError('OCKAM_ERR_PORTAL_PROTOCOL', `a ${m.type} message arrived before the portal was open`)
    }
    if (m.seq !== this.#recvSeq) {
      throw new OckamError(
        'OCKAM_ERR_PORTAL_OUT_OF_ORDER',
        `expected portal message ${this.#recvSeq}, got ${m.seq}: a message was lost or replayed on the way`,
        { data: { expected: this.#recvSeq, got: m.seq } },
      )
    }
    this.#recvSeq = (this.#recvSeq + 1) >>> 0
    switch (m.type) {
      case 'data':
        this.#onData(m.bytes)
        return
      case 'credit':
        this.#sender.add(m.amount)
        this.#drainPending(false)
        return
      case 'return':
        this.#receiver.returned(m.amount)
        return
      case 'end':
        this.#onPeerEnd()
        return
    }
  }

  #onOpened(version: number, credit: number, message: Message): void {
    if (this.side !== 'inlet' || this.#state !== 'opening') {
      throw new OckamError('OCKAM_ERR_PORTAL_PROTOCOL', 'an unexpected opened message')
    }
    // Bound first, so that a refusal below reaches the outlet portal (which would otherwise
    // keep its target connection open for nothing).
    this.#bindPeerMessage(message)
    if (version !== PORTAL_PROTOCOL_VERSION) {
      throw new OckamError('OCKAM_ERR_PORTAL_VERSION', `the outlet speaks portal protocol version ${version}`)
    }
    this.#sender.add(credit)
    this.#becomeOpen()
  }

  #becomeOpen(): void {
    this.#state = 'open'
    this.#host.opened(this)
    if (this.#state !== 'open') return // the inlet's policy said no
    const socket = this.#socket
    socket.on('data', this.#onSocketData)
    socket.on('end', this.#onSocketEnd)
    this.#reading = true
    socket.resume()
    // The first grant found the pool spent: a wake while opening could not grant, so ask again.
    if (this.#receiver.outstanding === 0) this.#grant()
  }

  /** An `opened` for a portal that gave up already (open timeout): tell that outlet portal to go. */
  #answerLateOpened(message: Message): void {
    if (message.payload[0] !== OPENED || this.#peerLocal !== undefined) return
    void this.#host.router
      .send({
        onward: message.return,
        return: [this.address],
        payload: encodeReset('timeout'),
        local: { ingress: message.local.ingress },
      })
      .catch(() => {})
  }

  // -------------------------------------------------------------------------------------------
  // Peer → socket

  #onData(bytes: Uint8Array): void {
    if (this.#peerEnded) throw new OckamError('OCKAM_ERR_PORTAL_PROTOCOL', 'data arrived after the end of the stream')
    const cost = this.#receiver.consume(bytes.length)
    this.#host.bytes.out += bytes.length
    // A small view into a large transport buffer would keep the whole buffer alive while the
    // socket is slow; copy it so that what the credit counts is what is held.
    const chunk =
      this.#socket.writableLength > 0 && bytes.length * 2 < bytes.buffer.byteLength ? Buffer.from(bytes) : bytes
    this.#writeCosts.push(cost)
    this.#socket.write(chunk, this.#onWritten)
  }

  readonly #onWritten = (error?: Error | null): void => {
    const cost = this.#writeCosts.shift() ?? 0
    if (error || this.#state === 'closed') return
    this.#receiver.flushed(cost)
    this.#grant()
  }

  #grant(): void {
    // After the peer's end it sends no more data: granting would be a message for nothing.
    if (this.#peerEnded || this.#state !== 'open') return
    const granted = this.#receiver.grant()
    if (granted > 0) this.#enqueue(encodeCredit(this.#nextSeq(), granted))
    else if (this.#receiver.wantsMore) this.#waitForPool()
  }

  #waitForPool(): void {
    if (this.#waitingForPool) return
    this.#waitingForPool = true
    this.#host.pool.wait(this.#onPoolRoom)
  }

  readonly #onPoolRoom = (): void => {
    this.#waitingForPool = false
    this.#grant()
  }

  #onPeerEnd(): void {
    if (this.#peerEnded) throw new OckamError('OCKAM_ERR_PORTAL_PROTOCOL', 'a second end of stream')
    this.#peerEnded = true
    // Written after everything queued before it: the FIN follows the last byte.
    this.#socket.end()
  }

  // -------------------------------------------------------------------------------------------
  // Socket → peer

  readonly #onSocketData = (chunk: Buffer): void => {
    const host = this.#host
    host.bytes.in += chunk.length
    host.activity.lastRead = ++host.activity.seq
    this.#pending.push(chunk)
    this.#pendingBytes += chunk.length
    this.#lastReadShort = chunk.length < PORTAL_FULL_READ_BYTES
    this.#drainPending(false)
  }

  readonly #onSocketEnd = (): void => {
    this.#localEnded = true
    this.#drainPending(true)
  }

  /**
   * Turns pending socket bytes into data messages, as far as credit and the queue allow. Full
   * chunks go at once; a partial one after a full read waits for the end of this event-loop turn
   * (setImmediate), so the several reads libuv makes in one poll are sent as large chunks, not as
   * 64 KiB reads cut into a chunk and a sliver. After a short read nothing more is coming: it goes
   * at once.
   */
  #drainPending(final: boolean): void {
    if (this.#state !== 'open') return
    while (this.#pendingBytes > 0 && this.#queuedData < MAX_QUEUED_DATA_MESSAGES) {
      const length = this.#sender.nextLength(this.#pendingBytes, this.#maxChunk)
      if (length === 0) break
      if (!final && !this.#lastReadShort && length < this.#maxChunk && length === this.#pendingBytes) {
        if (!this.#flushScheduled) {
          this.#flushScheduled = true
          setImmediate(this.#flushPartial)
        }
        break
      }
      const payload = encodeDataFrom(this.#nextSeq(), this.#pending, length)
      this.#pendingBytes -= length
      this.#sender.spend(length)
      this.#sentSinceSweep = true
      this.#queuedData++
      this.#enqueue(payload)
    }
    if (this.#pendingBytes === 0 && this.#localEnded && !this.#endSent) {
      this.#endSent = true
      this.#enqueue(encodeEnd(this.#nextSeq()))
      this.#maybeFinish()
    }
    // Read on only while what was read can leave: the socket's own buffer and the kernel hold
    // the rest, and this side holds at most a couple of chunks per portal.
    const blocked = this.#pendingBytes >= this.#maxChunk || this.#queuedData >= MAX_QUEUED_DATA_MESSAGES
    if (blocked && this.#reading) {
      this.#reading = false
      this.#socket.pause()
    } else if (!blocked && !this.#reading && !this.#localEnded) {
      this.#reading = true
      this.#socket.resume()
    }
  }

  readonly #flushPartial = (): void => {
    this.#flushScheduled = false
    this.#drainPending(true)
  }

  #nextSeq(): number {
    const seq = this.#sendSeq
    this.#sendSeq = (seq + 1) >>> 0
    return seq
  }

  #enqueue(payload: Uint8Array): void {
    this.#queue.push(payload)
    if (!this.#pumping) void this.#pump()
  }

  async #pump(): Promise<void> {
    this.#pumping = true
    const router = this.#host.router
    try {
      for (let payload = this.#queue.shift(); payload !== undefined; payload = this.#queue.shift()) {
        if (payload[0] === DATA) this.#queuedData--
        const peerRoute = this.#peerRoute as Route
        await router.send({
          onward: peerRoute,
          return: [this.address],
          payload,
          local: payload[0] === DATA ? (this.#dataLocal as LocalMetadata) : (this.#peerLocal as LocalMetadata),
        })
      }
    } catch (error) {
      this.#pumping = false
      const typed = isOckamError(error) ? error : new OckamError('OCKAM_ERR_INTERNAL', String(error))
      this.reset(
        'path-lost',
        new OckamError('OCKAM_ERR_PORTAL_PATH_LOST', `cannot send to the ${this.#peerSide()}: ${typed.message}`, {
          cause: typed,
          data: { cause: typed.code },
        }),
        false,
      )
      return
    }
    this.#pumping = false
    // The queue is empty: reading may resume, and pending bytes may go.
    if (this.#state === 'open') this.#drainPending(this.#localEnded)
  }

  // -------------------------------------------------------------------------------------------
  // Endings

  readonly #onSocketError = (error: NodeJS.ErrnoException): void => {
    if (this.side === 'outlet' && this.#state === 'opening') {
      this.reset(
        'target-unreachable',
        new OckamError(
          'OCKAM_ERR_PORTAL_TARGET_UNREACHABLE',
          `the outlet cannot connect to its target ${this.#label}: ${error.code ?? error.message}`,
          { data: { errno: error.code } },
        ),
        true,
      )
      return
    }
    this.reset(
      'aborted',
      new OckamError(
        'OCKAM_ERR_PORTAL_RESET',
        `the ${this.side === 'inlet' ? 'client' : 'target'} connection failed: ${error.code ?? error.message}`,
        {
          data: { by: 'socket', errno: error.code },
        },
      ),
      true,
    )
  }

  readonly #onSocketClose = (hadError: boolean): void => {
    if (this.#state === 'closed') return
    if (!hadError && this.#localEnded && this.#peerEnded) {
      // Both directions ended and every write was flushed (Node closes a half-open socket only
      // then). Our end message may still wait for credit to send the last bytes.
      this.#socketClosed = true
      this.#maybeFinish()
      return
    }
    this.reset(
      'aborted',
      new OckamError(
        'OCKAM_ERR_PORTAL_RESET',
        `the ${this.side === 'inlet' ? 'client' : 'target'} connection closed before both ends of the stream`,
        { data: { by: 'socket' } },
      ),
      true,
    )
  }

  #maybeFinish(): void {
    if (this.#endSent && this.#peerEnded && this.#socketClosed) this.#finish()
  }

  #finish(): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#release()
    this.#host.closed(this, undefined, undefined)
  }

  /**
   * Aborts both directions: the local socket gets an RST (never a FIN), the peer a reset message
   * when `notify` and its route is known. `remoteReason` is the reason the peer gave, if any.
   */
  reset(reason: ResetReason, error: OckamError, notify: boolean, remoteReason?: ResetReason): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#release()
    this.#pending = []
    this.#pendingBytes = 0
    this.#queue.length = 0
    this.#queuedData = 0
    if (notify && this.#peerRoute !== undefined) this.#enqueue(encodeReset(reason))
    const socket = this.#socket
    if (socket.connecting) {
      // Not connected yet (an outlet's target): nothing to reset, and resetAndDestroy would
      // wait for the connection to complete first.
      socket.destroy()
    } else if (!socket.destroyed) {
      try {
        socket.resetAndDestroy()
      } catch {
        socket.destroy()
      }
    }
    this.#host.closed(this, remoteReason ?? reason, error)
  }

  #release(): void {
    this.#abort.abort()
    this.#receiver.close()
    if (this.#waitingForPool) {
      this.#waitingForPool = false
      this.#host.pool.cancelWait(this.#onPoolRoom)
    }
    // Messages that crossed the close in flight still find the address for a while.
    this.#lingerTimer = setTimeout(() => void this.#host.router.stopWorker(this.address), this.#host.settings.lingerMs)
    this.#lingerTimer.unref()
  }

  /**
   * Once per sweep period: reset when the route's first hop (the connection or channel the
   * portal runs over) is gone; give credit back when idle for a whole period.
   */
  sweep(): void {
    if (this.#state !== 'open') return
    const first = this.#peerRoute?.[0]
    if (first !== undefined && first.type === LOCAL && !this.#host.router.hasWorker(first)) {
      this.reset(
        'path-lost',
        new OckamError(
          'OCKAM_ERR_PORTAL_PATH_LOST',
          `the route to the ${this.#peerSide()} is gone (${addressKey(first)} stopped)`,
        ),
        false,
      )
      return
    }
    if (!this.#sentSinceSweep && this.#pendingBytes === 0 && !this.#endSent) {
      const surplus = this.#sender.giveBack(this.#host.settings.idleCreditKeepBytes)
      if (surplus > 0) this.#enqueue(encodeReturn(this.#nextSeq(), surplus))
    }
    this.#sentSinceSweep = false
  }

  #peerSide(): string {
    return this.side === 'inlet' ? 'outlet' : 'inlet'
  }

  toString(): string {
    return `PortalStream(${addressKey(this.address)} ${this.side} ${this.#state})`
  }
}
