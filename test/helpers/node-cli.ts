/** Helpers for the CLI tests: JSON runs, routes to a listener, one-line error checks, a held port. */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { runCli } from './cli.js'

export interface NodeJson {
  name: string
  status: string
  pid: number | null
  listeners: string[]
  default: boolean
  stalePid: number | null
}

export async function json<T>(args: string[], env: NodeJS.ProcessEnv): Promise<T> {
  const result = await runCli(['--output', 'json', ...args], env)
  assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

/** Runs a command that must succeed; returns its stdout. */
export async function ok(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const result = await runCli(args, env)
  assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

/** `/ip4/HOST/tcp/PORT` of a `HOST:PORT` listener. */
export function tcpRoute(listener: string | undefined): string {
  const [host, port] = (listener ?? '').split(':')
  return `/ip4/${host}/tcp/${port}`
}

export function echoRoute(listener: string): string {
  return `${tcpRoute(listener)}/service/echo`
}

/** Echo through a secure channel to the listener's `api` (or the given `/secure/…` segments). */
export function secureEcho(listener: string | undefined, secure = '/secure/api'): string {
  return `${tcpRoute(listener)}${secure}/service/echo`
}

/** The default identity's identifier in a state folder. */
export async function identifierOf(env: NodeJS.ProcessEnv): Promise<string> {
  return (await json<{ identifier: string }>(['identity', 'show'], env)).identifier
}

/** A listening socket on 127.0.0.1 holding a free port (close it to free the port). */
export async function holdPort(): Promise<{ server: Server; port: number }> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      resolve({ server, port: typeof address === 'object' && address !== null ? address.port : 0 })
    })
  })
}

/** A port on 127.0.0.1 free right now (bound, then released): for addresses that must be fixed. */
export async function freePort(): Promise<number> {
  const held = await holdPort()
  await new Promise((resolve) => held.server.close(resolve))
  return held.port
}

export function oneLineError(result: { code: number | null; stdout: string; stderr: string }, code: string): void {
  assert.equal(result.code, 1, result.stderr)
  assert.equal(result.stdout, '')
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
  assert.match(result.stderr, new RegExp(`^error: ${code}: `))
}
