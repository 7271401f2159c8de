/**
 * `tcp-listener create|list|delete [--at NODE]`: TCP listeners of a running node, recorded in
 * its resource registry so they come back when the node restarts. Without --at, the default
 * node (created or started if needed).
 */
import type { Command } from 'commander'
import { connectNode } from '../../daemon/ensure-node.js'
import { TCP_LISTENER_KIND } from '../../resources/kinds/tcp-listener.js'
import type { ResourceInfo } from '../../resources/types.js'
import { formatCounters, table } from '../format/table.js'
import type { Output } from '../output.js'

interface AtOption {
  at?: string
}

function address(info: ResourceInfo): string {
  return typeof info.summary.address === 'string'
    ? info.summary.address
    : String((info.spec as { address?: unknown }).address)
}

export function registerTcpListenerCommands(program: Command, output: () => Output): void {
  const command = program.command('tcp-listener').description("manage a node's TCP listeners (kept across restarts)")

  command
    .command('create')
    .argument('[address]', 'HOST:PORT to listen on (port 0 = any free port, kept across restarts)', '127.0.0.1:0')
    .option('--at <node>', 'the node (default: the default node)')
    .option('--name <name>', 'a name for the listener (default: its bound address)')
    .description('start a TCP listener on a node')
    .action(async (hostPort: string, options: AtOption & { name?: string }) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      const created = await client.call<ResourceInfo>('resource.create', {
        kind: TCP_LISTENER_KIND,
        spec: { address: hostPort },
        ...(options.name === undefined ? {} : { name: options.name }),
      })
      out.data({ node, ...created }, () => `node ${node} listens on ${address(created)} (tcp-listener ${created.name})`)
    })

  command
    .command('list')
    .option('--at <node>', 'the node (default: the default node)')
    .description("a node's TCP listeners with their counters")
    .action(async (options: AtOption) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      const listeners = await client.call<ResourceInfo[]>('resource.list', { kind: TCP_LISTENER_KIND })
      out.data({ node, listeners }, () =>
        listeners.length === 0
          ? `node ${node} has no TCP listeners`
          : table(
              ['NAME', 'ADDRESS', 'STATE', 'COUNTERS'],
              listeners.map((l) => [
                l.name,
                address(l),
                l.state === 'running' ? 'running' : `failed: ${l.error?.code}`,
                formatCounters(l.counters),
              ]),
            ),
      )
    })

  command
    .command('delete')
    .argument('<name>', 'the listener (its name, by default its bound address)')
    .option('--at <node>', 'the node (default: the default node)')
    .description('stop a TCP listener (and the connections it accepted) and forget it')
    .action(async (name: string, options: AtOption) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      await client.call('resource.delete', { kind: TCP_LISTENER_KIND, name })
      out.data({ node, deleted: name }, () => `tcp-listener ${name} deleted from node ${node}`)
    })
}
