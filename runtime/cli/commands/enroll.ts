/**
 * `enroll TICKET|FILE` (DESIGN §1): from a state folder other than the project host's, redeems a
 * ticket over a secure channel to the project's advertised address that admits only the
 * authority the ticket names (pinned with --project-identity), then stores the project and the
 * credential the authority issued. One project per state folder.
 */
import type { Command } from 'commander'
import { enroll } from '../../../workers/authority/client.js'
import { ENROLLMENT_ADDRESS } from '../../../workers/authority/constants.js'
import { createAuthorityService, decodeTicket, verifyTicketAuthority } from '../../authority/index.js'
import { tellRunningNodes } from '../../daemon/broadcast.js'
import { OckamError } from '../../errors.js'
import { enrolledProject, saveEnrolledProject } from '../../project/enrolled.js'
import { createHeldCredentialRepository } from '../../state/held-credential-repository.js'
import { resolveStateDir } from '../../state/state-dir.js'
import { verifyCredential } from '../../trust/credentials/credential.js'
import { createNativeCryptoProvider } from '../../trust/crypto/native.js'
import { isIdentifier } from '../../trust/identity/identifier.js'
import { nowSeconds } from '../../trust/identity/validity.js'
import type { Output } from '../output.js'
import { PROJECT_REQUEST_TIMEOUT_MS, withProjectChannel } from '../project-access.js'
import { readTextInput } from '../trust-session.js'

const TICKET_PREFIX = 'ockam-ticket-v1:'

export interface EnrollOptions {
  /** Refuse unless the ticket names this project identity. */
  readonly projectIdentity?: string | undefined
  /** The identity of this folder that becomes the member; default the default identity. */
  readonly identity?: string | undefined
  /**
   * Whether a folder already enrolled in the ticket's project may enroll another of its
   * identities (a config declaring several nodes of one folder); the CLI refuses a second enroll.
   */
  readonly sameProject?: boolean
}

export interface EnrollResult {
  readonly project: string
  readonly address: string
  readonly fingerprint: string
  readonly member: string
  readonly attributes: Readonly<Record<string, string>>
  readonly credentialExpires: number
}

/** Redeems a ticket (its text, or a file holding it) and stores the project and the credential. */
export async function enrollWithTicket(ticketArgument: string, options: EnrollOptions = {}): Promise<EnrollResult> {
  if (options.projectIdentity !== undefined && !isIdentifier(options.projectIdentity)) {
    throw new OckamError('OCKAM_ERR_CLI_USAGE', '--project-identity must be an identifier (I + 64 hex digits)')
  }
  // Anything holding the prefix is a ticket, never a path: a ticket with a stray space or newline
  // (from an environment variable) must not be echoed back in a "cannot read file" error.
  const trimmed = ticketArgument.trim()
  const text = (trimmed.includes(TICKET_PREFIX) ? trimmed : await readTextInput(trimmed, 'ticket')).trim()
  const ticket = decodeTicket(text)
  const crypto = createNativeCryptoProvider()
  const authority = verifyTicketAuthority(ticket, nowSeconds(), crypto)
  if (options.projectIdentity !== undefined && options.projectIdentity !== authority.identifier) {
    throw new OckamError(
      'OCKAM_ERR_PROJECT_IDENTITY_MISMATCH',
      `the ticket names project identity ${authority.identifier}, not ${options.projectIdentity}`,
      { hint: 'ask the project admin for a ticket of the project you meant; nothing was sent' },
    )
  }
  // Refused before the ticket's code is sent anywhere.
  const enrolled = enrolledProject(resolveStateDir(process.env))
  if (enrolled !== undefined && !(options.sameProject === true && enrolled.authority === authority.identifier)) {
    throw new OckamError(
      'OCKAM_ERR_PROJECT_ALREADY_ENROLLED',
      `this state folder is already a member of project ${enrolled.name}`,
      { hint: 'one project per state folder: enroll from another OCKAM_RUNTIME_HOME' },
    )
  }
  const result = await withProjectChannel(
    async (channel) => {
      const hosted = createAuthorityService({ db: channel.store.db, identities: channel.identities }).findProject()
      if (hosted !== undefined) {
        throw new OckamError('OCKAM_ERR_PROJECT_ALREADY_ENROLLED', `this state folder hosts project ${hosted.name}`, {
          hint: 'enroll from another OCKAM_RUNTIME_HOME',
        })
      }
      const answer = await enroll(
        channel.ctx,
        channel.to(ENROLLMENT_ADDRESS),
        { project: ticket.projectName, code: ticket.code, history: channel.material.identity.history },
        { timeoutMs: PROJECT_REQUEST_TIMEOUT_MS },
      )
      const credential = verifyCredential(
        answer.credential,
        {
          authorities: [authority],
          subject: {
            identifier: channel.material.identity.identifier,
            latestChangeHash: channel.material.identity.latestChangeHash,
          },
          now: nowSeconds(),
        },
        crypto,
      )
      createHeldCredentialRepository(channel.store.db).put({
        subject: credential.subject,
        issuer: credential.issuer,
        presentation: answer.credential,
        validFrom: credential.created,
        validUntil: credential.expires,
        storedAt: Date.now(),
      })
      saveEnrolledProject(channel.store.dir, {
        name: ticket.projectName,
        address: ticket.address,
        authority: authority.identifier,
        authorityHistory: Buffer.from(authority.history).toString('base64url'),
        enrolledAt: Date.now(),
      })
      return { member: answer.member, expires: credential.expires }
    },
    // Before anything is stored, the channel admits only the authority the ticket names.
    {
      target: () => ({ address: ticket.address, authority: authority.identifier }),
      ...(options.identity === undefined ? {} : { identity: options.identity }),
    },
  )
  return {
    project: ticket.projectName,
    address: ticket.address,
    fingerprint: authority.identifier,
    member: result.member.identifier,
    attributes: result.member.attributes,
    credentialExpires: result.expires,
  }
}

export async function enrollAction(
  ticketArgument: string,
  options: { projectIdentity?: string },
  out: Output,
): Promise<void> {
  const result = await enrollWithTicket(ticketArgument, options)
  const nodes = await tellRunningNodes('project.changed')
  for (const node of nodes.failed) out.progress(`node ${node} did not take the membership: restart it`)
  out.data(result, () =>
    [
      `enrolled in project ${result.project} at ${result.address}`,
      `project fingerprint ${result.fingerprint}`,
      `member ${result.member}`,
    ].join('\n'),
  )
}

export function registerEnrollCommand(program: Command, output: () => Output): void {
  program
    .command('enroll')
    .argument('<ticket>', 'the ticket text, or a file holding it (- for standard input)')
    .option('--project-identity <identifier>', 'refuse unless the ticket names this project identity')
    .description('join a project with a ticket: become a member and store its credential')
    .action((ticketArgument: string, options: { projectIdentity?: string }) =>
      enrollAction(ticketArgument, options, output()),
    )
}
