/**
 * Credit-based flow control of one portal direction, as two pure state machines.
 *
 * The receiver grants credit it has reserved in the node-wide pool; a `data` message of n bytes
 * costs n + PORTAL_DATA_COST_OVERHEAD units; the receiver gives credit back to the sender only
 * once the bytes are written out to its socket. So a sender never has more than the receiver's
 * window outstanding, and a slow socket holds at most one window — never the whole path, never
 * the other portals of the same route. A peer that sends beyond its credit is a protocol
 * violation (OCKAM_ERR_PORTAL_CREDIT_EXCEEDED), checked on every message.
 */
import { OckamError } from '../../runtime/errors.js'
import {
  MIN_PORTAL_WINDOW_BYTES,
  PORTAL_DATA_COST_OVERHEAD,
  PORTAL_GRANT_THRESHOLD_DIVISOR,
  PORTAL_MIN_GRANT_BYTES,
  PORTAL_MIN_PARTIAL_SEND_BYTES,
} from './constants.js'
import type { CreditPool } from './credit-pool.js'

/** Largest window (units): credit amounts travel as u32, and a window must fit one grant. */
export const MAX_PORTAL_WINDOW_BYTES = 0x7fff_ffff

/** Credit units a data message of `bytes` payload bytes costs. */
export function dataCost(bytes: number): number {
  return bytes + PORTAL_DATA_COST_OVERHEAD
}

/**
 * Below this much credit (units) a sender cannot send a PORTAL_MIN_PARTIAL_SEND_BYTES piece and,
 * with more pending, waits for a grant: the receiver counts it as having run short.
 */
const SHORT_CREDIT_UNITS = PORTAL_MIN_PARTIAL_SEND_BYTES + PORTAL_DATA_COST_OVERHEAD

export class CreditReceiver {
  /** The most this side grants and holds (the configured window). */
  readonly window: number
  /** Where the effective window starts, and returns to after an idle sender gave credit back. */
  readonly start: number
  readonly #pool: CreditPool
  /** The effective window: `start`, doubled (up to `window`) each time the sender used it up. */
  #target: number
  #outstanding = 0
  #held = 0
  /** Units consumed since the effective window was last set. */
  #usedSinceSet = 0
  /**
   * Since the effective window was last set, the sender ran short of credit (below
   * SHORT_CREDIT_UNITS) or sent a bulk-sized message (at least PORTAL_MIN_PARTIAL_SEND_BYTES:
   * more than a small request was pending). Only then may the window grow: a sender of small
   * messages that has credit to spare grows nothing, however long it runs. The second sign
   * matters because grants of flushed data are on their way before the sender runs dry, so
   * while data flows the receiver rarely sees the sender's credit short.
   */
  #pressed = false
  #closed = false

  /**
   * `start` (default: the whole window) is the first grant: a small start keeps the credit of
   * portals that send little, or nothing, small (slow start); one that uses its credit up grows.
   */
  constructor(window: number, pool: CreditPool, start: number = window) {
    if (!Number.isInteger(window) || window < MIN_PORTAL_WINDOW_BYTES || window > MAX_PORTAL_WINDOW_BYTES) {
      throw new OckamError(
        'OCKAM_ERR_INVALID_ARGUMENT',
        `a portal window is ${MIN_PORTAL_WINDOW_BYTES} to ${MAX_PORTAL_WINDOW_BYTES} bytes, got ${window}`,
      )
    }
    if (!Number.isInteger(start) || start < PORTAL_MIN_GRANT_BYTES || start > window) {
      throw new OckamError(
        'OCKAM_ERR_INVALID_ARGUMENT',
        `a portal's first grant is ${PORTAL_MIN_GRANT_BYTES} bytes to its window (${window}), got ${start}`,
      )
    }
    this.window = window
    this.start = start
    this.#target = start
    this.#pool = pool
    pool.join()
  }

  /** The effective window: what the receiver tops the sender's credit up to now. */
  get target(): number {
    return this.#target
  }

  /** Credit granted to the peer and not yet used by it. */
  get outstanding(): number {
    return this.#outstanding
  }

  /** Units of data that arrived and are not written out yet. */
  get held(): number {
    return this.#held
  }

