/**
 * Resource kind `tcp-outlet` (DESIGN §7): the service `from` (default `outlet`) that, for each
 * portal an inlet opens to it, connects to `to` and carries the stream. Spec
 * `{ to, from?, allow?, authorized? }`; who may open portals is decided by portal-access.ts
 * (by default this state folder's identities and, in a project, its members).
 */

import { formatHostPort, parseHostPort } from '../../../transports/tcp/host-port.js'
import { DEFAULT_OUTLET_ADDRESS, startTcpOutlet } from '../../../workers/portal/index.js'
import { OckamError } from '../../errors.js'
import { revokedIdentities } from '../../project/revoked-identities.js'
import type { ResourceHandle, ResourceKind } from '../types.js'
import { checkAllow, portalAccess, recheckOnPeerCredentials } from './portal-access.js'
import { hostPortOrPort, portalCounters } from './portal-counters.js'
import { checkAuthorized, nodeTrust } from './secure-channel-trust.js'

export const TCP_OUTLET_KIND = 'tcp-outlet'

export interface TcpOutletSpec {
  /** `HOST:PORT` of the service the outlet connects to. */
  readonly to: string
  /** The outlet's service address on the node; default `outlet`. */
  readonly from: string
  /** Policy expression over the peer's attributes. */
  readonly allow?: string
  /** Identifiers admitted (pinned). */
  readonly authorized?: readonly string[]
}

const ADDRESS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/

function invalid(message: string): OckamError {
  return new OckamError('OCKAM_ERR_RESOURCE_INVALID', message, {
    hint: 'a tcp-outlet spec is { to: "HOST:PORT" or a port, from?: "outlet", allow?: "(= subject.role \\"db\\")", authorized?: ["I…"] }',
  })
}

export function tcpOutletKind(): ResourceKind<TcpOutletSpec> {
  return {
    kind: TCP_OUTLET_KIND,
    restoreOrder: 1,
    validate(spec) {
      if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalid('the spec must be an object')
      const { to, from, allow, authorized, ...rest } = spec as Record<string, unknown>
      if (Object.keys(rest).length > 0) throw invalid(`unknown fields: ${Object.keys(rest).join(', ').slice(0, 100)}`)
      if (typeof to !== 'string' || to.length > 300) throw invalid('"to" must be HOST:PORT or a port')
      let target: string
      try {
        target = formatHostPort(parseHostPort(hostPortOrPort(to)))
      } catch (cause) {
        throw invalid(`"to": ${(cause as Error).message}`)
      }
      if (parseHostPort(target).port === 0) throw invalid('"to" needs a port other than 0')
      const address = from ?? DEFAULT_OUTLET_ADDRESS
      if (typeof address !== 'string' || !ADDRESS.test(address)) {
        throw invalid('"from" must be a service address (letters, digits, _ . -)')
      }
      const ids = checkAuthorized(authorized, 'tcp-outlet')
      const text = checkAllow(allow, 'tcp-outlet')
      return {
        to: target,
        from: address,
        ...(text === undefined ? {} : { allow: text }),
        ...(ids === undefined ? {} : { authorized: ids }),
      }
    },
    defaultName: (spec) => spec.from,
    satisfies: (desired, recorded) => JSON.stringify(desired) === JSON.stringify(recorded),
    async start(host, spec): Promise<ResourceHandle<TcpOutletSpec>> {
      const trust = await nodeTrust(host)
      const access = portalAccess(
        host,
        trust.identities,
        { name: host.resourceName ?? spec.from, type: TCP_OUTLET_KIND },
        spec,
      )
      const outlet = await startTcpOutlet(host.node, {
        target: spec.to,
        address: spec.from,
        allow: (message) => access.allows(message),
      })
      // A revoked peer's portals are reset while its channel is still open, so the reset reaches it.
      const unwatch = revokedIdentities(host.node).onRevoked(() => outlet.recheck())
      // An expired or refreshed credential is judged again too, against what the channel holds now.
      const unwatchCredentials = recheckOnPeerCredentials(host.node, outlet, access, host.log, `outlet ${spec.from}`)
      return {
        spec,
        summary: () => ({ address: spec.from, to: spec.to, admits: access.describe }),
        counters: () => portalCounters(outlet.stats()),
        stop: () => {
          unwatch()
          unwatchCredentials()
          return outlet.stop()
        },
      }
    },
  }
}
