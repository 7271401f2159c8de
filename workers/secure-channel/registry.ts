/**
 * Per-node bookkeeping shared by every channel of a node (keyed by its router, so nothing
 * outlives the node): the set of channels, for `listSecureChannels`, and one rate-limited log.
 */
import type { OckamError } from '../../runtime/errors.js'
import type { Ingress } from '../../runtime/message.js'
import { RateLimitedLog } from '../../runtime/rate-limited-log.js'
import type { Router } from '../../runtime/router.js'
import type { SecureChannelInfo } from './types.js'

export interface RegisteredChannel {
  info(): SecureChannelInfo
  /** Closes the channel if its peer is `identifier`; true if it did. */
  refusePeer(identifier: string, error: OckamError): boolean
  /** Its frames travel inside another channel or through a relay (not straight onto a TCP connection). */
  readonly nested: boolean
  /** Closes with a sealed close (reason `shutdown`); resolves once the close frame was handed on. */
  shutdown(): Promise<void>
  /** The encryptor address: the `channel` of the ingress its messages carry. */
  readonly channelName: string
  /** The ingress its messages carry now (attributes valid now); undefined unless open. */
  peerIngress(): Ingress | undefined
}

/** A peer's credentials changed on an open channel: they expired, or a refresh was accepted. */
export interface PeerCredentialsChange {
  /** The channel's name in ingress metadata (its encryptor address). */
  readonly channel: string
  readonly identifier: string
  readonly cause: 'expired' | 'refreshed'
}

const channels = new WeakMap<Router, Set<RegisteredChannel>>()
const byName = new WeakMap<Router, Map<string, RegisteredChannel>>()
const credentialListeners = new WeakMap<Router, Set<(change: PeerCredentialsChange) => void>>()
const logs = new WeakMap<Router, RateLimitedLog>()

export function registerChannel(router: Router, channel: RegisteredChannel): void {
  let set = channels.get(router)
  if (set === undefined) {
    set = new Set()
    channels.set(router, set)
  }
  set.add(channel)
  let names = byName.get(router)
  if (names === undefined) {
    names = new Map()
    byName.set(router, names)
  }
  names.set(channel.channelName, channel)
}

export function unregisterChannel(router: Router, channel: RegisteredChannel): void {
  channels.get(router)?.delete(channel)
  const names = byName.get(router)
  if (names?.get(channel.channelName) === channel) names.delete(channel.channelName)
}

/** The ingress the named channel's messages carry now; undefined once it is closed (or unknown). */
export function channelIngress(router: Router, channel: string): Ingress | undefined {
  return byName.get(router)?.get(channel)?.peerIngress()
}

/** Calls `listener` whenever a peer's credentials change on an open channel of the node; returns the unsubscribe. */
export function onPeerCredentialsChanged(
  router: Router,
  listener: (change: PeerCredentialsChange) => void,
): () => void {
  let set = credentialListeners.get(router)
  if (set === undefined) {
    set = new Set()
    credentialListeners.set(router, set)
  }
  set.add(listener)
  return () => void set.delete(listener)
}

export function peerCredentialsChanged(router: Router, change: PeerCredentialsChange): void {
  for (const listener of [...(credentialListeners.get(router) ?? [])]) {
    try {
      listener(change)
    } catch (error) {
      router.log.warn({ err: error, channel: change.channel }, 'a peer-credentials listener failed')
    }
  }
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

/**
 * Closes the node's nested channels (inside another channel or through a relay), each with a
 * sealed close, while the paths under them still run, and waits for the close frames to be
 * handed on (at most `timeoutMs`). For a graceful stop: peers learn at once, not from pings.
 */
export async function shutdownNestedChannels(router: Router, timeoutMs: number): Promise<number> {
  const nested = [...(channels.get(router) ?? [])].filter((channel) => channel.nested)
  if (nested.length === 0) return 0
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    Promise.allSettled(nested.map((channel) => channel.shutdown())),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    }),
  ])
  clearTimeout(timer)
  return nested.length
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
