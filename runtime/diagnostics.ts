/**
 * Counters and lifecycle events. Counters are plain in-memory numbers (no writes on data paths,
 * DESIGN §12) that feed `status` and tests; every increment is also published on the
 * `ockam:counter` diagnostics channel, which costs nothing while nobody subscribes.
 */
import diagnosticsChannel from 'node:diagnostics_channel'

export const counterChannel = diagnosticsChannel.channel('ockam:counter')

export interface CounterEvent {
  readonly node: string
  readonly name: string
  readonly value: number
}

/** Named lifecycle channels (undici style): subscribe with diagnostics_channel.subscribe(name, fn). */
export const channels = {
  nodeStarted: diagnosticsChannel.channel('ockam:node:started'),
  nodeStopped: diagnosticsChannel.channel('ockam:node:stopped'),
  connectionOpened: diagnosticsChannel.channel('ockam:tcp:connection:opened'),
  connectionClosed: diagnosticsChannel.channel('ockam:tcp:connection:closed'),
  messageDenied: diagnosticsChannel.channel('ockam:router:denied'),
} as const

export class Counters {
  readonly #values = new Map<string, number>()
  readonly #node: string

  constructor(node: string) {
    this.#node = node
  }

  inc(name: string, by = 1): void {
    const value = (this.#values.get(name) ?? 0) + by
    this.#values.set(name, value)
    if (counterChannel.hasSubscribers) counterChannel.publish({ node: this.#node, name, value } satisfies CounterEvent)
  }

  /** For gauges that go up and down (buffered bytes, open connections). */
  set(name: string, value: number): void {
    this.#values.set(name, value)
    if (counterChannel.hasSubscribers) counterChannel.publish({ node: this.#node, name, value } satisfies CounterEvent)
  }

  get(name: string): number {
    return this.#values.get(name) ?? 0
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#values.entries()].sort(([a], [b]) => a.localeCompare(b)))
  }
}
