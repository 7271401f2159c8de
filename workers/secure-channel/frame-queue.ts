/**
 * The sending half of an open channel: seals plaintexts into frames and hands them to the path,
 * strictly in nonce order. Both of a channel's workers (the encryptor's payloads, the decryptor's
 * refreshes and closes) and its timers send through one queue, so frames never race each other
 * onto the path, and the fragments of one message are never interleaved with anything.
 */
import { OckamError } from '../../runtime/errors.js'
import type { LocalMetadata } from '../../runtime/message.js'
import type { Route } from '../../runtime/route.js'
import type { Router } from '../../runtime/router.js'
import { METRICS } from './metrics.js'
import type { PlaintextParts } from './plaintext.js'
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

  /** Seals and sends `plaintexts` after everything queued before; resolves once all are on the path. */
  enqueue(plaintexts: readonly PlaintextParts[]): Promise<void> {
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
    if (last !== undefined) void this.enqueue([last]).catch(() => {})
    this.#sender = undefined
    this.#tail = this.#tail.then(() => sender.destroy())
    return this.#tail
  }
}
