/**
 * The raw-socket baseline: `node:net` with 4-byte big-endian length-prefixed frames, no routes,
 * no router, no promises per frame on the receiving side. What is left between it and our TCP
 * transport is what the runtime adds per message.
 */
import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'

/** Frames larger than this are a bug in the bench, not a load to survive. */
const MAX_RAW_FRAME_BYTES = 1024 * 1024

/** Splits a byte stream into length-prefixed frames; `onFrame` gets each frame with its prefix. */
export class RawFrameSplitter {
  #held: Buffer | undefined

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    const data = this.#held === undefined ? chunk : Buffer.concat([this.#held, chunk])
    let offset = 0
    while (data.length - offset >= 4) {
      const length = data.readUInt32BE(offset)
      if (length > MAX_RAW_FRAME_BYTES) throw new RangeError(`raw frame of ${length} bytes`)
      const end = offset + 4 + length
      if (end > data.length) break
      onFrame(data.subarray(offset, end))
      offset = end
    }
    this.#held = offset < data.length ? data.subarray(offset) : undefined
  }
}

export function rawFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(4 + payload.length)
  frame.writeUInt32BE(payload.length, 0)
  frame.set(payload, 4)
  return frame
}

/** A zero-length frame: "finish" for the sink. */
const FINISH_FRAME = rawFrame(new Uint8Array(0))

export interface RawServers {
  /** `127.0.0.1:PORT` of the echo server (writes every frame back). */
  readonly echo: string
  /** `127.0.0.1:PORT` of the sink (counts frames; a zero-length frame asks for the count). */
  readonly sink: string
  close(): Promise<void>
}

export async function startRawServers(): Promise<RawServers> {
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const echo = createServer({ noDelay: true }, (socket) => {
    track(socket)
    const splitter = new RawFrameSplitter()
    socket.on('data', (chunk: Buffer) => splitter.push(chunk, (frame) => socket.write(frame)))
  })
  const sink = createServer({ noDelay: true }, (socket) => {
    track(socket)
    const splitter = new RawFrameSplitter()
    let count = 0
    socket.on('data', (chunk: Buffer) =>
      splitter.push(chunk, (frame) => {
        if (frame.length > 4) {
          count++
          return
        }
        const reply = Buffer.allocUnsafe(8)
        reply.writeUInt32BE(4, 0)
        reply.writeUInt32BE(count, 4)
        count = 0
        socket.write(reply)
      }),
    )
  })
  const listen = async (server: Server) => {
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const bound = server.address()
    if (bound === null || typeof bound === 'string') throw new Error('raw server has no address')
    return `127.0.0.1:${bound.port}`
  }
  const addresses = { echo: await listen(echo), sink: await listen(sink) }
  return {
    ...addresses,
    async close() {
      for (const socket of sockets) socket.destroy()
      await Promise.all([echo, sink].map((server) => new Promise((resolve) => server.close(resolve))))
    },
  }
}

async function connect(hostPort: string): Promise<Socket> {
  const [host, port] = hostPort.split(':')
  const socket = createConnection({ host: host ?? '127.0.0.1', port: Number(port), noDelay: true })
  await once(socket, 'connect')
  return socket
}

/** Sequential ping-pong: one frame out, wait for it to come back. */
export class RawEchoClient {
  readonly #socket: Socket
  readonly #splitter = new RawFrameSplitter()
  #waiting: (() => void) | undefined

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', (chunk: Buffer) =>
      this.#splitter.push(chunk, () => {
        const resolve = this.#waiting
        this.#waiting = undefined
        resolve?.()
      }),
    )
  }

  static async connect(hostPort: string): Promise<RawEchoClient> {
    return new RawEchoClient(await connect(hostPort))
  }

  ping(frame: Buffer): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting = resolve
      this.#socket.write(frame)
    })
  }

  close(): void {
    this.#socket.destroy()
  }
}

/** A pipelined one-way stream of frames, with the socket's own backpressure (`drain`). */
export class RawSinkClient {
  readonly #socket: Socket
  readonly #splitter = new RawFrameSplitter()
  #waiting: ((count: number) => void) | undefined

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', (chunk: Buffer) =>
      this.#splitter.push(chunk, (frame) => {
        const resolve = this.#waiting
        this.#waiting = undefined
        resolve?.(frame.readUInt32BE(4))
      }),
    )
  }

  static async connect(hostPort: string): Promise<RawSinkClient> {
    return new RawSinkClient(await connect(hostPort))
  }

  /** Writes one frame; false means "wait for `drained()` before writing more". */
  write(frame: Buffer): boolean {
    return this.#socket.write(frame)
  }

  drained(): Promise<unknown> {
    return once(this.#socket, 'drain')
  }

  /** Asks the sink how many frames it counted since the last finish (and resets it). */
  finish(): Promise<number> {
    return new Promise((resolve) => {
      this.#waiting = resolve
      this.#socket.write(FINISH_FRAME)
    })
  }

  close(): void {
    this.#socket.destroy()
  }
}
