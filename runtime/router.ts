/**
 * The router: a map from addresses to workers, each with a bounded mailbox and a loop that
 * hands it one message at a time. `send` resolves the first onward hop (asking a transport for
 * non-local addresses), checks the destination's incoming access control, and waits for
 * mailbox space. It is the single place where the "no dialing on behalf of the network" rule
 * is enforced (DESIGN §12).
 */
import type { IncomingAccessControl } from './access-control.js'
import { localOnly } from './access-control.js'
import { type Address, addressKey, LOCAL } from './address.js'
import { Context } from './context.js'
import { type Counters, channels } from './diagnostics.js'
import { isOckamError, OckamError, throwIfAborted } from './errors.js'
import { DEFAULT_MAILBOX_CAPACITY } from './limits.js'
import type { Logger } from './log.js'
import { Mailbox } from './mailbox.js'
import type { Message } from './message.js'
import { RateLimitedLog } from './rate-limited-log.js'
import type { Transport } from './transport.js'
import type { Worker, WorkerOptions } from './worker.js'

interface WorkerEntry {
  readonly addresses: readonly Address[]
  readonly worker: Worker
  readonly incoming: IncomingAccessControl
  readonly mailbox: Mailbox<Message>
  readonly context: Context
  running: boolean
  stopped: boolean
  /** Resolves when the current message (if any) is handled; used to stop gracefully. */
  idle: Promise<void>
}

/**
 * The abort reason of every stopped worker's context. One shared error: building an OckamError
 * (stack capture) per stop was 13% of a local request's cost.
 */
const WORKER_STOPPED = new OckamError('OCKAM_ERR_STOPPED', 'worker stopped')

export interface RouterOptions {
  readonly nodeName: string
  readonly log: Logger
  readonly counters: Counters
}

export interface SendOptions {
  readonly signal?: AbortSignal
}

export class Router {
  readonly nodeName: string
  readonly log: Logger
  readonly counters: Counters
  readonly #limitedLog: RateLimitedLog
  readonly #workers = new Map<string, WorkerEntry>()
  readonly #transports = new Map<number, Transport>()
  readonly #stops = new Set<Promise<void>>()
  #stopping = false

  constructor(options: RouterOptions) {
    this.nodeName = options.nodeName
    this.log = options.log
    this.counters = options.counters
    this.#limitedLog = new RateLimitedLog(options.log)
  }

  addTransport(transport: Transport): void {
    if (this.#transports.has(transport.type)) {
      throw new OckamError(
        'OCKAM_ERR_INVALID_ARGUMENT',
        `a transport for address type ${transport.type} is already set`,
      )
    }
    this.#transports.set(transport.type, transport)
  }

