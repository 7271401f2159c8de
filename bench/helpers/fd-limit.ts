/**
 * Open-file limits for benches that hold thousands of sockets. Node has no setrlimit, so a
 * process cannot raise its own soft limit: children are started through `bash -c 'ulimit -Sn
 * …; exec node …'`, which may raise the soft limit up to the hard one (and the hard one too
 * where the process may, which root without CAP_SYS_RESOURCE in a container often may not).
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
  const raise = `ulimit -Hn ${n} 2>/dev/null; ulimit -Sn ${n} 2>/dev/null || ulimit -Sn "$(ulimit -Hn)" 2>/dev/null`
  return spawn('bash', ['-c', `${raise}; exec "$0" "$@"`, process.execPath, script, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: process.env,
  })
}
