/**
 * Portal protocol constants and the limits of outlets and inlets, each with its unit and why.
 * LIMITS.md lists them; keep the two in step.
 */

/** Version byte carried in `open` and `opened`; a peer with another version is refused with a reset. */
export const PORTAL_PROTOCOL_VERSION = 1

/** Bytes in front of the payload of a `data` message: type (1) and sequence number (4). */
export const PORTAL_DATA_HEADER_BYTES = 5

/**
 * Credit units a `data` message costs on top of its payload bytes. A receiver that holds a
 * write for a slow socket holds a few hundred bytes of bookkeeping per message besides the
 * payload, so credit counted in payload bytes alone would let a peer sending 1-byte messages
 * hold ~250× its window. Part of the protocol: both ends must use the same number.
 */
export const PORTAL_DATA_COST_OVERHEAD = 256

/** Largest plaintext of one secure-channel frame: a Noise message (65,535 bytes) minus its 16-byte tag. */
export const CHANNEL_MAX_PLAINTEXT_BYTES = 65_519

/**
 * Bytes of one channel plaintext kept for what goes around a portal payload: the plaintext
 * type byte and the inner onward and return routes (two hops of ~20-byte portal addresses
 * need ~50; 512 leaves room for a few more hops).
 */
export const CHANNEL_ROUTE_ALLOWANCE_BYTES = 512

/**
 * The largest payload chunk whose `data` message still fits one secure-channel frame without
 * fragmenting: 65,519 − 512 − 5 = 65,002 bytes. The "64 KiB" point of the chunk-size sweep.
 */
export const MAX_PORTAL_CHUNK_IN_CHANNEL_BYTES =
  CHANNEL_MAX_PLAINTEXT_BYTES - CHANNEL_ROUTE_ALLOWANCE_BYTES - PORTAL_DATA_HEADER_BYTES

/**
 * Payload bytes per `data` message by default: the largest that fits one secure-channel frame.
 * bench/portal.bench.ts, chunk sweep through inlet → outlet over one TCP hop (two processes,
 * 5 interleaved rounds, two runs): 16 KiB was clearly worse (0.92× the MB/s of 65,002 B at
 * 1.10× the CPU per GB, both runs); 32 and 48 KiB were within the machine's noise of 65,002 B
 * (0.98–1.12× MB/s, 0.95–1.01× CPU). The largest wins ties: fewest messages, hence fewest
 * per-message costs (an AEAD setup each inside a channel). Reads are coalesced up to this size
 * within one event-loop turn.
 */
export const DEFAULT_PORTAL_MAX_CHUNK_BYTES = MAX_PORTAL_CHUNK_IN_CHANNEL_BYTES

/** Smallest accepted `maxChunkBytes` option (bytes). */
export const MIN_PORTAL_CHUNK_BYTES = 1024

/**
 * Credit (bytes plus PORTAL_DATA_COST_OVERHEAD per message) one portal direction may have
 * outstanding: what a receiver holds at most for one slow socket. Window sweep (bench, bulk
 * upload, against 1 MiB): 128 KiB 0.85×, 256 KiB 0.96× (0.73× in an earlier run), 512 KiB 0.91×,
 * 2 MiB 0.96×: loopback saturates from 512 KiB on. 1 MiB also keeps one portal at ~20 MB/s
 * across a 50 ms path (the rate is at most window / RTT). The node-wide pool bounds the sum of
 * all windows, so a large window costs only while it is in use. A portal does not start with
 * it: its first grant is what an idle one keeps, and its effective window doubles each time the
 * sender uses it up (slow start, ~7 doublings from 8 KiB), back to the start after idleness.
 */
export const DEFAULT_PORTAL_WINDOW_BYTES = 1024 * 1024

/**
 * A receiver grants credit back in batches of at least this fraction of its window (a quarter):
 * one `credit` message per ~64 KiB consumed instead of one per chunk.
 */
export const PORTAL_GRANT_THRESHOLD_DIVISOR = 4

/**
 * Smallest grant worth sending when the node-wide pool is short (bytes): below this, the
 * receiver waits for the pool instead (a grant must cover at least one small message).
 */
export const PORTAL_MIN_GRANT_BYTES = 4 * 1024

/**
 * Smallest window accepted (bytes). With a sender that waits for credit rather than cut a piece
 * under PORTAL_MIN_PARTIAL_SEND_BYTES, a grant is always due once the receiver flushes, as long
 * as the window exceeds that piece by more than the grant threshold: 32 KiB does, with room.
 */
export const MIN_PORTAL_WINDOW_BYTES = 32 * 1024

/**
 * A sender that has credit for less than this (bytes) and more data pending waits for the grant
 * that is on its way (it spent credit since the last one) instead of sending a sliver: each
 * message costs the same per-message work whatever its size. Measured: without it, a 256 KiB
 * window cut a third of the messages of a bulk upload into slivers.
 */
export const PORTAL_MIN_PARTIAL_SEND_BYTES = 16 * 1024

/**
 * Node-wide credit all portal receivers on one node may have granted or hold unflushed, in
 * bytes (the shared CreditPool; option `poolBytes`). The sum of every window is held under it,
 * so 10,000 portals cannot each reserve a full window: past half of it grants are capped at a
 * fair share (limit / receivers), and past all of it they wait for credit that flushes or comes
 * back from idle senders. Its `held` figure is the portal buffered-bytes gauge.
 */
