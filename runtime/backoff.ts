/**
 * Exponential backoff with full jitter, for the session objects that own reconnection
 * (transports never reconnect on their own, DESIGN §12). Full jitter — a delay drawn uniformly
 * from [0, min(max, initial·factor^n)] — spreads a crowd of nodes that lost the same project
 * instead of having them all return at the same instant.
 */
import { abortError, OckamError } from './errors.js'

export interface BackoffOptions {
  /** First ceiling, ms. */
  initialMs?: number
  /** Largest ceiling, ms. */
  maxMs?: number
  factor?: number
  /** Source of randomness in [0, 1); tests pass a fixed one. */
  random?: () => number
}

export const DEFAULT_BACKOFF_INITIAL_MS = 250
export const DEFAULT_BACKOFF_MAX_MS = 30_000
export const DEFAULT_BACKOFF_FACTOR = 2

export class Backoff {
  readonly #initialMs: number
  readonly #maxMs: number
  readonly #factor: number
  readonly #random: () => number
  #attempt = 0

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS
    this.#maxMs = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS
    this.#factor = options.factor ?? DEFAULT_BACKOFF_FACTOR
    this.#random = options.random ?? Math.random
    if (!(this.#initialMs > 0 && this.#maxMs >= this.#initialMs && this.#factor >= 1)) {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'backoff needs 0 < initialMs <= maxMs and factor >= 1')
    }
  }

  get attempt(): number {
    return this.#attempt
  }

  /** The ceiling for the current attempt (before jitter). */
  ceiling(): number {
    return Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt)
  }

  /** The next delay in ms; each call moves one attempt further. */
  next(): number {
    const delay = Math.floor(this.#random() * this.ceiling())
    this.#attempt++
    return delay
  }

  /** After a success: start again from the first ceiling. */
  reset(): void {
    this.#attempt = 0
  }

  /** Waits for the next delay, or rejects with OCKAM_ERR_ABORTED when the signal fires. */
  wait(signal?: AbortSignal): Promise<number> {
    const delay = this.next()
    return sleep(delay, signal).then(() => delay)
  }
}

/** setTimeout as a promise that an AbortSignal can cut short. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal, 'sleep'))
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError(signal as AbortSignal, 'sleep'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
