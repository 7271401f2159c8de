/** Identity export/import as text: `ockam-identity-v1:` + base64url of the change history. */
import { DEFAULT_MAX_IDENTITY_HISTORY_BYTES } from '../constants.js'
import type { CryptoProvider } from '../crypto/provider.js'
import { fromTextForm, toTextForm } from '../text-form.js'
import { type VerifyAtOptions, verifyIdentityHistory } from './history.js'
import type { VerifiedIdentity } from './types.js'

export const IDENTITY_TEXT_PREFIX = 'ockam-identity-v1:'

export function exportIdentity(identity: VerifiedIdentity): string {
  return toTextForm(IDENTITY_TEXT_PREFIX, identity.history)
}

/** Parses and fully verifies an exported identity; throws OCKAM_ERR_IDENTITY_TEXT_INVALID or a verification error. */
export function importIdentity(text: string, options: VerifyAtOptions, crypto: CryptoProvider): VerifiedIdentity {
  const history = fromTextForm(
    IDENTITY_TEXT_PREFIX,
    text,
    DEFAULT_MAX_IDENTITY_HISTORY_BYTES,
    'OCKAM_ERR_IDENTITY_TEXT_INVALID',
  )
  return verifyIdentityHistory(history, options, crypto)
}
