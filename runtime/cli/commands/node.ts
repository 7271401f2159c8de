/**
 * `node …`: background nodes of the state folder. Every command that talks to a running node
 * goes through its control socket (runtime/daemon/node-manager.ts); `node create NAME
 * --foreground` keeps running a throwaway node in this terminal, recorded nowhere.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { DEFAULT_NODE_LOG_TAIL_LINES } from '../../daemon/constants.js'
import { nodeFiles } from '../../daemon/node-files.js'
import { NodeManager, type NodeSummary } from '../../daemon/node-manager.js'
import { runNodeProcess } from '../../daemon/run-node-process.js'
import { CLI_MAIN } from '../../daemon/spawn.js'
import { systemdUnit, unitName, userUnitDir } from '../../daemon/systemd-unit.js'
import { createDefaultNode, tcpOf } from '../../defaults.js'
import { OckamError } from '../../errors.js'
import { createLogger } from '../../log.js'
import { startApiListener } from '../../resources/kinds/secure-channel-listener.js'
import { checkAuthorized, setNodeIdentity } from '../../resources/kinds/secure-channel-trust.js'
import type { ResourceInfo } from '../../resources/types.js'
import { resolveStateDir } from '../../state/state-dir.js'
import { openStateStore } from '../../state/store.js'
import { formatCounters, table } from '../format/table.js'
import type { Output } from '../output.js'
import { runUntilSignal } from '../run-until-signal.js'
import { whereOf } from './resource-commands.js'

interface NodeCreateOptions {
  foreground?: boolean
  tcpListenerAddress?: string
  identity?: string
  forwardTo?: string[]
  authorized?: string[]
}

async function withNodes<T>(fn: (manager: NodeManager) => Promise<T>): Promise<T> {
  const manager = NodeManager.open()
  try {
    return await fn(manager)
  } finally {
    manager.close()
  }
}

function randomName(): string {
  return `node-${Math.random().toString(16).slice(2, 8).padEnd(6, '0')}`
}

function describeStatus(node: NodeSummary): string {
  if (node.status === 'up') return `up (pid ${node.pid})`
  if (node.status === 'unresponsive') return `unresponsive${node.pid === null ? '' : ` (pid ${node.pid})`}`
  return node.stalePid === null ? 'down' : `down (stale pid ${node.stalePid} removed)`
}

export function describeResources(resources: readonly ResourceInfo[]): string[] {
  return resources.map((r) => {
    const where = whereOf(Object.keys(r.summary).length > 0 ? r.summary : r.spec)
    return r.state === 'running'
      ? `  ${r.kind} ${r.name}: ${where} (${formatCounters(r.counters)})`
      : `  ${r.kind} ${r.name}: FAILED ${r.error?.code ?? ''}: ${r.error?.message ?? ''}`
  })
}

function describeNode(node: NodeSummary): string {
  const lines = [
    `node ${node.name}${node.default ? ' (default)' : ''}: ${describeStatus(node)}`,
    `  listeners: ${node.listeners.length === 0 ? '-' : node.listeners.join(', ')}`,
    `  version:   ${node.version ?? '-'}`,
    `  identity:  ${node.identity ?? '-'}`,
    `  socket:    ${node.socket}`,
    `  log:       ${node.logFile}`,
  ]
  if (node.error !== null)
    lines.push(
      `  error:     ${node.error.code}: ${node.error.message}${node.error.hint === undefined ? '' : `. ${node.error.hint}`}`,
    )
  if (node.details !== null) {
    const c = node.details.connections
    lines.push(`  connections: ${c.inbound} in, ${c.outbound} out, ${c.bytesIn} bytes in, ${c.bytesOut} bytes out`)
    lines.push(
      'resources:',
      ...(node.details.resources.length === 0 ? ['  -'] : describeResources(node.details.resources)),
    )
  }
  return lines.join('\n')
}

/** Prints a warning line per resource that did not come back (it stays recorded). */
function warnFailed(resources: readonly ResourceInfo[]): void {
  for (const r of resources) {
    if (r.state !== 'failed') continue
    process.stderr.write(
      `warning: ${r.kind} ${r.name} was not restored: ${r.error?.code}: ${r.error?.message}${r.error?.hint === undefined ? '' : `. ${r.error.hint}`}\n`,
    )
  }
}

