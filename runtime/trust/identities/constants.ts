/** Defaults of the named-identities service (runtime/trust/identities/identities.ts). */

/** Name given to an identity created without one (`identity create`). */
export const DEFAULT_IDENTITY_NAME = 'default'

/**
 * Identity names: a letter or digit, then letters, digits, `_`, `-`, `.`; at most
 * MAX_IDENTITY_NAME_LENGTH characters. Names appear in commands, configs and file names, so no
 * spaces, no leading dash (it would read as an option) and nothing a shell would interpret.
 */
export const IDENTITY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

/** Longest identity name, in characters. */
export const MAX_IDENTITY_NAME_LENGTH = 64

/**
 * Validity of a new purpose key attestation (credential signing, secure channel), in seconds:
 * 365 days. The key is renewed (new key, new attestation) when less than the validity a caller
 * needs is left, and whenever the identity rotates (the attestation binds its latest change).
 */
export const DEFAULT_PURPOSE_KEY_TTL_SECONDS = 365 * 24 * 60 * 60

/**
 * Validity a purpose key must have left to be reused, in seconds: 7 days. A credential-signing
 * key must also outlive the credential being issued (its attestation travels with the
 * credential, so the credential stops verifying when the attestation expires).
 */
export const DEFAULT_PURPOSE_KEY_MIN_REMAINING_SECONDS = 7 * 24 * 60 * 60

/**
 * Lifetime of a credential issued with `credential issue` and no --ttl, in seconds: 1 hour.
 * DESIGN §12 sets 15 minutes for credentials the authority issues and refreshes automatically;
 * a credential issued by hand is never refreshed and cannot be revoked, so its default is short
 * too, and a long one has to be asked for (`--ttl 30d`).
 */
export const DEFAULT_CREDENTIAL_TTL_SECONDS = 60 * 60

/** Longest credential lifetime `issueCredential` accepts, in seconds: 365 days. */
export const MAX_CREDENTIAL_TTL_SECONDS = 365 * 24 * 60 * 60
