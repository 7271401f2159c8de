/**
 * The session of an inlet (DESIGN §12 "Sessions and recovery"): the one object that owns the
 * route its portals share — for `--to postgres`, the secure channel to the project and the
 * end-to-end channel through the relay to the outlet node. It opens the route through the
 * caller's factory, then pings along it (an echo round trip through every hop, so a dead
 * project, relay or outlet node is noticed); a closed channel or `maxMissedPings` unanswered
 * pings in a row tear it down, the portals on it are reset (`onDown`), and it is rebuilt after a
 * full-jitter backoff, reset by each success. New connections wait for the route within their
 * open timeout, so they are served as soon as it is back.
 */
import { EventEmitter } from 'node:events'
import { Backoff, type BackoffOptions } from '../../runtime/backoff.js'
import type { Context } from '../../runtime/context.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import type { Logger } from '../../runtime/log.js'
import type { Route } from '../../runtime/route.js'
import { keepAlive, runRetryLoop } from '../../runtime/session-loop.js'
import type { SecureChannel } from '../secure-channel/types.js'

/** Time between pings along an inlet's route (ms). */
export const DEFAULT_ROUTE_SESSION_PING_INTERVAL_MS = 5_000
/** Unanswered pings in a row after which the route is rebuilt. */
export const DEFAULT_ROUTE_SESSION_MAX_MISSED_PINGS = 3

/** What the factory opened: the route to the outlet, where to ping, the channels to watch. */
export interface OpenedRoute {
  readonly route: Route
  /** A route to an echo service along the same hops. */
  readonly pingRoute: Route
  readonly channels: readonly SecureChannel[]
  /** Who answered at the far end (the outlet node's identifier), for `status`. */
  readonly peer?: string
  close(): Promise<void>
}

export interface RouteSessionOptions {
  readonly name: string
  readonly open: (signal: AbortSignal) => Promise<OpenedRoute>
  readonly context: Context
  readonly log: Logger
  /** Called when an established route is lost (reset the portals on it). */
  readonly onDown?: (error: OckamError) => void
  readonly pingIntervalMs?: number
  readonly maxMissedPings?: number
  readonly backoff?: BackoffOptions
}

export type RouteSessionStatus = 'connecting' | 'up' | 'down' | 'stopped'

export interface RouteSessionState {
  readonly status: RouteSessionStatus
  readonly attempts: number
  readonly ups: number
  readonly peer?: string
  readonly lastError?: OckamError
}

export interface RouteSession extends EventEmitter<{ up: [RouteSessionState]; down: [OckamError] }> {
  readonly state: RouteSessionState
  /** The route now, or as soon as it is up; rejects after `timeoutMs` with the last failure. */
  route(timeoutMs: number): Promise<Route>
  stop(): Promise<void>
}

function typed(error: unknown): OckamError {
  if (isOckamError(error)) {
    if (error.code === 'OCKAM_ERR_ABORTED' && isOckamError(error.cause)) return error.cause
    return error
  }
  return new OckamError('OCKAM_ERR_INTERNAL', `route session: ${String((error as Error)?.message ?? error)}`, {
    cause: error,
  })
}

class Session extends EventEmitter<{ up: [RouteSessionState]; down: [OckamError] }> implements RouteSession {
  readonly #options: RouteSessionOptions
  readonly #backoff: Backoff
  readonly #stop = new AbortController()
  readonly #pingIntervalMs: number
  readonly #maxMisses: number
  #state: RouteSessionState = { status: 'connecting', attempts: 0, ups: 0 }
  #current: OpenedRoute | undefined
  #loop: Promise<void> = Promise.resolve()

  constructor(options: RouteSessionOptions) {
    super()
    this.#options = options
    this.#backoff = new Backoff(options.backoff)
    this.#pingIntervalMs = options.pingIntervalMs ?? DEFAULT_ROUTE_SESSION_PING_INTERVAL_MS
    this.#maxMisses = options.maxMissedPings ?? DEFAULT_ROUTE_SESSION_MAX_MISSED_PINGS
    this.setMaxListeners(0)
  }

  get state(): RouteSessionState {
    return this.#state
  }

  start(): void {
    this.#loop = this.#run()
  }

