/**
 * `tcp-outlet` and `tcp-inlet` (DESIGN §1, §7): create, list, show, delete. Both are resources of
 * a node (recorded, restored on restart, shown in `status`); without --at, the default node.
 *
 *   ockam-runtime tcp-outlet create --to 5432
 *   ockam-runtime tcp-inlet create --from 15432 --to postgres
 */
import type { Command } from 'commander'
import { connectNode } from '../../daemon/ensure-node.js'
import { TCP_INLET_KIND } from '../../resources/kinds/tcp-inlet.js'
import { TCP_OUTLET_KIND } from '../../resources/kinds/tcp-outlet.js'
import type { ResourceInfo } from '../../resources/types.js'
import type { Output } from '../output.js'
import { type AtOption, collect, registerResourceSubcommands, shown as text } from './resource-commands.js'

interface AccessOptions extends AtOption {
  allow?: string
  authorized?: string[]
}

function access(options: AccessOptions) {
  return {
    ...(options.allow === undefined ? {} : { allow: options.allow }),
    ...(options.authorized === undefined ? {} : { authorized: options.authorized }),
  }
}

export function registerPortalCommands(program: Command, output: () => Output): void {
  const outlet = program
    .command('tcp-outlet')
    .description('a service on a node that carries portals to a TCP server next to it (kept across restarts)')
  outlet
    .command('create')
    .requiredOption('--to <[host:]port>', 'the TCP server to reach (a bare port means 127.0.0.1)')
    .option('--from <address>', 'the outlet service address on the node', 'outlet')
    .option('--at <node>', 'the node (default: the default node)')
    .option('--allow <expression>', 'policy on who may open portals, e.g. (= subject.role "analyst")')
    .option('--authorized <identifier>', 'admit only this identifier (repeatable)', collect)
    .description('create an outlet: each portal opened to it becomes one TCP connection to --to')
    .action(async (options: AccessOptions & { to: string; from: string }) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      const created = await client.call<ResourceInfo>('resource.create', {
        kind: TCP_OUTLET_KIND,
        spec: { to: options.to, from: options.from, ...access(options) },
      })
      out.data(
        { node, ...created },
        () =>
          `tcp-outlet ${created.name} on node ${node}: /service/${text(created.summary.address)} → ${text(created.summary.to)} (admits ${text(created.summary.admits)})`,
      )
    })
  registerResourceSubcommands(outlet, output, {
    kind: TCP_OUTLET_KIND,
    noun: 'outlet',
    columns: [
      ['TO', (info) => text(info.summary.to)],
      ['ADMITS', (info) => text(info.summary.admits)],
    ],
  })

  const inlet = program
    .command('tcp-inlet')
    .description('a local TCP listener whose connections reach an outlet through portals (kept across restarts)')
  inlet
    .command('create')
    .requiredOption('--from <[host:]port>', 'where to listen (a bare port means 127.0.0.1)')
    .requiredOption('--to <relay[:service]|route>', 'a relay name (postgres, postgres:a) or a route to the outlet')
    .option('--at <node>', 'the node (default: the default node)')
    .option('--allow <expression>', 'policy the outlet side must satisfy')
    .option('--authorized <identifier>', 'accept only this identifier as the outlet side (repeatable)', collect)
    .description('create an inlet: each connection to --from becomes a portal to the outlet --to names')
    .action(async (options: AccessOptions & { from: string; to: string }) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      out.progress(`opening the route to ${options.to}…`)
      const created = await client.call<ResourceInfo>('resource.create', {
        kind: TCP_INLET_KIND,
        spec: { from: options.from, to: options.to, ...access(options) },
      })
      const summary = created.summary
      out.data({ node, ...created }, () =>
        [
          `tcp-inlet ${created.name} on node ${node}: ${text(summary.from)} → ${text(summary.to)}`,
          summary.route === 'up'
            ? `route up${summary.peer === undefined ? '' : `, outlet side ${text(summary.peer)}`}`
            : `route ${text(summary.route)}${summary.lastError === undefined ? '' : ` (${text(summary.lastError)})`}; it keeps trying`,
        ].join('\n'),
      )
    })
  registerResourceSubcommands(inlet, output, {
    kind: TCP_INLET_KIND,
    noun: 'inlet',
    columns: [
      ['TO', (info) => text(info.summary.to)],
      ['ROUTE', (info) => text(info.summary.route)],
    ],
  })
}
