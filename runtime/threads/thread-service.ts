/**
 * Hosts a stateful service on its own worker thread and reaches it with comlink. The vault runs
 * this way so secret keys live only in its thread and a burst of handshakes never stalls the
 * event loop (DESIGN §4).
 *
 * What this adds to a bare comlink `wrap()`: a startup handshake (the factory's error, typed,
 * becomes the rejection of `startThreadService`), pending calls rejected with
 * OCKAM_ERR_THREAD_SERVICE_FAILED when the thread dies instead of hanging forever, OckamErrors
 * that keep code, hint and data across the boundary, a call counter, a graceful `stop()`, and a
 * thread that keeps the process alive only while calls are in flight.
 */
import { MessageChannel, Worker } from 'node:worker_threads'
import { wrap } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { abortError, OckamError, throwIfAborted } from '../errors.js'
import { DEFAULT_THREAD_START_TIMEOUT_MS, DEFAULT_THREAD_STOP_TIMEOUT_MS } from './constants.js'
import { deserializeThrown, installOckamThrowHandler } from './error-transfer.js'
import type { MainToThread, ThreadServiceWorkerData, ThreadToMain } from './protocol.js'

type AnyFunction = (...args: never[]) => unknown
type MethodKeys<T> = { [K in keyof T]: T[K] extends AnyFunction ? K : never }[keyof T]

/**
 * The main thread's view of a service: its methods, each returning a promise. Arguments and
 * results are structured-cloned (Uint8Array, plain objects); functions and class instances do
 * not cross. Properties are not reachable: only methods, so every call is counted and failed
 * cleanly when the thread dies.
 */
export type ThreadApi<T> = {
  readonly [K in MethodKeys<T>]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never
}

export interface ThreadService<T> {
  readonly api: ThreadApi<T>
  /** Calls made through `api` since start (for tests and status: shows the thread is used). */
  readonly calls: number
  /** Calls sent and not yet answered. */
  readonly pending: number
  readonly threadId: number
  /**
   * Runs the service's `close()` in its thread, then ends the thread (terminated if it does not
   * exit within the stop timeout). Calls still pending reject with OCKAM_ERR_STOPPED. Idempotent.
   */
  stop(): Promise<void>
}

export interface StartThreadServiceOptions {
  readonly signal?: AbortSignal
  /** Human name used in error messages, e.g. 'vault'. */
  readonly name?: string
  readonly startTimeoutMs?: number
  readonly stopTimeoutMs?: number
}

interface Pending {
  resolve(value: unknown): void
  reject(error: unknown): void
}

/**
 * Starts `moduleUrl` on a worker thread; that module must call `exposeThreadService(factory)`.
 * `init` (structured-cloned) is passed to the factory. Resolves once the factory has returned;
 * rejects with the factory's own OckamError when it throws.
 */
