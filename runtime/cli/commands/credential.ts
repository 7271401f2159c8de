/**
 * `credential issue|verify|store|list`. Issuing signs with the issuer identity's
 * credential-signing purpose key (made on first use, attested by the identity); verifying needs
 * the issuer's whole change history, given as described in ../identity-argument.ts.
 */
import type { Command } from 'commander'
import { formatDuration, parseDuration } from '../../duration.js'
import { OckamError } from '../../errors.js'
import { toHex } from '../../trust/bytes.js'
import { decodeCredentialPresentation, verifyCredential } from '../../trust/credentials/credential.js'
import { CREDENTIAL_TEXT_PREFIX, credentialFromText, credentialToText } from '../../trust/credentials/text.js'
import type { VerifiedCredential } from '../../trust/credentials/types.js'
import { createNativeCryptoProvider } from '../../trust/crypto/native.js'
import { DEFAULT_CREDENTIAL_TTL_SECONDS, MAX_CREDENTIAL_TTL_SECONDS } from '../../trust/identities/constants.js'
import type { VerifiedIdentity } from '../../trust/identity/types.js'
import { nowSeconds } from '../../trust/identity/validity.js'
import { resolveIdentityArgument } from '../identity-argument.js'
import type { Output } from '../output.js'
import { attributeLines, attributesJson, columns, isoMs, isoSeconds, safeText } from '../trust-format.js'
import { readTextInput, type TrustSession, withTrustSession } from '../trust-session.js'

interface IssueOptions {
  as?: string
  for: string
  attribute: string[]
  ttl: string
}

const crypto = createNativeCryptoProvider()

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** `--attribute K=V` values as a map; split at the first `=`; a repeated name is a usage error. */
export function parseAttributeOptions(values: readonly string[]): Map<string, string> {
  const attributes = new Map<string, string>()
  for (const value of values) {
    const at = value.indexOf('=')
    if (at <= 0) {
      throw new OckamError('OCKAM_ERR_CLI_USAGE', `--attribute ${JSON.stringify(value)} is not NAME=VALUE`, {
        hint: 'write --attribute role=analyst (the value may be empty: --attribute flag=)',
      })
    }
    const name = value.slice(0, at)
    if (attributes.has(name)) {
      throw new OckamError('OCKAM_ERR_CLI_USAGE', `--attribute ${JSON.stringify(name)} is given twice`, {
        hint: 'give each attribute once',
      })
    }
    attributes.set(name, value.slice(at + 1))
  }
  return attributes
}

/** The JSON form of a verified credential. */
function credentialJson(credential: VerifiedCredential): Record<string, unknown> {
  return {
    subject: credential.subject,
    subjectChangeHash: toHex(credential.subjectChangeHash),
    issuer: credential.issuer,
    attributes: attributesJson(credential.attributes),
    created: isoSeconds(credential.created),
    expires: isoSeconds(credential.expires),
  }
}

function credentialLines(credential: VerifiedCredential): string {
  return [
    `subject: ${credential.subject}`,
    `issuer: ${credential.issuer}`,
    `created: ${isoSeconds(credential.created)}`,
    `expires: ${isoSeconds(credential.expires)}`,
    'attributes:',
    ...attributeLines(credential.attributes),
  ].join('\n')
}

/** A credential argument: its text form, a file holding it, or `-` for standard input. */
async function readCredentialArgument(argument: string): Promise<Uint8Array> {
  const text = argument.trim().startsWith(CREDENTIAL_TEXT_PREFIX)
    ? argument
    : await readTextInput(argument, 'credential')
  return credentialFromText(text)
}

/** Verifies a presentation from `issuer` about any subject; the subject binding is checked by callers that know it. */
async function verifyArgument(
  session: TrustSession,
  issuerArgument: string,
  credentialArgument: string,
): Promise<{ presentation: Uint8Array; credential: VerifiedCredential; issuer: VerifiedIdentity }> {
  const presentation = await readCredentialArgument(credentialArgument)
  const issuer = await resolveIdentityArgument(issuerArgument, session.identities, '--issuer')
  const credential = verifyCredential(
    presentation,
    { authorities: [issuer.identity], subject: 'any', now: nowSeconds() },
    crypto,
  )
  return { presentation, credential, issuer: issuer.identity }
}

