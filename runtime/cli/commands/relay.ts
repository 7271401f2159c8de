/**
 * `relay create [NAME] | list | show | delete` (DESIGN §1, §7): registers `forward_to_NAME` on the
 * project's relay service from a member node and keeps it alive (re-created after the project
 * restarts or the network drops). The member's credential must allow the name (`relay=NAME` or
 * `*`). Without --at, the default node.
 */
import type { Command } from 'commander'
import { connectNode } from '../../daemon/ensure-node.js'
import { OckamError } from '../../errors.js'
import { RELAY_KIND } from '../../resources/kinds/relay.js'
import type { ResourceInfo } from '../../resources/types.js'
import type { Output } from '../output.js'
import { type AtOption, registerResourceSubcommands, shown as text } from './resource-commands.js'

/** The name `relay create` registers when none is given (Ockam's default). */
export const DEFAULT_RELAY_NAME = 'default'

export function registerRelayCommands(program: Command, output: () => Output): void {
  const relay = program
    .command('relay')
    .description('make a node reachable through the project relay, with outgoing connections only')
  relay
    .command('create')
    .argument('[name]', 'the relay name: a-z, 0-9 and -, at most 63', DEFAULT_RELAY_NAME)
    .option('--to <route>', 'the project, as /project/NAME (default: the project of this state folder)')
    .option('--at <node>', 'the node (default: the default node)')
    .description('register forward_to_NAME on the project and keep it alive')
    .action(async (name: string, options: AtOption & { to?: string }) => {
      const out = output()
      if (options.to !== undefined && !/^\/project\/[a-z0-9-]{1,63}$/.test(options.to)) {
        throw new OckamError('OCKAM_ERR_CLI_USAGE', `--to must be /project/NAME, got ${options.to.slice(0, 80)}`)
      }
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      out.progress(`registering relay ${name}…`)
      const created = await client.call<ResourceInfo>('resource.create', {
        kind: RELAY_KIND,
        spec: { name, ...(options.to === undefined ? {} : { project: options.to.slice('/project/'.length) }) },
      })
      const summary = created.summary
      out.data({ node, ...created }, () =>
        summary.status === 'up'
          ? `relay ${name} is up: /project/…/service/${text(summary.forwardAddress)} reaches node ${node}`
          : `relay ${name} created on node ${node}, not up yet (${text(summary.lastError)}); it keeps trying`,
      )
    })
  registerResourceSubcommands(relay, output, {
    kind: RELAY_KIND,
    noun: 'relay',
    columns: [
      ['STATUS', (info) => text(info.summary.status)],
      ['FORWARD', (info) => text(info.summary.forwardAddress)],
    ],
  })
}
