/**
 * Limits of the runtime core, each with its default and why. LIMITS.md lists every limit of
 * the project; keep the two in step.
 */

/** Bytes in one address value. One length byte on the wire; names and host:port fit easily. */
export const DEFAULT_MAX_ADDRESS_BYTES = 255

/**
 * Hops in one route. Real routes are short (inlet → project → relay → channel → outlet is about
 * 8); 16 leaves room for nesting and bounds what a decoder accepts.
 */
export const DEFAULT_MAX_ROUTE_HOPS = 16

/**
 * Messages waiting in one worker's mailbox. A full mailbox makes senders wait (backpressure), so
 * this bounds memory per worker without dropping anything.
 */
export const DEFAULT_MAILBOX_CAPACITY = 256

/** Milliseconds a request waits for its reply unless told otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
