/**
 * Routes with `/secure/ADDR` segments: everything up to a `/secure/ADDR` is the way to a
 * secure-channel listener; a channel is opened there and the rest of the route travels inside
 * it. A second `/secure/ADDR` opens a channel inside the first (nesting), and so on. What follows
 * the last one is the route inside the innermost channel.
 */

import {
  createSecureChannel,
  type SecureChannel,
  type SecureChannelHost,
  type SecureChannelIdentity,
  type TrustPolicy,
} from '../../../workers/secure-channel/index.js'
import { local } from '../../address.js'
import { throwIfAborted } from '../../errors.js'
import { type MultiaddrResolvers, type MultiaddrSegment, parseMultiaddr, toRoute } from '../../multiaddr.js'
import type { Route } from '../../route.js'

export interface OpenSecureRouteOptions {
  readonly identity: SecureChannelIdentity
  /** Whom each channel of the route accepts as its peer. */
  readonly trust: TrustPolicy
  /** Per channel handshake (ms). */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
  readonly resolvers?: MultiaddrResolvers
}

export interface OpenedSecureRoute {
  /** The route to send along: through the innermost channel, then what followed its `/secure`. */
  readonly route: Route
  /** Outermost first. */
  readonly channels: readonly SecureChannel[]
  /** Closes the channels, innermost first (each sends its close). */
  close(): Promise<void>
}

/** Splits segments at each `/secure`: the parts before each channel's listener, then the tail. */
export function splitAtSecure(segments: readonly MultiaddrSegment[]): {
  readonly legs: readonly { readonly before: readonly MultiaddrSegment[]; readonly listener: string }[]
  readonly tail: readonly MultiaddrSegment[]
} {
  const legs: { before: MultiaddrSegment[]; listener: string }[] = []
  let current: MultiaddrSegment[] = []
  for (const segment of segments) {
    if (segment.kind === 'secure') {
      legs.push({ before: current, listener: segment.address })
      current = []
    } else current.push(segment)
  }
  return { legs, tail: current }
}

export function hasSecureSegment(segments: readonly MultiaddrSegment[]): boolean {
  return segments.some((segment) => segment.kind === 'secure')
}

function plain(segments: readonly MultiaddrSegment[], resolvers: MultiaddrResolvers | undefined): Route {
  return segments.length === 0 ? [] : toRoute(segments, resolvers)
}

/** Opens the channels a route names and returns the route through them. A failure closes what was opened. */
export async function openSecureRoute(
  host: SecureChannelHost,
  to: string | readonly MultiaddrSegment[],
  options: OpenSecureRouteOptions,
): Promise<OpenedSecureRoute> {
  const segments = typeof to === 'string' ? parseMultiaddr(to) : to
  const { legs, tail } = splitAtSecure(segments)
  const channels: SecureChannel[] = []
  const close = async () => {
    for (const channel of [...channels].reverse()) await channel.close().catch(() => {})
  }
  try {
    for (const leg of legs) {
      throwIfAborted(options.signal, 'opening a secure route')
      const outer = channels.at(-1)
      const route: Route = [
        ...(outer === undefined ? [] : [outer.address]),
        ...plain(leg.before, options.resolvers),
        local(leg.listener),
      ]
      channels.push(
        await createSecureChannel(host, route, {
          identity: options.identity,
          trust: options.trust,
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        }),
      )
    }
    const inner = channels.at(-1)
    const route: Route = [...(inner === undefined ? [] : [inner.address]), ...plain(tail, options.resolvers)]
    return { route, channels, close }
  } catch (error) {
    await close()
    throw error
  }
}
