/**
 * Where a node's control socket lives. Normally `<state folder>/run/<node>.sock`, inside the
 * 0700 state folder, so only its owner can reach it. Unix socket paths must stay under
 * MAX_SOCKET_PATH_BYTES (Node truncates longer ones silently and the node would listen on a
 * different path than the CLI dials); when the state folder's path is too long, the socket goes
 * to `/tmp/ockam-runtime-<uid>/<hash>.sock` instead: a short, symlink-free folder of our own
 * (0700, our uid, refused otherwise, like the state folder), with a file name hashed from the
 * state folder and the node name so two state folders never share a socket.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { OckamError } from '../errors.js'
import { STATE_DIR_MODE, STATE_DIR_UMASK } from '../state/constants.js'
import { lstatOrUndefined, verifyOwnerAndMode } from '../state/state-dir.js'
import { MAX_SOCKET_PATH_BYTES } from './constants.js'

/** Subfolder of the state folder that holds the control sockets. */
export const CONTROL_SOCKET_DIR_NAME = 'run'

/** Where the short fallback folder goes (its real path: /tmp may be a link, as on macOS). */
export const FALLBACK_SOCKET_ROOT = '/tmp'

export interface SocketLocation {
  /** The socket's path, under MAX_SOCKET_PATH_BYTES bytes. */
  readonly path: string
  /** The folder that holds it (created 0700 by ensureSocketDir). */
  readonly dir: string
  readonly fallback: boolean
}

function fits(path: string): boolean {
  return Buffer.byteLength(path) < MAX_SOCKET_PATH_BYTES
}

export function controlSocketLocation(stateDir: string, nodeName: string): SocketLocation {
  const dir = join(stateDir, CONTROL_SOCKET_DIR_NAME)
  const path = join(dir, `${nodeName}.sock`)
  if (fits(path)) return { path, dir, fallback: false }
  const uid = process.getuid?.() ?? 0
  let root = FALLBACK_SOCKET_ROOT
  try {
    root = realpathSync(FALLBACK_SOCKET_ROOT)
  } catch {
    // keep /tmp: ensureSocketDir reports what is wrong with it
  }
  const fallbackDir = join(root, `ockam-runtime-${uid}`)
  const hash = createHash('sha256').update(stateDir).update('\0').update(nodeName).digest('hex').slice(0, 24)
  const fallbackPath = join(fallbackDir, `${hash}.sock`)
  if (!fits(fallbackPath)) {
    throw new OckamError('OCKAM_ERR_STATE_DIR_INVALID', `no control socket path under ${MAX_SOCKET_PATH_BYTES} bytes`, {
      hint: `${FALLBACK_SOCKET_ROOT} resolves to a long path; use a shorter OCKAM_RUNTIME_HOME`,
    })
  }
  return { path: fallbackPath, dir: fallbackDir, fallback: true }
}

/**
 * Creates the socket's folder 0700 if missing and refuses one that is a symlink, foreign-owned
 * or open to group/other. The state folder itself was verified by ensureStateDir already.
 */
export function ensureSocketDir(location: SocketLocation): void {
  if (lstatOrUndefined(location.dir, 'control socket folder') === undefined) {
    const previous = process.umask(STATE_DIR_UMASK)
    try {
      mkdirSync(location.dir, { mode: STATE_DIR_MODE })
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new OckamError('OCKAM_ERR_STATE_DIR_INVALID', `cannot create the control socket folder ${location.dir}`, {
          cause,
          hint: 'check the state folder is writable by you',
        })
      }
    } finally {
      process.umask(previous)
    }
  }
  const stats = lstatOrUndefined(location.dir, 'control socket folder')
  if (stats === undefined || stats.isSymbolicLink() || !stats.isDirectory()) {
    throw new OckamError(
      'OCKAM_ERR_STATE_DIR_SYMLINK',
      `the control socket folder ${location.dir} is not a plain folder`,
      { hint: `remove ${location.dir}; ockam-runtime creates it again`, data: { path: location.dir } },
    )
  }
  verifyOwnerAndMode(location.dir, stats, 'control socket folder')
}