  route(timeoutMs: number): Promise<Route> {
    const current = this.#current
    if (this.#state.status === 'up' && current !== undefined) return Promise.resolve(current.route)
    if (this.#state.status === 'stopped') {
      return Promise.reject(new OckamError('OCKAM_ERR_STOPPED', `inlet ${this.#options.name} stopped`))
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        this.off('up', onUp)
      }
      const onUp = () => {
        done()
        if (this.#current !== undefined) resolve(this.#current.route)
        else reject(new OckamError('OCKAM_ERR_PORTAL_PATH_LOST', 'the route went down again'))
      }
      const timer = setTimeout(() => {
        done()
        const last = this.#state.lastError
        reject(
          new OckamError('OCKAM_ERR_PORTAL_OPEN_FAILED', `the route of inlet ${this.#options.name} is down`, {
            ...(last === undefined ? {} : { cause: last }),
            hint: last === undefined ? 'it is being set up; try again' : `last failure: ${last.oneLine()}`,
          }),
        )
      }, timeoutMs)
      this.on('up', onUp)
    })
  }

  async stop(): Promise<void> {
    this.#stop.abort(new OckamError('OCKAM_ERR_STOPPED', `inlet ${this.#options.name} stopped`))
    await this.#loop
  }

  async #run(): Promise<void> {
    await runRetryLoop({
      stop: this.#stop.signal,
      backoff: this.#backoff,
      attempt: (cycle) => this.#attempt(cycle),
      onEnded: (caught) => {
        const failure =
          caught === undefined
            ? new OckamError('OCKAM_ERR_PORTAL_PATH_LOST', 'the route ended without a reason')
            : typed(caught)
        const wasUp = this.#state.status === 'up'
        this.#state = { ...this.#state, status: 'down', attempts: this.#state.attempts + 1, lastError: failure }
        if (wasUp || this.#state.attempts === 1 || this.#state.attempts % 10 === 0) {
          this.#options.log.warn(
            {
              event: 'inlet.route.down',
              inlet: this.#options.name,
              code: failure.code,
              attempts: this.#state.attempts,
            },
            `inlet ${this.#options.name}: route down (${failure.message}); new connections are reset until it is back`,
          )
        }
        if (wasUp) this.#options.onDown?.(failure)
        this.emit('down', failure)
      },
    })
    this.#state = { ...this.#state, status: 'stopped' }
  }

  /** Opens the route, reports it up, pings along it; settles (after closing it) once it is lost. */
  async #attempt(cycle: AbortController): Promise<void> {
    let opened: OpenedRoute | undefined
    try {
      this.#state = { ...this.#state, status: 'connecting' }
      opened = await this.#options.open(cycle.signal)
      for (const channel of opened.channels) {
        void channel.closed.then((closed) =>
          cycle.abort(new OckamError('OCKAM_ERR_PORTAL_PATH_LOST', `a channel of the route closed (${closed.reason})`)),
        )
      }
      this.#current = opened
      this.#backoff.reset()
      const { lastError: _, ...rest } = this.#state
      this.#state = {
        ...rest,
        status: 'up',
        attempts: 0,
        ups: rest.ups + 1,
        ...(opened.peer === undefined ? {} : { peer: opened.peer }),
      }
      this.#options.log.info(
        { event: 'inlet.route.up', inlet: this.#options.name, peer: opened.peer },
        `inlet ${this.#options.name}: route up${opened.peer === undefined ? '' : ` to ${opened.peer}`}`,
      )
      this.emit('up', this.#state)
      const pingRoute = opened.pingRoute
      await keepAlive({
        intervalMs: this.#pingIntervalMs,
        maxMisses: this.#maxMisses,
        signal: cycle.signal,
        ping: (signal) =>
          this.#options.context.request(pingRoute, new Uint8Array([0x70]), { timeoutMs: this.#pingIntervalMs, signal }),
        lost: (misses, cause) =>
          new OckamError('OCKAM_ERR_PORTAL_PATH_LOST', `${misses} pings along the route went unanswered`, {
            cause: typed(cause),
          }),
      })
    } finally {
      cycle.abort()
      this.#current = undefined
      await opened?.close().catch(() => undefined)
    }
  }
}

export function startRouteSession(options: RouteSessionOptions): RouteSession {
  const session = new Session(options)
  session.start()
  return session
}
