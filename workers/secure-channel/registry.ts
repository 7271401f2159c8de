/**
 * Per-node bookkeeping shared by every channel of a node (keyed by its router, so nothing
 * outlives the node): the set of channels, for `listSecureChannels`, and one rate-limited log.
 */
import { RateLimitedLog } from '../../runtime/rate-limited-log.js'
import type { Router } from '../../runtime/router.js'
import type { SecureChannelInfo } from './types.js'

export interface RegisteredChannel {
  info(): SecureChannelInfo
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

/** One log line per reason per window: a hostile peer repeating a failure cannot flood the log. */
export function channelLog(router: Router): RateLimitedLog {
  let log = logs.get(router)
  if (log === undefined) {
    log = new RateLimitedLog(router.log)
    logs.set(router, log)
  }
  return log
}
