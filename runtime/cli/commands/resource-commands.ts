/**
 * The `list`, `show` and `delete` subcommands every resource command has (tcp-outlet, tcp-inlet,
 * relay), over the node's control API. `--at NODE` picks the node; without it, the default node
 * (created or started if needed, as the walkthrough expects).
 */
import type { Command } from 'commander'
import { connectNode } from '../../daemon/ensure-node.js'
import { OckamError } from '../../errors.js'
import type { ResourceInfo } from '../../resources/types.js'
import { formatCounters, table } from '../format/table.js'
import type { Output } from '../output.js'

export interface AtOption {
  at?: string
}

export interface ResourceColumns {
  readonly kind: string
  /** `tcp-outlet` → "outlet", for messages. */
  readonly noun: string
  /** Header and cell of each column beyond NAME, STATE and COUNTERS. */
  readonly columns: ReadonlyArray<readonly [string, (info: ResourceInfo) => string]>
}

/** A summary value for a human: `-` when absent. */
export const shown = (value: unknown): string => (value === undefined ? '-' : String(value))

/** commander's collector for a repeatable option (`--authorized A --authorized B`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/**
 * Where a resource is, in a few words, from its summary (or spec): `127.0.0.1:15432 → postgres`
 * for an inlet, `outlet → 127.0.0.1:5432` for an outlet, the address of a listener, a relay's
 * state; the JSON of what it was given otherwise.
 */
export function whereOf(summary: unknown): string {
  const s = (typeof summary === 'object' && summary !== null ? summary : {}) as Record<string, unknown>
  const text = (key: string) => (typeof s[key] === 'string' ? (s[key] as string) : undefined)
  const from = text('from') ?? text('address')
  const to = text('to')
  if (from !== undefined && to !== undefined) return `${from} → ${to}`
  if (from !== undefined) return from
  const status = text('status')
  if (status !== undefined)
    return `${status}${text('forwardAddress') === undefined ? '' : ` at ${text('forwardAddress')}`}`
  return JSON.stringify(summary)
}

export function stateOf(info: ResourceInfo): string {
  return info.state === 'running' ? 'running' : `failed: ${info.error?.code}`
}

export function describeResource(info: ResourceInfo): string {
  const lines = [`${info.kind} ${info.name}: ${stateOf(info)}`]
  for (const [key, value] of Object.entries(info.summary)) lines.push(`  ${key}: ${String(value)}`)
  lines.push(`  counters: ${formatCounters(info.counters)}`)
  if (info.error !== undefined)
    lines.push(`  error: ${info.error.message}${info.error.hint ? ` (${info.error.hint})` : ''}`)
  return lines.join('\n')
}

export function registerResourceSubcommands(command: Command, output: () => Output, spec: ResourceColumns): void {
  command
    .command('list')
    .option('--at <node>', 'the node (default: the default node)')
    .description(`the node's ${spec.noun}s with their counters`)
    .action(async (options: AtOption) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      const items = await client.call<ResourceInfo[]>('resource.list', { kind: spec.kind })
      out.data({ node, [`${spec.noun}s`]: items }, () =>
        items.length === 0
          ? `node ${node} has no ${spec.noun}s`
          : table(
              ['NAME', ...spec.columns.map(([header]) => header), 'STATE', 'COUNTERS'],
              items.map((item) => [
                item.name,
                ...spec.columns.map(([, cell]) => cell(item)),
                stateOf(item),
                formatCounters(item.counters),
              ]),
            ),
      )
    })

  command
    .command('show')
    .argument('<name>', `the ${spec.noun}`)
    .option('--at <node>', 'the node (default: the default node)')
    .description(`one ${spec.noun}: its settings, state and counters`)
    .action(async (name: string, options: AtOption) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      const items = await client.call<ResourceInfo[]>('resource.list', { kind: spec.kind })
      const found = items.find((item) => item.name === name)
      if (found === undefined) {
        throw new OckamError('OCKAM_ERR_RESOURCE_NOT_FOUND', `node ${node} has no ${spec.noun} ${name}`, {
          hint: `see: ockam-runtime ${spec.kind} list${options.at === undefined ? '' : ` --at ${options.at}`}`,
        })
      }
      out.data({ node, ...found }, () => describeResource(found))
    })

  command
    .command('delete')
    .argument('<name>', `the ${spec.noun}`)
    .option('--at <node>', 'the node (default: the default node)')
    .description(`stop the ${spec.noun} (its connections are reset) and forget it`)
    .action(async (name: string, options: AtOption) => {
      const out = output()
      const { name: node, client } = await connectNode(options.at, { progress: out.progress })
      await client.call('resource.delete', { kind: spec.kind, name })
      out.data({ node, deleted: name }, () => `${spec.kind} ${name} deleted from node ${node}`)
    })
}
