/**
 * Running the real `ockam-runtime` binary in child processes: one-shot commands, and
 * foreground nodes whose JSON log lines (stderr) tests can wait on. Every process is killed in
 * the test's teardown.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../../runtime/cli/main.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const [code] = (await once(child, 'close')) as [number | null]
  return { code, stdout, stderr }
}

export interface NodeProcess {
  readonly child: ChildProcess
  readonly listeners: string[]
  /** Every JSON line the node logged so far. */
  readonly lines: Array<Record<string, unknown>>
  /** Resolves with the first line (past or future) that matches, or rejects after `timeoutMs`. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
}

export async function spawnNode(
  t: TestContext,
  name: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<NodeProcess> {
  // A foreground node reads the identities of its state folder: a scratch one unless the test gives one.
  let stop: () => Promise<unknown> = () => Promise.resolve()
  const home = env.OCKAM_RUNTIME_HOME === undefined ? { OCKAM_RUNTIME_HOME: scratchHome(t, () => stop()) } : {}
  const child = spawn(
    process.execPath,
    [CLI, '--output', 'json', 'node', 'create', name, '--foreground', '--tcp-listener-address', '127.0.0.1:0', ...args],
    { env: { ...process.env, OCKAM_LOG_LEVEL: 'info', ...home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const closed = once(child, 'close')
  stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await closed
    }
  }
  t.after(() => stop())
  const lines: Array<Record<string, unknown>> = []
  const waiters = new Set<() => void>()
  createInterface({ input: child.stderr }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>)
    } catch {
      lines.push({ msg: text })
    }
    for (const wake of waiters) wake()
  })
  const waitForLine: NodeProcess['waitForLine'] = (match, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(match)
        if (found === undefined) return false
        clearTimeout(timer)
        waiters.delete(wake)
        resolve(found)
        return true
      }
      const wake = () => void check()
      const timer = setTimeout(() => {
        waiters.delete(wake)
        reject(
          new Error(
            `node ${name}: no matching log line within ${timeoutMs} ms; saw ${JSON.stringify(lines.slice(-5))}`,
          ),
        )
      }, timeoutMs)
      if (!check()) waiters.add(wake)
    })
  const [first] = (await Promise.race([
    once(createInterface({ input: child.stdout }), 'line'),
    once(child, 'close').then(() => {
      throw new Error(`node ${name} exited before it was ready: ${JSON.stringify(lines)}`)
    }),
  ])) as [string]
  const ready = JSON.parse(first) as { listeners: string[] }
  return { child, listeners: ready.listeners, lines, waitForLine }
}

/**
 * A fresh state folder (OCKAM_RUNTIME_HOME) under os.tmpdir(), for one test. Teardown stops
 * every node process recorded in it (by the pid its pid file names, only while its control
 * socket still answers, as the CLI would) and removes the folder.
 */
/** A scratch state folder, removed after `until` (which stops the node using it). */
function scratchHome(t: TestContext, until: () => Promise<unknown>): string {
  const root = mkdtempSync(join(tmpdir(), 'ockam-fg-'))
  t.after(async () => {
    await until()
    rmSync(root, { recursive: true, force: true })
  })
  return join(root, 'home')
}

export function tempHome(t: TestContext, prefix = 'ockam-home-'): { home: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const home = join(root, 'home')
  const env = { OCKAM_RUNTIME_HOME: home }
  t.after(async () => {
    await runCli(['node', 'delete', '--all'], env).catch(() => undefined)
    // Anything still alive (a test killed the CLI mid-way): pids from the pid files.
    const nodesDir = join(home, 'nodes')
    for (const name of existsSync(nodesDir) ? readdirSync(nodesDir) : []) {
      try {
        const { pid } = JSON.parse(readFileSync(join(nodesDir, name, 'node.pid'), 'utf8')) as { pid: number }
        process.kill(pid, 'SIGKILL')
      } catch {
        // no pid file or already gone
      }
    }
    rmSync(root, { recursive: true, force: true })
  })
  return { home, env }
}