  transports(): Transport[] {
    return [...this.#transports.values()]
  }

  hasWorker(address: Address): boolean {
    return this.#workers.has(addressKey(address))
  }

  /** Local addresses of every registered worker (first address of each). */
  workerAddresses(): Address[] {
    const seen = new Set<WorkerEntry>()
    const out: Address[] = []
    for (const entry of this.#workers.values()) {
      if (seen.has(entry)) continue
      seen.add(entry)
      if (entry.addresses[0] !== undefined) out.push(entry.addresses[0])
    }
    return out
  }

  /** Messages queued in a worker's mailbox (a gauge for tests and status). */
  queuedAt(address: Address): number {
    return this.#workers.get(addressKey(address))?.mailbox.size ?? 0
  }

  async startWorker(addresses: readonly Address[], worker: Worker, options: WorkerOptions = {}): Promise<Context> {
    if (this.#stopping) throw new OckamError('OCKAM_ERR_STOPPED', `node ${this.nodeName} is stopping`)
    if (addresses.length === 0) throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a worker needs an address')
    for (const a of addresses) {
      if (a.type !== LOCAL)
        throw new OckamError('OCKAM_ERR_ADDRESS_INVALID', `workers have local addresses, not ${addressKey(a)}`)
      if (this.#workers.has(addressKey(a))) {
        throw new OckamError('OCKAM_ERR_ROUTER_ADDRESS_TAKEN', `address ${addressKey(a)} is already taken`, {
          hint: 'choose another address or stop the worker that holds it',
        })
      }
    }
    const context = new Context(this, addresses)
    const entry: WorkerEntry = {
      addresses,
      worker,
      incoming: options.incoming ?? localOnly,
      mailbox: new Mailbox<Message>(options.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY),
      context,
      // Until initialize has finished, messages that arrive wait in the mailbox (Worker contract).
      running: true,
      stopped: false,
      idle: Promise.resolve(),
    }
    for (const a of addresses) this.#workers.set(addressKey(a), entry)
    try {
      await worker.initialize?.(context)
    } catch (error) {
      for (const a of addresses) if (this.#workers.get(addressKey(a)) === entry) this.#workers.delete(addressKey(a))
      entry.mailbox.close(
        new OckamError('OCKAM_ERR_STOPPED', `worker ${addressKey(addresses[0] as Address)} failed to start`),
      )
      throw error
    }
    entry.running = false
    if (!entry.stopped && entry.mailbox.size > 0) this.#drain(entry)
    this.counters.inc('router.workers.started')
    return context
  }

  stopWorker(address: Address): Promise<void> {
    const entry = this.#workers.get(addressKey(address))
    if (entry === undefined || entry.stopped) return Promise.resolve()
    entry.stopped = true
    for (const a of entry.addresses) this.#workers.delete(addressKey(a))
    entry.mailbox.close(new OckamError('OCKAM_ERR_STOPPED', `worker ${addressKey(address)} stopped`))
    // Kept until done so that stop() also waits for stops nobody awaits (a connection closing
    // itself, a worker stopping itself from its handler).
    const stopping = this.#finishStop(entry, address)
    this.#stops.add(stopping)
    void stopping.then(() => this.#stops.delete(stopping))
    return stopping
  }

  async #finishStop(entry: WorkerEntry, address: Address): Promise<void> {
    await entry.idle
    try {
      await entry.worker.shutdown?.(entry.context)
    } catch (error) {
      this.log.warn({ err: error, address: addressKey(address) }, 'worker shutdown failed')
    }
    entry.context.abortController.abort(WORKER_STOPPED)
  }

  /**
   * Routes a message to the worker at its first onward hop. Resolves once the message is in
   * that worker's mailbox (waiting for space when the mailbox is full).
   */
  async send(message: Message, options: SendOptions = {}): Promise<void> {
    throwIfAborted(options.signal, 'send')
    let next = message.onward[0]
    if (next === undefined) throw new OckamError('OCKAM_ERR_ROUTER_EMPTY_ROUTE', 'the message has no onward route')
    if (next.type !== LOCAL) {
      const transport = this.#transports.get(next.type)
      if (transport === undefined) {
        throw new OckamError('OCKAM_ERR_ROUTER_NO_TRANSPORT', `no transport handles address type ${next.type}`)
      }
      // An open connection is found without a promise (8% of a stream's CPU went to awaiting it).
      const resolved = transport.lookup?.(next) ?? (await this.#resolve(transport, next, message, options.signal))
      message = { ...message, onward: [resolved, ...message.onward.slice(1)] }
      next = resolved
    }
    const entry = this.#admit(message, next)
    if (!entry.mailbox.tryPush(message)) {
      this.counters.inc('router.mailbox_full_waits')
      await entry.mailbox.push(message, options.signal)
    }
    if (!entry.running) this.#drain(entry)
  }

  /**
   * Delivers `message` at once when nothing has to be waited for: its first hop is a local worker
   * or an open connection, with room in its mailbox. Returns false when it would have to wait (a
   * transport to resolve, a full mailbox): `send` it then. Throws the refusals `send` rejects
   * with. A transport's read loop uses it so a frame costs no promise on the usual path.
   */
  trySend(message: Message): boolean {
    let next = message.onward[0]
    if (next === undefined) throw new OckamError('OCKAM_ERR_ROUTER_EMPTY_ROUTE', 'the message has no onward route')
    if (next.type !== LOCAL) {
      const resolved = this.#transports.get(next.type)?.lookup?.(next)
      if (resolved === undefined) return false
      message = { ...message, onward: [resolved, ...message.onward.slice(1)] }
      next = resolved
    }
    const entry = this.#admit(message, next)
    if (!entry.mailbox.tryPush(message)) return false
    if (!entry.running) this.#drain(entry)
    return true
  }

  /** The worker at `next`, if it takes `message`; throws (counted, logged) if not. */
  #admit(message: Message, next: Address): WorkerEntry {
    const entry = this.#workers.get(addressKey(next))
    if (entry === undefined) {
      this.counters.inc('router.no_worker')
      throw new OckamError('OCKAM_ERR_ROUTER_NO_WORKER', `no worker at ${addressKey(next)}`)
    }
    // What arrived in the clear over a passthrough hop goes only to channel and relay plumbing.
    const sealedRefused = message.local.passedThrough === true && entry.incoming.acceptsSealed !== true
    if (sealedRefused || !entry.incoming.allows(message)) {
      const error = new OckamError(
        'OCKAM_ERR_ROUTER_ACCESS_DENIED',
        sealedRefused
          ? `${addressKey(next)} (${entry.incoming.name}) does not accept secure-channel frames passed through another channel`
          : `${addressKey(next)} (${entry.incoming.name}) does not accept messages from ${message.local.ingress.kind} ingress`,
      )
      this.#deny(message, error, next)
      throw error
    }
    return entry
  }

  async #resolve(
    transport: Transport,
    next: Address,
    message: Message,
    signal: AbortSignal | undefined,
  ): Promise<Address> {
    const mayDial = message.local.ingress.kind === 'local' || message.local.forwardedBy !== undefined
    try {
      return signal === undefined
        ? await transport.resolve(next, { mayDial })
        : await transport.resolve(next, { mayDial, signal })
    } catch (error) {
      if (error instanceof OckamError && error.code === 'OCKAM_ERR_ROUTER_NO_DIAL') this.#deny(message, error, next)
      throw error
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true
    const entries = new Set(this.#workers.values())
    await Promise.all([...entries].map((entry) => this.stopWorker(entry.addresses[0] as Address)))
    await Promise.all([...this.#stops])
  }

  #deny(message: Message, error: OckamError, at: Address): void {
    this.counters.inc('router.denied')
    this.counters.inc(`router.denied.${error.code}`)
    if (channels.messageDenied.hasSubscribers) {
      channels.messageDenied.publish({ node: this.nodeName, code: error.code, address: addressKey(at) })
    }
    const ingress = message.local.ingress
    // Rate-limit per registered local address (a bounded set), but per code only for transport
    // addresses: those come from the peer, and a key per address let it log one line per frame.
    const key = at.type === LOCAL ? `${error.code}:${addressKey(at)}` : error.code
    this.#limitedLog.warn(
      key,
      {
        code: error.code,
        address: addressKey(at),
        ingress: ingress.kind,
        ...('peer' in ingress ? { peer: ingress.peer } : {}),
      },
      error.message,
    )
  }

  #drain(entry: WorkerEntry): void {
    entry.running = true
    // Started a microtask later so that `idle` is set before the first handler runs: a stop
    // requested from inside that handler must wait for it like any other.
    entry.idle = Promise.resolve().then(async () => {
      try {
        for (let message = entry.mailbox.shift(); message !== undefined; message = entry.mailbox.shift()) {
          try {
            // A synchronous handler (a portal, a TCP write the socket took) is not awaited.
            const handled = entry.worker.handleMessage(entry.context, message)
            if (handled !== undefined) await handled
          } catch (error) {
            // A peer can make a handler fail on purpose (a forwarder refusing a target), so these
            // lines are rate-limited per worker and code like every other refusal.
            const code = isOckamError(error) ? error.code : 'OCKAM_ERR_INTERNAL'
            // Per code as well, like refusals (the codes are a fixed set, so the keys are bounded).
            this.counters.inc('router.handler_errors')
            this.counters.inc(`router.handler_errors.${code}`)
            const address = addressKey(entry.addresses[0] as Address)
            this.#limitedLog.warn(
              `handler:${address}:${code}`,
              { err: error, code, address },
              'worker failed to handle a message',
            )
          }
          if (entry.stopped) break
        }
      } finally {
        entry.running = false
      }
    })
  }
}
