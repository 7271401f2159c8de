/**
 * Resource kind `tcp-listener`: a TCP listener of the node's TCP transport. Spec
 * `{ address: "host:port" }`; port 0 picks a free port, and the resolved port is what gets
 * recorded, so the node listens on the same port after a restart. Its name defaults to the
 * bound address. Counters: connections it accepted that are open now, and their bytes.
 */

import { formatHostPort, parseHostPort } from '../../../transports/tcp/host-port.js'
import { tcpOf } from '../../defaults.js'
import { OckamError } from '../../errors.js'
import type { ResourceHandle, ResourceKind } from '../types.js'

export const TCP_LISTENER_KIND = 'tcp-listener'

export interface TcpListenerSpec {
  /** `host:port`, IPv6 in brackets. */
  readonly address: string
}

function invalid(message: string): OckamError {
  return new OckamError('OCKAM_ERR_RESOURCE_INVALID', message, {
    hint: 'a tcp-listener spec is { address: "HOST:PORT" }, e.g. 127.0.0.1:4000',
  })
}

export function tcpListenerKind(): ResourceKind<TcpListenerSpec> {
  return {
    kind: TCP_LISTENER_KIND,
    restoreOrder: 0,
    validate(spec) {
      if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
        throw invalid('a tcp-listener spec must be an object')
      const keys = Object.keys(spec)
      if (keys.length !== 1 || keys[0] !== 'address')
        throw invalid('a tcp-listener spec has exactly one field, "address"')
      const { address } = spec as { address: unknown }
      if (typeof address !== 'string' || address.length > 300) throw invalid('"address" must be a HOST:PORT string')
      try {
        return { address: formatHostPort(parseHostPort(address)) }
      } catch (cause) {
        throw invalid(`"${address.slice(0, 64)}" is not HOST:PORT: ${(cause as Error).message}`)
      }
    },
    defaultName(spec) {
      return spec.address
    },
    satisfies(desired, recorded) {
      const want = parseHostPort(desired.address)
      const have = parseHostPort(recorded.address)
      return want.host === have.host && (want.port === 0 || want.port === have.port)
    },
    async start(host, spec): Promise<ResourceHandle<TcpListenerSpec>> {
      const tcp = tcpOf(host.node)
      const bound = await tcp.listen(spec.address)
      // Record the port we got (port 0), but keep the host as written: 'localhost' stays 'localhost'.
      const requested = parseHostPort(spec.address)
      const resolved = { address: formatHostPort({ host: requested.host, port: parseHostPort(bound).port }) }
      let stopped = false
      const mine = () => tcp.connections().filter((c) => c.listener === bound)
      return {
        spec: resolved,
        summary: () => ({ address: bound }),
        counters() {
          const open = mine()
          let bytesIn = 0
          let bytesOut = 0
          for (const c of open) {
            bytesIn += c.bytesIn
            bytesOut += c.bytesOut
          }
          return { connections: open.length, bytesIn, bytesOut }
        },
        async stop() {
          if (stopped) return
          stopped = true
          await tcp.unlisten(bound)
        },
      }
    },
  }
}
