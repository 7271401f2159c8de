/**
 * `ockam-runtime start`: brings the topology of `ockam.config.ts` up in this process, checks
 * that every node reaches every listening node's echo, prints how to try it, and stops
 * gracefully on SIGINT/SIGTERM.
 */
import type { Command } from 'commander'
import { loadConfig } from '../../config/load.js'
import type { ValidConfig } from '../../config/schema.js'
import { createDefaultNode, tcpOf } from '../../defaults.js'
import { OckamError } from '../../errors.js'
import { createLogger } from '../../log.js'
import { formatMultiaddr, parseMultiaddr, parseRouteArgument } from '../../multiaddr.js'
import type { OckamNode } from '../../node.js'
import type { Output } from '../output.js'
import { runUntilSignal } from '../run-until-signal.js'

interface StartOptions {
  config: string
  node?: string
  check?: boolean
}

interface PlannedNode {
  name: string
  listen: string | null
  forwardTo: string[]
}

function plan(config: ValidConfig, only: string | undefined): PlannedNode[] {
  const names = Object.keys(config.nodes)
  if (only !== undefined && !names.includes(only)) {
    throw new OckamError('OCKAM_ERR_CONFIG_INVALID', `the config declares no node "${only}"`, {
      hint: `declared nodes: ${names.join(', ')}`,
    })
  }
  return names
    .filter((name) => only === undefined || name === only)
    .map((name) => {
      const node = config.nodes[name] ?? {}
      return { name, listen: node.listen ?? null, forwardTo: node.forwardTo ?? [] }
    })
}

function describePlan(nodes: PlannedNode[]): string {
  return nodes
    .map(
      (n) =>
        `node ${n.name}: ${n.listen === null ? 'no listener' : `listens on ${n.listen}`}, services echo${n.forwardTo.length > 0 ? `, forward (to ${n.forwardTo.join(', ')})` : ''}`,
    )
    .join('\n')
}

export function registerStartCommand(program: Command, output: () => Output): void {
  program
    .command('start')
    .description('bring up the topology declared in ockam.config.ts (foreground, stops on Ctrl-C)')
    .option('--config <file>', 'the config file', 'ockam.config.ts')
    .option('--node <name>', "start only this node (one machine's part of a distributed config)")
    .option('--check', 'validate the config and print the plan without starting anything')
    .action(async (options: StartOptions) => {
      const out = output()
      const config = await loadConfig(options.config)
      const planned = plan(config, options.node)
      if (options.check === true) {
        out.data({ valid: true, nodes: planned }, () => `${options.config} is valid. Plan:\n${describePlan(planned)}`)
        return
      }
      const level = config.logging?.level ?? 'info'
      const started: OckamNode[] = []
      const stopAll = async () => {
        for (const node of started.reverse()) await node.stop()
      }
      try {
        for (const entry of planned) {
          out.progress(`starting node ${entry.name}…`)
          const node = createDefaultNode({
            name: entry.name,
            listen: entry.listen === null ? [] : [entry.listen],
            forwardTo: entry.forwardTo,
            pool: config.pools?.crypto ?? {},
            log: createLogger({ name: entry.name, level }),
          })
          await node.start()
          started.push(node)
          const listeners = tcpOf(node).listenAddresses()
          out.progress(`✔ node ${entry.name} up${listeners.length > 0 ? ` on ${listeners.join(', ')}` : ''}`)
        }
        const tryIt = await checkReachability(started, out)
        out.data({ nodes: started.map((n) => ({ name: n.name, listeners: tcpOf(n).listenAddresses() })), tryIt }, () =>
          tryIt === null ? 'topology is up' : `topology is up. Try it:\n  ${tryIt}`,
        )
      } catch (error) {
        await stopAll()
        throw error
      }
      out.progress('running; press Ctrl-C to stop')
      await runUntilSignal(stopAll)
    })
}

/** Every node sends a message to every listening node's echo; returns a command to try. */
async function checkReachability(nodes: OckamNode[], out: Output): Promise<string | null> {
  let tryIt: string | null = null
  for (const target of nodes) {
    const listener = tcpOf(target).listenAddresses()[0]
    if (listener === undefined) continue
    const [host, port] = [listener.slice(0, listener.lastIndexOf(':')), listener.slice(listener.lastIndexOf(':') + 1)]
    const ipKind = host.startsWith('[') ? 'ip6' : 'ip4'
    const multiaddr = formatMultiaddr(
      parseMultiaddr(`/${ipKind}/${host.replace(/^\[|\]$/g, '')}/tcp/${port}/service/echo`),
    )
    tryIt ??= `npx ockam-runtime message send hello --to ${multiaddr}`
    for (const source of nodes) {
      if (source === target) continue
      const started = performance.now()
      const reply = await source.context.request(parseRouteArgument(multiaddr), Buffer.from('ping'), {
        timeoutMs: 5_000,
      })
      if (Buffer.from(reply.payload).toString() !== 'ping') {
        throw new OckamError('OCKAM_ERR_INTERNAL', `echo of ${target.name} answered something else`)
      }
      out.progress(`✔ ${source.name} → ${target.name} echo in ${(performance.now() - started).toFixed(1)} ms`)
    }
  }
  return tryIt
}
