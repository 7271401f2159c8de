/** Credentials: attributes about a subject, signed by an authority's credential key. */
export {
  type AttributesInput,
  CREDENTIAL_VERSION,
  checkAttributes,
  decodeCredentialData,
  decodeCredentialPresentation,
  encodeCredentialData,
  type IssueRequest,
  issueCredential,
  type ParsedPresentation,
  type VerifyCredentialOptions,
  verifyCredential,
} from './credential.js'
export { CREDENTIAL_TEXT_PREFIX, credentialFromText, credentialToText } from './text.js'
export type { VerifiedCredential } from './types.js'
