/** Addresses and wire constants of the authority services (workers/authority/). */

/** Redeems a ticket: the redeemer becomes a member and gets its first credential. */
export const ENROLLMENT_ADDRESS = 'enrollment'

/** A member asks for a fresh credential. */
export const CREDENTIALS_ADDRESS = 'credentials'

/** Admin and enroller operations: members, tickets, the audit log. */
export const MEMBERS_ADDRESS = 'members'

/** Subscription to the signed revocation feed. */
export const REVOCATIONS_ADDRESS = 'revocations'

/** First element of every request and response. */
export const AUTHORITY_PROTOCOL_VERSION = 1

/** Response kinds (second element of a response). */
export const STATUS_OK = 0
export const STATUS_ERROR = 1
/** An unsolicited batch on a revocation subscription. */
export const STATUS_PUSH = 2

/** Longest error message or hint carried in a response, in characters. */
export const MAX_ERROR_TEXT_CHARS = 1024

/** Longest audit details JSON carried per entry, in characters. */
export const MAX_AUDIT_DETAILS_CHARS = 16 * 1024
