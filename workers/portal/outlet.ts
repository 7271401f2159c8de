/**
 * The TCP outlet: a service (address `outlet` by default) that, for each `open` it accepts,
 * connects to its target and runs a portal between that connection and the inlet's portal.
 * The policy hook sees every open (and re-checks open portals on demand); a per-peer cap bounds
 * what one peer can hold. Refusals are answered with a reset, so the client learns at once.
 */
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { type Address, local } from '../../runtime/address.js'
import type { Context } from '../../runtime/context.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import type { Logger } from '../../runtime/log.js'
import type { Message } from '../../runtime/message.js'
import { RateLimitedLog } from '../../runtime/rate-limited-log.js'
import type { Router } from '../../runtime/router.js'
import { formatHostPort, parseHostPort } from '../../transports/tcp/host-port.js'
import {
  DEFAULT_OUTLET_ADDRESS,
  DEFAULT_OUTLET_CONNECT_TIMEOUT_MS,
  DEFAULT_OUTLET_MAX_PORTALS,
  DEFAULT_OUTLET_MAX_PORTALS_PER_PEER,
  PORTAL_PROTOCOL_VERSION,
} from './constants.js'
import { describeIngress, peerKey } from './ingress.js'
import { decodePortalMessage, encodeReset, type PortalMessage, type ResetReason } from './messages.js'
import { PortalSet, type PortalStats } from './portal-set.js'
import { PortalStream } from './portal-stream.js'
import { type PortalTuning, resolveTuning } from './settings.js'

/** What an inlet or outlet needs from a node (an OckamNode has both). */
export interface PortalNode {
  readonly router: Router
  readonly log: Logger
}

export interface TcpOutletOptions extends PortalTuning {
  /** `HOST:PORT` (or a port on 127.0.0.1) to connect to, once per portal. */
  readonly target: string
  /**
   * Which opens to accept, from the open message (its `local.ingress` names the peer: the
   * channel's identifier and attributes, or the TCP connection). Called again on `recheck()`.
   * Required: an outlet reachable from the network decides who may use it.
   */
  readonly allow: (message: Message) => boolean
  /** The service address; default `outlet`. */
  readonly address?: string
  readonly maxPortalsPerPeer?: number
  readonly maxPortals?: number
  readonly connectTimeoutMs?: number
}

