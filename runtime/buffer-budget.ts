/**
 * A node-wide budget of bytes held in buffers on behalf of peers (partial frames now, portal
 * windows later). When it is spent, readers pause until bytes are released, so a thousand
 * slow peers cannot hold memory hostage; the frame-completion timeout evicts the ones that
 * never finish. Its `used` figure is the node's buffered-bytes gauge.
 */
import { OckamError } from './errors.js'

export class BufferBudget {
  readonly limit: number
  #used = 0
  #waiters: Array<() => void> = []

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `buffer budget must be a positive integer, got ${limit}`)
    }
    this.limit = limit
  }

  get used(): number {
    return this.#used
  }

  get exhausted(): boolean {
    return this.#used >= this.limit
  }

  /** Accounts for bytes already held; the caller pauses its producer while `exhausted`. */
  take(bytes: number): void {
    this.#used += bytes
  }

  release(bytes: number): void {
    this.#used -= bytes
    if (this.#used < 0) this.#used = 0
    if (this.#used < this.limit && this.#waiters.length > 0) {
      for (const wake of this.#waiters.splice(0)) wake()
    }
  }

  /** Resolves when the budget has room again. */
  whenAvailable(): Promise<void> {
    if (!this.exhausted) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }
}
