/**
 * The sending half of an open channel: seals plaintexts into frames and hands them to the path,
 * strictly in nonce order. Both of a channel's workers (the encryptor's payloads, the decryptor's
 * refreshes and closes) and its timers send through one queue, so frames never race each other
 * onto the path, and the fragments of one message are never interleaved with anything.
 *
 * Small messages may wait in a batch until the end of the current turn of the event loop and
 * leave sealed together (PROTOCOL.md "Batching"). Measured with pgbench through a portal: the 8
 * clients' queries reach the channel 2–2.6 per turn, and every frame costs an AEAD at each end,
 * a TCP write and a read; anything else queued flushes the batch first, so order is kept.
 */
import { OckamError } from '../../runtime/errors.js'
import type { LocalMetadata } from '../../runtime/message.js'
import type { Route } from '../../runtime/route.js'
import type { Router } from '../../runtime/router.js'
import { DEFAULT_BATCH_FLUSH_BYTES } from './constants.js'
import { METRICS } from './metrics.js'
import { BATCH_ITEM_HEADER_BYTES, encodeBatchPlaintext, type PlaintextParts, plaintextLength } from './plaintext.js'
import type { TransportSender } from './transport-cipher.js'

export interface FrameQueueOptions {
  readonly router: Router
  readonly sender: TransportSender
  /** Where frames go: the peer's decryptor, fixed by the handshake. */
  readonly peerRoute: Route
  /** Initiator: local. Responder: message 1's ingress, so frames leave the way it came (no new dial). */
  readonly metadata: LocalMetadata
  /**
   * A frame could not be handed to the path. Its nonce is spent, so the peer would see a gap:
   * the channel must close.
   */
  readonly onLost: (error: OckamError) => void
}

function closedError(): OckamError {
  return new OckamError('OCKAM_ERR_SECURE_CHANNEL_CLOSED', 'the secure channel is closed')
}

export class FrameQueue {
  readonly #options: FrameQueueOptions
  /** Frames leave marked sealed: an enclosing channel may pass them through without a second seal. */
  readonly #metadata: LocalMetadata
  #sender: TransportSender | undefined
  #tail: Promise<void> = Promise.resolve()
  /** Jobs queued and not finished. */
  #pending = 0
  /** Small messages waiting for the end of this turn (each a whole `payload` plaintext). */
  #batch: PlaintextParts[] = []
  /** The batch plaintext's size so far: type byte and each item with its length. */
  #batchBytes = 1
  #flushScheduled = false

  constructor(options: FrameQueueOptions) {
    this.#options = options
    this.#metadata = { ...options.metadata, sealed: true }
    this.#sender = options.sender
  }

