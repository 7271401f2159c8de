/** CPU time, which is steadier than wall-clock rates on a drifting machine (DESIGN §9). */

/** User plus system CPU of this process, in microseconds. */
export function cpuMicros(): number {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}
