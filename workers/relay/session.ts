/**
 * The relay session on a member node (DESIGN §12 "Sessions and recovery"): the one object that
 * owns a relay registration's liveness. It opens the secure channel to the project through the
 * caller's factory, starts the relay receiver, registers, then pings at an interval. A closed
 * channel, `maxMissedPings` unanswered pings in a row, or a service that no longer knows the
 * registration tear everything down (receiver stopped, channel closed); it is rebuilt after a
 * full-jitter backoff, reset by each successful registration. Transports never reconnect on their
 * own: this loop is what brings a relay back after the project restarts or the network drops.
 */
import { EventEmitter } from 'node:events'
import { Backoff, type BackoffOptions } from '../../runtime/backoff.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import type { Router } from '../../runtime/router.js'
import { keepAlive, runRetryLoop } from '../../runtime/session-loop.js'
import type { SecureChannel } from '../secure-channel/types.js'
import {
  DEFAULT_RELAY_LISTENER_ADDRESS,
  DEFAULT_RELAY_MAX_MISSED_PINGS,
  DEFAULT_RELAY_PING_INTERVAL_MS,
  DEFAULT_RELAY_REQUEST_TIMEOUT_MS,
} from './constants.js'
import { type RelayReceiver, startRelayReceiver } from './receiver.js'

export interface RelaySessionOptions {
  /** The relay name (`[a-z0-9-]{1,63}`; the service checks it). */
  readonly name: string
  /** Opens a fresh secure channel to the project; called once per attempt. */
  readonly connect: (signal: AbortSignal) => Promise<SecureChannel>
  /** Default `relay`. */
  readonly serviceAddress?: string
  /** Where deliveries through the relay may go on this node; default `api`. */
  readonly listenerAddress?: string
  /** Default DEFAULT_RELAY_PING_INTERVAL_MS. */
  readonly pingIntervalMs?: number
  /** Default DEFAULT_RELAY_MAX_MISSED_PINGS. */
  readonly maxMissedPings?: number
  /** Registration and ping answers (ms); default DEFAULT_RELAY_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number
  /** Between attempts; default runtime/backoff.ts defaults (250 ms to 30 s, factor 2, full jitter). */
  readonly backoff?: BackoffOptions
  /** Stops the session when it fires. */
  readonly signal?: AbortSignal
}

export type RelaySessionStatus = 'connecting' | 'up' | 'down' | 'stopped'

export interface RelaySessionState {
  readonly status: RelaySessionStatus
  /** Failed attempts since the last time the relay was up. */
  readonly attempts: number
  /** Times the relay came up (1 after the first registration). */
  readonly ups: number
  readonly lastError?: OckamError
  /** `forward_to_<name>` on the project node, while up. */
  readonly forwardAddress?: string
  /** Date.now() when the relay last came up. */
  readonly upSince?: number
}

export interface RelaySessionEvents {
  up: [state: RelaySessionState]
  down: [error: OckamError]
  stopped: []
}

export interface RelaySession extends EventEmitter<RelaySessionEvents> {
  readonly name: string
  readonly state: RelaySessionState
  /** Resolves once up (now, or at the next 'up'); rejects after `timeoutMs` or when the session stops. */
  whenUp(timeoutMs: number): Promise<RelaySessionState>
  /** Unregisters (best effort, when up), tears down, and ends the loop. Idempotent. */
  stop(): Promise<void>
}

export interface RelaySessionHost {
  readonly router: Router
}

function asOckamError(error: unknown): OckamError {
  if (isOckamError(error)) {
    // An abort whose reason is the session's own verdict (channel closed, pings missed) reports the verdict.
    if (error.code === 'OCKAM_ERR_ABORTED' && isOckamError(error.cause)) return error.cause
    return error
  }
  return new OckamError('OCKAM_ERR_INTERNAL', `relay session: ${String((error as Error)?.message ?? error)}`, {
    cause: error,
  })
}

class Session extends EventEmitter<RelaySessionEvents> implements RelaySession {
  readonly name: string
  readonly #router: Router
  readonly #options: RelaySessionOptions
  readonly #backoff: Backoff
  readonly #stop = new AbortController()
  readonly #pingIntervalMs: number
  readonly #maxMisses: number
  readonly #timeoutMs: number
  #state: RelaySessionState = { status: 'connecting', attempts: 0, ups: 0 }
  #receiver: RelayReceiver | undefined
  #loop: Promise<void> = Promise.resolve()

  constructor(host: RelaySessionHost, options: RelaySessionOptions) {
    super()
    this.name = options.name
    this.#router = host.router
    this.#options = options
    this.#backoff = new Backoff(options.backoff)
    this.#pingIntervalMs = positive(options.pingIntervalMs, DEFAULT_RELAY_PING_INTERVAL_MS, 'pingIntervalMs')
    this.#maxMisses = positive(options.maxMissedPings, DEFAULT_RELAY_MAX_MISSED_PINGS, 'maxMissedPings')
    this.#timeoutMs = positive(options.requestTimeoutMs, DEFAULT_RELAY_REQUEST_TIMEOUT_MS, 'requestTimeoutMs')
  }

  get state(): RelaySessionState {
    return this.#state
  }

  start(): void {
    const outer = this.#options.signal
    if (outer !== undefined) {
      if (outer.aborted) this.#stop.abort(outer.reason)
      else outer.addEventListener('abort', () => void this.stop(), { once: true })
    }
    this.#loop = this.#run()
  }

