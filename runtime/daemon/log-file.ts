/**
 * A node's log file, rotated by size: when `node.log` passes maxBytes it is copied to
 * `node.log.1` (older copies shift up to `.N`, the oldest is dropped) and truncated in place.
 * Copy-and-truncate instead of rename keeps every descriptor on `node.log` valid: the node's
 * stdout and stderr (where Node prints an uncaught error) point at the same file, opened in
 * append mode, so they keep writing to the current log after a rotation.
 */
import { closeSync, copyFileSync, fstatSync, ftruncateSync, openSync, renameSync, writeSync } from 'node:fs'
import { DEFAULT_NODE_LOG_MAX_BYTES, DEFAULT_NODE_LOG_ROTATED_FILES } from './constants.js'
import { withPrivateUmask } from './node-files.js'

export interface RotatingLogOptions {
  readonly path: string
  readonly maxBytes?: number
  readonly rotatedFiles?: number
}

export interface RotatingLog {
  /** pino calls this with one line at a time. */
  write(line: string): void
  close(): void
}

export function openRotatingLog(options: RotatingLogOptions): RotatingLog {
  const maxBytes = options.maxBytes ?? DEFAULT_NODE_LOG_MAX_BYTES
  const keep = options.rotatedFiles ?? DEFAULT_NODE_LOG_ROTATED_FILES
  const fd = withPrivateUmask(() => openSync(options.path, 'a', 0o600))
  let closed = false

  function rotate(): void {
    for (let i = keep - 1; i >= 1; i--) {
      try {
        renameSync(`${options.path}.${i}`, `${options.path}.${i + 1}`)
      } catch {
        // that generation does not exist yet
      }
    }
    if (keep > 0) withPrivateUmask(() => copyFileSync(options.path, `${options.path}.1`))
    ftruncateSync(fd, 0)
  }

  return {
    write(line) {
      if (closed) return
      writeSync(fd, line)
      // fstat, not a running count: stdout/stderr write to the same file behind our back.
      if (fstatSync(fd).size > maxBytes) rotate()
    },
    close() {
      if (closed) return
      closed = true
      closeSync(fd)
    },
  }
}
