/**
 * The portals of one inlet or outlet: counters, the buffered-bytes figure, log lines for resets,
 * the periodic sweep (idle credit back, lost routes reset), and the policy re-check.
 */

import { addressKey } from '../../runtime/address.js'
import { OckamError } from '../../runtime/errors.js'
import type { Logger } from '../../runtime/log.js'
import type { Message } from '../../runtime/message.js'
import { RateLimitedLog } from '../../runtime/rate-limited-log.js'
import type { Router } from '../../runtime/router.js'
import type { CreditPool } from './credit-pool.js'
import type { ResetReason } from './messages.js'
import type { PortalStream, StreamHost, StreamSettings } from './portal-stream.js'

export interface PortalStats {
  /** Portals open now (handshake done, not ended). */
  readonly portalsOpen: number
  /** Portals that completed their handshake since start. */
  readonly portalsOpened: number
  /** Connections accepted (inlet) or opens accepted (outlet) that have not ended, open or opening. */
  readonly portalsActive: number
  /** Bytes read from local sockets (clients at an inlet, the target at an outlet) and sent on. */
  readonly bytesIn: number
  /** Bytes received from the peer and written to local sockets. */
  readonly bytesOut: number
  /** Portals that ended by a reset, whatever the cause. */
  readonly resets: number
  /** Resets by reason (`aborted`, `denied`, `path-lost`, `target-unreachable`, …). */
  readonly resetsByReason: Readonly<Record<string, number>>
  /** Units of peer data held for slow local sockets now (this inlet's or outlet's share of the gauge). */
  readonly bufferedBytes: number
}

export interface PortalSetOptions {
  readonly kind: 'inlet' | 'outlet'
  readonly name: string
  readonly router: Router
  readonly log: Logger
  readonly pool: CreditPool
  readonly settings: StreamSettings
  readonly sweepIntervalMs: number
  readonly logWindowMs?: number
  /** Inlet: the policy on the outlet side's first message (opened); undefined accepts any. */
  readonly allowOpened?: (message: Message) => boolean
  /** Called once per stream when its handshake is done (the inlet's open timer). */
  readonly onOpened?: (stream: PortalStream) => void
  /** Called once per stream when it ends (the outlet's per-peer count). */
  readonly onEnded?: (stream: PortalStream) => void
}

export class PortalSet implements StreamHost {
  readonly kind: 'inlet' | 'outlet'
  readonly name: string
  readonly router: Router
  readonly pool: CreditPool
  readonly settings: StreamSettings
  readonly bytes = { in: 0, out: 0 }
  readonly activity = { seq: 0, lastRead: 0, lastHeard: 0 }
  readonly #log: Logger
  readonly #limited: RateLimitedLog
  readonly #streams = new Set<PortalStream>()
  readonly #allowOpened: ((message: Message) => boolean) | undefined
  readonly #onOpened: ((stream: PortalStream) => void) | undefined
  readonly #onEnded: ((stream: PortalStream) => void) | undefined
  readonly #sweepTimer: NodeJS.Timeout
  readonly #openStreams = new Set<PortalStream>()
  #opened = 0
  #resets = 0
  readonly #resetsByReason = new Map<string, number>()

  constructor(options: PortalSetOptions) {
    this.kind = options.kind
    this.name = options.name
    this.router = options.router
    this.pool = options.pool
    this.settings = options.settings
    this.#log = options.log
    this.#limited = new RateLimitedLog(options.log, options.logWindowMs)
    this.#allowOpened = options.allowOpened
    this.#onOpened = options.onOpened
    this.#onEnded = options.onEnded
    this.#sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs)
    this.#sweepTimer.unref()
  }

  get size(): number {
    return this.#streams.size
  }

  add(stream: PortalStream): void {
    this.#streams.add(stream)
  }

  opened(stream: PortalStream): void {
    this.#openStreams.add(stream)
    this.#opened++
    this.router.counters.inc(`portal.${this.kind}.opened`)
    this.#onOpened?.(stream)
    if (this.#allowOpened !== undefined && !this.#allowOpened(stream.peerMessage as Message)) {
      stream.reset(
        'denied',
        new OckamError('OCKAM_ERR_PORTAL_DENIED', 'the outlet side is not allowed by the inlet policy'),
        true,
      )
    }
  }

  closed(stream: PortalStream, reason: ResetReason | undefined, error: OckamError | undefined): void {
    if (!this.#streams.delete(stream)) return
    this.#openStreams.delete(stream)
    this.#onEnded?.(stream)
    const counters = this.router.counters
    if (error === undefined) {
      counters.inc(`portal.${this.kind}.closed`)
      this.#log.debug({ event: 'portal.closed', portal: addressKey(stream.address), side: this.kind }, 'portal closed')
      return
    }
    const why = reason ?? 'aborted'
    this.#resets++
    this.#resetsByReason.set(why, (this.#resetsByReason.get(why) ?? 0) + 1)
    counters.inc(`portal.${this.kind}.resets`)
    counters.inc(`portal.${this.kind}.resets.${why}`)
    const fields = {
      event: 'portal.reset',
      code: error.code,
      reason: why,
      side: this.kind,
      [this.kind]: this.name,
      portal: addressKey(stream.address),
      ...(error.data ?? {}),
    }
    const line = `${this.kind} ${this.name}: ${error.message}; the ${this.kind === 'inlet' ? 'client' : 'target'} connection was reset`
    // A client or target that goes away (either end) is ordinary traffic; a stopping inlet or
    // outlet is worth a line; anything else (route lost, refused, protocol errors) is a warning.
    if (why === 'aborted') this.#log.debug(fields, line)
    else if (why === 'shutdown') this.#log.info(fields, line)
    else this.#limited.warn(`${this.kind}:${this.name}:${error.code}:${why}`, fields, line)
  }

  sweep(): void {
    for (const stream of this.#streams) stream.sweep()
  }

  /**
   * Re-evaluates `allow` on the first peer message of every open portal (its ingress names the
   * peer identity) and resets those it now denies. Returns how many were reset.
   */
  recheck(allow: (message: Message) => boolean): number {
    let denied = 0
    for (const stream of [...this.#streams]) {
      const message = stream.peerMessage
      if (message === undefined || stream.state === 'closed') continue
      let allowed: boolean
      try {
        allowed = allow(message)
      } catch {
        allowed = false
      }
      if (!allowed) {
        denied++
        stream.reset(
          'denied',
          new OckamError('OCKAM_ERR_PORTAL_DENIED', 'the peer is no longer allowed by the policy (re-check)'),
          true,
        )
      }
    }
    return denied
  }

  /**
   * Resets every portal (the route's session was lost, the inlet or outlet is deleted), but those
   * `keep` returns true for. Returns how many were reset.
   */
  resetAll(reason: ResetReason, error: OckamError, notify: boolean, keep?: (stream: PortalStream) => boolean): number {
    const streams = keep === undefined ? [...this.#streams] : [...this.#streams].filter((stream) => !keep(stream))
    for (const stream of streams) stream.reset(reason, error, notify)
    return streams.length
  }

  stats(): PortalStats {
    let buffered = 0
    for (const stream of this.#streams) buffered += stream.heldBytes
    return {
      portalsOpen: this.#openStreams.size,
      portalsOpened: this.#opened,
      portalsActive: this.#streams.size,
      bytesIn: this.bytes.in,
      bytesOut: this.bytes.out,
      resets: this.#resets,
      resetsByReason: Object.fromEntries(this.#resetsByReason),
      bufferedBytes: buffered,
    }
  }

  stop(): void {
    clearInterval(this.#sweepTimer)
  }
}
