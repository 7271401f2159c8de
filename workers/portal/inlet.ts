/**
 * The TCP inlet: a listener whose every accepted connection becomes a portal to an outlet over
 * one route. All portals of the inlet share the route (a session's channel once the lead wires
 * one in) and are streams inside it, each with its own address and credit.
 *
 * When the route is down (sending the open fails, or no answer comes within the open timeout)
 * the client connection is reset and one log line says why; the next connection tries afresh,
 * so nothing stays stuck. A route given as a function is asked again for every connection.
 *
 * An open left unanswered on a route whose first hop is alive is the first sign of a far end
 * that died without closing anything (the outlet node killed): the inlet tells its session
 * (`onOpenUnanswered`), which probes the route. When the session loses the route (`routeLost`)
 * the open portals are reset, but the opens still waiting for an answer are sent again on the
 * next route: no byte of theirs went anywhere yet, so the client is served once it is back.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { type Address, local } from '../../runtime/address.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import { LOCAL_INGRESS, type LocalMetadata, type Message } from '../../runtime/message.js'
import { RateLimitedLog } from '../../runtime/rate-limited-log.js'
import { formatRoute, type Route } from '../../runtime/route.js'
import { formatHostPort, parseHostPort } from '../../transports/tcp/host-port.js'
import {
  DEFAULT_INLET_MAX_PORTALS,
  DEFAULT_PORTAL_OPEN_SLOW_MS,
  DEFAULT_PORTAL_OPEN_TIMEOUT_MS,
  DEFAULT_PORTAL_SILENCE_CHECK_MS,
  PORTAL_PROTOCOL_VERSION,
} from './constants.js'
import { encodeOpen, type ResetReason } from './messages.js'
import type { PortalNode } from './outlet.js'
import { PortalSet, type PortalStats } from './portal-set.js'
import { PortalStream } from './portal-stream.js'
import { type PortalTuning, resolveTuning } from './settings.js'
import { watchSilence } from './silence-watch.js'

export interface TcpInletOptions extends PortalTuning {
  /** `HOST:PORT` to listen on (port 0 picks a free one; see `TcpInlet.address`). */
  readonly listen: string
  /**
   * The route to the outlet service, its address last (`[1#host:port, 0#outlet]`, or through a
   * channel `[0#<encryptor>, 0#outlet]`), or a function that gives the current one (a session
   * that re-creates its channel); a promise is awaited within the open timeout.
   */
  readonly to: Route | (() => Route | Promise<Route>)
  /** Policy on the outlet side, from its `opened` message (its ingress names the peer); default any. */
  readonly allow?: (message: Message) => boolean
  /** For log lines and counters; default the bound address. */
  readonly name?: string
  readonly openTimeoutMs?: number
  readonly maxPortals?: number
  /**
   * Told when an open sent on a route has waited `openSlowMs` for its answer (once per send),
   * and when an open times out: a sign the route may be dead behind a live first hop. An inlet
   * on a route session passes one that asks the session for a probe.
   */
  readonly onOpenUnanswered?: (open: UnansweredOpen) => void
  /** How long a sent open waits before `onOpenUnanswered` is told (ms); default DEFAULT_PORTAL_OPEN_SLOW_MS. */
  readonly openSlowMs?: number
  /**
   * Told when open portals sent data and then heard nothing from their outlet portals for a
   * whole `silenceCheckMs` interval (DEFAULT_PORTAL_SILENCE_CHECK_MS): as `onOpenUnanswered`, a
   * sign the far end may be dead; an inlet on a route session asks it for a probe.
   */
  readonly onSentIntoSilence?: (silence: { readonly quietMs: number }) => void
  readonly silenceCheckMs?: number
}

/** An open that got no answer in time. */
export interface UnansweredOpen {
  /** How long it has waited for `opened` since it was sent (ms). */
  readonly waitedMs: number
  /** It timed out (its client was reset); else it is still waiting. */
  readonly timedOut: boolean
  readonly route: Route
}

export interface TcpInlet {
  /** The bound `host:port`. */
  readonly address: string
  /** The address of the worker that owns the listener (stopping it closes the inlet). */
  readonly worker: Address
  stats(): PortalStats
  /** Re-evaluates the policy (default: the `allow` option) on every open portal; resets the denied. Returns how many. */
  recheck(allow?: (message: Message) => boolean): number
  /** Resets every portal (default reason `path-lost`: the session's route went away); returns how many. */
  resetAll(reason?: ResetReason): number
  /**
   * Moves whenever a message from an outlet portal arrives (data, credit, opened, …): a route
   * session's probe counts a change as a witness that the far end is alive.
   */
  heard(): number
  /**
   * The session's route went away: resets the open portals (`path-lost`) and sends the opens
   * still waiting for an answer again on the next route, within their open timeout. Returns how
   * many portals were reset. `cause` (the session's reason) goes into their log lines.
   */
  routeLost(cause?: OckamError): number
  /** Closes the listener and resets the portals. */
  stop(): Promise<void>
}

