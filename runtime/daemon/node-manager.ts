/**
 * The CLI's view of the nodes of one state folder: which exist (the `nodes` table), which run
 * (asked over each node's control socket, never inferred from a pid), and the operations on
 * them. A pid is only ever signalled after the node answered on its socket with that pid.
 */
import { VERSION } from '../cli/version.js'
import { type ControlClient, createControlClient } from '../control/client.js'
import { socketAnswers } from '../control/server.js'
import { controlSocketLocation } from '../control/socket-path.js'
import { isOckamError, OckamError } from '../errors.js'
import { TCP_LISTENER_KIND, tcpListenerKind } from '../resources/kinds/tcp-listener.js'
import type { ResourceInfo } from '../resources/types.js'
import { resolveStateDir } from '../state/state-dir.js'
import { openStateStore, type StateStore } from '../state/store.js'
import {
  DEFAULT_NODE_EXIT_POLL_MS,
  DEFAULT_NODE_KILL_WAIT_MS,
  DEFAULT_NODE_PROBE_TIMEOUT_MS,
  DEFAULT_NODE_READY_TIMEOUT_MS,
  DEFAULT_NODE_STOP_TIMEOUT_MS,
  DEFAULT_NODE_TCP_LISTENER,
} from './constants.js'
import { nodeFiles, readPidFile, removeNodeDir, removePidFile } from './node-files.js'
import type { HelloResult, NodeStatusResult } from './node-host.js'
import { checkNodeName, createNodeRepository, type NodeRepository, type NodeSettings } from './node-repository.js'
import { processAlive } from './process-alive.js'
import { spawnNodeProcess } from './spawn.js'

export interface NodeManagerOptions {
  /** The state folder; default resolveStateDir() (OCKAM_RUNTIME_HOME or ~/.ockam-runtime). */
  readonly stateDir?: string
  /** The version this CLI claims on the control API; default the package version. */
  readonly version?: string
  readonly readyTimeoutMs?: number
  readonly stopTimeoutMs?: number
}

export type NodeRunState = 'up' | 'down' | 'unresponsive'

export interface NodeSummary {
  readonly name: string
  readonly default: boolean
  readonly status: NodeRunState
  readonly pid: number | null
  readonly version: string | null
  readonly listeners: string[]
  readonly identity: string | null
  readonly socket: string
  readonly logFile: string
  /** A pid file named a process that is not this node (crash, SIGKILL, reboot); it was removed. */
  readonly stalePid: number | null
  /** Why details are missing although the node answers (another version). */
  readonly error: { code: string; message: string; hint?: string } | null
  /** Full status when the node is up and of our version. */
  readonly details: NodeStatusResult | null
}

export interface CreateNodeOptions {
  readonly listen?: string
  readonly identity?: string
  readonly forwardTo?: readonly string[]
  /** Identifiers the node's `api` secure-channel listener admits (default: this state folder's identities). */
  readonly authorized?: readonly string[]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function shortError(error: OckamError): { code: string; message: string; hint?: string } {
  return error.hint === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, hint: error.hint }
}

export class NodeManager {
  readonly stateDir: string
  readonly store: StateStore
  readonly nodes: NodeRepository
  readonly #version: string
  readonly #readyTimeoutMs: number
  readonly #stopTimeoutMs: number

  private constructor(store: StateStore, options: NodeManagerOptions) {
    this.store = store
    this.stateDir = store.dir
    this.nodes = createNodeRepository(store.db)
    this.#version = options.version ?? VERSION
    this.#readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_NODE_READY_TIMEOUT_MS
    this.#stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_NODE_STOP_TIMEOUT_MS
  }

  /** Opens (creating if needed) the state folder and its database; refuses a newer schema. */
  static open(options: NodeManagerOptions = {}): NodeManager {
    const store = openStateStore({ dir: options.stateDir ?? resolveStateDir() })
    return new NodeManager(store, options)
  }

  close(): void {
    this.store.close()
  }

