/**
 * Per-node bookkeeping shared by every channel of a node (keyed by its router, so nothing
 * outlives the node): the set of channels, for `listSecureChannels`, and one rate-limited log.
 */
import type { OckamError } from '../../runtime/errors.js'
import { RateLimitedLog } from '../../runtime/rate-limited-log.js'
import type { Router } from '../../runtime/router.js'
import type { SecureChannelInfo } from './types.js'

export interface RegisteredChannel {
  info(): SecureChannelInfo
  /** Closes the channel if its peer is `identifier`; true if it did. */
  refusePeer(identifier: string, error: OckamError): boolean
}

const channels = new WeakMap<Router, Set<RegisteredChannel>>()
const logs = new WeakMap<Router, RateLimitedLog>()

export function registerChannel(router: Router, channel: RegisteredChannel): void {
  let set = channels.get(router)
  if (set === undefined) {
    set = new Set()
    channels.set(router, set)
  }
  set.add(channel)
}

export function unregisterChannel(router: Router, channel: RegisteredChannel): void {
  channels.get(router)?.delete(channel)
}

export function channelsOf(router: Router): SecureChannelInfo[] {
  return [...(channels.get(router) ?? [])].map((channel) => channel.info())
}

/** Closes every channel of the node whose peer is `identifier`; returns how many. */
export function refuseChannelsOf(router: Router, identifier: string, error: OckamError): number {
  let closed = 0
  for (const channel of [...(channels.get(router) ?? [])]) if (channel.refusePeer(identifier, error)) closed++
  return closed
}

/** One log line per reason per window: a hostile peer repeating a failure cannot flood the log. */
export function channelLog(router: Router): RateLimitedLog {
  let log = logs.get(router)
  if (log === undefined) {
    log = new RateLimitedLog(router.log)
    logs.set(router, log)
  }
  return log
}
