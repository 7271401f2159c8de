/**
 * Defaults and bounds of the project authority (DESIGN §6, §12): tickets, member credentials,
 * relay names, revocation feeds, audit pages. Every decoder of authority data checks its input
 * against these before it allocates anything derived from it.
 */

/** Uses a ticket allows when none is given: one (Ockam's default). */
export const DEFAULT_TICKET_USAGE_COUNT = 1

/** Most uses one ticket may allow. A ticket for a fleet is fine; an unbounded one is not. */
export const MAX_TICKET_USAGE_COUNT = 10_000

/** Lifetime of a ticket when none is given, in seconds: 10 minutes (Ockam's default). */
export const DEFAULT_TICKET_TTL_SECONDS = 10 * 60

/** Longest ticket lifetime, in seconds: 30 days. A one-time code should not live for years. */
export const MAX_TICKET_TTL_SECONDS = 30 * 24 * 60 * 60

/** Bytes of a one-time code: 256 bits, so guessing one is hopeless even without a rate limit. */
export const TICKET_CODE_BYTES = 32

/** Random bytes of a public ticket id (printed in hex: 16 characters). */
export const TICKET_ID_BYTES = 8

/** Prefix of the ticket text form; the rest is unpadded base64url of its CBOR. */
export const TICKET_TEXT_PREFIX = 'ockam-ticket-v1:'

/**
 * Largest encoded ticket, in bytes: the authority's identity history (at most 8 KiB) plus the
 * name, address, identifier and code. Checked before the text is decoded.
 */
export const MAX_TICKET_BYTES = 9 * 1024

/**
 * Lifetime of a credential the authority issues to a member, in seconds: 15 minutes (DESIGN
 * §12). Short, because a deleted member keeps a credential until it expires wherever the
 * revocation has not arrived; members refresh at half-life.
 */
export const DEFAULT_MEMBER_CREDENTIAL_TTL_SECONDS = 15 * 60

/** Bounds of the configurable member credential lifetime, in seconds: 1 minute to 30 days. */
export const MIN_MEMBER_CREDENTIAL_TTL_SECONDS = 60
export const MAX_MEMBER_CREDENTIAL_TTL_SECONDS = 30 * 24 * 60 * 60

/** Relay names, and project names (they appear in `/project/NAME` routes and node names). */
export const RELAY_NAME_PATTERN = /^[a-z0-9-]{1,63}$/
export const PROJECT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/

/** Longest advertised address (`HOST:PORT`), in characters: a DNS name is at most 253. */
export const MAX_ADVERTISED_ADDRESS_CHARS = 261

/** Revocation entries sent in one response or push (about 200 bytes each: ~25 KiB). */
export const DEFAULT_REVOCATION_ENTRIES_PER_MESSAGE = 128

/** Largest encoded revocation entry, in bytes (a valid one takes about 190). */
export const MAX_REVOCATION_ENTRY_BYTES = 512

/** Subscribers one revocations service pushes to; one per channel, the oldest is not dropped. */
export const DEFAULT_MAX_REVOCATION_SUBSCRIBERS = 1024

/** Largest authority request or response, in bytes: fits one secure-channel message. */
export const MAX_AUTHORITY_MESSAGE_BYTES = 60 * 1024

/** Most members or tickets one list returns; audit entries per page. */
export const MAX_LIST_ITEMS = 1000
export const DEFAULT_AUDIT_PAGE = 100

/**
 * Times an operation that signs outside the database transaction (member deletion, credential
 * issuance) retries when the state it read changed before it could commit.
 */
export const MAX_COMMIT_ATTEMPTS = 5
