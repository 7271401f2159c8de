/**
 * Counter and gauge names of the secure channel (they feed `status` and tests; METRICS in the
 * report). Counters only go up; gauges are adjusted by `adjustGauge`.
 */
import type { Counters } from '../../runtime/diagnostics.js'

export const METRICS = {
  /** Handshakes begun (both roles). */
  handshakesStarted: 'secure_channel.handshakes.started',
  handshakesCompleted: 'secure_channel.handshakes.completed',
  handshakesFailed: 'secure_channel.handshakes.failed',
  handshakesTimedOut: 'secure_channel.handshakes.timed_out',
  /** Message 1 dropped by a listener at a half-open limit (per listener or per path). */
  halfOpenRefused: 'secure_channel.handshakes.half_open_refused',
  /** Message 1 dropped by a listener because it does not parse (wrong length, version, suite). */
  message1Malformed: 'secure_channel.handshakes.message1_malformed',
  /** Gauge: responder handshakes half-open on this node's listeners. */
  halfOpen: 'secure_channel.half_open',
  /** Gauge: handshakes in progress on this node (both roles). */
  handshaking: 'secure_channel.handshaking',
  /** Gauge: channels open on this node. */
  channelsOpen: 'secure_channel.channels.open',
  channelsOpened: 'secure_channel.channels.opened',
  channelsClosed: 'secure_channel.channels.closed',
  /** Verification tasks submitted to the node's pool (or run inline when it has none). */
  poolTasks: 'secure_channel.pool_tasks',
  /** Calls made to the vault's handshake operations. */
  vaultCalls: 'secure_channel.vault_calls',
  framesSent: 'secure_channel.frames.sent',
  framesReceived: 'secure_channel.frames.received',
  /** Prefix: one counter per refusal code, e.g. secure_channel.frames.rejected.OCKAM_ERR_NOISE_REPLAY. */
  framesRejected: 'secure_channel.frames.rejected',
  messagesDelivered: 'secure_channel.messages.delivered',
  /** Frames that carried a batch of small messages (PROTOCOL.md "Batching"), sent and received. */
  batchesSent: 'secure_channel.batches.sent',
  batchesReceived: 'secure_channel.batches.received',
  /** Sealed frames of nested channels sent on to the peer without a second seal. */
  passthroughSent: 'secure_channel.passthrough.sent',
  /** Passed-through frames accepted from the peer and delivered (marked sealed). */
  passthroughReceived: 'secure_channel.passthrough.received',
  /** Passed-through frames dropped: channel not open, another way in than its frames, not a payload. */
  passthroughRefused: 'secure_channel.passthrough.refused',
  messagesUndeliverable: 'secure_channel.messages.undeliverable',
  refreshSent: 'secure_channel.refresh.sent',
  refreshAccepted: 'secure_channel.refresh.accepted',
  refreshRefused: 'secure_channel.refresh.refused',
  /** Credentials presented by peers that yielded no attributes (forged, expired, foreign, another subject). */
  credentialsRefused: 'secure_channel.credentials.refused',
} as const

export function adjustGauge(counters: Counters, name: string, delta: number): void {
  counters.set(name, counters.get(name) + delta)
}
