/**
 * Starts a registered node as a detached background process of this same binary
 * (`node start NAME --foreground`), its stdout and stderr appended to the node's log file, and
 * waits until it reports ready over IPC (or the error that stopped it: port in use, schema too
 * new, …). The caller then confirms the node over its control socket before using it.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { OckamError } from '../errors.js'
import { NODE_HOST_FLAGS } from '../host-flags.js'
import { STATE_DIR_ENV } from '../state/constants.js'
import { DEFAULT_NODE_READY_TIMEOUT_MS } from './constants.js'
import { ensureNodeDir, nodeFiles, withPrivateUmask } from './node-files.js'
import type { NodeProcessMessage } from './run-node-process.js'

/** The CLI entry point that node processes run. */
export const CLI_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url))

export interface SpawnedNode {
  readonly pid: number
  readonly socket: string
}

/** The last lines of a log, for an error message when a node dies before it says why. */
function logTail(path: string, lines = 5): string {
  try {
    const text = readFileSync(path, 'utf8')
    return text.trimEnd().split('\n').slice(-lines).join(' | ').slice(-800)
  } catch {
    return ''
  }
}

export async function spawnNodeProcess(
  stateDir: string,
  name: string,
  readyTimeoutMs: number = DEFAULT_NODE_READY_TIMEOUT_MS,
): Promise<SpawnedNode> {
  const files = nodeFiles(stateDir, name)
  ensureNodeDir(files)
  const logFd = withPrivateUmask(() => openSync(files.logFile, 'a', 0o600))
  let child: ReturnType<typeof spawn>
  try {
    child = spawn(process.execPath, [...NODE_HOST_FLAGS, CLI_MAIN, 'node', 'start', name, '--foreground'], {
      detached: true,
      stdio: ['ignore', logFd, logFd, 'ipc'],
      env: { ...process.env, [STATE_DIR_ENV]: stateDir },
    })
  } finally {
    closeSync(logFd)
  }
  const spawned = child
  return await new Promise<SpawnedNode>((resolve, reject) => {
    let settled = false
    const done = (error: OckamError | undefined, value?: SpawnedNode) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      spawned.off('message', onMessage)
      spawned.off('exit', onExit)
      spawned.off('error', onError)
      if (spawned.connected) spawned.disconnect()
      spawned.unref()
      if (error === undefined) resolve(value as SpawnedNode)
      else reject(error)
    }
    const onMessage = (message: NodeProcessMessage) => {
      if (message.type === 'ready') done(undefined, { pid: message.pid, socket: message.socket })
      else if (message.type === 'error') {
        // It exits by itself after telling us; the error is what the user needs.
        done(
          OckamError.isSerialized(message.error)
            ? OckamError.fromJSON(message.error)
            : new OckamError('OCKAM_ERR_NODE_START_FAILED', `node ${name} could not start`),
        )
      }
    }
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      done(
        new OckamError(
          'OCKAM_ERR_NODE_START_FAILED',
          `node ${name} exited before it was ready (${signal ?? `code ${code}`})${logTail(files.logFile) === '' ? '' : `: ${logTail(files.logFile)}`}`,
          { hint: `see its log: ockam-runtime node logs ${name}` },
        ),
      )
    }
    const onError = (cause: Error) =>
      done(new OckamError('OCKAM_ERR_NODE_START_FAILED', `cannot start node ${name}: ${cause.message}`, { cause }))
    const timer = setTimeout(() => {
      // Our own child, still attached to us: its pid is certainly the process we started.
      spawned.kill('SIGKILL')
      done(
        new OckamError('OCKAM_ERR_NODE_START_FAILED', `node ${name} was not ready within ${readyTimeoutMs} ms`, {
          hint: `see its log: ockam-runtime node logs ${name}`,
        }),
      )
    }, readyTimeoutMs)
    spawned.on('message', onMessage)
    spawned.once('exit', onExit)
    spawned.once('error', onError)
  })
}
