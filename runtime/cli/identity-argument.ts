/**
 * An identity named on the command line (`credential issue --for`, `credential verify
 * --issuer`), resolved to a verified identity. Issuing binds the subject's latest change and
 * verifying checks the issuer's attestation of its credential key, so both need the whole
 * change history, not just an identifier. Tried in this order:
 *
 * 1. an exported identity (`ockam-identity-v1:…`), verified in full;
 * 2. an identifier (`I…`) of an identity of this state folder;
 * 3. the name of an identity of this state folder;
 * 4. the path of a file (or `-` for standard input) holding an exported identity.
 *
 * An exported identity whose identifier is also one of ours is merged with our history: an
 * older copy (a rollback) or a diverging one (a fork) is refused.
 */
import { isOckamError, OckamError } from '../errors.js'
import { createNativeCryptoProvider } from '../trust/crypto/native.js'
import { IDENTITY_NAME_PATTERN, MAX_IDENTITY_NAME_LENGTH } from '../trust/identities/constants.js'
import type { IdentitiesService, NamedIdentity } from '../trust/identities/identities.js'
import { isIdentifier } from '../trust/identity/identifier.js'
import { mergeVerifiedHistory } from '../trust/identity/store.js'
import { IDENTITY_TEXT_PREFIX, importIdentity } from '../trust/identity/text.js'
import type { VerifiedIdentity } from '../trust/identity/types.js'
import { nowSeconds } from '../trust/identity/validity.js'
import { readTextInput } from './trust-session.js'

export interface ResolvedIdentity {
  readonly identity: VerifiedIdentity
  /** The identity of this state folder with that identifier, if any. */
  readonly local?: NamedIdentity
}

const crypto = createNativeCryptoProvider()

export async function resolveIdentityArgument(
  argument: string,
  identities: IdentitiesService,
  option: string,
): Promise<ResolvedIdentity> {
  const text = argument.trim()
  if (text.startsWith(IDENTITY_TEXT_PREFIX)) return imported(text, identities)
  if (isIdentifier(text as unknown)) {
    const local = identities.findByIdentifier(text)
    if (local === undefined) {
      throw new OckamError(
        'OCKAM_ERR_IDENTITY_HISTORY_UNAVAILABLE',
        `${text} is not an identity of this state folder, so its change history is unknown here`,
        {
          hint: `pass its exported form to ${option} instead (on its machine: ockam-runtime identity show --full), or a file holding it`,
          data: { identifier: text },
        },
      )
    }
    return { identity: local.identity, local }
  }
  if (text.length <= MAX_IDENTITY_NAME_LENGTH && IDENTITY_NAME_PATTERN.test(text)) {
    const local = identities.find(text)
    if (local !== undefined) return { identity: local.identity, local }
  }
  let fromFile: string
  try {
    fromFile = await readTextInput(argument, 'exported identity')
  } catch (error) {
    if (isOckamError(error) && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new OckamError(
        'OCKAM_ERR_IDENTITY_NOT_FOUND',
        `${JSON.stringify(argument.slice(0, 80))} is neither an identity of this state folder nor a file`,
        {
          cause: error,
          hint: `${option} takes an exported identity, an identifier or name of an identity here, or a file holding an exported identity`,
        },
      )
    }
    throw error
  }
  return imported(fromFile, identities)
}

function imported(text: string, identities: IdentitiesService): ResolvedIdentity {
  const identity = importIdentity(text, { now: nowSeconds() }, crypto)
  const local = identities.findByIdentifier(identity.identifier)
  if (local === undefined) return { identity }
  return { identity: mergeVerifiedHistory(local.identity, identity), local }
}
