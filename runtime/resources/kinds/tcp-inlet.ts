/**
 * Resource kind `tcp-inlet` (DESIGN §7): a TCP listener on this machine whose every accepted
 * connection is a portal to an outlet, all inside one route session (inlet-route.ts: for a relay
 * name, a channel to the project and an end-to-end channel through the relay to the outlet node).
 * Spec `{ from, to, allow?, authorized?, identity? }`. While the route is down new connections
 * wait for it within the portal open timeout and are then reset with a logged reason; the
 * session rebuilds the route by itself. An open left unanswered makes the session probe the
 * route at once, so an outlet node killed behind the relay is noticed in seconds, not after
 * three missed pings; opens still unanswered when the route goes are sent again on the next.
 */

import { formatHostPort, parseHostPort } from '../../../transports/tcp/host-port.js'
import { startTcpInlet } from '../../../workers/portal/index.js'
import { startRouteSession } from '../../../workers/portal/route-session.js'
import { OckamError } from '../../errors.js'
import { revokedIdentities } from '../../project/revoked-identities.js'
import type { ResourceHandle, ResourceKind } from '../types.js'
import { checkInletTarget, openInletRoute } from './inlet-route.js'
import { checkAllow, portalAccess, recheckOnPeerCredentials } from './portal-access.js'
import { hostPortOrPort, portalCounters } from './portal-counters.js'
import { checkAuthorized, nodeTrust } from './secure-channel-trust.js'

export const TCP_INLET_KIND = 'tcp-inlet'

/** Handshake of each channel of an inlet's route (ms). */
export const DEFAULT_INLET_CHANNEL_TIMEOUT_MS = 10_000
/**
 * Handshake of a channel inside another (the end-to-end one through the relay), in ms: a few
 * round trips through the project take tens of ms, and while the outlet node is away its relay
 * name drops the handshake silently, so this bounds how late the route notices it is back.
 */
export const DEFAULT_INLET_NESTED_CHANNEL_TIMEOUT_MS = 4_000
/** How long a new connection waits for the inlet's route before it is reset (ms). */
export const DEFAULT_INLET_ROUTE_WAIT_MS = 10_000

export interface TcpInletSpec {
  /** `HOST:PORT` to listen on (a bare port means 127.0.0.1). */
  readonly from: string
  /** `RELAY[:SERVICE]` or a route ending in the outlet's `/service/ADDR`. */
  readonly to: string
  readonly allow?: string
  readonly authorized?: readonly string[]
  /** Named identity the inlet presents; default the node's. */
  readonly identity?: string
}

function invalid(message: string): OckamError {
  return new OckamError('OCKAM_ERR_RESOURCE_INVALID', message, {
    hint: 'a tcp-inlet spec is { from: "127.0.0.1:15432" or a port, to: "postgres" or a route, allow?, authorized?: ["I…"] }',
  })
}

