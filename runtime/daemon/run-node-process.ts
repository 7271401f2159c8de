/**
 * The main of a node process: `ockam-runtime node start NAME --foreground`. Spawned detached
 * by `node create`/`node start` (with an IPC channel to report ready or the error that stopped
 * it, then cut loose), or run directly by a service manager (the systemd unit). Logs go to the
 * node's rotating log file either way, so `node logs` always finds them. Stops gracefully on
 * SIGINT/SIGTERM or a control `shutdown`.
 */
import { tcpOf } from '../defaults.js'
import { OckamError, type SerializedOckamError } from '../errors.js'
import { createLogger, defaultLogLevel } from '../log.js'
import { STATE_DIR_UMASK } from '../state/constants.js'
import { openStateStore } from '../state/store.js'
import { openRotatingLog } from './log-file.js'
import { ensureNodeDir, nodeFiles } from './node-files.js'
import { startNodeHost } from './node-host.js'

/** Messages a spawned node sends its parent over IPC. */
export type NodeProcessMessage =
  | { readonly type: 'ready'; readonly pid: number; readonly socket: string }
  | { readonly type: 'error'; readonly error: SerializedOckamError }

export interface RunNodeProcessOptions {
  readonly stateDir: string
  readonly name: string
  /** Called once the node is ready (foreground runs print it). */
  readonly onReady?: (info: { pid: number; socket: string; listeners: string[] }) => void
}

function serialize(error: unknown): SerializedOckamError {
  if (error instanceof OckamError) return error.toJSON()
  return new OckamError('OCKAM_ERR_NODE_START_FAILED', error instanceof Error ? error.message : String(error)).toJSON()
}

function sendToParent(message: NodeProcessMessage): Promise<void> {
  const send = process.send?.bind(process)
  if (send === undefined || !process.connected) return Promise.resolve()
  return new Promise((resolve) => {
    send(message, undefined, {}, () => resolve())
  })
}

/** Resolves when the node has stopped; rejects (after telling the parent) if it could not start. */
export async function runNodeProcess(options: RunNodeProcessOptions): Promise<void> {
  // Everything this process creates (socket, pid file, logs, database) is owner-only.
  process.umask(STATE_DIR_UMASK)
  let log: ReturnType<typeof createLogger> | undefined
  let logFile: ReturnType<typeof openRotatingLog> | undefined
  let store: ReturnType<typeof openStateStore> | undefined
  try {
    store = openStateStore({ dir: options.stateDir })
    const files = nodeFiles(store.dir, options.name)
    ensureNodeDir(files)
    logFile = openRotatingLog({ path: files.logFile })
    log = createLogger({ name: options.name, level: defaultLogLevel(), destination: logFile })
    let requestStop: () => void = () => {}
    const stopRequested = new Promise<string>((resolve) => {
      requestStop = () => resolve('shutdown')
    })
    let host: Awaited<ReturnType<typeof startNodeHost>>
    try {
      host = await startNodeHost({
        store,
        name: options.name,
        log,
        dedicatedProcess: true,
        onShutdownRequest: () => requestStop(),
      })
    } catch (error) {
      log.error({ err: error, event: 'node.start_failed' }, `node ${options.name} could not start`)
      throw error
    }
    const listeners = tcpOf(host.node).listenAddresses()
    // Handlers before anyone learns we are ready: a SIGTERM right after must still drain.
    const signalled = new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'))
      process.once('SIGTERM', () => resolve('SIGTERM'))
    })
    await sendToParent({ type: 'ready', pid: process.pid, socket: host.socketPath })
    if (process.connected) process.disconnect()
    options.onReady?.({ pid: process.pid, socket: host.socketPath, listeners })
    const reason = await Promise.race([stopRequested, signalled])
    log.info({ event: 'node.stopping', reason }, `node ${options.name} stopping (${reason})`)
    // A second signal while draining means "now".
    const now = () => process.exit(130)
    process.once('SIGINT', now)
    process.once('SIGTERM', now)
    await host.stop()
    log.info({ event: 'node.exit', reason }, `node ${options.name} stopped`)
  } catch (error) {
    // Before ready this tells the parent why; after ready the IPC channel is gone and it is a no-op.
    await sendToParent({ type: 'error', error: serialize(error) })
    throw error
  } finally {
    store?.close()
    logFile?.close()
  }
}
