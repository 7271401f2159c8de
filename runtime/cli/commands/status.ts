/**
 * `status`: every node of the state folder (up/down, pid, listeners), the number of
 * identities, and each resource with its counters, read live from the nodes over their
 * control sockets (counters live in memory, never in the database).
 */
import type { Command } from 'commander'
import { countIdentities } from '../../daemon/identities.js'
import { NodeManager } from '../../daemon/node-manager.js'
import { formatCounters, table } from '../format/table.js'
import type { Output } from '../output.js'

export function registerStatusCommand(program: Command, output: () => Output): void {
  program
    .command('status')
    .description('nodes, identities, resources and their counters')
    .action(async () => {
      const out = output()
      const manager = NodeManager.open()
      try {
        const nodes = await manager.list()
        const identities = countIdentities(manager.store.db)
        const report = {
          stateDir: manager.stateDir,
          identities,
          nodes: nodes.map((n) => ({
            name: n.name,
            default: n.default,
            status: n.status,
            pid: n.pid,
            version: n.version,
            listeners: n.listeners,
            stalePid: n.stalePid,
            error: n.error,
            connections: n.details?.connections ?? null,
            counters: n.details?.counters ?? {},
            resources: n.details?.resources ?? [],
            api: n.details?.api ?? null,
            secureChannels: n.details?.secureChannels ?? [],
          })),
        }
        out.data(report, () => {
          const lines = [`state folder ${report.stateDir}`, `identities: ${identities ?? '-'}`, '']
          if (report.nodes.length === 0)
            return [...lines, 'no nodes (create one: ockam-runtime node create)'].join('\n')
          lines.push(
            table(
              ['NODE', 'STATUS', 'PID', 'LISTENERS', 'CONNECTIONS', 'BYTES IN', 'BYTES OUT'],
              report.nodes.map((n) => [
                `${n.name}${n.default ? ' *' : ''}`,
                n.error === null ? n.status : `${n.status} (${n.error.code})`,
                n.pid === null ? '-' : String(n.pid),
                n.listeners.join(',') || '-',
                n.connections === null ? '-' : `${n.connections.inbound} in, ${n.connections.outbound} out`,
                n.connections === null ? '-' : String(n.connections.bytesIn),
                n.connections === null ? '-' : String(n.connections.bytesOut),
              ]),
            ),
          )
          const resources = report.nodes.flatMap((n) => n.resources.map((r) => ({ node: n.name, ...r })))
          lines.push('')
          if (resources.length === 0) lines.push('no resources running')
          else {
            lines.push(
              table(
                ['NODE', 'KIND', 'NAME', 'STATE', 'COUNTERS'],
                resources.map((r) => [
                  r.node,
                  r.kind,
                  r.name,
                  r.state === 'running' ? 'running' : `failed: ${r.error?.code}`,
                  formatCounters(r.counters),
                ]),
              ),
            )
          }
          const channels = report.nodes.flatMap((n) =>
            n.secureChannels.filter((c) => c.state === 'open').map((c) => ({ node: n.name, ...c })),
          )
          lines.push('')
          if (channels.length === 0) lines.push('no secure channels open')
          else {
            lines.push(
              table(
                ['NODE', 'SECURE CHANNEL', 'ROLE', 'PEER'],
                channels.map((c) => [c.node, c.address, c.role, c.peerIdentifier ?? '-']),
              ),
            )
          }
          return lines.join('\n')
        })
      } finally {
        manager.close()
      }
    })
}