export const DEFAULT_PORTAL_CREDIT_POOL_BYTES = 128 * 1024 * 1024

/**
 * Credit (bytes) a sender keeps when it gives the rest back after being idle, and the first
 * grant of every new portal (at least PORTAL_MIN_GRANT_BYTES): enough for a few small messages
 * without waiting a round trip; bigger bursts grow the window by slow start. 10,000 idle (or
 * just opened) portals keep 80 MiB of reservations, under the pool. Measured (bench/portal-idle):
 * starting new portals at a full window instead filled the 128 MiB pool with unused credit, and
 * a burst of opens waited for the sweep to bring it back.
 */
export const DEFAULT_PORTAL_IDLE_CREDIT_KEEP_BYTES = 8 * 1024

/**
 * Period of the per-inlet/outlet sweep (ms): gives idle senders' spare credit back (a sender is
 * idle when it sent nothing for a whole period) and resets portals whose first hop (the TCP
 * connection or channel they ran over) has gone. One timer per inlet or outlet, not per portal.
 */
export const DEFAULT_PORTAL_SWEEP_INTERVAL_MS = 1_000

/** Milliseconds an inlet waits for `opened` (including for the route itself) before it resets the client. */
export const DEFAULT_PORTAL_OPEN_TIMEOUT_MS = 10_000

/** Milliseconds an outlet waits for its TCP target to accept before it resets the portal. */
export const DEFAULT_OUTLET_CONNECT_TIMEOUT_MS = 10_000

/**
 * Milliseconds a closed portal keeps its address, ignoring what arrives, so credit or reset
 * messages that crossed the close in flight are not counted as undeliverable.
 */
export const DEFAULT_PORTAL_LINGER_MS = 2_000

/**
 * Portals one peer (one authenticated identity; one connection for unauthenticated TCP) may
 * have open on an outlet. An inlet's connections all come from one peer (its session), so this
 * is also how many clients one inlet can have through this outlet; it leaves the other peers
 * room under DEFAULT_OUTLET_MAX_PORTALS. Memory is bounded by the credit pool, not by this.
 */
export const DEFAULT_OUTLET_MAX_PORTALS_PER_PEER = 4_096

/** Portals open on one outlet, all peers together; more are refused with a reset. */
export const DEFAULT_OUTLET_MAX_PORTALS = 10_000

/** Client connections open on one inlet; more are reset at accept. */
export const DEFAULT_INLET_MAX_PORTALS = 10_000

/** The outlet service's address unless told otherwise (what `RELAY:SERVICE` defaults SERVICE to). */
export const DEFAULT_OUTLET_ADDRESS = 'outlet'

/**
 * Bytes of a full socket read (libuv reads at most 64 KiB at a time). A shorter read means the
 * socket had nothing more for now, so a partial chunk is sent at once instead of at the end of
 * the loop turn: nothing will join it, and the wait cost request/response traffic (1-byte round
 * trips, pgbench) a loop turn at each end.
 */
export const PORTAL_FULL_READ_BYTES = 64 * 1024

/**
 * Milliseconds an open may wait for `opened` on a route that is up before the inlet reports it
 * as unanswered to its route session, which then probes the route. On a live route `opened`
 * comes one round trip plus the outlet's connect to its target later: milliseconds on a LAN, a
 * few hundred across continents. A dead far end behind a live first hop (the outlet node
 * killed, its machine gone, or restarted with new channel keys) answers nothing, and without
 * this the inlet would learn it from three missed pings (25–30 s). A slow target only costs a
 * probe that succeeds (one echo round trip, at most one per DEFAULT_ROUTE_SESSION_PROBE_QUIET_MS).
 */
export const DEFAULT_PORTAL_OPEN_SLOW_MS = 1_000

/**
 * Silence after data, in the same spirit (unit: ms): when the inlet's open portals sent bytes
 * during one such interval and heard nothing at all from their outlet portals (data, credit,
 * end) from its start to the end of the next, the inlet tells its route session, which probes.
 * This is how an inlet whose clients keep their connections (a pooled database client) finds a
 * far end that died behind a live first hop without waiting for missed pings. A far end that is
 * merely slow (a long query) costs one answered probe: silence is reported once per read.
 */
export const DEFAULT_PORTAL_SILENCE_CHECK_MS = DEFAULT_PORTAL_OPEN_SLOW_MS

/**
 * Milliseconds a probe of an inlet's route (one echo round trip along every hop, asked for when
 * an open goes unanswered) may take; past it the route is torn down and rebuilt at once, as
 * after DEFAULT_ROUTE_SESSION_MAX_MISSED_PINGS missed pings. A probe is only sent when an open
 * is already overdue, so the echo is the second piece of evidence, not the first; 2 s is about
 * ten cross-continent round trips, and an echo waits behind at most the channel's queued frames.
 */
export const DEFAULT_ROUTE_SESSION_PROBE_TIMEOUT_MS = 2_000

/**
 * Milliseconds after an answered probe during which further requests for a probe wait, then
 * run as one: a burst of slow opens (a slow target, a thousand clients at once) costs one echo
 * per period, while a route that dies just after a good probe is still checked within it.
 */
export const DEFAULT_ROUTE_SESSION_PROBE_QUIET_MS = 1_000
