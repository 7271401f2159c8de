/** Addresses, wire constants and limits of the relay service and the relay session (workers/relay/). */

/** The relay service on the project node: registrations, pings and unregistrations arrive here. */
export const DEFAULT_RELAY_SERVICE_ADDRESS = 'relay'

/** A registration named `postgres` is reached at `forward_to_postgres` on the project node. */
export const RELAY_FORWARD_PREFIX = 'forward_to_'

/** First element of every relay request and response. */
export const RELAY_PROTOCOL_VERSION = 1

/** Request kinds. */
export const RELAY_REGISTER = 1
export const RELAY_PING = 2
export const RELAY_UNREGISTER = 3

/** Response status. */
export const RELAY_STATUS_OK = 0
export const RELAY_STATUS_ERROR = 1

/** Bytes of the random id that pairs a response with its request. */
export const RELAY_REQUEST_ID_BYTES = 8

/** Largest relay control message accepted (bytes); a request is ~90 bytes, an error response < 1.2 KiB. */
export const MAX_RELAY_MESSAGE_BYTES = 2048

/** Longest error message or hint carried in a response (characters). */
export const MAX_RELAY_ERROR_TEXT_CHARS = 512

/**
 * Without a ping for this long (ms) the service drops a registration and stops its
 * `forward_to_` worker. Longer than the session's default ping interval times its miss count
 * (10 s × 3), so a live member is never dropped for one slow round trip.
 */
export const DEFAULT_RELAY_REGISTRATION_TIMEOUT_MS = 45_000

/**
 * How often the service looks for registrations that timed out or whose channel closed (ms); at
 * most a quarter of the registration timeout. A map walk with one hash lookup per registration.
 */
export const DEFAULT_RELAY_SWEEP_INTERVAL_MS = 1_000

/**
 * Registration attempts (successful or not) one identity may make per window; a reconnecting
 * session makes one per attempt, with backoff, so this only bites a misbehaving member.
 */
export const DEFAULT_RELAY_REGISTRATIONS_PER_WINDOW = 20

/** The window of the per-member registration rate limit (ms). */
export const DEFAULT_RELAY_RATE_WINDOW_MS = 60_000

/** Live registrations per relay service (bounds its map and its `forward_to_` workers). */
export const DEFAULT_RELAY_MAX_REGISTRATIONS = 4096

/** Live registrations (distinct names) one identity may hold at once. */
export const DEFAULT_RELAY_MAX_NAMES_PER_MEMBER = 16

/**
 * Return routes a `forward_to_` worker remembers (most recent first out): the owner may answer
 * only along a route that sent something through the registration.
 */
export const DEFAULT_RELAY_MAX_RETURN_ROUTES = 1024

/** Channel decryptors a member's relay receiver remembers as reachable through the registration. */
export const DEFAULT_RELAY_MAX_CHANNELS = 1024

/** The relay session pings the service this often (ms). */
export const DEFAULT_RELAY_PING_INTERVAL_MS = 10_000

/** Consecutive unanswered pings after which the session tears the path down and rebuilds it. */
export const DEFAULT_RELAY_MAX_MISSED_PINGS = 3

/** How long the session waits for a registration or ping response (ms). */
export const DEFAULT_RELAY_REQUEST_TIMEOUT_MS = 5_000

/** Where relay deliveries may go on the member node: its secure-channel listener. */
export const DEFAULT_RELAY_LISTENER_ADDRESS = 'api'
