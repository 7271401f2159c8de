/**
 * The state folder (`OCKAM_RUNTIME_HOME`, default ~/.ockam-runtime) holds the database, and later
 * the control socket. Whoever can write in it owns the node's keys, so it must be a real folder
 * (not a symlink someone could redirect), owned by us, and closed to group and others
 * (DESIGN §12 "Local machine"). A folder that fails is refused, never repaired: a wrong mode may
 * mean someone else already read it.
 */
import { chmodSync, lstatSync, mkdirSync, type Stats } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { isMainThread } from 'node:worker_threads'
import { OckamError } from '../errors.js'
import { DEFAULT_STATE_DIR_NAME, STATE_DIR_ENV, STATE_DIR_MODE, STATE_DIR_UMASK } from './constants.js'

/** The state folder: `OCKAM_RUNTIME_HOME` when set and non-empty, else ~/.ockam-runtime; absolute. */
export function resolveStateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const fromEnv = env[STATE_DIR_ENV]
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), DEFAULT_STATE_DIR_NAME))
}

/** lstat that returns undefined for a missing path and a typed error for anything else. */
export function lstatOrUndefined(path: string, what: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new OckamError('OCKAM_ERR_STATE_DIR_INVALID', `cannot inspect the ${what} ${path}`, {
      cause,
      hint: `check that ${path} is reachable by this user`,
      data: { path },
    })
  }
}

/**
 * Creates the folder (0700, parents too) if it is missing, then verifies it. Returns the
 * absolute path. Throws OCKAM_ERR_STATE_DIR_{SYMLINK,OWNER,PERMISSIONS,INVALID}.
 */
export function ensureStateDir(dir: string): string {
  const path = resolve(dir)
  if (lstatOrUndefined(path, 'state folder') === undefined) createPrivateDir(path)
  verifyStateDir(path)
  return path
}

/** Verifies an existing folder without creating anything. */
export function verifyStateDir(dir: string): void {
  const path = resolve(dir)
  const stats = lstatOrUndefined(path, 'state folder')
  if (stats === undefined) {
    throw new OckamError('OCKAM_ERR_STATE_DIR_INVALID', `the state folder ${path} does not exist`, {
      hint: `create it with ensureStateDir(), or set ${STATE_DIR_ENV} to an existing folder`,
      data: { path },
    })
  }
  if (stats.isSymbolicLink()) {
    throw new OckamError('OCKAM_ERR_STATE_DIR_SYMLINK', `the state folder ${path} is a symbolic link`, {
      hint: `set ${STATE_DIR_ENV} to the real folder the link points to, or replace the link with a folder`,
      data: { path },
    })
  }
  if (!stats.isDirectory()) {
    throw new OckamError('OCKAM_ERR_STATE_DIR_INVALID', `the state folder ${path} is not a directory`, {
      hint: `set ${STATE_DIR_ENV} to a folder`,
      data: { path },
    })
  }
  verifyOwnerAndMode(path, stats, 'state folder')
}

/** Owner must be us; no group/other bits. Shared by the folder and the database file. */
export function verifyOwnerAndMode(path: string, stats: Stats, what: string, fixMode?: number): void {
  if (process.platform === 'win32' || process.getuid === undefined) return
  const uid = process.getuid()
  if (stats.uid !== uid) {
    throw new OckamError('OCKAM_ERR_STATE_DIR_OWNER', `the ${what} ${path} belongs to uid ${stats.uid}, not to us`, {
      hint: `run ockam-runtime as the owner of ${path}, or set ${STATE_DIR_ENV} to a folder of your own`,
      data: { path, owner: stats.uid, uid },
    })
  }
  if ((stats.mode & 0o077) !== 0) {
    if (fixMode !== undefined) {
      chmodSync(path, fixMode)
      return
    }
    const mode = `0${(stats.mode & 0o777).toString(8)}`
    throw new OckamError(
      'OCKAM_ERR_STATE_DIR_PERMISSIONS',
      `the ${what} ${path} is open to group or others (${mode})`,
      {
        hint: `run: chmod 700 '${path}' (and check nobody else has read it)`,
        data: { path, mode },
      },
    )
  }
}

function createPrivateDir(path: string): void {
  try {
    // process.umask() cannot be changed inside a worker thread; there the chmod below suffices
    // because nothing is created inside the folder before it.
    const previous = isMainThread ? process.umask(STATE_DIR_UMASK) : undefined
    try {
      mkdirSync(path, { recursive: true, mode: STATE_DIR_MODE })
    } finally {
      if (previous !== undefined) process.umask(previous)
    }
    chmodSync(path, STATE_DIR_MODE)
  } catch (cause) {
    throw new OckamError('OCKAM_ERR_STATE_DIR_INVALID', `cannot create the state folder ${path}`, {
      cause,
      hint: `check that the parent of ${path} exists and is writable, or set ${STATE_DIR_ENV}`,
      data: { path },
    })
  }
}
