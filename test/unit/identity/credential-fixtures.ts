/** An authority with an attested credential key, and a member identity, for credential tests. */
import {
  CREDENTIAL_TEXT_PREFIX,
  credentialToText,
  type IssueRequest,
  issueCredential,
} from '../../../runtime/trust/credentials/index.js'
import {
  createIdentity,
  createPurposeKeyAttestation,
  type VerifiedIdentity,
} from '../../../runtime/trust/identity/index.js'
import { crypto, signer, T0 } from './fixtures.js'

export interface Authority {
  readonly identityKey: string
  readonly identity: VerifiedIdentity
  readonly credentialKey: string
  readonly attestation: Uint8Array
}

export async function makeAuthority(): Promise<Authority> {
  const identityKey = signer.generateKey()
  const identity = await createIdentity(signer, identityKey, { created: T0 - 1000 }, crypto)
  const credentialKey = signer.generateKey()
  const attestation = await createPurposeKeyAttestation(signer, identityKey, identity, {
    purpose: 'credential-signing',
    publicKey: await signer.publicKey(credentialKey),
    created: T0 - 1000,
    expires: T0 + 30 * 86_400,
  })
  return { identityKey, identity, credentialKey, attestation }
}

export async function makeMember(): Promise<{ key: string; identity: VerifiedIdentity }> {
  const key = signer.generateKey()
  return { key, identity: await createIdentity(signer, key, { created: T0 - 1000 }, crypto) }
}

export function subjectOf(identity: VerifiedIdentity) {
  return { identifier: identity.identifier, latestChangeHash: identity.latestChangeHash }
}

export function issue(authority: Authority, subject: VerifiedIdentity, overrides: Partial<IssueRequest> = {}) {
  return issueCredential(signer, authority.credentialKey, authority.attestation, {
    subject: subjectOf(subject),
    attributes: { role: 'analyst', env: 'prod' },
    created: T0,
    expires: T0 + 900,
    ...overrides,
  })
}

export { CREDENTIAL_TEXT_PREFIX, credentialToText }
