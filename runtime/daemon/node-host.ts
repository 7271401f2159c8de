/**
 * Runs one registered node in this process: claims its control socket, starts the node,
 * restores its recorded resources, then writes its pid file. Used by background node processes
 * (`node start NAME --foreground`, spawned detached by `node create`/`node start`) and by
 * `start` for the nodes of a config. Stopping drains in reverse and closes the control socket
 * last, so `node stop` can still confirm the pid while the node drains.
 */

import { closeNestedSecureChannels, trustAnyone } from '../../workers/secure-channel/index.js'
import { VERSION } from '../cli/version.js'
import { CONTROL_PROTOCOL_VERSION } from '../control/constants.js'
import { createControlServer } from '../control/server.js'
import { controlSocketLocation, ensureSocketDir } from '../control/socket-path.js'
import { createDefaultNode, tcpOf } from '../defaults.js'
import { OckamError } from '../errors.js'
import { hasHostFlags, NODE_HOST_FLAGS } from '../host-flags.js'
import type { Logger } from '../log.js'
import type { OckamNode } from '../node.js'
import type { TaskPoolOptions } from '../pool/task-pool.js'
import { type MemberServices, startMemberServices } from '../project/member-services.js'
import { defaultResourceKinds } from '../resources/index.js'
import { openChannelsOf, type RunningListener, startApiListener } from '../resources/kinds/secure-channel-listener.js'
import { sendAlong } from '../resources/kinds/secure-channel-send.js'
import { checkAuthorized, setNodeIdentity } from '../resources/kinds/secure-channel-trust.js'
import { TCP_INLET_KIND } from '../resources/kinds/tcp-inlet.js'
import { TCP_OUTLET_KIND } from '../resources/kinds/tcp-outlet.js'
import { ResourceManager } from '../resources/manager.js'
import { createResourceRepository } from '../resources/repository.js'
import type { AnyResourceKind, ResourceInfo } from '../resources/types.js'
import type { StateStore } from '../state/store.js'
import { countIdentities } from './identities.js'
import { ensureNodeDir, nodeFiles, removePidFile, writePidFile } from './node-files.js'
import { createNodeRepository, type NodeRecord } from './node-repository.js'
import { type ProjectHost, startProjectHost } from './project-host.js'

export interface NodeHostOptions {
  readonly store: StateStore
  readonly name: string
  readonly log: Logger
  readonly version?: string
  readonly kinds?: readonly AnyResourceKind[]
  readonly pool?: TaskPoolOptions
  /** True when this process runs only this node, so `node stop` may SIGKILL it as a last resort. */
  readonly dedicatedProcess?: boolean
  /** Called (once) when a control client asks the node to shut down. */
  readonly onShutdownRequest: () => void
}

export type NodeHostState = 'starting' | 'ready' | 'stopping'

/** The `hello` answer: enough to identify a node process before signalling it. */
export interface HelloResult {
  readonly name: string
  readonly pid: number
  readonly version: string
  readonly protocol: number
  readonly state: NodeHostState
  readonly startedAt: number
  readonly stateDir: string
  /** The process runs this node only (a background node), not several (`start`). */
  readonly dedicated: boolean
}

/** The `status` answer. */
export interface NodeStatusResult extends HelloResult {
  readonly uptimeMs: number
  readonly identity: string | null
  readonly identities: number | null
  readonly listeners: string[]
  readonly connections: {
    readonly inbound: number
    readonly outbound: number
    readonly bytesIn: number
    readonly bytesOut: number
  }
  readonly counters: Record<string, number>
  readonly resources: ResourceInfo[]
  /** The `api` secure-channel listener: whom it presents and admits. */
  readonly api: { readonly identity: string; readonly identifier: string; readonly admits: readonly string[] } | null
  /** Every secure channel of the node (both roles, handshaking ones included). */
  readonly secureChannels: ReturnType<typeof openChannelsOf>
  /** A member node's credential renewal and revocation session; null elsewhere. */
  readonly project: ReturnType<MemberServices['status']> | null
}

/** After this long, a step of stopping the node is logged as slow (ms). */
const DEFAULT_STOP_STEP_WARN_MS = 5_000
/** On a graceful stop, how long the close frames of end-to-end channels may take to leave (ms). */
const DEFAULT_STOP_GOODBYE_MS = 1_000

/** Largest `message.send` text over the control socket (characters). */
const MAX_CONTROL_MESSAGE_TEXT = 64 * 1024
/** Longest `message.send` wait (ms). */
const MAX_CONTROL_MESSAGE_TIMEOUT_MS = 120_000

