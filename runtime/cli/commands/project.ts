import type { Command } from 'commander'
import { membersClient } from '../../../workers/authority/client.js'
import { MEMBERS_ADDRESS } from '../../../workers/authority/constants.js'
import { checkAdvertisedAddress, checkProjectName } from '../../authority/index.js'
import { NodeManager } from '../../daemon/node-manager.js'
import { parseDuration } from '../../duration.js'
import { OckamError } from '../../errors.js'
import { createHostedProject, parseCredentialTtl } from '../../project/hosted-project.js'
import { table } from '../format/table.js'
import type { Output } from '../output.js'
import { PROJECT_REQUEST_TIMEOUT_MS, withProjectChannel } from '../project-access.js'
import { withTrustSession } from '../trust-session.js'
import { parseAttributeOptions } from './credential.js'
import { enrollAction } from './enroll.js'
import { collect } from './resource-commands.js'

/** Where `project create` listens unless told (the walkthrough's address). */
export const DEFAULT_PROJECT_LISTEN = '127.0.0.1:4000'

function members(channel: Parameters<Parameters<typeof withProjectChannel>[0]>[0]) {
  return membersClient(channel.ctx, channel.to(MEMBERS_ADDRESS), { timeoutMs: PROJECT_REQUEST_TIMEOUT_MS })
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function attributesText(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
}

export function registerProjectCommands(program: Command, output: () => Output): void {
  const project = program.command('project').description('host a project, issue tickets, manage its members')

  project
    .command('create')
    .argument('<name>', 'project name (a-z, 0-9, -)')
    .option('--listen <host:port>', 'where the project node listens', DEFAULT_PROJECT_LISTEN)
    .option('--advertise <host:port>', 'the address tickets carry (default: the listen address)')
    .option('--credential-ttl <duration>', 'lifetime of member credentials, refreshed at half-life (default 15m)')
    .option(
      '--no-passthrough',
      'member channels seal end-to-end frames again: relay names, sizes and timing stay hidden on member connections, at two more AEADs per frame',
    )
    .description('make this state folder the project host: a background node running the authority')
    .action(
      async (
        name: string,
        options: { listen: string; advertise?: string; credentialTtl?: string; passthrough: boolean },
      ) => {
        checkProjectName(name)
        const advertised = options.advertise ?? options.listen
        checkAdvertisedAddress(advertised)
        const credentialTtlSeconds =
          options.credentialTtl === undefined ? undefined : parseCredentialTtl(options.credentialTtl)
        const created = await withTrustSession((session) =>
          createHostedProject(session, {
            name,
            listen: options.listen,
            advertise: advertised,
            credentialTtlSeconds,
            ...(options.passthrough ? {} : { passthrough: false }),
          }),
        )
        const manager = NodeManager.open()
        try {
          await manager.create(name, { listen: options.listen, identity: created.authorityIdentityName })
        } catch (error) {
          if (error instanceof OckamError && error.hint === undefined) {
            throw new OckamError(error.code, `${error.message} (project ${name} is recorded)`, {
              cause: error,
              hint: `start its node with: ockam-runtime node create ${name} --tcp-listener-address ${options.listen}`,
            })
          }
          throw error
        } finally {
          manager.close()
        }
        const passthrough = created.settings.passthrough
        output().data(
          {
            project: created.name,
            authority: created.authority,
            address: created.advertisedAddress,
            node: name,
            passthrough,
          },
          () =>
            [
              `project ${created.name} is hosted by node ${name}`,
              `authority ${created.authority}`,
              `address   ${created.advertisedAddress}`,
              passthrough
                ? 'member channels pass end-to-end frames through (--no-passthrough seals them again)'
                : 'member channels seal end-to-end frames again (no passthrough)',
            ].join('\n'),
        )
      },
    )

  const ticket = project
    .command('ticket')
    .description('print a one-time enrollment ticket (exactly the ticket on stdout)')
    .option('--attribute <name=value>', 'attribute granted to whoever redeems it (repeatable)', collect, [])
    .option('--relay <name>', 'relay name the redeemer may register')
    .option('--usage-count <n>', 'how many enrollments it allows (default 1)')
    .option('--expires-in <duration>', 'lifetime, e.g. 10m, 1h (default 10m)')
    .option('--enroller', 'redeemers may enroll others (admins only)')
    .action(
      async (options: {
        attribute: string[]
        relay?: string
        usageCount?: string
        expiresIn?: string
        enroller?: boolean
      }) => {
        const attributes = Object.fromEntries(parseAttributeOptions(options.attribute))
        const usageCount = options.usageCount === undefined ? undefined : Number(options.usageCount)
        if (usageCount !== undefined && !Number.isInteger(usageCount)) {
          throw new OckamError(
            'OCKAM_ERR_CLI_USAGE',
            `--usage-count must be a whole number, got "${options.usageCount}"`,
          )
        }
        const expiresInSeconds = options.expiresIn === undefined ? undefined : parseDuration(options.expiresIn)
        const created = await withProjectChannel((channel) =>
          members(channel).createTicket({
            ...(Object.keys(attributes).length === 0 ? {} : { attributes }),
            ...(options.relay === undefined ? {} : { relay: options.relay }),
            ...(usageCount === undefined ? {} : { usageCount }),
            ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
            ...(options.enroller === true ? { enroller: true } : {}),
          }),
        )
        output().data({ ticket: created.text, id: created.ticket.id }, () => created.text)
      },
    )

  ticket
    .command('list')
    .description('list tickets (admins: all; enrollers: their own)')
    .action(async () => {
      const page = await withProjectChannel((channel) => members(channel).listTickets())
      output().data(page.tickets, () =>
        table(
          ['ID', 'STATUS', 'USES LEFT', 'EXPIRES', 'ATTRIBUTES'],
          page.tickets.map((t) => [
            t.id,
            t.status,
            `${t.usesLeft}/${t.usageCount}`,
            iso(t.expiresAt),
            attributesText(t.attributes) + (t.relay === undefined ? '' : ` relay=${t.relay}`),
          ]),
        ),
      )
    })

  ticket
    .command('revoke')
    .argument('<id>', 'ticket id (from ticket list)')
    .description('revoke a ticket so it can no longer be redeemed')
    .action(async (id: string) => {
      const revoked = await withProjectChannel((channel) => members(channel).revokeTicket(id))
      output().data(revoked, () => `revoked ticket ${revoked.id}`)
    })

  const member = project.command('member').description('the members of the project (admins and enrollers)')
  member
    .command('list')
    .description('list members')
    .action(async () => {
      const page = await withProjectChannel((channel) => members(channel).list())
      output().data(page.members, () =>
        table(
          ['IDENTIFIER', 'ROLE', 'ATTRIBUTES', 'ADDED'],
          page.members.map((m) => [m.identifier, m.role, attributesText(m.attributes), iso(m.addedAt)]),
        ),
      )
    })
  member
    .command('show')
    .argument('<identifier>')
    .description('show one member')
    .action(async (identifier: string) => {
      const shown = await withProjectChannel((channel) => members(channel).show(identifier))
      output().data(shown, () => `${shown.identifier} ${shown.role} ${attributesText(shown.attributes)}`)
    })
  member
    .command('add')
    .argument('<identifier>')
    .option('--attribute <name=value>', 'attribute (repeatable)', collect, [])
    .option('--role <role>', 'member, enroller or admin')
    .description('add a member by identifier')
    .action(async (identifier: string, options: { attribute: string[]; role?: string }) => {
      const attributes = Object.fromEntries(parseAttributeOptions(options.attribute))
      if (options.role !== undefined && !['member', 'enroller', 'admin'].includes(options.role)) {
        throw new OckamError('OCKAM_ERR_CLI_USAGE', `--role must be member, enroller or admin, got "${options.role}"`)
      }
      const added = await withProjectChannel((channel) =>
        members(channel).add(identifier, {
          attributes,
          ...(options.role === undefined ? {} : { role: options.role as 'member' | 'enroller' | 'admin' }),
        }),
      )
      output().data(added, () => `added ${added.identifier} (${added.role})`)
    })
  member
    .command('delete')
    .argument('<identifier>')
    .description('delete a member: revokes it and releases its relay names')
    .action(async (identifier: string) => {
      const deleted = await withProjectChannel((channel) => members(channel).delete(identifier))
      output().data(deleted, () => `deleted ${identifier}`)
    })

  project
    .command('audit')
    .option('--after <seq>', 'entries after this sequence number', '0')
    .description('the audit log of the project (admins)')
    .action(async (options: { after: string }) => {
      const after = Number(options.after)
      if (!Number.isInteger(after) || after < 0) {
        throw new OckamError('OCKAM_ERR_CLI_USAGE', `--after must be a sequence number, got "${options.after}"`)
      }
      const page = await withProjectChannel((channel) => members(channel).audit({ after }))
      output().data(page.entries, () =>
        table(
          ['SEQ', 'AT', 'ACTION', 'ACTOR'],
          page.entries.map((e) => [String(e.seq), iso(e.at), e.action, e.actor]),
        ),
      )
    })

  project
    .command('enroll')
    .argument('<ticket>', 'the ticket text, or a file holding it (- for standard input)')
    .option('--project-identity <identifier>', 'refuse unless the ticket names this project identity')
    .description('join a project with a ticket (same as: ockam-runtime enroll)')
    .action((ticketArgument: string, options: { projectIdentity?: string }) =>
      enrollAction(ticketArgument, options, output()),
    )
}
