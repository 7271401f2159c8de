/**
 * What a worker uses to act: send, forward, reply, ask and wait for a reply, start and stop
 * workers. Every async call takes an AbortSignal; the context's own signal fires when its
 * worker stops, so work tied to a worker ends with it.
 */
import { randomUUID } from 'node:crypto'
import { allowAll } from './access-control.js'
import { type Address, addressEquals, addressKey, local } from './address.js'
import type { Counters } from './diagnostics.js'
import { abortError, OckamError, throwIfAborted } from './errors.js'
import { DEFAULT_REQUEST_TIMEOUT_MS } from './limits.js'
import type { Logger } from './log.js'
import { LOCAL_INGRESS, type LocalMetadata, type Message } from './message.js'
import type { Route } from './route.js'
import type { Router } from './router.js'
import type { Worker, WorkerOptions } from './worker.js'

export interface SendOptions {
  /** Where replies go; default this worker's address. */
  returnRoute?: Route
  signal?: AbortSignal
}

export interface RequestOptions {
  timeoutMs?: number
  signal?: AbortSignal
}

export class Context {
  readonly router: Router
  readonly addresses: readonly Address[]
  /** Fires when this context's worker stops. */
  readonly abortController = new AbortController()

  constructor(router: Router, addresses: readonly Address[]) {
    this.router = router
    this.addresses = addresses
  }

  get address(): Address {
    return this.addresses[0] as Address
  }

  get signal(): AbortSignal {
    return this.abortController.signal
  }

  get log(): Logger {
    return this.router.log
  }

  get counters(): Counters {
    return this.router.counters
  }

  get nodeName(): string {
    return this.router.nodeName
  }

  /** Sends a new message that originates here (local ingress). */
  send(onward: Route, payload: Uint8Array, options: SendOptions = {}): Promise<void> {
    const message: Message = {
      onward,
      return: options.returnRoute ?? [this.address],
      payload,
      local: LOCAL_INGRESS_METADATA,
    }
    return this.router.send(message, signalOption(options.signal))
  }

  /** Passes a message on unchanged apart from its routes: local metadata (ingress) is kept. */
  forward(message: Message, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.router.send(message, signalOption(options.signal))
  }

  /**
   * Answers a request along its return route. The reply keeps the request's local metadata, so
   * a reply to a network message can only leave the way the request came in: a service cannot
   * be used to send messages elsewhere on a remote peer's behalf.
   */
  reply(request: Message, payload: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<void> {
    // The ingress is kept; a forwarder's vouching (forwardedBy) is for one hop only and is not.
    const message: Message = {
      onward: request.return,
      return: [this.address],
      payload,
      local: { ingress: request.local.ingress },
    }
    return this.router.send(message, signalOption(options.signal))
  }

  /**
   * Sends a message and waits for the first reply to a one-shot address. Cheap on purpose (it
   * backs every CLI command and session ping): one timer, listeners removed on every path, no
   * AbortSignal.any / AbortSignal.timeout (measured: 40–47 µs → ~15 µs per local request, and
   * nothing retained on the context's long-lived signal).
   */
  async request(onward: Route, payload: Uint8Array, options: RequestOptions = {}): Promise<Message> {
    throwIfAborted(options.signal, 'request')
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    const replyAddress = local(`request-${randomUUID()}`)
    let settle!: (outcome: Message | OckamError) => void
    const outcome = new Promise<Message | OckamError>((resolve) => {
      settle = resolve
    })
    // The one-shot address is unguessable and lives only until the first reply, so it may
    // accept that reply from whatever ingress the route returns through.
    await this.router.startWorker(
      [replyAddress],
      { handleMessage: (_ctx, message) => settle(message) },
      {
        incoming: allowAll,
        mailboxCapacity: 1,
      },
    )
    // A plain timer, not AbortSignal.timeout: its timer is unref'd, so a process with nothing
    // else to do would exit with the request pending instead of reporting OCKAM_ERR_TIMEOUT.
    const timer = setTimeout(
      () =>
        settle(
          new OckamError('OCKAM_ERR_TIMEOUT', `no reply within ${timeoutMs} ms`, {
            hint: 'check that the route is right and the destination node is running',
          }),
        ),
      timeoutMs,
    )
    const onCallerAbort = () => settle(abortError(options.signal as AbortSignal, 'request'))
    const onWorkerStop = () => settle(abortError(this.signal, 'request'))
    options.signal?.addEventListener('abort', onCallerAbort, { once: true })
    this.signal.addEventListener('abort', onWorkerStop, { once: true })
    // Either may have fired while the reply worker was starting.
    if (options.signal?.aborted === true) onCallerAbort()
    if (this.signal.aborted) onWorkerStop()
    // Cancels a send still waiting for mailbox space once the request is over.
    const sending = new AbortController()
    try {
      const message: Message = { onward, return: [replyAddress], payload, local: LOCAL_INGRESS_METADATA }
      const result = await Promise.race([
        outcome,
        this.router.send(message, { signal: sending.signal }).then(() => outcome),
      ])
      if (result instanceof OckamError) throw result
      return result
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onCallerAbort)
      this.signal.removeEventListener('abort', onWorkerStop)
      sending.abort()
      await this.router.stopWorker(replyAddress)
    }
  }

  startWorker(address: Address | readonly Address[], worker: Worker, options: WorkerOptions = {}): Promise<Context> {
    return this.router.startWorker(Array.isArray(address) ? address : [address as Address], worker, options)
  }

  /**
   * Stops a worker. A worker stopping itself is not waited for: stopping waits for the message in
   * flight, which would be the caller's own (a deadlock). Its mailbox still closes at once and its
   * shutdown still runs after that message.
   */
  stopWorker(address: Address): Promise<void> {
    if (this.addresses.some((own) => addressEquals(own, address))) {
      void this.router.stopWorker(address)
      return Promise.resolve()
    }
    return this.router.stopWorker(address)
  }

  toString(): string {
    return `Context(${addressKey(this.address)})`
  }
}

const LOCAL_INGRESS_METADATA: LocalMetadata = Object.freeze({ ingress: LOCAL_INGRESS })

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal }
}

/** Resolves with `promise`, or rejects with `reason()` when the signal fires first. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(reason())
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason())
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
