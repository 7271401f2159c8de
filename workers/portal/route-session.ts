/**
 * The session of an inlet (DESIGN §12 "Sessions and recovery"): the one object that owns the
 * route its portals share — for `--to postgres`, the secure channel to the project and the
 * end-to-end channel through the relay to the outlet node. It opens the route through the
 * caller's factory, then pings along it (an echo round trip through every hop, so a dead
 * project, relay or outlet node is noticed); a closed channel or `maxMissedPings` unanswered
 * pings in a row tear it down, the portals on it are reset (`onDown`), and it is rebuilt after a
 * full-jitter backoff, reset by each success. New connections wait for the route within their
 * open timeout, so they are served as soon as it is back.
 *
 * Pings alone notice a far end that died behind a live first hop (the outlet node killed, or
 * restarted with new channel keys: nothing closes the inlet's connection to the project) only
 * after 3 × (interval + timeout). So whoever sees a sign of it (an open left unanswered) asks for
 * a probe: one echo with a short timeout, sent at once; unanswered, it tears the route down the
 * same way. One probe at a time, and after an answered one the requests of a quiet period run as
 * one at its end, so a burst of slow opens costs one echo.
 */
import { EventEmitter } from 'node:events'
import { Backoff, type BackoffOptions } from '../../runtime/backoff.js'
import type { Context } from '../../runtime/context.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import type { Logger } from '../../runtime/log.js'
import type { Route } from '../../runtime/route.js'
import { keepAlive, runRetryLoop } from '../../runtime/session-loop.js'
import type { SecureChannel } from '../secure-channel/types.js'
import { DEFAULT_ROUTE_SESSION_PROBE_QUIET_MS, DEFAULT_ROUTE_SESSION_PROBE_TIMEOUT_MS } from './constants.js'

/** Time between pings along an inlet's route (ms). */
export const DEFAULT_ROUTE_SESSION_PING_INTERVAL_MS = 5_000
/** Unanswered pings in a row after which the route is rebuilt. */
export const DEFAULT_ROUTE_SESSION_MAX_MISSED_PINGS = 3

/** What a ping or probe sends to the echo service. */
const PING = new Uint8Array([0x70])

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
  /** How long a probe waits for its echo (ms); default DEFAULT_ROUTE_SESSION_PROBE_TIMEOUT_MS. */
  readonly probeTimeoutMs?: number
  /** After an answered probe, how long new requests wait to run as one (ms); default DEFAULT_ROUTE_SESSION_PROBE_QUIET_MS. */
  readonly probeQuietMs?: number
  /**
   * A count that grows whenever something arrives from the far end of the route (the inlet's
   * `heard`): a probe whose echo is late while it grew is not a dead route but a busy one.
   */
  readonly heard?: () => number
  readonly backoff?: BackoffOptions
}

export type RouteSessionStatus = 'connecting' | 'up' | 'down' | 'stopped'

/**
 * How a request for a probe ended: the echo came back; or it did not, but other messages came
 * over the route meanwhile (`heard`: the echo waited behind data, the far end lives); or neither
 * (`unanswered`: the route was torn down); or
 * the route went down for another reason meanwhile; `deferred` (the quiet period after an
 * answered probe: one probe runs at its end) and `skipped` (the route is not up) sent nothing.
 */
export type ProbeOutcome = 'answered' | 'heard' | 'unanswered' | 'aborted' | 'deferred' | 'skipped'

export interface RouteSessionState {
  readonly status: RouteSessionStatus
  readonly attempts: number
  readonly ups: number
  /** Probes sent since the session started (each one echo along the route). */
  readonly probes: number
  readonly peer?: string
  readonly lastError?: OckamError
}

export interface RouteSession extends EventEmitter<{ up: [RouteSessionState]; down: [OckamError] }> {
  readonly state: RouteSessionState
  /** The route now, or as soon as it is up; rejects after `timeoutMs` with the last failure. */
  route(timeoutMs: number): Promise<Route>
  /**
   * Something suggests the route is dead (`reason` says what, for the log line): sends one echo
   * along it now; if none comes back within the probe timeout the route is torn down and rebuilt
   * as after missed pings. Requests while a probe is in flight join it; after an answered probe,
   * requests within the quiet period run as one at its end. Ignored while the route is not up.
   * Resolves (never rejects) with what came of it; callers that only report may ignore it.
   */
  probe(reason: string): Promise<ProbeOutcome>
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
  readonly #probeTimeoutMs: number
  readonly #probeQuietMs: number
  #state: RouteSessionState = { status: 'connecting', attempts: 0, ups: 0, probes: 0 }
  #current: OpenedRoute | undefined
  /** The attempt whose route is up (aborting it tears the route down). */
  #cycle: AbortController | undefined
  /** The attempt a probe is in flight for, if any, and its outcome. */
  #probing: AbortController | undefined
  #probeOutcome: Promise<ProbeOutcome> = Promise.resolve('skipped')
  /** A probe asked for during the quiet period, to run at its end. */
  #deferredProbe: NodeJS.Timeout | undefined
  #quietUntil = 0
  #loop: Promise<void> = Promise.resolve()

