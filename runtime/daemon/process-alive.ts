import { readFileSync } from 'node:fs'

/**
 * Whether a process exists and has not exited. Signal 0 checks existence without delivering
 * anything; a zombie (exited, not yet reaped: our nodes are reparented when the CLI that
 * spawned them exits) counts as gone, which /proc tells on Linux.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // "pid (comm) S …": the state follows the last ')', since comm may hold spaces or parens.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}
