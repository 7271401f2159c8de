/**
 * A resource kind is one thing a node can run and keep across restarts: a TCP listener now;
 * secure-channel listeners, secure channels, outlets, inlets and relays as their issues land.
 * The registry records (node, kind, name, spec) in the state store and calls the kind to start
 * and stop it; the kind knows nothing about persistence.
 */
import type { Logger } from '../log.js'
import type { OckamNode } from '../node.js'
import type { StateStore } from '../state/store.js'

/** What a kind gets to run on: the node, its log and the state store (for vault, identities…). */
export interface ResourceHost {
  readonly node: OckamNode
  readonly log: Logger
  readonly store: StateStore
  /** The name the resource is (or will be) recorded under, when known: stored policies are per name. */
  readonly resourceName?: string
}

export interface ResourceHandle<Spec> {
  /**
   * The specification to record, with whatever start resolved: a listener asked for port 0
   * records the port it got, so a restart binds the same one.
   */
  readonly spec: Spec
  /** Human-readable facts for `status` and `show` (the bound address, the peer…). */
  summary(): Record<string, unknown>
  /** Live counters (bytes, connections, messages) from the node's in-memory counters. */
  counters(): Record<string, number>
  /** Releases everything it holds (ports, connections, workers). Called once. */
  stop(): Promise<void>
}

export interface ResourceKind<Spec = unknown> {
  /** `tcp-listener`, `secure-channel-listener`, … : the name in the database and the CLI. */
  readonly kind: string
  /** Lower starts first when a node restores (listeners before channels that use them). */
  readonly restoreOrder: number
  /** Checks and normalizes an untrusted spec (CLI, config or database); throws OCKAM_ERR_RESOURCE_INVALID. */
  validate(spec: unknown): Spec
  /** The name a resource gets when its creator gives none, from its resolved spec. */
  defaultName(spec: Spec): string
  /**
   * Whether a recorded (resolved) spec still fulfils a desired one, so `start` of a config
   * keeps it instead of re-creating it (a listener declared on port 0 is satisfied by any port).
   */
  satisfies(desired: Spec, recorded: Spec): boolean
  start(host: ResourceHost, spec: Spec, signal?: AbortSignal): Promise<ResourceHandle<Spec>>
}

/** The kind's state in a running node. */
export type ResourceState = 'running' | 'failed'

/** What `resource.list` and `status` show of one resource. */
export interface ResourceInfo {
  readonly kind: string
  readonly name: string
  readonly spec: unknown
  readonly state: ResourceState
  readonly summary: Record<string, unknown>
  readonly counters: Record<string, number>
  /** Why it is not running (restore failed), as a serialized OckamError. */
  readonly error?: { code: string; message: string; hint?: string }
}

/** Erases a kind's Spec type so kinds of different specs sit in one list. */
// biome-ignore lint/suspicious/noExplicitAny: the registry only passes back what the kind returned
export type AnyResourceKind = ResourceKind<any>