  /** A frame could not be handed to the path: the channel must close (its nonce is spent). */
  #lost(error: unknown): OckamError {
    const failure =
      error instanceof OckamError
        ? error
        : new OckamError('OCKAM_ERR_INTERNAL', String((error as Error)?.message ?? error), { cause: error })
    this.#options.onLost(failure)
    return new OckamError('OCKAM_ERR_SECURE_CHANNEL_CLOSED', `a frame could not be sent: ${failure.message}`, {
      cause: failure,
    })
  }

  get maxPlaintextBytes(): number {
    return this.#options.sender.maxPlaintextBytes
  }

  /**
   * Queues one small `payload` plaintext into the batch that leaves at the end of this turn of
   * the event loop (or at once when the batch is full: its promise is returned then, for the
   * caller's backpressure). While frames queued before still wait for the path, returns a promise
   * that settles once they are on it: the caller (the encryptor, and through its mailbox the
   * portal) waits as it would for an unbatched message, so a path that does not drain stops the
   * senders instead of a frame per turn piling up here. Otherwise returns undefined: the message
   * is taken, and a frame that later cannot be sent closes the channel like any lost frame.
   */
  enqueueBatched(plaintext: PlaintextParts): Promise<void> | undefined {
    if (this.#sender === undefined) return Promise.reject(closedError())
    const itemBytes = BATCH_ITEM_HEADER_BYTES + plaintextLength(plaintext)
    let full: Promise<void> | undefined
    if (this.#batchBytes + itemBytes > this.#options.sender.maxPlaintextBytes) {
      full = this.#flushBatch()
      full?.catch(() => {})
    }
    this.#batch.push(plaintext)
    this.#batchBytes += itemBytes
    if (this.#batchBytes >= DEFAULT_BATCH_FLUSH_BYTES) return this.#flushBatch()
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(this.#onTurnEnd)
    }
    if (full !== undefined) return full
    // Never rejects: a failure closed the channel already (#lost); this message still waits in the batch.
    return this.#pending > 0 ? this.#tail : undefined
  }

  readonly #onTurnEnd = (): void => {
    this.#flushScheduled = false
    // A failure closed the channel already (#lost): nobody waits on this promise.
    this.#flushBatch()?.catch(() => {})
  }

  /** Sends what the batch holds: one message as itself, several as one batch plaintext. */
  #flushBatch(): Promise<void> | undefined {
    const items = this.#batch
    if (items.length === 0) return undefined
    this.#batch = []
    this.#batchBytes = 1
    if (items.length > 1) this.#options.router.counters.inc(METRICS.batchesSent)
    return this.#enqueueNow([items.length === 1 ? (items[0] as PlaintextParts) : encodeBatchPlaintext(items)])
  }

  /** Seals and sends `plaintexts` after everything queued before; resolves once all are on the path. */
  enqueue(plaintexts: readonly PlaintextParts[]): Promise<void> {
    // What waits in the batch was queued first.
    this.#flushBatch()?.catch(() => {})
    return this.#enqueueNow(plaintexts)
  }

  #enqueueNow(plaintexts: readonly PlaintextParts[]): Promise<void> {
    // Captured now: finish() drops the sender at once but lets what was queued before go out.
    const sender = this.#sender
    if (sender === undefined) return Promise.reject(closedError())
    const { router, peerRoute } = this.#options
    const metadata = this.#metadata
    // Idle queue, one frame (every message that fits a frame): sealed and handed on right here,
    // without the job's two async frames.
    if (this.#pending === 0 && plaintexts.length === 1) {
      this.#pending = 1
      let result: Promise<void>
      try {
        const frame = sender.seal(plaintexts[0] as PlaintextParts)
        result = router.send({ onward: peerRoute, return: [], payload: frame, local: metadata }).then(
          () => {
            this.#pending -= 1
            router.counters.inc(METRICS.framesSent)
          },
          (error: unknown) => {
            this.#pending -= 1
            throw this.#lost(error)
          },
        )
      } catch (error) {
        this.#pending -= 1
        result = Promise.reject(error)
      }
      this.#tail = result.catch(() => {})
      return result
    }
    const job = async (): Promise<void> => {
      try {
        await sendAll()
      } finally {
        this.#pending -= 1
      }
    }
    const sendAll = async (): Promise<void> => {
      for (const plaintext of plaintexts) {
        const frame = sender.seal(plaintext)
        try {
          await router.send({ onward: peerRoute, return: [], payload: frame, local: metadata })
        } catch (error) {
          throw this.#lost(error)
        }
        router.counters.inc(METRICS.framesSent)
      }
    }
    // Idle queue (the usual case): start at once, a microtask hop less per message.
    const idle = this.#pending === 0
    this.#pending += 1
    const result = idle ? job() : this.#tail.then(job)
    this.#tail = result.catch(() => {})
    return result
  }

  /**
   * Queues `last` (a close) after everything already queued, then wipes the sending key. Later
   * enqueues reject. Resolves once the queue drained (or failed). Idempotent.
   */
  finish(last?: Uint8Array): Promise<void> {
    const sender = this.#sender
    if (sender === undefined) return this.#tail
    this.#flushBatch()?.catch(() => {})
    if (last !== undefined) void this.#enqueueNow([last]).catch(() => {})
    this.#sender = undefined
    this.#tail = this.#tail.then(() => sender.destroy())
    return this.#tail
  }
}
