/**
 * The node's pool of CPU threads (piscina), for public-key verification and other batchable
 * work (DESIGN §4). piscina's defaults do not fit a 2-core box (3 threads, unbounded queue, no
 * idle timeout), so every setting is explicit: threads 'auto' = max(1, cores − 1), a finite
 * queue whose overflow is a typed error, an idle timeout. `threads: 0` runs the same task
 * module inline on the calling thread (short-lived CLI processes, tests, comparisons).
 */
import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import type { Counters } from '../diagnostics.js'
import { OckamError, type SerializedOckamError } from '../errors.js'

export const DEFAULT_POOL_MAX_QUEUE = 1024
export const DEFAULT_POOL_IDLE_TIMEOUT_MS = 30_000

export type PoolThreads = number | 'auto'

export interface TaskPoolOptions {
  /** Threads in the pool; 'auto' = max(1, cores − 1); 0 = run tasks inline. */
  threads?: PoolThreads | undefined
  /** Tasks waiting for a thread before `run` fails with OCKAM_ERR_POOL_QUEUE_FULL. */
  maxQueue?: number | undefined
  /** An idle thread exits after this many ms. */
  idleTimeoutMs?: number | undefined
}

/** What a task module returns: a value, or an error in plain form so its code survives. */
export type TaskOutcome<T> = { ok: true; value: T } | { ok: false; error: SerializedOckamError }

export type TaskHandler = (task: unknown) => TaskOutcome<unknown> | Promise<TaskOutcome<unknown>>

export function resolveThreads(threads: PoolThreads = 'auto'): number {
  if (threads === 'auto') return Math.max(1, availableParallelism() - 1)
  if (!Number.isInteger(threads) || threads < 0) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `pool threads must be 'auto' or an integer >= 0, got ${threads}`)
  }
  return threads
}

export class TaskPool {
  readonly threads: number
  readonly #taskModule: URL
  readonly #maxQueue: number
  readonly #idleTimeoutMs: number
  readonly #counters: Counters
  #piscina: Piscina | undefined
  #inline: TaskHandler | undefined

  constructor(taskModule: URL, options: TaskPoolOptions, counters: Counters) {
    this.threads = resolveThreads(options.threads)
    this.#taskModule = taskModule
    this.#maxQueue = options.maxQueue ?? DEFAULT_POOL_MAX_QUEUE
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_POOL_IDLE_TIMEOUT_MS
    this.#counters = counters
    if (!(Number.isInteger(this.#maxQueue) && this.#maxQueue > 0)) {
      throw new OckamError(
        'OCKAM_ERR_INVALID_ARGUMENT',
        `pool maxQueue must be a positive integer, got ${this.#maxQueue}`,
      )
    }
  }

  async start(): Promise<void> {
    if (this.threads === 0) {
      const module = (await import(this.#taskModule.href)) as { default: TaskHandler }
      this.#inline = module.default
      return
    }
    this.#piscina = new Piscina({
      filename: this.#taskModule.href,
      minThreads: 0,
      maxThreads: this.threads,
      maxQueue: this.#maxQueue,
      idleTimeout: this.#idleTimeoutMs,
    })
  }

  async stop(): Promise<void> {
    const piscina = this.#piscina
    this.#piscina = undefined
    await piscina?.destroy()
  }

  /** Tasks waiting for a thread (0 inline). */
  get queued(): number {
    return this.#piscina?.queueSize ?? 0
  }

  /** True when a producer should wait before submitting more (piscina's needsDrain). */
  get needsDrain(): boolean {
    return this.#piscina?.needsDrain ?? false
  }

  async run<T>(task: unknown, transferList?: ArrayBuffer[]): Promise<T> {
    let outcome: TaskOutcome<unknown>
    if (this.#inline !== undefined) {
      this.#counters.inc('pool.tasks.inline')
      outcome = await this.#inline(task)
    } else {
      const piscina = this.#piscina
      if (piscina === undefined) throw new OckamError('OCKAM_ERR_NOT_STARTED', 'the task pool is not started')
      if (piscina.queueSize >= this.#maxQueue) {
        this.#counters.inc('pool.tasks.rejected')
        throw new OckamError('OCKAM_ERR_POOL_QUEUE_FULL', `the pool queue holds ${this.#maxQueue} tasks already`, {
          hint: 'slow down or raise pools.crypto.maxQueue',
        })
      }
      try {
        outcome = (await piscina.run(
          task,
          transferList === undefined ? {} : { transferList: transferList as never },
        )) as TaskOutcome<unknown>
      } catch (cause) {
        this.#counters.inc('pool.tasks.failed')
        throw new OckamError('OCKAM_ERR_POOL_TASK_FAILED', `a pool task failed: ${(cause as Error).message}`, { cause })
      }
      this.#counters.inc('pool.tasks.threaded')
    }
    if (!outcome.ok) throw OckamError.fromJSON(outcome.error)
    return outcome.value as T
  }

  stats(): { threads: number; queued: number; completed: number; utilization: number } {
    return {
      threads: this.threads,
      queued: this.queued,
      completed: this.#piscina?.completed ?? 0,
      utilization: this.#piscina?.utilization ?? 0,
    }
  }
}