export async function startThreadService<T extends object>(
  moduleUrl: URL,
  init: unknown,
  options: StartThreadServiceOptions = {},
): Promise<ThreadService<T>> {
  const name = options.name ?? 'service'
  throwIfAborted(options.signal, `starting ${name}`)
  installOckamThrowHandler()

  const channel = new MessageChannel()
  const workerData: ThreadServiceWorkerData = { init, port: channel.port2 }
  const worker = new Worker(moduleUrl, { workerData, transferList: [channel.port2] })
  const port = channel.port1

  let state: 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' = 'starting'
  let failure: OckamError | undefined
  let calls = 0
  const pending = new Set<Pending>()
  let exited: () => void = () => {}
  const exitedPromise = new Promise<void>((resolve) => {
    exited = resolve
  })

  // The thread keeps the process alive only while a call is in flight or while it starts/stops,
  // so a CLI that forgot nothing but an idle vault still exits.
  const holdProcess = (hold: boolean): void => {
    if (hold) {
      worker.ref()
      port.ref()
    } else {
      worker.unref()
      port.unref()
    }
  }

  const rejectPending = (error: OckamError): void => {
    for (const call of pending) call.reject(error)
    pending.clear()
  }

  const fail = (error: OckamError): void => {
    if (state === 'stopping' || state === 'stopped' || state === 'failed') return
    state = 'failed'
    failure = error
    rejectPending(error)
    port.close()
  }

  worker.on('error', (error) => {
    fail(
      new OckamError('OCKAM_ERR_THREAD_SERVICE_FAILED', `${name} thread crashed: ${error.message}`, {
        cause: error,
        data: { threadId: worker.threadId },
        hint: 'this is a bug; the service must be started again',
      }),
    )
  })
  worker.on('exit', (exitCode) => {
    fail(
      new OckamError('OCKAM_ERR_THREAD_SERVICE_FAILED', `${name} thread exited unexpectedly (code ${exitCode})`, {
        data: { exitCode },
        hint: 'the service must be started again',
      }),
    )
    if (state === 'stopping') state = 'stopped'
    exited()
  })

  const stop = async (): Promise<void> => {
    if (state === 'stopped' || state === 'failed') return exitedPromise
    if (state === 'stopping') return exitedPromise
    state = 'stopping'
    rejectPending(new OckamError('OCKAM_ERR_STOPPED', `${name} is stopping`))
    holdProcess(true)
    worker.postMessage({ kind: 'stop' } satisfies MainToThread)
    const timer = setTimeout(() => void worker.terminate(), options.stopTimeoutMs ?? DEFAULT_THREAD_STOP_TIMEOUT_MS)
    try {
      await exitedPromise
    } finally {
      clearTimeout(timer)
      port.close()
    }
  }

  try {
    await waitUntilReady(worker, name, options, () => failure)
  } catch (error) {
    state = 'stopping'
    port.close()
    await worker.terminate()
    await exitedPromise
    throw error
  }
  state = 'running'

  const remote = wrap<Record<string, AnyFunction>>(nodeEndpoint(port as unknown as Parameters<typeof nodeEndpoint>[0]))
  holdProcess(false)

  const call = (method: string, args: unknown[]): Promise<unknown> => {
    if (state !== 'running') {
      return Promise.reject(failure ?? new OckamError('OCKAM_ERR_STOPPED', `${name} is stopped`))
    }
    calls += 1
    return new Promise((resolve, reject) => {
      const entry: Pending = { resolve, reject }
      pending.add(entry)
      if (pending.size === 1) holdProcess(true)
      const settle = (): boolean => {
        const wasPending = pending.delete(entry)
        if (wasPending && pending.size === 0 && state === 'running') holdProcess(false)
        return wasPending
      }
      const target = remote[method] as unknown as (...a: unknown[]) => Promise<unknown>
      target(...args).then(
        (value) => {
          if (settle()) resolve(value)
        },
        (error: unknown) => {
          if (settle()) reject(error instanceof OckamError ? error : unsendable(name, method, error))
        },
      )
    })
  }

  const api = new Proxy(Object.create(null) as object, {
    get(_target, property) {
      // Not thenable, so `await service.api` does not turn into a remote call.
      if (typeof property !== 'string' || property === 'then') return undefined
      return (...args: unknown[]) => call(property, args)
    },
  }) as ThreadApi<T>

  return {
    api,
    get calls() {
      return calls
    },
    get pending() {
      return pending.size
    },
    threadId: worker.threadId,
    stop,
  }
}

/** Startup: resolves on 'ready'; rejects on 'init-failed', an early exit, the timeout or the signal. */
function waitUntilReady(
  worker: Worker,
  name: string,
  options: StartThreadServiceOptions,
  failure: () => OckamError | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const { signal } = options
    const done = (error?: OckamError): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      worker.off('message', onMessage)
      worker.off('exit', onExit)
      if (error === undefined) resolve()
      else reject(error)
    }
    const onAbort = (): void => done(abortError(signal as AbortSignal, `starting ${name}`))
    const onMessage = (message: ThreadToMain): void =>
      done(message.kind === 'ready' ? undefined : deserializeThrown(message.error, `${name} factory`))
    const onExit = (): void =>
      done(failure() ?? new OckamError('OCKAM_ERR_THREAD_SERVICE_FAILED', `${name} thread exited while starting`))
    const timer = setTimeout(
      () => done(new OckamError('OCKAM_ERR_TIMEOUT', `${name} thread did not start in time`)),
      options.startTimeoutMs ?? DEFAULT_THREAD_START_TIMEOUT_MS,
    )
    signal?.addEventListener('abort', onAbort, { once: true })
    worker.on('message', onMessage)
    worker.on('exit', onExit)
  })
}

/** Errors from the thread arrive as OckamErrors; anything else failed here, before sending. */
function unsendable(name: string, method: string, cause: unknown): OckamError {
  return new OckamError(
    'OCKAM_ERR_INVALID_ARGUMENT',
    `the arguments of ${name}.${method}() cannot be sent to its thread`,
    {
      cause,
      hint: 'pass structured-cloneable values (Uint8Array, strings, numbers, plain objects), not functions or class instances',
    },
  )
}
