/**
 * The node side of the control API: a Unix socket server in the (0700) state folder, socket
 * mode 0600, that answers one JSON request per line. Every request is bounded in size; a
 * connection gets one request handled at a time (its socket is paused meanwhile), is closed
 * after DEFAULT_CONTROL_IDLE_TIMEOUT_MS of silence, and at most DEFAULT_CONTROL_MAX_CONNECTIONS
 * are served at once. Methods other than `hello` and `shutdown` refuse a CLI of another version.
 */
import { chmodSync, unlinkSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { OckamError, type SerializedOckamError } from '../errors.js'
import type { Logger } from '../log.js'
import {
  DEFAULT_CONTROL_IDLE_TIMEOUT_MS,
  DEFAULT_CONTROL_MAX_CONNECTIONS,
  DEFAULT_CONTROL_MAX_REQUEST_BYTES,
} from './constants.js'
import { type ControlRequest, decodeRequest, encodeResponse, LineSplitter } from './protocol.js'

/** Methods every version answers, so an old node can always be identified and stopped. */
export const VERSION_EXEMPT_METHODS: ReadonlySet<string> = new Set(['hello', 'shutdown'])

export type ControlHandler = (params: Record<string, unknown>, request: ControlRequest) => unknown

export interface ControlServerOptions {
  readonly path: string
  /** The node's package version; requests from another CLI version get "restart the node". */
  readonly version: string
  /** The node's name, for messages. */
  readonly nodeName: string
  readonly handlers: Readonly<Record<string, ControlHandler>>
  readonly log: Logger
  readonly maxRequestBytes?: number
  readonly idleTimeoutMs?: number
  readonly maxConnections?: number
}

export interface ControlServer {
  /** Claims the socket path (refusing if a live node answers there) and listens. */
  start(): Promise<void>
  /** Stops accepting, closes connections (after answers in flight) and removes the socket file. */
  stop(): Promise<void>
}

/** Whether something accepts connections at `path` right now. */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection({ path })
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
}

function toSerialized(error: unknown): SerializedOckamError {
  if (error instanceof OckamError) return error.toJSON()
  const message = error instanceof Error ? error.message : String(error)
  return new OckamError('OCKAM_ERR_INTERNAL', message, {
    hint: 'this is a bug; the node log has details',
  }).toJSON()
}

export function createControlServer(options: ControlServerOptions): ControlServer {
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_CONTROL_MAX_REQUEST_BYTES
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_CONTROL_IDLE_TIMEOUT_MS
  const maxConnections = options.maxConnections ?? DEFAULT_CONTROL_MAX_CONNECTIONS
  const sockets = new Set<Socket>()
  let server: Server | undefined

  async function answer(request: ControlRequest): Promise<unknown> {
    if (request.version !== options.version && !VERSION_EXEMPT_METHODS.has(request.method)) {
      throw new OckamError(
        'OCKAM_ERR_CONTROL_VERSION_MISMATCH',
        `node ${options.nodeName} runs ockam-runtime ${options.version}, this command is ${request.version}`,
        {
          hint: `restart the node: ockam-runtime node stop ${options.nodeName} && ockam-runtime node start ${options.nodeName}`,
          data: { node: options.version, cli: request.version },
        },
      )
    }
    const handler = Object.hasOwn(options.handlers, request.method) ? options.handlers[request.method] : undefined
    if (handler === undefined) {
      throw new OckamError(
        'OCKAM_ERR_CONTROL_UNKNOWN_METHOD',
        `node ${options.nodeName} has no method "${request.method}"`,
        {
          hint: 'restart the node with this ockam-runtime version',
        },
      )
    }
    return await handler(request.params, request)
  }

  function serve(socket: Socket): void {
    if (sockets.size >= maxConnections) {
      socket.destroy()
      return
    }
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.setTimeout(idleTimeoutMs, () => socket.destroy())
    const splitter = new LineSplitter(maxRequestBytes)
    let busy: Promise<void> = Promise.resolve()
    socket.on('data', (chunk: Buffer) => {
      let lines: Buffer[]
      try {
        lines = splitter.push(chunk)
      } catch (error) {
        socket.end(encodeResponse({ id: 0, ok: false, error: toSerialized(error) }))
        return
      }
      if (lines.length === 0) return
      socket.pause()
      busy = busy.then(async () => {
        for (const line of lines) {
          let id = 0
          try {
            const request = decodeRequest(line, maxRequestBytes)
            id = request.id
            const result = await answer(request)
            if (!socket.destroyed) socket.write(encodeResponse({ id, ok: true, result: result ?? null }))
          } catch (error) {
            if (!(error instanceof OckamError)) options.log.error({ err: error }, 'control request failed')
            if (!socket.destroyed) socket.write(encodeResponse({ id, ok: false, error: toSerialized(error) }))
          }
        }
        if (!socket.destroyed) socket.resume()
      })
    })
  }

  return {
    async start() {
      if (await socketAnswers(options.path)) {
        throw new OckamError('OCKAM_ERR_NODE_ALREADY_RUNNING', `node ${options.nodeName} is already running`, {
          hint: `stop it first: ockam-runtime node stop ${options.nodeName}`,
        })
      }
      try {
        // Left behind by a node that was killed: nothing answers there.
        unlinkSync(options.path)
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause
      }
      const created = createServer({ allowHalfOpen: false }, serve)
      await new Promise<void>((resolve, reject) => {
        created.once('error', (cause: NodeJS.ErrnoException) => {
          if (cause.code === 'EADDRINUSE') {
            reject(
              new OckamError('OCKAM_ERR_NODE_ALREADY_RUNNING', `node ${options.nodeName} is already running`, {
                hint: 'another process started it at the same moment',
              }),
            )
          } else reject(cause)
        })
        created.listen(options.path, () => resolve())
      })
      // The folder is 0700 already; the mode is the second lock on the same door.
      chmodSync(options.path, 0o600)
      created.on('error', (error) => options.log.error({ err: error }, 'control server error'))
      server = created
    },
    async stop() {
      const current = server
      server = undefined
      if (current === undefined) return
      const closed = new Promise<void>((resolve) => current.close(() => resolve()))
      for (const socket of sockets) socket.end()
      for (const socket of sockets) socket.destroySoon()
      await closed
      try {
        unlinkSync(options.path)
      } catch {
        // already gone (close() removes it on some platforms)
      }
    },
  }
}