  /**
   * A data message of `bytes` bytes arrived: its cost must fit the outstanding credit. Returns
   * the cost, which the caller passes to `flushed` once the bytes are written out.
   */
  consume(bytes: number): number {
    const cost = dataCost(bytes)
    if (cost > this.#outstanding) {
      throw new OckamError(
        'OCKAM_ERR_PORTAL_CREDIT_EXCEEDED',
        `the peer sent a ${bytes}-byte chunk (cost ${cost}) with ${this.#outstanding} credit outstanding`,
        { data: { bytes, cost, outstanding: this.#outstanding } },
      )
    }
    this.#outstanding -= cost
    this.#held += cost
    this.#usedSinceSet += cost
    if (this.#outstanding < SHORT_CREDIT_UNITS || bytes >= PORTAL_MIN_PARTIAL_SEND_BYTES) this.#pressed = true
    this.#pool.hold(cost)
    return cost
  }

  /** `cost` units were written out to the socket: they leave the pool and may be granted again. */
  flushed(cost: number): void {
    if (this.#closed) return
    this.#held -= cost
    this.#pool.unhold(cost)
    this.#pool.release(cost)
  }

  /** The sender gave back `amount` units it did not use. */
  returned(amount: number): void {
    if (amount > this.#outstanding) {
      throw new OckamError(
        'OCKAM_ERR_PORTAL_PROTOCOL',
        `the peer returned ${amount} credit with only ${this.#outstanding} outstanding`,
      )
    }
    this.#outstanding -= amount
    this.#pool.release(amount)
    // The sender was idle: start again small, as a new portal does (never below what is still
    // out, so a grant stays due whenever the sender spends).
    this.#setTarget(Math.max(this.start, this.#outstanding + this.#held))
  }

  /**
   * How much to grant now: what the sender consumed, back up to the effective window, which
   * doubles (up to the window) once the sender has used a whole effective window and pressed
   * on its credit (see #pressed). 0 unless the deficit is at least a quarter of the effective window (batching) —
   * or the sender may be stuck: holding a sliver it will not send while a grant is due, with
   * nothing left here to flush (no later flush would grant). `wantsMore` afterwards says whether
   * the pool was the reason for a 0.
   */
  grant(): number {
    this.wantsMore = false
    if (this.#closed) return 0
    if (this.#pressed && this.#usedSinceSet >= this.#target && this.#target < this.window) {
      this.#setTarget(Math.min(this.window, this.#target * 2))
    }
    const deficit = this.#target - this.#outstanding - this.#held
    if (deficit <= 0) return 0
    const threshold = Math.max(PORTAL_MIN_GRANT_BYTES, Math.floor(this.#target / PORTAL_GRANT_THRESHOLD_DIVISOR))
    if (deficit < threshold && !(this.#held === 0 && this.#outstanding < SHORT_CREDIT_UNITS)) return 0
    const granted = this.#pool.take(deficit, PORTAL_MIN_GRANT_BYTES)
    if (granted === 0) {
      this.wantsMore = true
      return 0
    }
    this.#outstanding += granted
    return granted
  }

  #setTarget(target: number): void {
    this.#target = target
    this.#usedSinceSet = 0
    this.#pressed = false
  }

  /** Set by `grant()` when it wanted to grant but the node-wide pool was short. */
  wantsMore = false

  /** Gives everything back to the pool (portal closed). Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#pool.leave()
    this.#pool.unhold(this.#held)
    this.#pool.release(this.#outstanding + this.#held)
    this.#outstanding = 0
    this.#held = 0
  }
}

export class CreditSender {
  #available = 0
  #spentSinceGrant = false

  /** Credit units the peer granted and this side has not used. */
  get available(): number {
    return this.#available
  }

  add(amount: number): void {
    this.#available += amount
    this.#spentSinceGrant = false
  }

  /** Payload bytes one message may carry now (0: wait for credit), at most `maxChunk`. */
  sendable(maxChunk: number): number {
    const room = this.#available - PORTAL_DATA_COST_OVERHEAD
    return room <= 0 ? 0 : Math.min(room, maxChunk)
  }

  /**
   * How many of `pending` bytes to send in the next message (0: wait). Like `sendable`, except
   * that credit for only a sliver (under PORTAL_MIN_PARTIAL_SEND_BYTES, less than what is
   * pending) is kept while a grant is due, i.e. while data went out since the last grant: the
   * receiver grants again once it has flushed that data (MIN_PORTAL_WINDOW_BYTES says why it
   * always can), and one full message is cheaper than a full one plus a sliver.
   */
  nextLength(pending: number, maxChunk: number): number {
    const sendable = this.sendable(maxChunk)
    const length = Math.min(sendable, pending)
    if (length < pending && length < PORTAL_MIN_PARTIAL_SEND_BYTES && this.#spentSinceGrant) return 0
    return length
  }

  /** Records a data message of `bytes` bytes. Callers ask `sendable` first; overspending is a bug. */
  spend(bytes: number): void {
    const cost = dataCost(bytes)
    if (cost > this.#available) {
      throw new OckamError('OCKAM_ERR_INTERNAL', `portal sender overspent: cost ${cost} > ${this.#available} credit`)
    }
    this.#available -= cost
    this.#spentSinceGrant = true
  }

  /**
   * Units to give back when idle (all but `keep`), now no longer available; 0 if none. After a
   * return no grant is waited for: the receiver may have flushed the last data while this
   * credit was still out (so it did not grant then), and a return gives it no new occasion.
   */
  giveBack(keep: number): number {
    // A grant travels as a u32, so a (hostile) peer's huge grants come back in u32 pieces.
    const surplus = Math.min(this.#available - keep, 0xffff_ffff)
    if (surplus <= 0) return 0
    this.#available -= surplus
    this.#spentSinceGrant = false
    return surplus
  }
}
