/** The counters `status` and `list` show for an inlet or outlet, from its portal set. */
import type { PortalStats } from '../../../workers/portal/index.js'

export function portalCounters(stats: PortalStats): Record<string, number> {
  return {
    portalsOpen: stats.portalsOpen,
    portalsOpened: stats.portalsOpened,
    bytesIn: stats.bytesIn,
    bytesOut: stats.bytesOut,
    resets: stats.resets,
    bufferedBytes: stats.bufferedBytes,
  }
}

/** `5432` means 127.0.0.1:5432 (the walkthrough's `--to 5432`, `--from 15432`). */
export function hostPortOrPort(value: string): string {
  return /^\d{1,5}$/.test(value) ? `127.0.0.1:${value}` : value
}
