/**
 * A node's own folder in the state folder, `nodes/<name>/`: its log files and its pid file.
 * Everything is created under the 0077 umask, so 0700 folders and 0600 files.
 */
import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OckamError } from '../errors.js'
import { STATE_DIR_MODE, STATE_DIR_UMASK } from '../state/constants.js'
import { MAX_PID_FILE_BYTES, NODES_DIR_NAME } from './constants.js'

export interface NodeFiles {
  readonly dir: string
  readonly logFile: string
  readonly pidFile: string
}

export function nodeFiles(stateDir: string, name: string): NodeFiles {
  const dir = join(stateDir, NODES_DIR_NAME, name)
  return { dir, logFile: join(dir, 'node.log'), pidFile: join(dir, 'node.pid') }
}

/** Runs `fn` with the 0077 umask (main thread only: worker threads cannot change it). */
export function withPrivateUmask<T>(fn: () => T): T {
  const previous = process.umask(STATE_DIR_UMASK)
  try {
    return fn()
  } finally {
    process.umask(previous)
  }
}

export function ensureNodeDir(files: NodeFiles): void {
  withPrivateUmask(() => mkdirSync(files.dir, { recursive: true, mode: STATE_DIR_MODE }))
}

export function removeNodeDir(files: NodeFiles): void {
  rmSync(files.dir, { recursive: true, force: true })
}

/** What a running node writes once it is ready; the CLI never trusts it without asking the socket. */
export interface PidFile {
  readonly pid: number
  readonly startedAt: number
  readonly version: string
}

export function writePidFile(files: NodeFiles, content: PidFile): void {
  const temporary = `${files.pidFile}.${process.pid}.tmp`
  withPrivateUmask(() => writeFileSync(temporary, `${JSON.stringify(content)}\n`, { mode: 0o600 }))
  renameSync(temporary, files.pidFile)
}

/** The pid file's content; undefined if missing or unreadable as a pid file (it is then stale by definition). */
export function readPidFile(files: NodeFiles): PidFile | undefined {
  let fd: number
  try {
    fd = openSync(files.pidFile, 'r')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new OckamError('OCKAM_ERR_STATE_DIR_INVALID', `cannot read the pid file ${files.pidFile}`, {
      cause,
      hint: 'check the state folder belongs to you',
    })
  }
  try {
    const buffer = Buffer.alloc(MAX_PID_FILE_BYTES)
    const length = readSync(fd, buffer, 0, buffer.length, 0)
    const value = JSON.parse(buffer.subarray(0, length).toString('utf8')) as Partial<PidFile>
    if (typeof value.pid !== 'number' || !Number.isSafeInteger(value.pid) || value.pid <= 0)
      return { pid: 0, startedAt: 0, version: '' }
    return {
      pid: value.pid,
      startedAt: typeof value.startedAt === 'number' ? value.startedAt : 0,
      version: typeof value.version === 'string' ? value.version.slice(0, 64) : '',
    }
  } catch {
    return { pid: 0, startedAt: 0, version: '' }
  } finally {
    closeSync(fd)
  }
}

/** Removes the pid file; with `onlyPid`, only if it still names that process (a newer node may own it). */
export function removePidFile(files: NodeFiles, onlyPid?: number): void {
  if (onlyPid !== undefined && readPidFile(files)?.pid !== onlyPid) return
  try {
    unlinkSync(files.pidFile)
  } catch {
    // already gone
  }
}