export interface TcpOutlet {
  readonly address: Address
  readonly target: string
  stats(): PortalStats
  /** Re-evaluates the policy (default: the `allow` option) on every open portal; resets the denied. Returns how many. */
  recheck(allow?: (message: Message) => boolean): number
  /** Resets every portal (default reason `shutdown`); returns how many. */
  resetAll(reason?: ResetReason): number
  /** Stops the service and resets its portals. */
  stop(): Promise<void>
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v < 1) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${name} must be a positive integer, got ${v}`)
  }
  return v
}

export async function startTcpOutlet(node: PortalNode, options: TcpOutletOptions): Promise<TcpOutlet> {
  if (typeof options.allow !== 'function') {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'an outlet needs an allow(message) policy hook')
  }
  const target = parseHostPort(options.target)
  const targetText = formatHostPort(target)
  const serviceAddress = local(options.address ?? DEFAULT_OUTLET_ADDRESS)
  const maxPerPeer = positive('maxPortalsPerPeer', options.maxPortalsPerPeer, DEFAULT_OUTLET_MAX_PORTALS_PER_PEER)
  const maxPortals = positive('maxPortals', options.maxPortals, DEFAULT_OUTLET_MAX_PORTALS)
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_OUTLET_CONNECT_TIMEOUT_MS)
  const tuning = resolveTuning(node.router, options)
  const router = node.router
  const log = node.log.child({ outlet: serviceAddress.value })
  const limited = new RateLimitedLog(log, options.logWindowMs)
  const perPeer = new Map<string, number>()
  const peerOf = new WeakMap<PortalStream, string>()
  const set = new PortalSet({
    kind: 'outlet',
    name: serviceAddress.value,
    router,
    log,
    pool: tuning.pool,
    settings: tuning.settings,
    sweepIntervalMs: tuning.sweepIntervalMs,
    ...(options.logWindowMs === undefined ? {} : { logWindowMs: options.logWindowMs }),
    onEnded(stream) {
      const key = peerOf.get(stream)
      if (key === undefined) return
      const count = (perPeer.get(key) ?? 1) - 1
      if (count <= 0) perPeer.delete(key)
      else perPeer.set(key, count)
    },
  })

  const refuse = (ctx: Context, message: Message, reason: ResetReason, error: OckamError): void => {
    router.counters.inc(`portal.outlet.refused.${reason}`)
    limited.warn(
      `refused:${reason}`,
      { event: 'portal.refused', code: error.code, reason, peer: describeIngress(message.local.ingress) },
      `outlet ${serviceAddress.value}: ${error.message}; the portal was refused`,
    )
    ctx.reply(message, encodeReset(reason)).catch(() => {})
  }

  const accept = async (ctx: Context, message: Message, open: PortalMessage & { type: 'open' }): Promise<void> => {
    const key = peerKey(message.local.ingress)
    perPeer.set(key, (perPeer.get(key) ?? 0) + 1)
    const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true })
    const stream = new PortalStream({
      address: local(`portal-${randomBytes(8).toString('hex')}`),
      side: 'outlet',
      socket,
      host: set,
      label: targetText,
    })
    peerOf.set(stream, key)
    set.add(stream)
    stream.bindPeer(message, open.credit)
    const timer = setTimeout(() => {
      stream.reset(
        'target-unreachable',
        new OckamError(
          'OCKAM_ERR_PORTAL_TARGET_UNREACHABLE',
          `the outlet could not connect to its target ${targetText} within ${connectTimeoutMs} ms`,
        ),
        true,
      )
    }, connectTimeoutMs)
    timer.unref()
    stream.signal.addEventListener('abort', () => clearTimeout(timer), { once: true })
    socket.once('connect', () => {
      clearTimeout(timer)
      stream.targetConnected()
    })
    try {
      await ctx.router.startWorker([stream.address], stream, { incoming: stream.incoming })
    } catch (error) {
      stream.reset('shutdown', isOckamError(error) ? error : new OckamError('OCKAM_ERR_INTERNAL', String(error)), true)
    }
  }

  await router.startWorker(
    [serviceAddress],
    {
      async handleMessage(ctx, message) {
        let decoded: PortalMessage
        try {
          decoded = decodePortalMessage(message.payload)
        } catch (error) {
          router.counters.inc('portal.outlet.malformed')
          if (isOckamError(error)) refuse(ctx, message, 'protocol-error', error)
          return
        }
        if (decoded.type !== 'open') {
          // A late message for a portal that has gone, or a confused peer: nothing to answer.
          router.counters.inc('portal.outlet.unexpected')
          return
        }
        if (decoded.version !== PORTAL_PROTOCOL_VERSION) {
          refuse(
            ctx,
            message,
            'version',
            new OckamError('OCKAM_ERR_PORTAL_VERSION', `the inlet speaks portal protocol version ${decoded.version}`),
          )
          return
        }
        let allowed = false
        try {
          allowed = options.allow(message)
        } catch (error) {
          log.warn({ err: error }, `outlet ${serviceAddress.value}: the allow hook threw; treated as deny`)
        }
        if (!allowed) {
          refuse(
            ctx,
            message,
            'denied',
            new OckamError(
              'OCKAM_ERR_PORTAL_DENIED',
              `${describeIngress(message.local.ingress)} is not allowed to open a portal here`,
            ),
          )
          return
        }
        const key = peerKey(message.local.ingress)
        if ((perPeer.get(key) ?? 0) >= maxPerPeer || set.size >= maxPortals) {
          refuse(
            ctx,
            message,
            'too-many',
            new OckamError(
              'OCKAM_ERR_PORTAL_TOO_MANY',
              `${describeIngress(message.local.ingress)} has ${perPeer.get(key) ?? 0} portals open (cap ${maxPerPeer} per peer, ${maxPortals} in all)`,
            ),
          )
          return
        }
        await accept(ctx, message, decoded)
      },
      shutdown() {
        set.stop()
        set.resetAll('shutdown', new OckamError('OCKAM_ERR_STOPPED', 'the outlet stopped'), true)
      },
    },
    // Relay registrations carry no identity and may reach only secure-channel listeners.
    { incoming: { name: 'portal-outlet', allows: (message) => message.local.ingress.kind !== 'relay' } },
  )
  log.info({ event: 'portal.outlet.started', target: targetText }, `outlet ${serviceAddress.value} → ${targetText}`)

  return {
    address: serviceAddress,
    target: targetText,
    stats: () => set.stats(),
    recheck: (allow = options.allow) => set.recheck(allow),
    resetAll: (reason = 'shutdown') =>
      set.resetAll(
        reason,
        new OckamError('OCKAM_ERR_PORTAL_RESET', `all portals of the outlet were reset (${reason})`),
        true,
      ),
    stop: () => router.stopWorker(serviceAddress),
  }
}
