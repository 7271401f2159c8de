/** Options shared by inlets and outlets, validated up front with precise messages. */
import { OckamError } from '../../runtime/errors.js'
import type { Router } from '../../runtime/router.js'
import {
  DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES,
  DEFAULT_PORTAL_LINGER_MS,
  DEFAULT_PORTAL_MAX_CHUNK_BYTES,
  DEFAULT_PORTAL_SWEEP_INTERVAL_MS,
  DEFAULT_PORTAL_WINDOW_BYTES,
  MIN_PORTAL_CHUNK_BYTES,
  MIN_PORTAL_WINDOW_BYTES,
} from './constants.js'
import { MAX_PORTAL_WINDOW_BYTES } from './credit.js'
import { type CreditPool, sharedCreditPool } from './credit-pool.js'
import type { StreamSettings } from './portal-stream.js'

/** Largest `maxChunkBytes` accepted; whether the route carries it is the caller's choice (a channel frame holds 65,002). */
export const MAX_PORTAL_CHUNK_BYTES = 1024 * 1024

export interface PortalTuning {
  /** Credit one portal direction may have outstanding (bytes); default DEFAULT_PORTAL_WINDOW_BYTES. */
  readonly windowBytes?: number
  /** Payload bytes per data message; default DEFAULT_PORTAL_MAX_CHUNK_BYTES (fits one channel frame). */
  readonly maxChunkBytes?: number
  /** Credit an idle sender keeps when it gives the rest back (bytes). */
  readonly idleCreditKeepBytes?: number
  /** Sweep period (ms): idle credit back, lost routes reset. */
  readonly sweepIntervalMs?: number
  /** How long a closed portal's address keeps absorbing late messages (ms). */
  readonly lingerMs?: number
  /** The node-wide credit pool; default the one shared by every portal of the node. */
  readonly pool?: CreditPool
  /** Window of the per-reason rate limit on reset log lines (ms); 0 logs every one. */
  readonly logWindowMs?: number
}

export interface ResolvedTuning {
  readonly settings: StreamSettings
  readonly sweepIntervalMs: number
  readonly pool: CreditPool
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${name} must be an integer from ${min} to ${max}, got ${v}`)
  }
  return v
}

export function resolveTuning(router: Router, tuning: PortalTuning): ResolvedTuning {
  const windowBytes = integer(
    'windowBytes',
    tuning.windowBytes,
    DEFAULT_PORTAL_WINDOW_BYTES,
    MIN_PORTAL_WINDOW_BYTES,
    MAX_PORTAL_WINDOW_BYTES,
  )
  const maxChunkBytes = integer(
    'maxChunkBytes',
    tuning.maxChunkBytes,
    DEFAULT_PORTAL_MAX_CHUNK_BYTES,
    MIN_PORTAL_CHUNK_BYTES,
    MAX_PORTAL_CHUNK_BYTES,
  )
  const idleCreditKeepBytes = integer(
    'idleCreditKeepBytes',
    tuning.idleCreditKeepBytes,
    DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES,
    0,
    windowBytes,
  )
  const lingerMs = integer('lingerMs', tuning.lingerMs, DEFAULT_PORTAL_LINGER_MS, 0, 600_000)
  const sweepIntervalMs = integer(
    'sweepIntervalMs',
    tuning.sweepIntervalMs,
    DEFAULT_PORTAL_SWEEP_INTERVAL_MS,
    10,
    600_000,
  )
  return {
    settings: { windowBytes, maxChunkBytes, idleCreditKeepBytes, lingerMs },
    sweepIntervalMs,
    pool: tuning.pool ?? sharedCreditPool(router),
  }
}
