/**
 * A node: a router, its workers, its transports, its buffer budget and its CPU pool, with one
 * start/stop lifecycle. The node knows no protocol: transports and services arrive as
 * factories (see defaults.ts for the standard assembly), so tests and embedders can wire any
 * combination.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingAccessControl } from './access-control.js'
import { type Address, local } from './address.js'
import { BufferBudget } from './buffer-budget.js'
import type { Context } from './context.js'
import { Counters, channels } from './diagnostics.js'
import { OckamError } from './errors.js'
import { createLogger, type Logger } from './log.js'
import { TaskPool, type TaskPoolOptions } from './pool/task-pool.js'
import { Router } from './router.js'
import type { Transport, TransportFactory } from './transport.js'
import type { Worker, WorkerOptions } from './worker.js'

/** Node-wide bytes held on behalf of peers before readers pause (partial frames, later portal windows). */
export const DEFAULT_NODE_BUFFER_BUDGET_BYTES = 64 * 1024 * 1024

export interface ServiceDefinition {
  readonly address: string
  readonly worker: Worker
  readonly incoming?: IncomingAccessControl
}

export interface NodeOptions {
  name: string
  transports?: readonly TransportFactory[]
  services?: readonly ServiceDefinition[]
  /** The CPU pool and the module of tasks it runs; omitted = no pool. */
  pool?: { taskModule: URL } & TaskPoolOptions
  bufferBudgetBytes?: number
  log?: Logger
}

export class OckamNode {
  readonly name: string
  readonly log: Logger
  readonly counters: Counters
  readonly budget: BufferBudget
  readonly router: Router
  readonly pool: TaskPool | undefined
  readonly #transports: Transport[]
  readonly #services: readonly ServiceDefinition[]
  readonly #stoppingHooks = new Set<() => void | Promise<void>>()
  #context: Context | undefined
  #state: 'new' | 'started' | 'stopping' | 'stopped' = 'new'

  constructor(options: NodeOptions) {
    this.name = options.name
    this.log = options.log ?? createLogger({ name: options.name })
    this.counters = new Counters(options.name)
    this.budget = new BufferBudget(options.bufferBudgetBytes ?? DEFAULT_NODE_BUFFER_BUDGET_BYTES)
    this.router = new Router({ nodeName: options.name, log: this.log, counters: this.counters })
    this.pool =
      options.pool === undefined ? undefined : new TaskPool(options.pool.taskModule, options.pool, this.counters)
    const components = { router: this.router, budget: this.budget, log: this.log }
    this.#transports = (options.transports ?? []).map((factory) => factory(components))
    for (const transport of this.#transports) this.router.addTransport(transport)
    this.#services = options.services ?? []
  }

  /** The application's own context (address `app-<random>`), for sending and requests. */
  get context(): Context {
    if (this.#context === undefined) throw new OckamError('OCKAM_ERR_NOT_STARTED', `node ${this.name} is not started`)
    return this.#context
  }

  transport<T extends Transport>(name: string): T {
    const transport = this.#transports.find((t) => t.name === name)
    if (transport === undefined)
      throw new OckamError('OCKAM_ERR_ROUTER_NO_TRANSPORT', `node ${this.name} has no ${name} transport`)
    return transport as T
  }

  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `node ${this.name} was already started`)
    this.#state = 'started'
    try {
      await this.pool?.start()
      this.#context = await this.router.startWorker([local(`app-${randomBytes(4).toString('hex')}`)], {
        handleMessage: () => {},
      })
      for (const service of this.#services) {
        await this.startWorker(
          local(service.address),
          service.worker,
          service.incoming ? { incoming: service.incoming } : {},
        )
      }
      for (const transport of this.#transports) await transport.start()
    } catch (error) {
      await this.stop()
      throw error
    }
    this.log.info({ event: 'node.started' }, `node ${this.name} started`)
    if (channels.nodeStarted.hasSubscribers) channels.nodeStarted.publish({ node: this.name })
  }

  startWorker(address: Address | readonly Address[], worker: Worker, options: WorkerOptions = {}): Promise<Context> {
    return this.router.startWorker(Array.isArray(address) ? address : [address as Address], worker, options)
  }

  /**
   * Runs `hook` when the node starts stopping, before its transports stop: secure channels send
   * their close while their connections are still up. The latest registered runs first.
   * Returns a function that unregisters it.
   */
  onStopping(hook: () => void | Promise<void>): () => void {
    this.#stoppingHooks.add(hook)
    return () => {
      this.#stoppingHooks.delete(hook)
    }
  }

  /** Runs the stopping hooks, then stops listeners and connections, then workers, then the pool. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return
    this.#state = 'stopping'
    for (const hook of [...this.#stoppingHooks].reverse()) {
      try {
        await hook()
      } catch (error) {
        this.log.warn({ err: error }, 'a stopping hook failed')
      }
    }
    this.#stoppingHooks.clear()
    for (const transport of this.#transports) {
      try {
        await transport.stop()
      } catch (error) {
        this.log.warn({ err: error, transport: transport.name }, 'transport stop failed')
      }
    }
    await this.router.stop()
    await this.pool?.stop()
    this.#state = 'stopped'
    this.log.info({ event: 'node.stopped' }, `node ${this.name} stopped`)
    if (channels.nodeStopped.hasSubscribers) channels.nodeStopped.publish({ node: this.name })
  }
}