function messageSendParams(params: Record<string, unknown>) {
  const { to, text, timeoutMs, identity, authorized } = params
  if (typeof to !== 'string' || to.length === 0 || to.length > 2048) {
    throw new OckamError('OCKAM_ERR_CONTROL_BAD_REQUEST', '"to" must be a route of 1 to 2048 characters')
  }
  if (typeof text !== 'string' || text.length > MAX_CONTROL_MESSAGE_TEXT) {
    throw new OckamError(
      'OCKAM_ERR_CONTROL_BAD_REQUEST',
      `"text" must be a string of at most ${MAX_CONTROL_MESSAGE_TEXT} characters`,
    )
  }
  if (
    typeof timeoutMs !== 'number' ||
    !Number.isInteger(timeoutMs) ||
    timeoutMs < 1 ||
    timeoutMs > MAX_CONTROL_MESSAGE_TIMEOUT_MS
  ) {
    throw new OckamError('OCKAM_ERR_CONTROL_BAD_REQUEST', `"timeoutMs" must be 1 to ${MAX_CONTROL_MESSAGE_TIMEOUT_MS}`)
  }
  const name = requireString(params, 'identity', true)
  return {
    to,
    text,
    timeoutMs,
    ...(identity === undefined ? {} : { identity: name as string }),
    ...(authorized === undefined ? {} : { authorized: checkAuthorized(authorized, '"authorized"') as string[] }),
  }
}

export interface NodeHost {
  readonly name: string
  readonly node: OckamNode
  readonly resources: ResourceManager
  readonly socketPath: string
  /** Resources as restored at start (with failures). */
  readonly restored: readonly ResourceInfo[]
  status(): NodeStatusResult
  /** Idempotent. */
  stop(): Promise<void>
}

function requireString(params: Record<string, unknown>, key: string, optional = false): string | undefined {
  const value = params[key]
  if (value === undefined && optional) return undefined
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) {
    throw new OckamError('OCKAM_ERR_CONTROL_BAD_REQUEST', `"${key}" must be a string of 1 to 255 characters`)
  }
  return value
}

