/** Limits and defaults of background nodes (see LIMITS.md). */

/** The node commands use when none is named and no default was chosen. */
export const DEFAULT_NODE_NAME = 'default'

/** Node names: lowercase, digits, `_` and `-`, 1-63 characters (as in ockam.config.ts). */
export const NODE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/

/** Where a node created without --tcp-listener-address listens: loopback, any free port. */
export const DEFAULT_NODE_TCP_LISTENER = '127.0.0.1:0'

/** How long `node create`/`node start` wait for the node process to be ready, in ms. */
export const DEFAULT_NODE_READY_TIMEOUT_MS = 20_000

/**
 * How long `node stop` waits for a node to drain and exit before it sends SIGKILL (after
 * confirming over the control socket that the pid is still that node), in ms.
 */
export const DEFAULT_NODE_STOP_TIMEOUT_MS = 10_000

/** How long to wait for a process to disappear after SIGKILL, in ms. */
export const DEFAULT_NODE_KILL_WAIT_MS = 3_000

/** Interval at which the CLI checks whether a stopping node's process is gone, in ms. */
export const DEFAULT_NODE_EXIT_POLL_MS = 25

/** How long a liveness probe (`hello`) may take before a node is shown as unresponsive, in ms. */
export const DEFAULT_NODE_PROBE_TIMEOUT_MS = 3_000

/** A node's log file is rotated when it grows past this many bytes. */
export const DEFAULT_NODE_LOG_MAX_BYTES = 10 * 1024 * 1024

/** Rotated log files kept beside the current one (node.log.1 … node.log.N). */
export const DEFAULT_NODE_LOG_ROTATED_FILES = 2

/** Lines `node logs` prints when --lines is not given. */
export const DEFAULT_NODE_LOG_TAIL_LINES = 100

/** Largest pid file read, in bytes (it holds a few numbers). */
export const MAX_PID_FILE_BYTES = 1024

/** Folder of the state folder that holds one folder per node (logs, pid file). */
export const NODES_DIR_NAME = 'nodes'
