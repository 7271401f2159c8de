/**
 * Pieces of the CLI portal tests (issue 7's faults and two-outlet cases): a project with
 * enrolled member folders on free ports, target servers that stream or echo, a client that
 * tells a FIN from a reset, node log lines read back from the state folder, and polling under
 * one deadline (each probe is a real connection or command, so the loops need no sleeps).
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { tempHome } from './cli.js'
import { freePort, json, ok } from './node-cli.js'

export { freePort }

/** Every wait of these tests ends by this deadline or fails. */
export const DEADLINE_MS = 30_000

export interface Home {
  readonly home: string
  readonly env: NodeJS.ProcessEnv
}

/** Polls `probe` until it returns a value, under DEADLINE_MS; returns it with the time taken. */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const started = performance.now()
  for (;;) {
    const value = await probe()
    if (value !== undefined) return { value, ms: performance.now() - started }
    if (performance.now() - started > DEADLINE_MS)
      throw new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`)
  }
}

export async function startProject(
  t: TestContext,
  prefix: string,
  /** More `project create` options (`--no-passthrough`). */
  options: readonly string[] = [],
): Promise<Home & { port: number }> {
  const host = tempHome(t, `${prefix}-project-`)
  const port = await freePort()
  await ok(['project', 'create', 'demo', '--listen', `127.0.0.1:${port}`, ...options], host.env)
  return { ...host, port }
}

/** A new state folder enrolled with a fresh ticket (`--relay NAME` when given). */
export async function enrolled(t: TestContext, project: Home, prefix: string, relay?: string): Promise<Home> {
  const home = tempHome(t, `${prefix}-`)
  const ticket = (
    await ok(['project', 'ticket', ...(relay === undefined ? [] : ['--relay', relay])], project.env)
  ).trim()
  await json<{ member: string }>(['enroll', ticket], home.env)
  return home
}

/**
 * A target server on 127.0.0.1 (`port` 0: a free one). The client's first byte says what it
 * wants: `s` an endless stream of `z` bytes (the server never ends it by itself), `e` the
 * server's name, a newline, then an echo of everything else until the client's FIN.
 */
/** What a streaming target sends, over and over. */
export const STREAM_BYTE = 0x7a

export interface Target {
  readonly name: string
  port: number
  readonly sockets: Set<Socket>
  /** Stops listening and resets every connection (a crashed or unplugged target, not a clean end). */
  crash(): Promise<void>
  /** Listens again on the same port. */
  restart(): Promise<void>
}

export async function startTarget(t: TestContext, name: string, port = 0): Promise<Target> {
  const sockets = new Set<Socket>()
  const chunk = Buffer.alloc(64 * 1024, STREAM_BYTE)
  let server: Server | undefined
  const listen = async (at: number): Promise<number> => {
    server = createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {})
      socket.once('data', (first: Buffer) => {
        if (first[0] === 0x73) {
          // Paced (about 6 MiB/s), so a stream left running costs little CPU while a test waits.
          const pace = setInterval(() => {
            if (!socket.destroyed && socket.writableLength === 0) socket.write(chunk)
          }, 10)
          socket.on('close', () => clearInterval(pace))
          return
        }
        socket.write(`${name}\n`)
        if (first.length > 1) socket.write(first.subarray(1))
        socket.pipe(socket)
      })
    })
    server.listen(at, '127.0.0.1')
    await once(server, 'listening')
    return (server.address() as { port: number }).port
  }
  const target: Target = {
    name,
    port: await listen(port),
    sockets,
    async crash() {
      const closing = server === undefined ? Promise.resolve() : new Promise((resolve) => server?.close(resolve))
      for (const socket of sockets) socket.resetAndDestroy()
      await closing
      server = undefined
    },
    async restart() {
      await listen(target.port)
    },
  }
  t.after(() => target.crash())
  return target
}

/** How a client connection ended: `end` is a FIN after everything, `reset` an RST (or a failed write after EOF). */
export type Ending = 'end' | 'reset' | string

/**
 * Ends as `exchange` in test/integration/portal-helpers.ts does: the client keeps its write side
 * open, so after an EOF a one-byte write tells a FIN (succeeds: the portal is only half-closed)
 * from a reset libuv reported as EOF (fails).
 */
function watchEnding(socket: Socket): Promise<Ending> {
  let ending: Ending | undefined
  socket.on('end', () => {
    if (ending !== undefined) return
    socket.write(Uint8Array.of(0), (error) => {
      ending ??= error ? 'reset' : 'end'
      socket.destroy()
    })
  })
  socket.on('error', (error: NodeJS.ErrnoException) => {
    ending ??= error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'reset' : (error.code ?? error.message)
  })
  return new Promise((resolve) => socket.on('close', () => resolve(ending ?? 'close')))
}

export interface StreamClient {
  /** Bytes received so far. */
  readonly received: () => number
  /** Resolves once at least `bytes` arrived (rejects if the connection ends first). */
  reached(bytes: number): Promise<void>
  readonly ended: Promise<{ ending: Ending; at: number; bytes: number; pure: boolean }>
}

/** A client through `port` that asks the target for an endless stream and checks every byte of it. */
export async function streamClient(port: number): Promise<StreamClient> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true })
  await once(socket, 'connect')
  const expected = STREAM_BYTE
  let bytes = 0
  let pure = true
  const waiters: Array<{ bytes: number; resolve: () => void }> = []
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length
    if (pure && !chunk.every((b) => b === expected)) pure = false
    for (const waiter of waiters.filter((w) => bytes >= w.bytes)) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  })
  socket.write('s')
  const ending = watchEnding(socket)
  const ended = ending.then((how) => ({ ending: how, at: performance.now(), bytes, pure }))
  return {
    received: () => bytes,
    reached: (want) =>
      Promise.race([
        new Promise<void>((resolve) => {
          if (bytes >= want) resolve()
          else waiters.push({ bytes: want, resolve })
        }),
        ending.then((how) => {
          throw new Error(`the stream ended (${how}) after ${bytes} bytes, before ${want}`)
        }),
      ]),
    ended,
  }
}

/**
 * One request through `port`: asks for the target's name and an echo of `data`, sends its FIN,
 * reads to the end. Resolves with the name line, whether the echo matched, and the ending.
 */
export async function ask(port: number, data = 'ping'): Promise<{ name: string; echoed: boolean; ending: Ending }> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true })
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  const ending = new Promise<Ending>((resolve) => {
    socket.on('end', () => resolve('end'))
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
  socket.on('connect', () => socket.end(`e${data}`))
  const how = await ending
  socket.destroy()
  const text = Buffer.concat(chunks).toString()
  const newline = text.indexOf('\n')
  return {
    name: newline < 0 ? '' : text.slice(0, newline),
    echoed: newline >= 0 && text.slice(newline + 1) === data,
    ending: how,
  }
}

/** Asks through `port` until a request answers in full with `name`; returns the time taken. */
export async function untilServed(port: number, name: string, what: string): Promise<number> {
  const { ms } = await poll(what, async () => {
    const answer = await ask(port)
    return answer.ending === 'end' && answer.echoed && answer.name === name ? true : undefined
  })
  return ms
}

/** The JSON lines of the named node's log file in `home` (rotated files not included). */
export function nodeLog(home: Home, node = 'default'): Array<Record<string, unknown>> {
  const path = join(home.home, 'nodes', node, 'node.log')
  if (!existsSync(path)) return []
  const lines: Array<Record<string, unknown>> = []
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    if (text.length === 0) continue
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>)
    } catch {
      // a line cut by rotation or a crash
    }
  }
  return lines
}

/** Waits (polling the file under the deadline) for a log line that matches; returns it. */
export async function logLine(
  home: Home,
  what: string,
  match: (line: Record<string, unknown>) => boolean,
  node = 'default',
): Promise<Record<string, unknown>> {
  const started = performance.now()
  for (;;) {
    const found = nodeLog(home, node).find(match)
    if (found !== undefined) return found
    if (performance.now() - started > DEADLINE_MS) {
      const tail = nodeLog(home, node)
        .slice(-8)
        .map((l) => JSON.stringify(l))
      assert.fail(`no log line in ${node}'s log for ${what} within ${DEADLINE_MS} ms; last lines:\n${tail.join('\n')}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export interface RelayedPortal {
  readonly project: Home & { port: number }
  /** The outlet side: enrolled with relay `postgres`, its outlet next to `target`. */
  readonly bank: Home
  /** The inlet side. */
  readonly analysis: Home
  readonly target: Target
  /** The inlet's port on 127.0.0.1. */
  readonly inlet: number
}