const LOCAL_METADATA: LocalMetadata = Object.freeze({ ingress: LOCAL_INGRESS })

/** A portal waiting for its `opened`: its timers, and what sending its open again needs. */
interface Opening {
  readonly timeout: NodeJS.Timeout
  slow: NodeJS.Timeout | undefined
  /** The credit the first open announced (granted once; an open sent again repeats it). */
  grant: number | undefined
  /** The route the open was last sent on; undefined while waiting for one. */
  route: Route | undefined
  sentAt: number
}

export async function startTcpInlet(node: PortalNode, options: TcpInletOptions): Promise<TcpInlet> {
  const listen = parseHostPort(options.listen)
  const openTimeoutMs = options.openTimeoutMs ?? DEFAULT_PORTAL_OPEN_TIMEOUT_MS
  const maxPortals = options.maxPortals ?? DEFAULT_INLET_MAX_PORTALS
  const openSlowMs = options.openSlowMs ?? DEFAULT_PORTAL_OPEN_SLOW_MS
  const onOpenUnanswered = options.onOpenUnanswered
  const silenceCheckMs = options.silenceCheckMs ?? DEFAULT_PORTAL_SILENCE_CHECK_MS
  for (const [name, value] of [
    ['openTimeoutMs', openTimeoutMs],
    ['maxPortals', maxPortals],
    ['openSlowMs', openSlowMs],
    ['silenceCheckMs', silenceCheckMs],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${name} must be a positive integer, got ${value}`)
    }
  }
  if (typeof options.to !== 'function' && options.to.length === 0) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'an inlet needs a route to its outlet')
  }
  const tuning = resolveTuning(node.router, options)
  const router = node.router
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) =>
      reject(
        new OckamError(
          'OCKAM_ERR_TCP_LISTEN_FAILED',
          `an inlet cannot listen on ${options.listen}: ${cause.code ?? cause.message}`,
          {
            cause,
            hint: cause.code === 'EADDRINUSE' ? 'another process uses that port: pick another' : 'check the address',
          },
        ),
      ),
    )
    server.listen(listen.port, listen.host, () => resolve())
  })
  const bound = server.address()
  if (bound === null || typeof bound === 'string')
    throw new OckamError('OCKAM_ERR_INTERNAL', 'inlet listener has no address')
  const boundText = formatHostPort({ host: bound.address, port: bound.port })
  const name = options.name ?? boundText
  const log = node.log.child({ inlet: name })
  const limited = new RateLimitedLog(log, options.logWindowMs)
  const openings = new Map<PortalStream, Opening>()
  const settle = (stream: PortalStream): void => {
    const opening = openings.get(stream)
    if (opening === undefined) return
    openings.delete(stream)
    clearTimeout(opening.timeout)
    clearTimeout(opening.slow)
  }
  const set = new PortalSet({
    kind: 'inlet',
    name,
    router,
    log,
    pool: tuning.pool,
    settings: tuning.settings,
    sweepIntervalMs: tuning.sweepIntervalMs,
    ...(options.logWindowMs === undefined ? {} : { logWindowMs: options.logWindowMs }),
    ...(options.allow === undefined ? {} : { allowOpened: options.allow }),
    onOpened: settle,
  })
  let stopped = false
  const silenceWatch =
    options.onSentIntoSilence === undefined ? undefined : watchSilence(set, silenceCheckMs, options.onSentIntoSilence)

  const currentRoute = async (): Promise<Route> => (typeof options.to === 'function' ? await options.to() : options.to)

  const open = async (stream: PortalStream): Promise<void> => {
    const timeout = setTimeout(() => {
      const route = opening.route
      stream.reset(
        'timeout',
        new OckamError(
          'OCKAM_ERR_PORTAL_OPEN_FAILED',
          `no answer from the outlet within ${openTimeoutMs} ms${route === undefined ? ' (no route yet)' : ` over ${formatRoute(route)}`}`,
          { hint: 'is the outlet node up and its route right? new connections try again' },
        ),
        false,
      )
      if (route !== undefined) {
        onOpenUnanswered?.({ waitedMs: Math.round(performance.now() - opening.sentAt), timedOut: true, route })
      }
    }, openTimeoutMs)
    timeout.unref()
    const opening: Opening = { timeout, slow: undefined, grant: undefined, route: undefined, sentAt: 0 }
    openings.set(stream, opening)
    stream.signal.addEventListener('abort', () => settle(stream), { once: true })
    try {
      await router.startWorker([stream.address], stream, { incoming: stream.incoming })
    } catch (error) {
      failed(stream, undefined, error)
      return
    }
    await sendOpen(stream, opening)
  }

  /** Sends (or sends again, after the route was lost) the open of a portal still waiting for its answer. */
  const sendOpen = async (stream: PortalStream, opening: Opening): Promise<void> => {
    let route: Route | undefined
    try {
      route = await currentRoute()
      if (stream.state !== 'opening' || openings.get(stream) !== opening) return
      opening.grant ??= stream.initialGrant()
      opening.route = route
      opening.sentAt = performance.now()
      const payload = encodeOpen(PORTAL_PROTOCOL_VERSION, opening.grant)
      await router.send(
        { onward: route, return: [stream.address], payload, local: LOCAL_METADATA },
        { signal: stream.signal },
      )
    } catch (error) {
      failed(stream, route, error)
      return
    }
    if (onOpenUnanswered === undefined || stream.state !== 'opening' || openings.get(stream) !== opening) return
    const sent = route
    opening.slow = setTimeout(() => {
      opening.slow = undefined
      if (opening.route === sent) onOpenUnanswered({ waitedMs: openSlowMs, timedOut: false, route: sent })
    }, openSlowMs)
    opening.slow.unref()
  }

  const failed = (stream: PortalStream, route: Route | undefined, error: unknown): void => {
    if (stream.state === 'closed') return
    const cause = isOckamError(error) ? error : new OckamError('OCKAM_ERR_INTERNAL', String(error), { cause: error })
    stream.reset(
      'path-lost',
      new OckamError(
        'OCKAM_ERR_PORTAL_OPEN_FAILED',
        `cannot open a portal${route === undefined ? '' : ` over ${formatRoute(route)}`}: ${cause.oneLine()}`,
        { cause, data: { cause: cause.code } },
      ),
      false,
    )
  }

  server.on('connection', (socket: Socket) => {
    const peer = formatHostPort({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 })
    if (stopped || set.size >= maxPortals) {
      router.counters.inc('portal.inlet.refused.too-many')
      limited.warn(
        'too-many',
        { event: 'portal.refused', code: 'OCKAM_ERR_PORTAL_TOO_MANY', client: peer },
        `inlet ${name}: ${set.size} portals open (cap ${maxPortals}); the client connection was reset`,
      )
      socket.on('error', () => {})
      socket.resetAndDestroy()
      return
    }
    const stream = new PortalStream({
      address: local(`portal-${randomBytes(8).toString('hex')}`),
      side: 'inlet',
      socket,
      host: set,
      label: `client ${peer}`,
    })
    set.add(stream)
    void open(stream)
  })

  const worker = local(`inlet-${randomBytes(6).toString('hex')}`)
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()))
  await router.startWorker([worker], {
    handleMessage() {},
    shutdown() {
      stopped = true
      clearInterval(silenceWatch)
      set.stop()
      server.close()
      set.resetAll('shutdown', new OckamError('OCKAM_ERR_STOPPED', 'the inlet stopped'), true)
    },
  })
  log.info({ event: 'portal.inlet.started', address: boundText }, `inlet listening on ${boundText}`)

  return {
    address: boundText,
    worker,
    stats: () => set.stats(),
    heard: () => set.activity.lastHeard,
    recheck: (allow) => {
      const policy = allow ?? options.allow
      return policy === undefined ? 0 : set.recheck(policy)
    },
    resetAll: (reason = 'path-lost') =>
      set.resetAll(
        reason,
        new OckamError('OCKAM_ERR_PORTAL_RESET', `all portals of the inlet were reset (${reason})`),
        true,
      ),
    routeLost: (cause) => {
      const waiting = [...openings].filter(([stream]) => stream.state === 'opening')
      const count = set.resetAll(
        'path-lost',
        new OckamError(
          'OCKAM_ERR_PORTAL_PATH_LOST',
          `the route of the inlet was lost${cause === undefined ? '' : ` (${cause.code}: ${cause.message})`}`,
          { ...(cause === undefined ? {} : { cause, data: { cause: cause.code } }) },
        ),
        true,
        (stream) => stream.state === 'opening' && openings.has(stream),
      )
      for (const [stream, opening] of waiting) {
        // Sent on the lost route: send it again once there is a new one (those still waiting
        // for a route get the new one anyway).
        if (opening.route === undefined) continue
        clearTimeout(opening.slow)
        opening.slow = undefined
        opening.route = undefined
        void sendOpen(stream, opening)
      }
      return count
    },
    async stop() {
      await router.stopWorker(worker)
      await closed
    },
  }
}
