/**
 * The resource registry inside a running node: it starts what the state store records for
 * this node (restore), creates and deletes resources (start first, then record; delete stops,
 * then forgets) and reports them with their counters. One operation at a time, so two
 * requests for the same name cannot both start it.
 */
import { OckamError, type SerializedOckamError } from '../errors.js'
import { RESOURCE_NAME_PATTERN } from './constants.js'
import type { ResourceRecord, ResourceRepository } from './repository.js'
import type { AnyResourceKind, ResourceHandle, ResourceHost, ResourceInfo } from './types.js'

interface Entry {
  readonly kind: AnyResourceKind
  readonly name: string
  spec: unknown
  handle: ResourceHandle<unknown> | undefined
  error: SerializedOckamError | undefined
}

export interface ResourceManagerOptions {
  readonly nodeName: string
  readonly host: ResourceHost
  readonly kinds: readonly AnyResourceKind[]
  readonly repository: ResourceRepository
}

function keyOf(kind: string, name: string): string {
  return `${kind}\u0000${name}`
}

function serialize(error: unknown): SerializedOckamError {
  if (error instanceof OckamError) return error.toJSON()
  return new OckamError('OCKAM_ERR_INTERNAL', error instanceof Error ? error.message : String(error)).toJSON()
}

export class ResourceManager {
  readonly #nodeName: string
  readonly #host: ResourceHost
  readonly #kinds: ReadonlyMap<string, AnyResourceKind>
  readonly #repository: ResourceRepository
  readonly #entries = new Map<string, Entry>()
  #queue: Promise<unknown> = Promise.resolve()
  #stopped = false

  constructor(options: ResourceManagerOptions) {
    this.#nodeName = options.nodeName
    this.#host = options.host
    this.#kinds = new Map(options.kinds.map((kind) => [kind.kind, kind]))
    this.#repository = options.repository
  }