export function tcpInletKind(): ResourceKind<TcpInletSpec> {
  return {
    kind: TCP_INLET_KIND,
    restoreOrder: 4,
    validate(spec) {
      if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalid('the spec must be an object')
      const { from, to, allow, authorized, identity, ...rest } = spec as Record<string, unknown>
      if (Object.keys(rest).length > 0) throw invalid(`unknown fields: ${Object.keys(rest).join(', ').slice(0, 100)}`)
      if (typeof from !== 'string' || from.length > 300) throw invalid('"from" must be HOST:PORT or a port')
      let listen: string
      try {
        listen = formatHostPort(parseHostPort(hostPortOrPort(from)))
      } catch (cause) {
        throw invalid(`"from": ${(cause as Error).message}`)
      }
      if (typeof to !== 'string' || to.length === 0 || to.length > 2048)
        throw invalid('"to" must be a relay name or a route')
      try {
        checkInletTarget(to)
      } catch (cause) {
        throw invalid(`"to": ${(cause as Error).message}`)
      }
      if (identity !== undefined && typeof identity !== 'string') throw invalid('"identity" must be an identity name')
      const ids = checkAuthorized(authorized, 'tcp-inlet')
      const text = checkAllow(allow, 'tcp-inlet')
      return {
        from: listen,
        to,
        ...(text === undefined ? {} : { allow: text }),
        ...(ids === undefined ? {} : { authorized: ids }),
        ...(identity === undefined ? {} : { identity }),
      }
    },
    defaultName: (spec) => spec.from,
    satisfies: (desired, recorded) => {
      const want = parseHostPort(desired.from)
      const have = parseHostPort(recorded.from)
      return (
        want.host === have.host &&
        (want.port === 0 || want.port === have.port) &&
        JSON.stringify({ ...desired, from: '' }) === JSON.stringify({ ...recorded, from: '' })
      )
    },
    async start(host, spec): Promise<ResourceHandle<TcpInletSpec>> {
      const trust = await nodeTrust(host)
      const name = `${spec.from}→${spec.to}`
      const access = portalAccess(
        host,
        trust.identities,
        { name: host.resourceName ?? spec.from, type: TCP_INLET_KIND },
        spec,
      )
      let inlet: Awaited<ReturnType<typeof startTcpInlet>> | undefined
      const session = startRouteSession({
        name,
        context: host.node.context,
        log: host.log,
        open: (signal) =>
          openInletRoute(
            host,
            {
              to: spec.to,
              identity: spec.identity,
              authorized: spec.authorized,
              timeoutMs: DEFAULT_INLET_CHANNEL_TIMEOUT_MS,
              nestedTimeoutMs: DEFAULT_INLET_NESTED_CHANNEL_TIMEOUT_MS,
            },
            signal,
          ),
        onDown: (error) => inlet?.routeLost(error),
        heard: () => inlet?.heard() ?? 0,
      })
      try {
        inlet = await startTcpInlet(host.node, {
          listen: spec.from,
          name,
          to: () => session.route(DEFAULT_INLET_ROUTE_WAIT_MS),
          openTimeoutMs: DEFAULT_INLET_ROUTE_WAIT_MS + DEFAULT_INLET_CHANNEL_TIMEOUT_MS,
          allow: (message) => access.allows(message),
          onOpenUnanswered: (open) => {
            const what = open.timedOut ? 'timed out after' : 'went unanswered for'
            void session.probe(`an open ${what} ${open.waitedMs} ms`)
          },
          onSentIntoSilence: (silence) =>
            void session.probe(`data sent on open portals heard nothing back for ${silence.quietMs} ms`),
        })
      } catch (error) {
        await session.stop()
        throw error
      }
      const started = inlet
      const unwatch = revokedIdentities(host.node).onRevoked(() => started.recheck())
      const unwatchCredentials = recheckOnPeerCredentials(host.node, started, access, host.log, `inlet ${name}`)
      // Report how the route is at the end of its first attempt (`create` shows it); never fail on it.
      await new Promise<void>((resolve) => {
        if (session.state.status !== 'connecting') return resolve()
        const timer = setTimeout(done, DEFAULT_INLET_CHANNEL_TIMEOUT_MS)
        function done() {
          clearTimeout(timer)
          session.off('up', done)
          session.off('down', done)
          resolve()
        }
        session.on('up', done)
        session.on('down', done)
      })
      const bound = parseHostPort(started.address)
      const requested = parseHostPort(spec.from)
      return {
        spec: { ...spec, from: formatHostPort({ host: requested.host, port: bound.port }) },
        summary: () => {
          const state = session.state
          return {
            from: started.address,
            to: spec.to,
            route: state.status,
            ...(state.peer === undefined ? {} : { peer: state.peer }),
            ...(state.lastError === undefined || state.status === 'up' ? {} : { lastError: state.lastError.oneLine() }),
            admits: access.describe,
          }
        },
        counters: () => ({ ...portalCounters(started.stats()), routeUps: session.state.ups }),
        async stop() {
          unwatch()
          unwatchCredentials()
          await started.stop()
          await session.stop()
        },
      }
    },
  }
}