  whenUp(timeoutMs: number): Promise<RelaySessionState> {
    if (this.#state.status === 'up') return Promise.resolve(this.#state)
    if (this.#state.status === 'stopped') {
      return Promise.reject(new OckamError('OCKAM_ERR_STOPPED', `relay session ${this.name} stopped`))
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        this.off('up', onUp)
        this.off('stopped', onStopped)
      }
      const onUp = (state: RelaySessionState) => {
        done()
        resolve(state)
      }
      const onStopped = () => {
        done()
        reject(new OckamError('OCKAM_ERR_STOPPED', `relay session ${this.name} stopped`))
      }
      const timer = setTimeout(() => {
        done()
        reject(
          new OckamError('OCKAM_ERR_TIMEOUT', `relay ${this.name} was not up within ${timeoutMs} ms`, {
            ...(this.#state.lastError === undefined ? {} : { cause: this.#state.lastError }),
            hint: this.#state.lastError?.oneLine() ?? 'check that the project node is reachable',
          }),
        )
      }, timeoutMs)
      this.on('up', onUp)
      this.on('stopped', onStopped)
    })
  }

  async stop(): Promise<void> {
    if (!this.#stop.signal.aborted) {
      const receiver = this.#receiver
      if (receiver !== undefined && this.#state.status === 'up') {
        await receiver.request('unregister', { timeoutMs: Math.min(this.#timeoutMs, 1000) }).catch(() => undefined)
      }
      this.#stop.abort(new OckamError('OCKAM_ERR_STOPPED', `relay session ${this.name} stopped`))
    }
    await this.#loop
  }

  #set(next: Partial<RelaySessionState> & { status: RelaySessionStatus }, drop: (keyof RelaySessionState)[] = []) {
    const merged: Record<string, unknown> = { ...this.#state, ...next }
    for (const key of drop) delete merged[key]
    this.#state = merged as unknown as RelaySessionState
  }

  async #run(): Promise<void> {
    await runRetryLoop({
      stop: this.#stop.signal,
      backoff: this.#backoff,
      attempt: (cycle) => this.#attempt(cycle),
      onEnded: (caught) => {
        const failure =
          caught === undefined
            ? new OckamError('OCKAM_ERR_RELAY_LOST', `relay ${this.name}: the session ended without a reason`)
            : asOckamError(caught)
        this.#set({ status: 'down', attempts: this.#state.attempts + 1, lastError: failure }, [
          'forwardAddress',
          'upSince',
        ])
        this.#router.counters.inc('relay.session.down')
        this.#router.log.warn(
          { event: 'relay.session.down', relay: this.name, code: failure.code, attempts: this.#state.attempts },
          `relay ${this.name} is down: ${failure.message}`,
        )
        this.emit('down', failure)
      },
    })
    this.#set({ status: 'stopped' }, ['forwardAddress', 'upSince'])
    this.emit('stopped')
  }

  /** Opens the channel, registers, pings; settles (after tearing down) once the relay is lost. */
  async #attempt(cycle: AbortController): Promise<void> {
    let channel: SecureChannel | undefined
    try {
      this.#set({ status: 'connecting' })
      channel = await this.#options.connect(cycle.signal)
      void channel.closed.then((closed) =>
        cycle.abort(
          new OckamError('OCKAM_ERR_RELAY_LOST', `the channel to the project closed (${closed.reason})`, {
            ...(closed.error === undefined ? {} : { cause: closed.error }),
          }),
        ),
      )
      if (!channel.isOpen) throw new OckamError('OCKAM_ERR_RELAY_LOST', 'the channel to the project closed')
      const receiver = await startRelayReceiver(this.#router, {
        name: this.name,
        channel: channel.address.value,
        ...(this.#options.serviceAddress === undefined ? {} : { serviceAddress: this.#options.serviceAddress }),
        listenerAddress: this.#options.listenerAddress ?? DEFAULT_RELAY_LISTENER_ADDRESS,
      })
      this.#receiver = receiver
      const registered = await receiver.request('register', { timeoutMs: this.#timeoutMs, signal: cycle.signal })
      this.#backoff.reset()
      this.#set({
        status: 'up',
        attempts: 0,
        ups: this.#state.ups + 1,
        forwardAddress: registered.forwardAddress,
        upSince: Date.now(),
      })
      this.#router.counters.inc('relay.session.up')
      this.emit('up', this.#state)
      // Returns only by throwing: the channel closed, pings went unanswered, or the service forgot us.
      await keepAlive({
        intervalMs: this.#pingIntervalMs,
        maxMisses: this.#maxMisses,
        signal: cycle.signal,
        ping: (signal) =>
          receiver.request('ping', { timeoutMs: Math.min(this.#timeoutMs, this.#pingIntervalMs), signal }),
        isMiss: (error) => asOckamError(error).code === 'OCKAM_ERR_TIMEOUT',
        onMiss: () => this.#router.counters.inc('relay.session.ping_missed'),
        lost: (misses, cause) =>
          new OckamError('OCKAM_ERR_RELAY_LOST', `${misses} relay pings in a row went unanswered`, {
            cause: asOckamError(cause),
          }),
      })
    } finally {
      cycle.abort()
      const receiver = this.#receiver
      this.#receiver = undefined
      await receiver?.stop()
      if (channel?.isOpen === true) await channel.close().catch(() => undefined)
    }
  }
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${what} must be a positive integer, got ${resolved}`)
  }
  return resolved
}

/** Starts the session loop at once; it runs until `stop()` or the signal. */
export function startRelaySession(host: RelaySessionHost, options: RelaySessionOptions): RelaySession {
  if (typeof options?.connect !== 'function') {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a relay session needs a connect function')
  }
  const session = new Session(host, options)
  session.start()
  return session
}
