/**
 * `message send TEXT --to ROUTE`: one request, its reply printed. Without --from the CLI runs a
 * short-lived node of its own (no listener, inline crypto and vault); with --from the named
 * background node sends it (so the route may start at that node's own services and channels).
 * Each `/secure/ADDR` in the route opens a secure channel to the listener ADDR reached by what
 * precedes it, with a named identity of this state folder (the default one, made if there is
 * none); the rest of the route goes through the channel. Channels are closed afterwards.
 */
import type { Command } from 'commander'
import { connectNode } from '../../daemon/ensure-node.js'
import { createDefaultNode } from '../../defaults.js'
import { OckamError } from '../../errors.js'
import { createLogger, defaultLogLevel } from '../../log.js'
import { parseMultiaddr } from '../../multiaddr.js'
import { hasSecureSegment } from '../../resources/kinds/secure-channel-route.js'
import { sendAlong } from '../../resources/kinds/secure-channel-send.js'
import { checkAuthorized } from '../../resources/kinds/secure-channel-trust.js'
import { resolveStateDir } from '../../state/state-dir.js'
import { openStateStore } from '../../state/store.js'
import type { Output } from '../output.js'

/** Largest message text `message send` takes (characters). */
export const MAX_MESSAGE_TEXT_LENGTH = 64 * 1024

interface MessageSendOptions {
  to: string
  timeout: string
  from?: string
  identity?: string
  authorized?: string[]
}

interface SendAnswer {
  reply: string
  peers?: string[]
  identity?: string
}

export function registerMessageCommands(program: Command, output: () => Output): void {
  const message = program.command('message').description('send messages along routes')
  message
    .command('send')
    .argument('<text>', 'the message (UTF-8)')
    .requiredOption('--to <route>', 'where to, e.g. /ip4/127.0.0.1/tcp/4000/secure/api/service/echo')
    .option('--timeout <ms>', 'how long to wait for the reply', '10000')
    .option('--from <node>', 'send from this background node instead of a short-lived one')
    .option('--identity <name>', 'the identity that opens secure channels (default: the default identity)')
    .option('--authorized <identifier...>', "accept only these identifiers as a channel's peer (default: anyone)")
    .description('send a message and print the reply (opening the secure channels the route names)')
    .action(async (text: string, options: MessageSendOptions) => {
      const timeoutMs = Number(options.timeout)
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
        throw new OckamError(
          'OCKAM_ERR_CLI_USAGE',
          `--timeout must be a positive number of ms, got "${options.timeout}"`,
        )
      }
      if (text.length > MAX_MESSAGE_TEXT_LENGTH) {
        throw new OckamError('OCKAM_ERR_CLI_USAGE', `the message is longer than ${MAX_MESSAGE_TEXT_LENGTH} characters`)
      }
      const authorized = checkAuthorized(options.authorized, '--authorized')
      const out = output()
      const answer =
        options.from === undefined
          ? await sendHere(text, options, timeoutMs, authorized)
          : await sendFrom(options.from, text, options, timeoutMs, authorized, out)
      out.data(answer, () => answer.reply)
    })
}

async function sendHere(
  text: string,
  options: MessageSendOptions,
  timeoutMs: number,
  authorized: string[] | undefined,
): Promise<SendAnswer> {
  // Checked before anything opens: a malformed route costs nothing.
  const secure = hasSecureSegment(parseMultiaddr(options.to))
  // A short-lived node of our own: no listener, inline crypto; its failures are the one error line, so it logs only errors unless asked.
  const level = process.env.OCKAM_LOG_LEVEL === undefined ? 'error' : defaultLogLevel()
  const node = createDefaultNode({ name: 'cli', pool: { threads: 0 }, log: createLogger({ name: 'cli', level }) })
  // The state folder only when a channel needs an identity.
  const store = secure ? openStateStore({ dir: resolveStateDir(process.env) }) : undefined
  await node.start()
  try {
    const sent = await sendAlong({ node, store }, options.to, Buffer.from(text, 'utf8'), {
      timeoutMs,
      vaultMode: 'inline',
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...(authorized === undefined ? {} : { authorized }),
    })
    return {
      reply: Buffer.from(sent.reply).toString('utf8'),
      ...(sent.peers.length === 0 ? {} : { peers: sent.peers }),
      ...(sent.identity === undefined ? {} : { identity: sent.identity }),
    }
  } finally {
    await node.stop()
    store?.close()
  }
}

async function sendFrom(
  from: string,
  text: string,
  options: MessageSendOptions,
  timeoutMs: number,
  authorized: string[] | undefined,
  out: Output,
): Promise<SendAnswer> {
  const { client } = await connectNode(from, { progress: out.progress })
  return client.call<SendAnswer>(
    'message.send',
    {
      to: options.to,
      text,
      timeoutMs,
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...(authorized === undefined ? {} : { authorized }),
    },
    // The node's own timeout answers first.
    { timeoutMs: timeoutMs + 5000 },
  )
}
