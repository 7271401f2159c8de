/** TCP transport limits and timings; LIMITS.md explains each one. */

/** The wire protocol version byte each side sends first. */
export const WIRE_VERSION = 1

/** Bytes of the big-endian length prefix of each frame. */
export const FRAME_LENGTH_BYTES = 4

/**
 * Largest frame body accepted or sent, in bytes. The largest real payload is a secure-channel
 * frame: an 8-byte nonce plus a Noise message of at most 65,535 bytes; two routes of at most
 * 16 hops add a few KiB. 80 KiB covers that with room to spare and is far from megabytes, so a
 * hostile length prefix costs us nothing.
 */
export const DEFAULT_MAX_FRAME_BYTES = 80 * 1024

/** A frame whose first byte arrived must be complete within this many ms, or the connection closes. */
export const DEFAULT_FRAME_TIMEOUT_MS = 10_000

/** A heartbeat frame is sent when nothing else was sent for this many ms. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000

/** A connection on which nothing (not even a heartbeat) arrived for this many ms is closed. */
export const DEFAULT_IDLE_TIMEOUT_MS = 3 * DEFAULT_HEARTBEAT_INTERVAL_MS

/** Node-wide bytes held in partially received frames before readers pause. */
export const DEFAULT_BUFFER_BUDGET_BYTES = 64 * 1024 * 1024

/** Milliseconds to establish an outgoing connection. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/** Open inbound connections per listener; more are refused at accept. */
export const DEFAULT_MAX_INBOUND_CONNECTIONS = 10_000

/** Milliseconds a graceful close waits for the peer before destroying the socket. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 2_000

/** A connection worker's local address starts with this (`tcp-<n>-<random>`). */
export const TCP_CONNECTION_PREFIX = 'tcp-'