  kindNames(): string[] {
    return [...this.#kinds.keys()]
  }

  kind(name: string): AnyResourceKind {
    const kind = this.#kinds.get(name)
    if (kind === undefined) {
      throw new OckamError('OCKAM_ERR_RESOURCE_UNKNOWN_KIND', `no resource kind "${name.slice(0, 64)}"`, {
        hint: `known kinds: ${this.kindNames().join(', ')}`,
      })
    }
    return kind
  }

  /** Runs operations one at a time, in arrival order. */
  #serial<T>(operation: () => Promise<T>, whileStopping = false): Promise<T> {
    const result = this.#queue.then(() => {
      if (this.#stopped && !whileStopping)
        throw new OckamError('OCKAM_ERR_STOPPED', `node ${this.#nodeName} is stopping`)
      return operation()
    })
    this.#queue = result.catch(() => {})
    return result
  }

  /**
   * Starts every recorded resource of this node, lowest restoreOrder first, then in creation
   * order. A resource that fails (port taken, unknown kind from a newer binary) stays recorded
   * and is reported as `failed`; the others still start.
   */
  restore(): Promise<ResourceInfo[]> {
    return this.#serial(async () => {
      const records = this.#repository.list(this.#nodeName)
      const order = (record: ResourceRecord) => this.#kinds.get(record.kind)?.restoreOrder ?? Number.MAX_SAFE_INTEGER
      const sorted = records.map((record, index) => ({ record, index }))
      sorted.sort((a, b) => order(a.record) - order(b.record) || a.index - b.index)
      for (const { record } of sorted) await this.#restoreOne(record)
      return this.list()
    })
  }

  async #restoreOne(record: ResourceRecord): Promise<void> {
    const kind = this.#kinds.get(record.kind)
    if (kind === undefined) {
      this.#host.log.warn(
        { event: 'resource.unknown_kind', kind: record.kind, name: record.name },
        'unknown resource kind',
      )
      return
    }
    const entry: Entry = { kind, name: record.name, spec: record.spec, handle: undefined, error: undefined }
    this.#entries.set(keyOf(kind.kind, record.name), entry)
    try {
      const spec = kind.validate(record.spec)
      entry.spec = spec
      entry.handle = await kind.start({ ...this.#host, resourceName: record.name }, spec)
      // A spec recorded unresolved (a config's port 0) is pinned now, so the next start binds the same port.
      if (JSON.stringify(entry.handle.spec) !== JSON.stringify(spec)) {
        this.#repository.update(this.#nodeName, kind.kind, record.name, entry.handle.spec)
        entry.spec = entry.handle.spec
      }
      this.#host.log.info(
        { event: 'resource.restored', kind: kind.kind, name: record.name },
        `restored ${kind.kind} ${record.name}`,
      )
    } catch (error) {
      entry.error = serialize(error)
      this.#host.log.warn(
        { event: 'resource.restore_failed', kind: kind.kind, name: record.name, err: error },
        `could not restore ${kind.kind} ${record.name}`,
      )
    }
  }

  /** Starts a resource and records it; nothing is recorded if it does not start. */
  create(kindName: string, rawSpec: unknown, requestedName?: string): Promise<ResourceInfo> {
    return this.#serial(async () => {
      const kind = this.kind(kindName)
      const spec = kind.validate(rawSpec)
      if (requestedName !== undefined) this.#checkFree(kind.kind, this.#checkName(requestedName))
      const handle = await kind.start(
        requestedName === undefined ? this.#host : { ...this.#host, resourceName: requestedName },
        spec,
      )
      try {
        const name = requestedName ?? this.#checkName(kind.defaultName(handle.spec))
        this.#checkFree(kind.kind, name)
        this.#repository.insert(this.#nodeName, kind.kind, name, handle.spec)
        const entry: Entry = { kind, name, spec: handle.spec, handle, error: undefined }
        this.#entries.set(keyOf(kind.kind, name), entry)
        this.#host.log.info({ event: 'resource.created', kind: kind.kind, name }, `created ${kind.kind} ${name}`)
        return this.#info(entry)
      } catch (error) {
        await handle.stop()
        throw error
      }
    })
  }

  /** Stops a resource and forgets it. */
  delete(kindName: string, name: string): Promise<void> {
    return this.#serial(async () => {
      const kind = this.kind(kindName)
      const key = keyOf(kind.kind, name)
      const entry = this.#entries.get(key)
      const recorded = this.#repository.get(this.#nodeName, kind.kind, name) !== undefined
      if (entry === undefined && !recorded) {
        throw new OckamError('OCKAM_ERR_RESOURCE_NOT_FOUND', `node ${this.#nodeName} has no ${kind.kind} "${name}"`, {
          hint: `list them: ockam-runtime ${kind.kind} list --at ${this.#nodeName}`,
        })
      }
      await entry?.handle?.stop()
      this.#entries.delete(key)
      this.#repository.delete(this.#nodeName, kind.kind, name)
      this.#host.log.info({ event: 'resource.deleted', kind: kind.kind, name }, `deleted ${kind.kind} ${name}`)
    })
  }

  list(kindName?: string): ResourceInfo[] {
    return [...this.#entries.values()]
      .filter((e) => kindName === undefined || e.kind.kind === kindName)
      .map((e) => this.#info(e))
  }

  /**
   * Stops every resource (the node is stopping); the records stay for the next start. The kinds
   * in `firstKinds` stop first and `afterFirst` runs next, while the rest (relays, channels, the
   * paths their goodbyes travel on) still run: portal ends stopping first reset their portals
   * at the peer instead of leaving it to find out from missed pings.
   */
  stopAll(options: { firstKinds?: readonly string[]; afterFirst?: () => Promise<void> } = {}): Promise<void> {
    const first = new Set(options.firstKinds ?? [])
    const stop = async (entry: Entry) => {
      try {
        await entry.handle?.stop()
      } catch (error) {
        this.#host.log.warn({ err: error, kind: entry.kind.kind, name: entry.name }, 'resource stop failed')
      }
    }
    const done = this.#serial(async () => {
      const entries = [...this.#entries.values()].reverse()
      for (const entry of entries) if (first.has(entry.kind.kind)) await stop(entry)
      try {
        await options.afterFirst?.()
      } catch (error) {
        this.#host.log.warn({ err: error }, 'stopping: the step after the first resources failed')
      }
      for (const entry of entries) if (!first.has(entry.kind.kind)) await stop(entry)
      this.#entries.clear()
    }, true)
    this.#stopped = true
    return done
  }

  #checkName(name: string): string {
    if (!RESOURCE_NAME_PATTERN.test(name)) {
      throw new OckamError('OCKAM_ERR_RESOURCE_INVALID', `"${name.slice(0, 64)}" is not a valid resource name`, {
        hint: 'use 1-255 letters, digits and . _ - : @ / [ ]',
      })
    }
    return name
  }

  #checkFree(kind: string, name: string): void {
    if (this.#entries.has(keyOf(kind, name)) || this.#repository.get(this.#nodeName, kind, name) !== undefined) {
      throw new OckamError(
        'OCKAM_ERR_RESOURCE_ALREADY_EXISTS',
        `node ${this.#nodeName} already has a ${kind} "${name}"`,
        {
          hint: `delete it first: ockam-runtime ${kind} delete ${name} --at ${this.#nodeName}`,
          data: { kind, name },
        },
      )
    }
  }

  #info(entry: Entry): ResourceInfo {
    const base = { kind: entry.kind.kind, name: entry.name, spec: entry.spec }
    if (entry.handle !== undefined) {
      return { ...base, state: 'running', summary: entry.handle.summary(), counters: entry.handle.counters() }
    }
    const error: { code: string; message: string; hint?: string } = entry.error ?? {
      code: 'OCKAM_ERR_NOT_STARTED',
      message: 'not started',
    }
    const shown =
      error.hint === undefined
        ? { code: error.code, message: error.message }
        : { code: error.code, message: error.message, hint: error.hint }
    return { ...base, state: 'failed', summary: {}, counters: {}, error: shown }
  }
}