function runThrowawayNode(name: string, options: NodeCreateOptions, output: () => Output): Promise<void> {
  const log = createLogger({ name })
  const instance = createDefaultNode({
    name,
    listen: [options.tcpListenerAddress ?? '127.0.0.1:0'],
    ...(options.forwardTo === undefined ? {} : { forwardTo: options.forwardTo }),
    log,
  })
  return (async () => {
    // Its identities come from the state folder; the node itself is recorded nowhere.
    const store = openStateStore({ dir: resolveStateDir(process.env) })
    await instance.start()
    try {
      setNodeIdentity(instance, options.identity)
      await startApiListener(
        { node: instance, store },
        { authorized: checkAuthorized(options.authorized, '--authorized') },
      )
    } catch (error) {
      await instance.stop()
      store.close()
      throw error
    }
    const listeners = tcpOf(instance).listenAddresses()
    // Signal handlers before the data line: whoever reads it may send SIGTERM at once.
    const stopped = runUntilSignal(async () => {
      await instance.stop()
      store.close()
    })
    log.info({ event: 'node.ready', listeners }, `node ${name} is ready`)
    output().data({ node: name, listeners }, () => `node ${name} listening on ${listeners.join(', ')}`)
    const signal = await stopped
    log.info({ event: 'node.exit', signal }, `node ${name} stopped on ${signal}`)
  })()
}

