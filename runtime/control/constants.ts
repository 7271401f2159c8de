/**
 * Limits of the control API: the local JSON protocol between the CLI and its nodes over an
 * owner-only Unix socket (see protocol.ts and THREATS.md).
 */

/**
 * Version of the framing and of the two methods every version keeps (`hello`, `shutdown`).
 * Everything else is checked against the package version: a CLI of another version is told
 * to restart the node.
 */
export const CONTROL_PROTOCOL_VERSION = 1

/** Largest request line the node reads, in bytes (specs are small; 64 KiB leaves room). */
export const DEFAULT_CONTROL_MAX_REQUEST_BYTES = 64 * 1024

/** Largest response line the CLI reads, in bytes (`status` of a busy node stays far below). */
export const DEFAULT_CONTROL_MAX_RESPONSE_BYTES = 4 * 1024 * 1024

/** How long the CLI waits for a node to answer one request, in ms. */
export const DEFAULT_CONTROL_REQUEST_TIMEOUT_MS = 15_000

/** A control connection that sends nothing for this long is closed by the node, in ms. */
export const DEFAULT_CONTROL_IDLE_TIMEOUT_MS = 30_000

/** Control connections a node serves at once; more are closed at accept. */
export const DEFAULT_CONTROL_MAX_CONNECTIONS = 32

/**
 * Socket paths must stay under this many bytes: sun_path holds 108 on Linux and 104 on macOS,
 * and Node truncates a longer path silently, so the node would listen somewhere else.
 */
export const MAX_SOCKET_PATH_BYTES = 100

/** Longest method name and CLI version string a request may carry. */
export const MAX_CONTROL_TOKEN_CHARS = 64