export function registerCredentialCommands(program: Command, output: () => Output): void {
  const credential = program.command('credential').description('issue, verify and keep credentials')

  credential
    .command('issue')
    .requiredOption(
      '--for <identity>',
      'the subject: an exported identity, the identifier or name of an identity here, or a file holding an exported identity',
    )
    .option('--as <name>', 'the issuing identity of this state folder (default: the default identity)')
    .option('--attribute <name=value>', 'an attribute to attest (repeat the option for more)', collect, [])
    .option(
      '--ttl <duration>',
      `lifetime: a whole number and s, m, h or d, at most ${formatDuration(MAX_CREDENTIAL_TTL_SECONDS)}`,
      formatDuration(DEFAULT_CREDENTIAL_TTL_SECONDS),
    )
    .description('issue a credential and print it in text form (ockam-credential-v1:…)')
    .action(async (options: IssueOptions) => {
      const attributes = parseAttributeOptions(options.attribute)
      const ttlSeconds = parseDuration(options.ttl, { maxSeconds: MAX_CREDENTIAL_TTL_SECONDS })
      const issued = await withTrustSession(async (session) => {
        const subject = await resolveIdentityArgument(options.for, session.identities, '--for')
        return session.identities.issueCredential(options.as, {
          subject: { identifier: subject.identity.identifier, latestChangeHash: subject.identity.latestChangeHash },
          attributes,
          ttlSeconds,
        })
      })
      const text = credentialToText(issued.presentation)
      output().data({ credential: text, ...credentialJson(issued.credential) }, () => text)
    })

  credential
    .command('verify')
    .argument('<credential>', 'the credential text, a file holding it, or - for standard input')
    .requiredOption(
      '--issuer <identity>',
      'the trusted issuer: an exported identity, the identifier or name of an identity here, or a file holding an exported identity',
    )
    .description('verify a credential from a trusted issuer; print its attributes, or fail with the reason')
    .action(async (credentialArgument: string, options: { issuer: string }) => {
      const { credential: verified } = await withTrustSession((session) =>
        verifyArgument(session, options.issuer, credentialArgument),
      )
      output().data({ valid: true, ...credentialJson(verified) }, () => credentialLines(verified))
    })

  credential
    .command('store')
    .argument('<credential>', 'the credential text, a file holding it, or - for standard input')
    .requiredOption('--issuer <identity>', 'the trusted issuer (as for credential verify)')
    .description('verify a credential about an identity of this state folder and keep it (one per subject and issuer)')
    .action(async (credentialArgument: string, options: { issuer: string }) => {
      const stored = await withTrustSession(async (session) => {
        const {
          presentation,
          credential: verified,
          issuer,
        } = await verifyArgument(session, options.issuer, credentialArgument)
        const holder = session.identities.findByIdentifier(verified.subject)
        if (holder === undefined) {
          throw new OckamError(
            'OCKAM_ERR_IDENTITY_NOT_FOUND',
            `the credential is about ${verified.subject}, which is not an identity of this state folder`,
            { hint: 'store a credential in the state folder of the identity it names' },
          )
        }
        // Bound to the subject's latest change, or it would be refused by every verifier.
        verifyCredential(
          presentation,
          {
            authorities: [issuer],
            subject: { identifier: holder.identifier, latestChangeHash: holder.identity.latestChangeHash },
            now: nowSeconds(),
          },
          crypto,
        )
        session.heldCredentials.put({
          subject: verified.subject,
          issuer: verified.issuer,
          presentation,
          validFrom: verified.created,
          validUntil: verified.expires,
          storedAt: Date.now(),
        })
        return { holder: holder.name, credential: verified }
      })
      output().data(
        { stored: true, holder: stored.holder, ...credentialJson(stored.credential) },
        () => `stored a credential for ${stored.holder} from ${stored.credential.issuer}`,
      )
    })

  credential
    .command('list')
    .description('list the credentials kept by credential store')
    .action(async () => {
      const rows = await withTrustSession(async (session) => {
        const names = new Map(session.identities.list().map((named) => [named.identifier, named.name]))
        return session.heldCredentials.list().map((row) => ({
          holder: names.get(row.subject) ?? row.subject,
          row,
          credential: decodeCredentialPresentation(row.presentation).fields,
        }))
      })
      if (rows.length === 0 && output().format === 'text') {
        process.stderr.write('no credentials kept: credential store adds one\n')
        return
      }
      const now = nowSeconds()
      output().data(
        rows.map(({ holder, row, credential: held }) => ({
          holder,
          ...credentialJson(held),
          expired: now >= held.expires,
          stored: isoMs(row.storedAt),
          credential: credentialToText(row.presentation),
        })),
        () =>
          columns(
            rows.map(({ holder, credential: held }) => [
              holder,
              held.issuer,
              now >= held.expires ? `expired ${isoSeconds(held.expires)}` : `expires ${isoSeconds(held.expires)}`,
              [...held.attributes].map(([name, value]) => `${safeText(name)}=${safeText(value)}`).join(' '),
            ]),
          ),
      )
    })
}
