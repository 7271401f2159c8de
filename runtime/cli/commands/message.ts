import type { Command } from 'commander'
import { createDefaultNode } from '../../defaults.js'
import { OckamError } from '../../errors.js'
import { createLogger, defaultLogLevel } from '../../log.js'
import { parseRouteArgument } from '../../multiaddr.js'
import type { Output } from '../output.js'

interface MessageSendOptions {
  to: string
  timeout: string
}

export function registerMessageCommands(program: Command, output: () => Output): void {
  const message = program.command('message').description('send messages along routes')
  message
    .command('send')
    .argument('<text>', 'the message (UTF-8)')
    .requiredOption('--to <route>', 'where to, e.g. /ip4/127.0.0.1/tcp/4000/service/echo')
    .option('--timeout <ms>', 'how long to wait for the reply', '10000')
    .description('send a message and print the reply')
    .action(async (text: string, options: MessageSendOptions) => {
      const timeoutMs = Number(options.timeout)
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
        throw new OckamError(
          'OCKAM_ERR_CLI_USAGE',
          `--timeout must be a positive number of ms, got "${options.timeout}"`,
        )
      }
      const route = parseRouteArgument(options.to)
      // A short-lived node of our own: no listener, inline crypto, quiet unless asked.
      const level = process.env.OCKAM_LOG_LEVEL === undefined ? 'warn' : defaultLogLevel()
      const node = createDefaultNode({ name: 'cli', pool: { threads: 0 }, log: createLogger({ name: 'cli', level }) })
      await node.start()
      try {
        const reply = await node.context.request(route, Buffer.from(text, 'utf8'), { timeoutMs })
        const replyText = Buffer.from(reply.payload).toString('utf8')
        output().data({ reply: replyText }, () => replyText)
      } finally {
        await node.stop()
      }
    })
}