  /** The control client of a node (whether or not it runs). */
  client(name: string, timeoutMs?: number): ControlClient {
    return createControlClient({
      socketPath: controlSocketLocation(this.stateDir, name).path,
      nodeName: name,
      version: this.#version,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    })
  }

  /** The name a command means: the one given (which must exist) or the default node. */
  resolveName(name: string | undefined): string {
    if (name !== undefined) return this.nodes.require(checkNodeName(name)).name
    const fallback = this.nodes.defaultNode()
    if (fallback === undefined) {
      throw new OckamError('OCKAM_ERR_NODE_NOT_FOUND', 'there is no default node in this state folder', {
        hint: 'create one with: ockam-runtime node create',
      })
    }
    return fallback.name
  }

  /**
   * Asks a node who it is. Resolves undefined when nothing answers on its socket (after
   * removing a pid file that names a dead or foreign process); throws on access denied.
   */
  async hello(name: string): Promise<{ hello: HelloResult } | { hello: undefined; stalePid: number | null }> {
    try {
      const hello = await this.client(name, DEFAULT_NODE_PROBE_TIMEOUT_MS).call<HelloResult>('hello')
      if (hello.name !== name || typeof hello.pid !== 'number') {
        throw new OckamError(
          'OCKAM_ERR_CONTROL_BAD_RESPONSE',
          `the socket of node ${name} answered as ${String(hello.name)}`,
        )
      }
      return { hello }
    } catch (error) {
      if (!isOckamError(error, 'OCKAM_ERR_NODE_NOT_RUNNING')) throw error
      return { hello: undefined, stalePid: this.#removeStalePid(name) }
    }
  }

  /** Nothing answers on the socket, so a pid file is stale whatever process holds that pid now. */
  #removeStalePid(name: string): number | null {
    const files = nodeFiles(this.stateDir, name)
    const pid = readPidFile(files)
    if (pid === undefined) return null
    removePidFile(files)
    return pid.pid
  }

  async summary(name: string): Promise<NodeSummary> {
    const record = this.nodes.require(name)
    const files = nodeFiles(this.stateDir, name)
    const base = {
      name,
      default: record.isDefault,
      identity: record.settings.identity ?? null,
      socket: controlSocketLocation(this.stateDir, name).path,
      logFile: files.logFile,
    }
    let answer: Awaited<ReturnType<NodeManager['hello']>>
    try {
      answer = await this.hello(name)
    } catch (error) {
      if (!isOckamError(error, 'OCKAM_ERR_TIMEOUT')) throw error
      const pid = readPidFile(files)?.pid ?? null
      return {
        ...base,
        status: 'unresponsive',
        pid,
        version: null,
        listeners: [],
        stalePid: null,
        error: shortError(error),
        details: null,
      }
    }
    if (answer.hello === undefined) {
      return {
        ...base,
        status: 'down',
        pid: null,
        version: null,
        listeners: [],
        stalePid: answer.stalePid,
        error: null,
        details: null,
      }
    }
    const up = { ...base, status: 'up' as const, pid: answer.hello.pid, version: answer.hello.version, stalePid: null }
    try {
      const details = await this.client(name).call<NodeStatusResult>('status')
      return { ...up, listeners: details.listeners, error: null, details }
    } catch (error) {
      if (!(error instanceof OckamError)) throw error
      return { ...up, listeners: [], error: shortError(error), details: null }
    }
  }

  async list(): Promise<NodeSummary[]> {
    return await Promise.all(this.nodes.list().map((record) => this.summary(record.name)))
  }

  /**
   * Records a node, starts it in the background and gives it its TCP listener. If any step
   * fails, the node is stopped and forgotten: nothing is left half-made.
   */
  async create(name: string, options: CreateNodeOptions = {}): Promise<NodeSummary> {
    checkNodeName(name)
    const listener = tcpListenerKind().validate({ address: options.listen ?? DEFAULT_NODE_TCP_LISTENER })
    const settings: NodeSettings = {
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...(options.authorized === undefined ? {} : { authorized: [...options.authorized] }),
      ...(options.forwardTo === undefined || options.forwardTo.length === 0
        ? {}
        : { forwardTo: [...options.forwardTo] }),
    }
    this.nodes.insert(name, settings)
    try {
      await spawnNodeProcess(this.stateDir, name, this.#readyTimeoutMs)
      await this.client(name).call('resource.create', { kind: TCP_LISTENER_KIND, spec: listener })
    } catch (error) {
      await this.#forget(name)
      throw error
    }
    return await this.summary(name)
  }

  async #forget(name: string): Promise<void> {
    try {
      const { hello } = await this.hello(name)
      if (hello !== undefined) await this.#stopConfirmed(name, hello)
    } catch {
      // best effort: the node may never have come up
    }
    this.nodes.delete(name)
    removeNodeDir(nodeFiles(this.stateDir, name))
  }

  /** Starts a stopped node; it restores its recorded resources. Returns them (failed ones too). */
  async start(name: string): Promise<{ node: NodeSummary; resources: ResourceInfo[] }> {
    this.nodes.require(name)
    const answer = await this.hello(name)
    if (answer.hello !== undefined) {
      throw new OckamError(
        'OCKAM_ERR_NODE_ALREADY_RUNNING',
        `node ${name} is already running (pid ${answer.hello.pid})`,
        {
          hint: `stop it first if you want to restart it: ockam-runtime node stop ${name}`,
          data: { node: name, pid: answer.hello.pid },
        },
      )
    }
    await spawnNodeProcess(this.stateDir, name, this.#readyTimeoutMs)
    const node = await this.summary(name)
    return { node, resources: node.details?.resources ?? [] }
  }

  /** Gracefully stops a running node (SIGKILL only after a timeout, and only a confirmed pid). */
  async stop(name: string): Promise<{ name: string; pid: number; killed: boolean }> {
    this.nodes.require(name)
    const answer = await this.hello(name)
    if (answer.hello === undefined) {
      const stale = answer.stalePid === null ? '' : ` (removed a stale pid file that named pid ${answer.stalePid})`
      throw new OckamError('OCKAM_ERR_NODE_NOT_RUNNING', `node ${name} is not running${stale}`, {
        hint: `nothing to stop; start it with: ockam-runtime node start ${name}`,
        data: { node: name, stalePid: answer.stalePid },
      })
    }
    const killed = await this.#stopConfirmed(name, answer.hello)
    return { name, pid: answer.hello.pid, killed }
  }

  async #stopConfirmed(name: string, hello: HelloResult): Promise<boolean> {
    const pid = hello.pid
    const client = this.client(name)
    try {
      await client.call('shutdown')
    } catch (error) {
      if (!isOckamError(error, 'OCKAM_ERR_NODE_NOT_RUNNING')) throw error
    }
    // Stopped = the process is gone, or the node closed its control socket, the last step of
    // its shutdown (after its ports); a `start` process hosting several nodes keeps running.
    const socketPath = controlSocketLocation(this.stateDir, name).path
    const deadline = Date.now() + this.#stopTimeoutMs
    while (Date.now() < deadline) {
      if (!processAlive(pid)) return false
      if (!(await socketAnswers(socketPath))) {
        // A background node exits right after; wait for it so `stop` returns with it gone.
        while (hello.dedicated && processAlive(pid) && Date.now() < deadline) await sleep(DEFAULT_NODE_EXIT_POLL_MS)
        return false
      }
      await sleep(DEFAULT_NODE_EXIT_POLL_MS)
    }
    // Still there: SIGKILL only if the socket still answers with the same pid.
    let again: HelloResult | undefined
    try {
      again = (await this.hello(name)).hello
    } catch {
      again = undefined
    }
    if (again !== undefined && again.pid === pid && !again.dedicated) {
      throw new OckamError('OCKAM_ERR_NODE_STOP_FAILED', `node ${name} did not stop within ${this.#stopTimeoutMs} ms`, {
        hint: `it runs inside a process with other nodes (ockam-runtime start, pid ${pid}); stop that process`,
        data: { pid },
      })
    }
    if (again === undefined || again.pid !== pid) {
      if (!processAlive(pid)) return false
      throw new OckamError(
        'OCKAM_ERR_NODE_STOP_FAILED',
        `node ${name} did not stop within ${this.#stopTimeoutMs} ms and no longer answers on its socket`,
        {
          hint: `pid ${pid} could not be confirmed to be the node; check it with ps and stop it yourself`,
          data: { pid },
        },
      )
    }
    process.kill(pid, 'SIGKILL')
    const killDeadline = Date.now() + DEFAULT_NODE_KILL_WAIT_MS
    while (processAlive(pid) && Date.now() < killDeadline) await sleep(DEFAULT_NODE_EXIT_POLL_MS)
    removePidFile(nodeFiles(this.stateDir, name), pid)
    return true
  }

  /** Stops the node if it runs, then forgets it, its resources and its logs. */
  async delete(name: string): Promise<{ name: string; stopped: boolean }> {
    this.nodes.require(name)
    const answer = await this.hello(name)
    if (answer.hello !== undefined) await this.#stopConfirmed(name, answer.hello)
    this.nodes.delete(name)
    removeNodeDir(nodeFiles(this.stateDir, name))
    return { name, stopped: answer.hello !== undefined }
  }
}
