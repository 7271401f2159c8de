/**
 * Control messages between `startThreadService` and `exposeThreadService`, on the worker's
 * parentPort. comlink calls travel on their own MessageChannel (passed in workerData), so the
 * two never mix.
 */
import type { MessagePort } from 'node:worker_threads'

/** Thread → main, once: the factory resolved (comlink is listening) or threw. */
export type ThreadToMain = { readonly kind: 'ready' } | { readonly kind: 'init-failed'; readonly error: unknown }

/** Main → thread: run the service's `close()` (if any), then exit. */
export type MainToThread = { readonly kind: 'stop' }

/** What the thread finds in `workerData`. */
export interface ThreadServiceWorkerData {
  readonly init: unknown
  readonly port: MessagePort
}

/** A thread-hosted service may define `close()`: `stop()` runs it before the thread exits. */
export interface Closable {
  close(): void | Promise<void>
}
