/**
 * A bounded FIFO. A full mailbox makes `push` wait for space instead of growing, which is how
 * backpressure travels from a slow worker back to whoever produces (a socket reader pauses
 * while its push is pending). Waiting producers are bounded by the number of producers.
 */
import { abortError, OckamError } from './errors.js'

interface SpaceWaiter {
  resolve(): void
  reject(error: Error): void
}

export class Mailbox<T> {
  readonly capacity: number
  #items: T[] = []
  #head = 0
  #waiters: SpaceWaiter[] = []
  #closed: Error | undefined

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `mailbox capacity must be a positive integer, got ${capacity}`)
    }
    this.capacity = capacity
  }

  get size(): number {
    return this.#items.length - this.#head
  }

  /** Producers currently waiting for space. */
  get waiting(): number {
    return this.#waiters.length
  }

  tryPush(item: T): boolean {
    if (this.#closed !== undefined) throw this.#closed
    if (this.size >= this.capacity) return false
    this.#items.push(item)
    return true
  }

  async push(item: T, signal?: AbortSignal): Promise<void> {
    while (!this.tryPush(item)) {
      await this.#waitForSpace(signal)
    }
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined
    const item = this.#items[this.#head] as T
    this.#items[this.#head] = undefined as T
    this.#head++
    // Compact occasionally so the backing array does not grow with the total ever pushed.
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    this.#waiters.shift()?.resolve()
    return item
  }

  /** Rejects every waiting producer and every later push; drops queued items. */
  close(error: Error): void {
    this.#closed = error
    this.#items = []
    this.#head = 0
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error)
  }

  #waitForSpace(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal, 'waiting for mailbox space'))
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter)
        if (index >= 0) this.#waiters.splice(index, 1)
        reject(abortError(signal as AbortSignal, 'waiting for mailbox space'))
      }
      const waiter: SpaceWaiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(waiter)
    })
  }
}
