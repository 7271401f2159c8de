/**
 * `identity create|list|show|rotate|default`: the named identities of the state folder
 * (runtime/trust/identities/). Only create and rotate open the vault.
 */
import type { Command } from 'commander'
import { toHex } from '../../trust/bytes.js'
import { DEFAULT_IDENTITY_NAME } from '../../trust/identities/constants.js'
import type { NamedIdentity } from '../../trust/identities/identities.js'
import { exportIdentity } from '../../trust/identity/text.js'
import type { Output } from '../output.js'
import { columns, isoMs, isoSeconds } from '../trust-format.js'
import { withTrustSession } from '../trust-session.js'

/** The JSON form of an identity (--output json); `full` adds every change and the exported text. */
export function identityJson(named: NamedIdentity, full = false): Record<string, unknown> {
  const { identity } = named
  const latest = identity.changes.at(-1)
  return {
    name: named.name,
    identifier: named.identifier,
    isDefault: named.isDefault,
    changes: identity.changes.length,
    primaryPublicKey: toHex(identity.publicKey),
    latestChangeHash: toHex(identity.latestChangeHash),
    created: isoMs(named.createdAt),
    ...(latest === undefined ? {} : { latestChange: isoSeconds(latest.created) }),
    ...(full
      ? {
          history: identity.changes.map((change) => ({
            hash: toHex(change.hash),
            publicKey: toHex(change.publicKey),
            created: isoSeconds(change.created),
            ...(change.expires === undefined ? {} : { expires: isoSeconds(change.expires) }),
          })),
          exported: exportIdentity(identity),
        }
      : {}),
  }
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}

export function registerIdentityCommands(program: Command, output: () => Output): void {
  const identity = program.command('identity').description('the identities of this state folder (OCKAM_RUNTIME_HOME)')

  identity
    .command('create')
    .argument('[name]', 'a name for the identity', DEFAULT_IDENTITY_NAME)
    .description('create an identity (a new Ed25519 primary key in the vault); the first one becomes the default')
    .action(async (name: string) => {
      const created = await withTrustSession(({ identities }) => identities.create(name))
      output().data(identityJson(created), () => created.identifier)
    })

  identity
    .command('list')
    .description('list the identities; * marks the default')
    .action(async () => {
      const all = await withTrustSession(async ({ identities }) => identities.list())
      if (all.length === 0 && output().format === 'text') {
        process.stderr.write('no identities yet: run ockam-runtime identity create\n')
        return
      }
      output().data(
        all.map((named) => identityJson(named)),
        () =>
          columns(
            all.map((named) => [
              named.isDefault ? '*' : ' ',
              named.name,
              named.identifier,
              plural(named.identity.changes.length, 'change'),
            ]),
          ),
      )
    })

  identity
    .command('show')
    .argument('[name]', 'the identity (default: the default identity)')
    .option('--full', 'print the exported identity (its whole change history) instead of the identifier')
    .description('print the identifier of an identity, or with --full its exported form for other machines')
    .action(async (name: string | undefined, options: { full?: boolean }) => {
      const full = options.full === true
      const named = await withTrustSession(async ({ identities }) => identities.resolve(name))
      output().data(identityJson(named, full), () => (full ? exportIdentity(named.identity) : named.identifier))
    })

  identity
    .command('rotate')
    .argument('[name]', 'the identity (default: the default identity)')
    .description('rotate to a new primary key: the identifier stays, the old key is deleted from the vault')
    .action(async (name: string | undefined) => {
      const rotated = await withTrustSession(({ identities }) => identities.rotate(name))
      output().data(
        identityJson(rotated),
        () =>
          `rotated ${rotated.name} (${rotated.identifier}): ${plural(rotated.identity.changes.length, 'change')}, primary key ${toHex(rotated.identity.publicKey)}`,
      )
    })

  identity
    .command('default')
    .argument('[name]', 'make this identity the default')
    .description('print the default identity, or make NAME the default')
    .action(async (name: string | undefined) => {
      const named = await withTrustSession(async ({ identities }) =>
        name === undefined ? identities.getDefault() : identities.setDefault(name),
      )
      output().data(identityJson(named), () => `${named.name} ${named.identifier}`)
    })
}
