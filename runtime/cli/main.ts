#!/usr/bin/env -S node --initial-old-space-size=64
/** The `ockam-runtime` command. Each subcommand lives in commands/; errors become one line and an exit code. */
import { Command, CommanderError } from 'commander'
import { OckamError } from '../errors.js'
import { registerCredentialCommands } from './commands/credential.js'
import { registerEnrollCommand } from './commands/enroll.js'
import { registerIdentityCommands } from './commands/identity.js'
import { registerMessageCommands } from './commands/message.js'
import { registerNodeCommands } from './commands/node.js'
import { registerPolicyCommands } from './commands/policy.js'
import { registerPortalCommands } from './commands/portal.js'
import { registerProjectCommands } from './commands/project.js'
import { registerRelayCommands } from './commands/relay.js'
import { registerSecureChannelCommands } from './commands/secure-channel.js'
import { registerStartCommand } from './commands/start.js'
import { registerStatusCommand } from './commands/status.js'
import { registerTcpListenerCommands } from './commands/tcp-listener.js'
import { createOutput, EXIT_USAGE, type Output, reportError } from './output.js'
import { VERSION } from './version.js'

export function buildProgram(): Command {
  const program = new Command('ockam-runtime')
    .description('secure-by-design connectivity: identities, secure channels, relays and TCP portals')
    .version(VERSION, '-V, --version')
    .option('--output <format>', 'text or json', 'text')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  const output = (): Output => createOutput(program.opts<{ output?: string }>().output)
  registerNodeCommands(program, output)
  registerMessageCommands(program, output)
  registerStartCommand(program, output)
  registerIdentityCommands(program, output)
  registerCredentialCommands(program, output)
  registerPolicyCommands(program, output)
  registerStatusCommand(program, output)
  registerTcpListenerCommands(program, output)
  registerSecureChannelCommands(program, output)
  registerProjectCommands(program, output)
  registerEnrollCommand(program, output)
  registerPortalCommands(program, output)
  registerRelayCommands(program, output)
  for (const command of program.commands) command.exitOverride()
  return program
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0; usage errors were already printed.
      return error.exitCode === 0 ? 0 : EXIT_USAGE
    }
    const format = program.opts<{ output?: string }>().output === 'json' ? 'json' : 'text'
    return reportError(error instanceof OckamError || error instanceof Error ? error : new Error(String(error)), format)
  }
}

const code = await main(process.argv)
// Exit now rather than when the event loop drains: everything the command started has been
// stopped and awaited, and Node 20's teardown can spin at 100% CPU in
// Environment::CleanupHandles on a request that never completes (seen after `start` stopped a
// topology: uv_run in a loop under FreeEnvironment, Ctrl-C apparently ignored). Data written to
// stdout and stderr is already out: both are synchronous for files and pipes on Linux.
process.exit(code)
