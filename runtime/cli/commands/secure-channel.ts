/**
 * `secure-channel create|list|show|delete` and `secure-channel-listener create|list|delete`:
 * long-lived channels and extra listeners of a running node, recorded in its resource
 * registry so they come back when the node restarts. Without --at, the default node (created
 * or started if needed). A channel is used through its stable address:
 * `message send hi --from NODE --to /service/ADDRESS/service/echo`.
 */
import type { Command } from 'commander'
import { connectNode } from '../../daemon/ensure-node.js'
import { OckamError } from '../../errors.js'
import { SECURE_CHANNEL_KIND } from '../../resources/kinds/secure-channel.js'
import { SECURE_CHANNEL_LISTENER_KIND } from '../../resources/kinds/secure-channel-listener.js'
import { checkAuthorized } from '../../resources/kinds/secure-channel-trust.js'
import type { ResourceInfo } from '../../resources/types.js'
import { formatCounters, table } from '../format/table.js'
import type { Output } from '../output.js'

interface AtOption {
  at?: string
}

interface CreateOptions extends AtOption {
  to: string
  authorized?: string[]
  identity?: string
  name?: string
}

function field(info: ResourceInfo, key: string): string {
  const value = info.summary[key] ?? (info.spec as Record<string, unknown>)[key]
  return value === undefined ? '-' : String(value)
}

function state(info: ResourceInfo): string {
  return info.state === 'running' ? field(info, 'state') : `failed: ${info.error?.code}`
}

export function registerSecureChannelCommands(program: Command, output: () => Output): void {
  const command = program
    .command('secure-channel')
    .description("manage a node's long-lived secure channels (kept across restarts)")

  command
    .command('create')
    .requiredOption('--to <route>', 'the listener to reach, e.g. /ip4/127.0.0.1/tcp/4000/secure/api')
    .option('--authorized <identifier...>', 'accept only these identifiers as the peer (default: anyone)')
    .option('--identity <name>', "the identity that opens it (default: the node's)")
    .option('--name <address>', 'its stable local address (default: sc-<random>)')
    .option('--at <node>', 'the node (default: the default node)')
    .description('open a secure channel from a node and keep it')
    .action(async (options: CreateOptions) => {
      const out = output()
      const authorized = checkAuthorized(options.authorized, '--authorized')
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      const spec = {
        to: options.to,
        ...(authorized === undefined ? {} : { authorized }),
        ...(options.identity === undefined ? {} : { identity: options.identity }),
        ...(options.name === undefined ? {} : { address: options.name }),
      }
      const created = await client.call<ResourceInfo>('resource.create', { kind: SECURE_CHANNEL_KIND, spec })
      out.data(
        { node, ...created },
        () =>
          `secure channel ${created.name} from node ${node} to ${field(created, 'peer')}\n` +
          `send through it: --from ${node} --to /service/${created.name}/…`,
      )
    })

  command
    .command('list')
    .option('--at <node>', 'the node (default: the default node)')
    .description("a node's long-lived secure channels")
    .action(async (options: AtOption) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      const channels = await client.call<ResourceInfo[]>('resource.list', { kind: SECURE_CHANNEL_KIND })
      out.data({ node, channels }, () =>
        channels.length === 0
          ? `node ${node} has no long-lived secure channels`
          : table(
              ['ADDRESS', 'TO', 'PEER', 'STATE', 'COUNTERS'],
              channels.map((c) => [c.name, field(c, 'to'), field(c, 'peer'), state(c), formatCounters(c.counters)]),
            ),
      )
    })

  command
    .command('show')
    .argument('<address>', 'the channel (its stable address)')
    .option('--at <node>', 'the node (default: the default node)')
    .description('one long-lived secure channel')
    .action(async (address: string, options: AtOption) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      const channels = await client.call<ResourceInfo[]>('resource.list', { kind: SECURE_CHANNEL_KIND })
      const found = channels.find((c) => c.name === address)
      if (found === undefined) {
        throw new OckamError(
          'OCKAM_ERR_RESOURCE_NOT_FOUND',
          `node ${node} has no secure-channel "${address.slice(0, 64)}"`,
          {
            hint: `list them: ockam-runtime secure-channel list --at ${node}`,
          },
        )
      }
      out.data({ node, ...found }, () =>
        [
          `address:   ${found.name}`,
          `to:        ${field(found, 'to')}`,
          `identity:  ${field(found, 'identity')}`,
          `peer:      ${field(found, 'peer')}`,
          `state:     ${state(found)}`,
          `counters:  ${formatCounters(found.counters)}`,
        ].join('\n'),
      )
    })

  command
    .command('delete')
    .argument('<address>', 'the channel (its stable address)')
    .option('--at <node>', 'the node (default: the default node)')
    .description('close a long-lived secure channel (the peer is told) and forget it')
    .action(async (address: string, options: AtOption) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      await client.call('resource.delete', { kind: SECURE_CHANNEL_KIND, name: address })
      out.data({ node, deleted: address }, () => `secure-channel ${address} deleted from node ${node}`)
    })

  const listener = program
    .command('secure-channel-listener')
    .description("manage a node's extra secure-channel listeners (every node also runs api)")

  listener
    .command('create')
    .argument('<address>', 'the local address to listen on')
    .option('--authorized <identifier...>', 'identities it admits (default: the identities of this state folder)')
    .option('--identity <name>', "the identity it presents (default: the node's)")
    .option('--at <node>', 'the node (default: the default node)')
    .description('start a secure-channel listener on a node')
    .action(async (address: string, options: Omit<CreateOptions, 'to' | 'name'>) => {
      const out = output()
      const authorized = checkAuthorized(options.authorized, '--authorized')
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      const spec = {
        address,
        ...(authorized === undefined ? {} : { authorized }),
        ...(options.identity === undefined ? {} : { identity: options.identity }),
      }
      const created = await client.call<ResourceInfo>('resource.create', { kind: SECURE_CHANNEL_LISTENER_KIND, spec })
      out.data({ node, ...created }, () => `node ${node} runs a secure-channel listener at ${created.name}`)
    })

  listener
    .command('list')
    .option('--at <node>', 'the node (default: the default node)')
    .description("a node's extra secure-channel listeners")
    .action(async (options: AtOption) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      const listeners = await client.call<ResourceInfo[]>('resource.list', { kind: SECURE_CHANNEL_LISTENER_KIND })
      out.data({ node, listeners }, () =>
        listeners.length === 0
          ? `node ${node} has no extra secure-channel listeners`
          : table(
              ['ADDRESS', 'IDENTITY', 'STATE', 'COUNTERS'],
              listeners.map((l) => [
                l.name,
                field(l, 'identity'),
                l.state === 'running' ? 'running' : `failed: ${l.error?.code}`,
                formatCounters(l.counters),
              ]),
            ),
      )
    })

  listener
    .command('delete')
    .argument('<address>', 'the listener')
    .option('--at <node>', 'the node (default: the default node)')
    .description('stop a secure-channel listener (its channels are closed) and forget it')
    .action(async (address: string, options: AtOption) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      await client.call('resource.delete', { kind: SECURE_CHANNEL_LISTENER_KIND, name: address })
      out.data({ node, deleted: address }, () => `secure-channel-listener ${address} deleted from node ${node}`)
    })
}
