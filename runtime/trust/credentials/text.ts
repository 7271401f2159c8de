/** Credential text form for files and the CLI: `ockam-credential-v1:` + base64url of the presentation. */
import { DEFAULT_MAX_CREDENTIAL_BYTES } from '../constants.js'
import { fromTextForm, toTextForm } from '../text-form.js'

export const CREDENTIAL_TEXT_PREFIX = 'ockam-credential-v1:'

export function credentialToText(presentation: Uint8Array): string {
  return toTextForm(CREDENTIAL_TEXT_PREFIX, presentation)
}

/** Returns the presentation bytes of a credential text (not verified); throws OCKAM_ERR_CREDENTIAL_TEXT_INVALID. */
export function credentialFromText(text: string): Uint8Array {
  return fromTextForm(CREDENTIAL_TEXT_PREFIX, text, DEFAULT_MAX_CREDENTIAL_BYTES, 'OCKAM_ERR_CREDENTIAL_TEXT_INVALID')
}