export async function startNodeHost(options: NodeHostOptions): Promise<NodeHost> {
  const { store, name, log } = options
  const version = options.version ?? VERSION
  const record: NodeRecord = createNodeRepository(store.db).require(name)
  const files = nodeFiles(store.dir, name)
  ensureNodeDir(files)
  const location = controlSocketLocation(store.dir, name)
  ensureSocketDir(location)
  const startedAt = Date.now()
  let state: NodeHostState = 'starting'
  let node: OckamNode | undefined
  let resources: ResourceManager | undefined
  let api: RunningListener | undefined
  let projectHost: ProjectHost | undefined
  let member: MemberServices | undefined
  let shutdownAsked = false
  let reloading: Promise<unknown> = Promise.resolve()

  const hello = (): HelloResult => ({
    name,
    pid: process.pid,
    version,
    protocol: CONTROL_PROTOCOL_VERSION,
    state,
    startedAt,
    stateDir: store.dir,
    dedicated: options.dedicatedProcess === true,
  })
  const ready = (): { node: OckamNode; resources: ResourceManager } => {
    if (state !== 'ready' || node === undefined || resources === undefined) {
      throw new OckamError('OCKAM_ERR_NOT_STARTED', `node ${name} is ${state}`, { hint: 'try again in a moment' })
    }
    return { node, resources }
  }
  const status = (): NodeStatusResult => {
    const live = ready()
    const tcp = tcpOf(live.node)
    const connections = { inbound: 0, outbound: 0, bytesIn: 0, bytesOut: 0 }
    for (const c of tcp.connections()) {
      connections[c.direction]++
      connections.bytesIn += c.bytesIn
      connections.bytesOut += c.bytesOut
    }
    return {
      ...hello(),
      uptimeMs: Date.now() - startedAt,
      identity: record.settings.identity ?? null,
      identities: countIdentities(store.db),
      listeners: tcp.listenAddresses(),
      connections,
      counters: live.node.counters.snapshot(),
      resources: live.resources.list(),
      api: api === undefined ? null : { identity: api.identityName, identifier: api.identifier, admits: api.admits },
      secureChannels: openChannelsOf({ node: live.node }),
      project: member?.status() ?? null,
    }
  }

  const control = createControlServer({
    path: location.path,
    version,
    nodeName: name,
    log,
    handlers: {
      hello: () => hello(),
      shutdown: () => {
        if (!shutdownAsked) {
          shutdownAsked = true
          // After this answer is written: the client learns the node heard it.
          setImmediate(options.onShutdownRequest)
        }
        return { stopping: true, pid: process.pid }
      },
      status: () => status(),
      'resource.list': (params) => ready().resources.list(requireString(params, 'kind', true)),
      'resource.create': (params) =>
        ready().resources.create(
          requireString(params, 'kind') as string,
          params.spec,
          requireString(params, 'name', true),
        ),
      'message.send': async (params) => {
        const { to, text, ...options } = messageSendParams(params)
        const live = ready()
        const sent = await sendAlong({ node: live.node, store }, to, Buffer.from(text, 'utf8'), options)
        return {
          reply: Buffer.from(sent.reply).toString('utf8'),
          ...(sent.peers.length === 0 ? {} : { peers: sent.peers }),
          ...(sent.identity === undefined ? {} : { identity: sent.identity }),
        }
      },
      // `enroll` tells running nodes of the folder: the api listener now admits the project's
      // members and presents the new credential (DESIGN §6: no restart needed).
      'project.changed': () => {
        // One reload at a time: two enrollments in a row must not race on the listener.
        const run = async () => {
          const live = ready()
          // One listener per address: the old one goes first (its channels close; peers reconnect).
          await api?.stop()
          api = undefined
          try {
            await member?.stop()
            member = undefined
            if (projectHost === undefined) member = await startMemberServices({ node: live.node, store, log })
          } finally {
            // Whatever happened to the member services, the node keeps answering on `api`.
            api = await startApi(live.node)
          }
          return { reloaded: true }
        }
        const next = reloading.then(run, run)
        reloading = next.catch(() => undefined)
        return next
      },
      'resource.delete': async (params) => {
        await ready().resources.delete(requireString(params, 'kind') as string, requireString(params, 'name') as string)
        return { deleted: true }
      },
    },
  })

  const startApi = (on: OckamNode) =>
    startApiListener(
      { node: on, store },
      projectHost === undefined
        ? { authorized: checkAuthorized(record.settings.authorized, 'the node settings') }
        : // The project decides for every member channel whether end-to-end frames pass through.
          { admits: trustAnyone(), passthrough: projectHost.project.settings.passthrough },
    )

  const stopAll = async () => {
    // A step that hangs is named in the log (progress on a long wait) instead of a silent stall.
    const step = async (what: string, run: () => Promise<void> | undefined) => {
      const slow = setTimeout(
        () => log.warn({ event: 'node.stop.slow', step: what }, `node ${name}: stopping ${what} takes long`),
        DEFAULT_STOP_STEP_WARN_MS,
      )
      try {
        await run()
      } finally {
        clearTimeout(slow)
      }
    }
    // Portal ends first, then the end-to-end channels inside relays and other channels, each
    // telling its peer, while the relays and project channels they travel on still run.
    await step('resources', () =>
      resources?.stopAll({
        firstKinds: [TCP_INLET_KIND, TCP_OUTLET_KIND],
        afterFirst: async () => {
          if (node === undefined) return
          const closed = await closeNestedSecureChannels(node, DEFAULT_STOP_GOODBYE_MS)
          if (closed > 0)
            log.info(
              { event: 'node.stop.channels', closed },
              `node ${name}: closed ${closed} end-to-end channels, telling their peers`,
            )
        },
      }),
    )
    await step('member services', () => member?.stop())
    await step('project services', () => projectHost?.stop())
    await step('the node', () => node?.stop())
    removePidFile(files, process.pid)
    await control.stop()
  }

  await control.start()
  let restored: ResourceInfo[]
  try {
    node = createDefaultNode({
      name,
      forwardTo: record.settings.forwardTo ?? [],
      ...(options.pool === undefined ? {} : { pool: options.pool }),
      log,
    })
    await node.start()
    // The project node answers as the authority and admits anyone: its services authorize each request.
    projectHost = await startProjectHost({ node, store, log }, name)
    // Every node runs the api listener (DESIGN §5), before its resources: restored channels may loop back to it.
    setNodeIdentity(node, projectHost?.project.authorityIdentityName ?? record.settings.identity)
    // Credential renewal and revocations (first: the persisted revocations are refused before anyone is admitted).
    if (projectHost === undefined) member = await startMemberServices({ node, store, log })
    api = await startApi(node)
    resources = new ResourceManager({
      nodeName: name,
      host: { node, log, store },
      kinds: options.kinds ?? defaultResourceKinds(),
      repository: createResourceRepository(store.db),
    })
    restored = await resources.restore()
    writePidFile(files, { pid: process.pid, startedAt, version })
  } catch (error) {
    await stopAll()
    throw error
  }
  state = 'ready'
  log.info(
    { event: 'node.ready', socket: location.path, listeners: tcpOf(node).listenAddresses() },
    `node ${name} is ready`,
  )
  if (!hasHostFlags()) {
    log.info(
      { event: 'node.host_flags_missing', flags: NODE_HOST_FLAGS },
      `node ${name} runs without ${NODE_HOST_FLAGS.join(' ')}: a busy portal costs about twice the CPU per byte, spent in V8's garbage collector (docs/performance.md)`,
    )
  }

  const started = node
  const manager = resources
  let stopping: Promise<void> | undefined
  return {
    name,
    node: started,
    resources: manager,
    socketPath: location.path,
    restored,
    status,
    stop() {
      if (stopping === undefined) {
        state = 'stopping'
        stopping = stopAll()
      }
      return stopping
    },
  }
}
