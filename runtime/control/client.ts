/**
 * The CLI side of the control API. One connection per call: open, send one request line, read
 * one response line (bounded), close. Connection failures become the errors a user can act
 * on: nothing listening = node not running; EACCES = not the owner.
 */
import { createConnection } from 'node:net'
import { VERSION } from '../cli/version.js'
import { OckamError } from '../errors.js'
import {
  CONTROL_PROTOCOL_VERSION,
  DEFAULT_CONTROL_MAX_RESPONSE_BYTES,
  DEFAULT_CONTROL_REQUEST_TIMEOUT_MS,
} from './constants.js'
import { decodeResponse, encodeRequest, LineSplitter } from './protocol.js'

export interface ControlClientOptions {
  readonly socketPath: string
  /** For messages: "node n1 is not running". */
  readonly nodeName: string
  /** The version this client claims; defaults to the package version. */
  readonly version?: string
  readonly timeoutMs?: number
  readonly maxResponseBytes?: number
}

export interface CallOptions {
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

export interface ControlClient {
  readonly nodeName: string
  readonly socketPath: string
  call<T = unknown>(method: string, params?: Record<string, unknown>, options?: CallOptions): Promise<T>
}

let nextId = 1

export function createControlClient(options: ControlClientOptions): ControlClient {
  const version = options.version ?? VERSION
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_CONTROL_MAX_RESPONSE_BYTES
  const name = options.nodeName

  function connectError(cause: NodeJS.ErrnoException): OckamError {
    if (cause.code === 'ENOENT' || cause.code === 'ECONNREFUSED') {
      return new OckamError('OCKAM_ERR_NODE_NOT_RUNNING', `node ${name} is not running`, {
        cause,
        hint: `start it: ockam-runtime node start ${name}`,
        data: { node: name },
      })
    }
    if (cause.code === 'EACCES' || cause.code === 'EPERM') {
      return new OckamError('OCKAM_ERR_CONTROL_ACCESS_DENIED', `cannot reach node ${name}: ${cause.code}`, {
        cause,
        hint: 'only the user who owns the state folder can control its nodes',
        data: { node: name },
      })
    }
    return new OckamError('OCKAM_ERR_NODE_NOT_RUNNING', `cannot reach node ${name}: ${cause.code ?? cause.message}`, {
      cause,
      hint: `check it with: ockam-runtime node show ${name}`,
      data: { node: name },
    })
  }

  return {
    nodeName: name,
    socketPath: options.socketPath,
    call<T>(method: string, params: Record<string, unknown> = {}, call: CallOptions = {}): Promise<T> {
      const timeoutMs = call.timeoutMs ?? options.timeoutMs ?? DEFAULT_CONTROL_REQUEST_TIMEOUT_MS
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        const socket = createConnection({ path: options.socketPath })
        const splitter = new LineSplitter(maxResponseBytes)
        let connected = false
        let settled = false
        const finish = (error: OckamError | undefined, value?: unknown) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          call.signal?.removeEventListener('abort', onAbort)
          socket.destroy()
          if (error === undefined) resolve(value as T)
          else reject(error)
        }
        const onAbort = () =>
          finish(new OckamError('OCKAM_ERR_ABORTED', `the ${method} request to node ${name} was aborted`))
        call.signal?.addEventListener('abort', onAbort, { once: true })
        if (call.signal?.aborted === true) return onAbort()
        const timer = setTimeout(
          () =>
            finish(
              new OckamError('OCKAM_ERR_TIMEOUT', `node ${name} did not answer ${method} within ${timeoutMs} ms`, {
                hint: `the node may be stuck: check ockam-runtime node logs ${name}`,
              }),
            ),
          timeoutMs,
        )
        socket.once('connect', () => {
          connected = true
          socket.write(encodeRequest({ v: CONTROL_PROTOCOL_VERSION, id, version, method, params }))
        })
        socket.on('data', (chunk: Buffer) => {
          try {
            const [line] = splitter.push(chunk)
            if (line === undefined) return
            const response = decodeResponse(line, maxResponseBytes)
            if (response.ok) finish(undefined, response.result)
            else finish(OckamError.fromJSON(response.error))
          } catch (error) {
            finish(error as OckamError)
          }
        })
        socket.once('error', (cause: NodeJS.ErrnoException) => {
          finish(
            connected
              ? new OckamError('OCKAM_ERR_NODE_NOT_RUNNING', `node ${name} closed the control connection`, { cause })
              : connectError(cause),
          )
        })
        socket.once('close', () =>
          finish(
            new OckamError(
              'OCKAM_ERR_NODE_NOT_RUNNING',
              `node ${name} closed the control connection before answering`,
              {
                hint: `it may be stopping; check ockam-runtime node show ${name}`,
              },
            ),
          ),
        )
      })
    },
  }
}
