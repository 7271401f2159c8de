import type { Command } from 'commander'
import { createDefaultNode, tcpOf } from '../../defaults.js'
import { OckamError } from '../../errors.js'
import { createLogger } from '../../log.js'
import type { Output } from '../output.js'
import { runUntilSignal } from '../run-until-signal.js'

interface NodeCreateOptions {
  foreground?: boolean
  tcpListenerAddress?: string
  forwardTo?: string[]
}

export function registerNodeCommands(program: Command, output: () => Output): void {
  const node = program.command('node').description('create and run nodes')
  node
    .command('create')
    .argument('<name>', 'node name')
    .description('run a node (in the foreground for now: background nodes come with the control API)')
    .option('--foreground', 'run in this process until SIGINT/SIGTERM')
    .option('--tcp-listener-address <host:port>', 'where the node listens for TCP connections', '127.0.0.1:0')
    .option('--forward-to <host:port...>', 'start the forwarding service, allowed to connect to these addresses')
    .action(async (name: string, options: NodeCreateOptions) => {
      if (options.foreground !== true) {
        throw new OckamError('OCKAM_ERR_CLI_USAGE', 'background nodes are not available yet', {
          hint: 'add --foreground to run the node in this terminal',
        })
      }
      const log = createLogger({ name })
      const instance = createDefaultNode({
        name,
        listen: [options.tcpListenerAddress ?? '127.0.0.1:0'],
        ...(options.forwardTo === undefined ? {} : { forwardTo: options.forwardTo }),
        log,
      })
      await instance.start()
      const listeners = tcpOf(instance).listenAddresses()
      log.info({ event: 'node.ready', listeners }, `node ${name} is ready`)
      output().data({ node: name, listeners }, () => `node ${name} listening on ${listeners.join(', ')}`)
      const signal = await runUntilSignal(() => instance.stop())
      log.info({ event: 'node.exit', signal }, `node ${name} stopped on ${signal}`)
    })
}
