/**
 * Resource kind `secure-channel`: a long-lived channel from this node along a route that names
 * one or more `/secure/ADDR` listeners (`secure-channel create --to ROUTE`). Spec
 * `{ to, identity?, authorized?, address }`. The channel's encryptor address is random and new
 * at every start, so the resource owns a stable local address (`address`, recorded on create,
 * `sc-<hex>` unless given) that forwards into the innermost channel: routes written against it
 * (`/service/sc-…/service/echo`) keep working after the node restarts and re-opens the channel.
 * Only this node's own workers may send into it (local ingress), like the encryptor itself.
 */
import { randomBytes } from 'node:crypto'
import { localOnly } from '../../access-control.js'
import { local } from '../../address.js'
import { OckamError } from '../../errors.js'
import { parseMultiaddr } from '../../multiaddr.js'
import type { ResourceHandle, ResourceKind } from '../types.js'
import { hasSecureSegment, openSecureRoute } from './secure-channel-route.js'
import { checkAuthorized, expectedPeer, nodeTrust } from './secure-channel-trust.js'

export const SECURE_CHANNEL_KIND = 'secure-channel'

/** How long a secure-channel resource waits for each handshake when it is created or restored (ms). */
export const DEFAULT_SECURE_CHANNEL_RESOURCE_TIMEOUT_MS = 10_000

export interface SecureChannelSpec {
  /** A multiaddr with at least one `/secure/ADDR`, e.g. `/ip4/127.0.0.1/tcp/4000/secure/api`. */
  readonly to: string
  /** Named identity that opens it; default the node's, else the folder's default. */
  readonly identity?: string
  /** Identifiers the peer of every channel on the route must have; default anyone. */
  readonly authorized?: readonly string[]
  /** The stable local address that forwards into the channel; made on create when absent. */
  readonly address?: string
}

const ADDRESS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/

function invalid(message: string): OckamError {
  return new OckamError('OCKAM_ERR_RESOURCE_INVALID', message, {
    hint: 'a secure-channel spec is { to: "/ip4/HOST/tcp/PORT/secure/api", identity?, authorized?: ["I…"], address? }',
  })
}

export function secureChannelKind(): ResourceKind<SecureChannelSpec> {
  return {
    kind: SECURE_CHANNEL_KIND,
    restoreOrder: 2,
    validate(spec) {
      if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalid('the spec must be an object')
      const { to, identity, authorized, address, ...rest } = spec as Record<string, unknown>
      if (Object.keys(rest).length > 0) throw invalid(`unknown fields: ${Object.keys(rest).join(', ').slice(0, 100)}`)
      if (typeof to !== 'string' || to.length > 2048) throw invalid('"to" must be a route')
      let segments: ReturnType<typeof parseMultiaddr>
      try {
        segments = parseMultiaddr(to)
      } catch (cause) {
        throw invalid(`"to": ${(cause as Error).message}`)
      }
      if (!hasSecureSegment(segments)) throw invalid('"to" must name a listener with /secure/ADDR')
      if (identity !== undefined && typeof identity !== 'string') throw invalid('"identity" must be an identity name')
      if (address !== undefined && (typeof address !== 'string' || !ADDRESS.test(address))) {
        throw invalid('"address" must be a local address name (letters, digits, _ . -)')
      }
      const ids = checkAuthorized(authorized, 'secure-channel')
      return {
        to,
        ...(identity === undefined ? {} : { identity }),
        ...(ids === undefined ? {} : { authorized: ids }),
        ...(address === undefined ? {} : { address }),
      }
    },
    defaultName: (spec) => spec.address ?? spec.to,
    satisfies: (desired, recorded) =>
      desired.to === recorded.to &&
      desired.identity === recorded.identity &&
      JSON.stringify(desired.authorized) === JSON.stringify(recorded.authorized) &&
      (desired.address === undefined || desired.address === recorded.address),
    async start(host, spec, signal): Promise<ResourceHandle<SecureChannelSpec>> {
      const trust = await nodeTrust(host)
      const material = await trust.material(spec.identity)
      const opened = await openSecureRoute(host.node, spec.to, {
        identity: material,
        trust: expectedPeer(spec.authorized),
        timeoutMs: DEFAULT_SECURE_CHANNEL_RESOURCE_TIMEOUT_MS,
        ...(signal === undefined ? {} : { signal }),
      })
      const inner = opened.channels.at(-1)
      if (inner === undefined) throw invalid('"to" must name a listener with /secure/ADDR')
      const address = spec.address ?? `sc-${randomBytes(8).toString('hex')}`
      let forwarded = 0
      try {
        await host.node.startWorker(
          local(address),
          {
            async handleMessage(ctx, message) {
              forwarded++
              await ctx.router.send({ ...message, onward: [inner.address, ...message.onward.slice(1)] })
            },
          },
          { incoming: localOnly },
        )
      } catch (error) {
        await opened.close()
        throw error
      }
      let stopped = false
      return {
        spec: { ...spec, address },
        summary: () => ({
          address,
          channel: inner.address.value,
          to: spec.to,
          identity: material.name,
          peer: inner.peerIdentifier,
          state: inner.isOpen ? 'open' : 'closed',
        }),
        counters: () => ({ forwarded, channels: opened.channels.filter((c) => c.isOpen).length }),
        async stop() {
          if (stopped) return
          stopped = true
          await host.node.router.stopWorker(local(address)).catch(() => {})
          await opened.close()
        },
      }
    },
  }
}