/**
 * DESIGN §1's topology in three state folders: a project, `bank` with an outlet next to a
 * target and relay `postgres`, `analysis` with an inlet to it; returns once a connection through
 * the inlet is served. `env` is added to both members' environments (a log level, say).
 */
export async function relayedPortal(
  t: TestContext,
  prefix: string,
  env: Record<string, string> = {},
  projectOptions: readonly string[] = [],
): Promise<RelayedPortal> {
  const project = await startProject(t, prefix, projectOptions)
  const bankHome = await enrolled(t, project, `${prefix}-bank`, 'postgres')
  const analysisHome = await enrolled(t, project, `${prefix}-analysis`)
  const bank = { ...bankHome, env: { ...bankHome.env, ...env } }
  const analysis = { ...analysisHome, env: { ...analysisHome.env, ...env } }
  const target = await startTarget(t, 'target')
  const inlet = await freePort()
  await ok(['tcp-outlet', 'create', '--to', String(target.port)], bank.env)
  await ok(['relay', 'create', 'postgres'], bank.env)
  await ok(['tcp-inlet', 'create', '--from', String(inlet), '--to', 'postgres'], analysis.env)
  await untilServed(inlet, 'target', 'the first connection through the portal')
  return { project, bank, analysis, target, inlet }
}
