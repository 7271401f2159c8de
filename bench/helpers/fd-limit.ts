/**
 * Open-file limits for benches that hold thousands of sockets. Node raises its own soft limit
 * to the hard one at startup (so `ulimit -Sn` before `node` changes nothing) but has no
 * setrlimit for the hard one: children are started through `bash -c 'ulimit -Hn …; exec node
 * …'`, which raises it where the process may (root with CAP_SYS_RESOURCE; not in every
 * container: here the hard limit of 20,000 stays).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

export interface FdLimits {
  readonly soft: number
  readonly hard: number
}

/** This process's RLIMIT_NOFILE, from /proc (Linux); `unlimited` reads as Infinity. */
export function openFileLimits(): FdLimits | undefined {
  let text: string
  try {
    text = readFileSync('/proc/self/limits', 'utf8')
  } catch {
    return undefined
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'))
  const fields = line?.slice('Max open files'.length).trim().split(/\s+/)
  if (fields === undefined || fields.length < 2) return undefined
  const parse = (value: string | undefined) => (value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value))
  return { soft: parse(fields[0]), hard: parse(fields[1]) }
}

/**
 * Runs `node SCRIPT ARGS…` with the soft open-file limit raised to `wanted` when allowed, else
 * to the hard limit (each step is tried and a failure ignored, so the child always starts and
 * reports what it got). Keeps an IPC channel (fd 3 survives bash's exec).
 */
export function spawnNodeWithFdLimit(script: string, args: readonly string[], wanted: number): ChildProcess {
  const n = Math.floor(wanted)
  // Raise, never lower: the hard limit only when below n, the soft one to n or else to the hard one.
  const raise = [
    `h=$(ulimit -Hn)`,
    `if [ "$h" != unlimited ] && [ "$h" -lt ${n} ]; then ulimit -Hn ${n} 2>/dev/null; fi`,
    `s=$(ulimit -Sn)`,
    `if [ "$s" != unlimited ] && [ "$s" -lt ${n} ]; then ulimit -Sn ${n} 2>/dev/null || ulimit -Sn "$(ulimit -Hn)" 2>/dev/null; fi`,
  ].join('; ')
  return spawn('bash', ['-c', `${raise}; exec "$0" "$@"`, process.execPath, script, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: process.env,
  })
}
