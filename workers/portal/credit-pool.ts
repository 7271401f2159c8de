/**
 * The node-wide credit pool of portal receivers. Every byte of credit a receiver grants, and
 * every byte it holds before its socket takes it, is reserved here first; the sum never exceeds
 * `limit`. So the memory that peers can make this node hold for slow local sockets is bounded
 * node-wide, whatever the number of portals: past the limit, receivers wait (first come, first
 * served) for credit to flush or to come back from idle senders.
 */
import type { Counters } from '../../runtime/diagnostics.js'
import { OckamError } from '../../runtime/errors.js'
import type { Router } from '../../runtime/router.js'
import { DEFAULT_PORTAL_CREDIT_POOL_BYTES } from './constants.js'

export class CreditPool {
  readonly limit: number
  #reserved = 0
  #held = 0
  #members = 0
  #waits = 0
  readonly #waiters = new Set<() => void>()
  readonly #counters: Counters | undefined

  constructor(limit: number = DEFAULT_PORTAL_CREDIT_POOL_BYTES, counters?: Counters) {
    if (!Number.isSafeInteger(limit) || limit <= 0) {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `a credit pool limit is a positive integer, got ${limit}`)
    }
    this.limit = limit
    this.#counters = counters
  }

  /** Credit granted and not yet consumed plus bytes held unflushed, over every portal. */
  get reserved(): number {
    return this.#reserved
  }

  /** Bytes (with per-message overhead) received and not yet written out: the buffered-bytes gauge. */
  get held(): number {
    return this.#held
  }

  get available(): number {
    return this.limit - this.#reserved
  }

  get waiting(): number {
    return this.#waiters.size
  }

  /** Times a receiver had to wait for credit since the pool was made (a gauge tests read, not a sample). */
  get waits(): number {
    return this.#waits
  }

  /** Receivers sharing the pool (each joins when created and leaves when closed). */
  get members(): number {
    return this.#members
  }

  join(): void {
    this.#members++
  }

  leave(): void {
    this.#members--
  }

  /**
   * Reserves up to `wanted` units; returns what it reserved: `wanted` if there is room, what is
   * left if that is at least `minimum`, else 0. Past half the pool a grant is capped at a fair
   * share (limit / members, at least `minimum`): otherwise the first receivers to ask, or the
   * first waiters woken, would each take a whole window and leave the rest waiting.
   */
  take(wanted: number, minimum: number): number {
    const available = this.limit - this.#reserved
    if (this.#reserved + wanted > this.limit / 2 && this.#members > 1) {
      const share = Math.max(minimum, Math.floor(this.limit / this.#members))
      if (wanted > share) wanted = share
    }
    const taken = wanted <= available ? wanted : available >= minimum ? available : 0
    if (taken > 0) {
      this.#reserved += taken
      this.#gauge()
    }
    return taken
  }

  release(units: number): void {
    if (units <= 0) return
    this.#reserved -= units
    if (this.#reserved < 0) throw new OckamError('OCKAM_ERR_INTERNAL', 'credit pool released more than reserved')
    this.#gauge()
    if (this.#waiters.size > 0) this.#wake()
  }

  /** Accounts bytes that arrived (already reserved as credit) as held until flushed. */
  hold(units: number): void {
    this.#held += units
    this.#gauge()
  }

  unhold(units: number): void {
    this.#held -= units
    this.#gauge()
  }

  /** Calls `wake` once, the next time credit is released (FIFO among waiters). */
  wait(wake: () => void): void {
    if (!this.#waiters.has(wake)) this.#waits++
    this.#waiters.add(wake)
  }

  cancelWait(wake: () => void): void {
    this.#waiters.delete(wake)
  }

  #wake(): void {
    // Waiters take in arrival order; each one that still finds nothing waits again (re-added at
    // the end), so the loop stops once the pool is spent.
    for (const wake of [...this.#waiters]) {
      if (this.limit - this.#reserved <= 0) break
      this.#waiters.delete(wake)
      wake()
    }
  }

  #gauge(): void {
    if (this.#counters === undefined) return
    this.#counters.set('portal.credit_reserved', this.#reserved)
    this.#counters.set('portal.buffered_bytes', this.#held)
  }
}

const pools = new WeakMap<Router, CreditPool>()

/**
 * The pool shared by every inlet and outlet of one node (keyed by its router), created with
 * `limit` the first time it is asked for.
 */
export function sharedCreditPool(router: Router, limit: number = DEFAULT_PORTAL_CREDIT_POOL_BYTES): CreditPool {
  let pool = pools.get(router)
  if (pool === undefined) {
    pool = new CreditPool(limit, router.counters)
    pools.set(router, pool)
  }
  return pool
}
