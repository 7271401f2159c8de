/** Helpers for the node CLI tests: JSON runs, echo routes, one-line error checks. */
import assert from 'node:assert/strict'
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

export function echoRoute(listener: string): string {
  const [host, port] = listener.split(':')
  return `/ip4/${host}/tcp/${port}/service/echo`
}

export function oneLineError(result: { code: number | null; stdout: string; stderr: string }, code: string): void {
  assert.equal(result.code, 1, result.stderr)
  assert.equal(result.stdout, '')
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
  assert.match(result.stderr, new RegExp(`^error: ${code}: `))
}
