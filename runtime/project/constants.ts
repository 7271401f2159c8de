/**
 * Defaults of the per-node project services of a member node (DESIGN §6, §12): credential
 * renewal and the revocation session. Everything a test shortens is an option of the service.
 */

/**
 * When a node renews its credential, as a fraction of the credential's lifetime (0.4: 6 minutes
 * into a 15-minute credential). Before half-life, so that every open channel, which re-presents
 * at its own half-life, finds the fresh credential already stored.
 */
export const DEFAULT_CREDENTIAL_RENEW_FRACTION = 0.4

/** Earliest renewal after a successful one, in ms: a clock far off the authority's cannot make a loop. */
export const MIN_CREDENTIAL_RENEW_DELAY_MS = 1_000

/** Handshake of the channel a project service opens to the project (ms). */
export const DEFAULT_PROJECT_SERVICE_CHANNEL_TIMEOUT_MS = 10_000

/** One credential request to the authority (ms). */
export const DEFAULT_CREDENTIAL_REQUEST_TIMEOUT_MS = 10_000

/** First backoff ceiling while the project is unreachable (ms); doubles per failure. */
export const DEFAULT_PROJECT_SERVICE_BACKOFF_INITIAL_MS = 500

/** Largest backoff ceiling while the project is unreachable (ms). */
export const DEFAULT_PROJECT_SERVICE_BACKOFF_MAX_MS = 30_000

/**
 * Interval of the revocation session's liveness ping to the project (ms): a subscription over
 * a connection that died without a FIN/RST is noticed after this times the allowed misses.
 */
export const DEFAULT_REVOCATION_PING_INTERVAL_MS = 15_000

/** Unanswered pings in a row after which the revocation session reconnects. */
export const DEFAULT_REVOCATION_MAX_MISSED_PINGS = 2