  constructor(options: RouteSessionOptions) {
    super()
    this.#options = options
    this.#backoff = new Backoff(options.backoff)
    this.#pingIntervalMs = options.pingIntervalMs ?? DEFAULT_ROUTE_SESSION_PING_INTERVAL_MS
    this.#maxMisses = options.maxMissedPings ?? DEFAULT_ROUTE_SESSION_MAX_MISSED_PINGS
    this.#probeTimeoutMs = options.probeTimeoutMs ?? DEFAULT_ROUTE_SESSION_PROBE_TIMEOUT_MS
    this.#probeQuietMs = options.probeQuietMs ?? DEFAULT_ROUTE_SESSION_PROBE_QUIET_MS
    for (const [name, value] of [
      ['probeTimeoutMs', this.#probeTimeoutMs],
      ['probeQuietMs', this.#probeQuietMs],
    ] as const) {
      if (!Number.isInteger(value) || value < 0 || (name === 'probeTimeoutMs' && value === 0)) {
        throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${name} must be a non-negative integer (ms), got ${value}`)
      }
    }
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

  probe(reason: string): Promise<ProbeOutcome> {
    const cycle = this.#cycle
    const opened = this.#current
    if (this.#state.status !== 'up' || cycle === undefined || opened === undefined || cycle.signal.aborted) {
      return Promise.resolve('skipped')
    }
    if (this.#probing === cycle) return this.#probeOutcome
    if (this.#deferredProbe !== undefined) return Promise.resolve('deferred')
    const wait = this.#quietUntil - performance.now()
    if (wait > 0) {
      this.#deferredProbe = setTimeout(() => {
        this.#deferredProbe = undefined
        if (this.#cycle === cycle) void this.probe(reason)
      }, Math.ceil(wait))
      return Promise.resolve('deferred')
    }
    this.#probing = cycle
    this.#probeOutcome = this.#runProbe(cycle, opened, reason)
    return this.#probeOutcome
  }

  async #runProbe(cycle: AbortController, opened: OpenedRoute, reason: string): Promise<ProbeOutcome> {
    const { name, context, log } = this.#options
    this.#state = { ...this.#state, probes: this.#state.probes + 1 }
    context.counters.inc('inlet.route.probes')
    log.debug({ event: 'inlet.route.probe', inlet: name, reason }, `inlet ${name}: probing the route (${reason})`)
    const started = performance.now()
    const heard = this.#options.heard
    const before = heard?.()
    try {
      await context.request(opened.pingRoute, PING, { timeoutMs: this.#probeTimeoutMs, signal: cycle.signal })
      this.#quietUntil = performance.now() + this.#probeQuietMs
      log.debug(
        { event: 'inlet.route.probe.answered', inlet: name, ms: Math.round(performance.now() - started) },
        `inlet ${name}: the route answered the probe`,
      )
      return 'answered'
    } catch (error) {
      if (cycle.signal.aborted) return 'aborted'
      if (heard !== undefined && heard() !== before) {
        // The far end sent other things meanwhile: the echo is queued behind them, not lost.
        this.#quietUntil = performance.now() + this.#probeQuietMs
        log.info(
          { event: 'inlet.route.probe.late', inlet: name, reason },
          `inlet ${name}: the probe's echo was late but the route carried other traffic; it stays up`,
        )
        return 'heard'
      }
      context.counters.inc('inlet.route.probes.unanswered')
      cycle.abort(
        new OckamError(
          'OCKAM_ERR_PORTAL_ROUTE_UNANSWERED',
          `a probe along the route went unanswered within ${this.#probeTimeoutMs} ms, after ${reason}`,
          {
            cause: typed(error),
            hint: 'the outlet node or the relay is gone or restarted; the route is being rebuilt',
            data: { reason },
          },
        ),
      )
      return 'unanswered'
    } finally {
      if (this.#probing === cycle) this.#probing = undefined
    }
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
            `inlet ${this.#options.name}: route down (${failure.message}); new connections wait for it within their open timeout`,
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
      this.#cycle = cycle
      this.#quietUntil = 0
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
        ping: (signal) => this.#options.context.request(pingRoute, PING, { timeoutMs: this.#pingIntervalMs, signal }),
        lost: (misses, cause) =>
          new OckamError('OCKAM_ERR_PORTAL_PATH_LOST', `${misses} pings along the route went unanswered`, {
            cause: typed(cause),
          }),
      })
    } finally {
      cycle.abort()
      this.#current = undefined
      this.#cycle = undefined
      clearTimeout(this.#deferredProbe)
      this.#deferredProbe = undefined
      await opened?.close().catch(() => undefined)
    }
  }
}

export function startRouteSession(options: RouteSessionOptions): RouteSession {
  const session = new Session(options)
  session.start()
  return session
}