export function registerNodeCommands(program: Command, output: () => Output): void {
  const node = program.command('node').description('create, run and inspect the nodes of this state folder')

  node
    .command('create')
    .argument('[name]', 'node name (default: a random one)')
    .description('start a background node and wait until it is ready')
    .option('--tcp-listener-address <host:port>', 'where the node listens for TCP connections', '127.0.0.1:0')
    .option('--identity <name>', 'the identity the node presents')
    .option('--forward-to <host:port...>', 'start the forwarding service, allowed to connect to these addresses')
    .option(
      '--authorized <identifier...>',
      'identities its api secure-channel listener admits (default: the identities of this state folder)',
    )
    .option('--foreground', 'run a throwaway node in this process until SIGINT/SIGTERM (recorded nowhere)')
    .action(async (name: string | undefined, options: NodeCreateOptions) => {
      const chosen = name ?? randomName()
      if (options.foreground === true) return await runThrowawayNode(chosen, options, output)
      const out = output()
      await withNodes(async (manager) => {
        out.progress(`starting node ${chosen}…`)
        const created = await manager.create(chosen, {
          ...(options.tcpListenerAddress === undefined ? {} : { listen: options.tcpListenerAddress }),
          ...(options.identity === undefined ? {} : { identity: options.identity }),
          ...(options.forwardTo === undefined ? {} : { forwardTo: options.forwardTo }),
          ...(options.authorized === undefined
            ? {}
            : { authorized: checkAuthorized(options.authorized, '--authorized') ?? [] }),
        })
        out.data(
          { node: created.name, pid: created.pid, listeners: created.listeners, default: created.default },
          () => `node ${created.name} is running (pid ${created.pid}), listening on ${created.listeners.join(', ')}`,
        )
      })
    })

  node
    .command('start')
    .argument('[name]', 'node name (default: the default node)')
    .description('start a stopped node; it restores its recorded resources')
    .option('--foreground', 'run the node in this process (what the systemd unit runs)')
    .action(async (name: string | undefined, options: { foreground?: boolean }) => {
      const out = output()
      if (options.foreground === true) {
        const stateDir = resolveStateDir()
        const chosen = name ?? withNodesSync((manager) => manager.resolveName(undefined))
        await runNodeProcess({
          stateDir,
          name: chosen,
          onReady: (info) => {
            // Spawned by node create/start, stdout is the log file: the data line lands there.
            out.data(
              { node: chosen, pid: info.pid, listeners: info.listeners, socket: info.socket },
              () => `node ${chosen} is running (pid ${info.pid}), listening on ${info.listeners.join(', ') || '-'}`,
            )
          },
        })
        return
      }
      await withNodes(async (manager) => {
        const chosen = manager.resolveName(name)
        out.progress(`starting node ${chosen}…`)
        const { node: started, resources } = await manager.start(chosen)
        warnFailed(resources)
        out.data({ node: started.name, pid: started.pid, listeners: started.listeners, resources }, () =>
          [
            `node ${started.name} is running (pid ${started.pid}), listening on ${started.listeners.join(', ') || '-'}`,
            ...describeResources(resources),
          ].join('\n'),
        )
      })
    })

  node
    .command('stop')
    .argument('[name]', 'node name (default: the default node)')
    .description('stop a node gracefully (it drains and releases its ports)')
    .action(async (name: string | undefined) => {
      const out = output()
      await withNodes(async (manager) => {
        const chosen = manager.resolveName(name)
        out.progress(`stopping node ${chosen}…`)
        const stopped = await manager.stop(chosen)
        out.data(stopped, () =>
          stopped.killed
            ? `node ${chosen} (pid ${stopped.pid}) did not stop in time and was killed`
            : `node ${chosen} stopped`,
        )
      })
    })

  node
    .command('list')
    .description('the nodes of this state folder and whether they run')
    .action(async () => {
      const out = output()
      await withNodes(async (manager) => {
        const nodes = await manager.list()
        out.data(
          nodes.map(({ details: _details, ...rest }) => rest),
          () =>
            nodes.length === 0
              ? 'no nodes (create one: ockam-runtime node create)'
              : table(
                  ['NAME', 'STATUS', 'PID', 'LISTENERS', 'DEFAULT'],
                  nodes.map((n) => [
                    n.name,
                    n.status === 'down' && n.stalePid !== null ? 'down (stale pid removed)' : n.status,
                    n.pid === null ? '-' : String(n.pid),
                    n.listeners.join(',') || '-',
                    n.default ? 'yes' : '',
                  ]),
                ),
        )
      })
    })

  node
    .command('show')
    .argument('[name]', 'node name (default: the default node)')
    .description('a node in detail: status, listeners, resources and their counters')
    .action(async (name: string | undefined) => {
      const out = output()
      await withNodes(async (manager) => {
        const summary = await manager.summary(manager.resolveName(name))
        out.data(summary, () => describeNode(summary))
      })
    })

  node
    .command('delete')
    .argument('[name]', 'node name (default: the default node)')
    .option('--all', 'delete every node of this state folder')
    .description('stop a node if it runs and forget it, its resources and its logs')
    .action(async (name: string | undefined, options: { all?: boolean }) => {
      const out = output()
      if (options.all === true && name !== undefined) {
        throw new OckamError('OCKAM_ERR_CLI_USAGE', 'give a node name or --all, not both')
      }
      await withNodes(async (manager) => {
        const names = options.all === true ? manager.nodes.list().map((n) => n.name) : [manager.resolveName(name)]
        const deleted: Array<{ name: string; stopped: boolean }> = []
        for (const each of names) {
          out.progress(`deleting node ${each}…`)
          deleted.push(await manager.delete(each))
        }
        out.data({ deleted }, () =>
          deleted.length === 0 ? 'no nodes to delete' : deleted.map((d) => `node ${d.name} deleted`).join('\n'),
        )
      })
    })

  node
    .command('logs')
    .argument('[name]', 'node name (default: the default node)')
    .option('--lines <n>', 'how many of the last lines to print', String(DEFAULT_NODE_LOG_TAIL_LINES))
    .description("print the end of a node's log file")
    .action(async (name: string | undefined, options: { lines: string }) => {
      const count = Number(options.lines)
      if (!Number.isInteger(count) || count <= 0) {
        throw new OckamError('OCKAM_ERR_CLI_USAGE', `--lines must be a positive number, got "${options.lines}"`)
      }
      const out = output()
      await withNodes(async (manager) => {
        const chosen = manager.resolveName(name)
        const file = nodeFiles(manager.stateDir, chosen).logFile
        let text = ''
        try {
          text = readFileSync(file, 'utf8')
        } catch (cause) {
          if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') {
            throw new OckamError('OCKAM_ERR_STATE_DIR_INVALID', `cannot read the log file ${file}`, {
              cause,
              hint: 'check the state folder belongs to you',
            })
          }
        }
        const lines = text
          .split('\n')
          .filter((l) => l !== '')
          .slice(-count)
        out.data({ node: chosen, file, lines }, () => lines.join('\n'))
      })
    })

  node
    .command('default')
    .argument('[name]', 'make this node the default')
    .description('print or set the default node (the one commands use when none is named)')
    .action(async (name: string | undefined) => {
      const out = output()
      await withNodes(async (manager) => {
        if (name !== undefined) manager.nodes.setDefault(manager.resolveName(name))
        const current = manager.nodes.defaultNode()
        out.data({ default: current?.name ?? null }, () => current?.name ?? 'no default node')
      })
    })

  const service = node.command('service').description('run a node under the service manager')
  service
    .command('install')
    .argument('[name]', 'node name (default: the default node)')
    .description('write a systemd user unit that runs the node (and restores its resources) at login/boot')
    .action(async (name: string | undefined) => {
      const out = output()
      await withNodes(async (manager) => {
        const chosen = manager.resolveName(name)
        const dir = userUnitDir(process.env, homedir())
        mkdirSync(dir, { recursive: true })
        const file = join(dir, unitName(chosen))
        writeFileSync(
          file,
          systemdUnit({ nodeName: chosen, stateDir: manager.stateDir, execPath: process.execPath, cliPath: CLI_MAIN }),
        )
        const enable = `systemctl --user daemon-reload && systemctl --user enable --now ${unitName(chosen)}`
        out.data({ node: chosen, unit: file, enable }, () => `wrote ${file}\nenable it with: ${enable}`)
      })
    })
}

function withNodesSync<T>(fn: (manager: NodeManager) => T): T {
  const manager = NodeManager.open()
  try {
    return fn(manager)
  } finally {
    manager.close()
  }
}
