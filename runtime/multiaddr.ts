/**
 * Ockam-style multiaddrs for routes on the command line (DESIGN §8):
 *
 *   /ip4/127.0.0.1/tcp/4000   /ip6/::1/tcp/4000   /dnsaddr/host/tcp/4000   (also /dns, /dns4, /dns6)
 *   /node/NAME   /service/ADDR (alias /worker/ADDR)   /secure/ADDR   /project/NAME
 *
 * Parsing is pure and bounded; turning segments into a route may need outside knowledge
 * (which port a named node listens on, where a project is), supplied as resolvers.
 */
import { type Address, local, tcp } from './address.js'
import { OckamError } from './errors.js'
import { DEFAULT_MAX_ADDRESS_BYTES } from './limits.js'
import { checkRoute, type Route } from './route.js'

export const DEFAULT_MAX_MULTIADDR_LENGTH = 2048
export const DEFAULT_MAX_MULTIADDR_SEGMENTS = 32

export type MultiaddrSegment =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly hostKind: 'ip4' | 'ip6' | 'dns' }
  | { readonly kind: 'node'; readonly name: string }
  | { readonly kind: 'service'; readonly address: string }
  | { readonly kind: 'secure'; readonly address: string }
  | { readonly kind: 'project'; readonly name: string }

function invalid(text: string, why: string): OckamError {
  return new OckamError('OCKAM_ERR_MULTIADDR_INVALID', `"${text}" is not a valid route: ${why}`, {
    hint: 'write routes like /ip4/127.0.0.1/tcp/4000/service/echo or /node/n1/secure/api/service/echo',
  })
}

const IP4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
const IP6 = /^[0-9A-Fa-f:.]{2,45}$/
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/

function checkValue(text: string, protocol: string, value: string | undefined): string {
  if (value === undefined || value.length === 0) throw invalid(text, `/${protocol} needs a value`)
  if (Buffer.byteLength(value) > DEFAULT_MAX_ADDRESS_BYTES) throw invalid(text, `/${protocol} value is too long`)
  return value
}

function parsePort(text: string, value: string | undefined): number {
  if (value === undefined || !/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw invalid(text, `"${value ?? ''}" is not a TCP port`)
  }
  return Number(value)
}

export function parseMultiaddr(text: string): MultiaddrSegment[] {
  if (text.length > DEFAULT_MAX_MULTIADDR_LENGTH)
    throw invalid(text.slice(0, 40), `longer than ${DEFAULT_MAX_MULTIADDR_LENGTH} characters`)
  if (!text.startsWith('/')) throw invalid(text, 'it must start with "/"')
  const parts = text.slice(1).split('/')
  if (parts.at(-1) === '') parts.pop()
  const segments: MultiaddrSegment[] = []
  let i = 0
  while (i < parts.length) {
    if (segments.length >= DEFAULT_MAX_MULTIADDR_SEGMENTS)
      throw invalid(text, `more than ${DEFAULT_MAX_MULTIADDR_SEGMENTS} segments`)
    const protocol = parts[i] as string
    const value = parts[i + 1]
    switch (protocol) {
      case 'ip4':
      case 'ip6':
      case 'dnsaddr':
      case 'dns':
      case 'dns4':
      case 'dns6': {
        const host = checkValue(text, protocol, value)
        const hostKind = protocol === 'ip4' ? 'ip4' : protocol === 'ip6' ? 'ip6' : 'dns'
        const pattern = hostKind === 'ip4' ? IP4 : hostKind === 'ip6' ? IP6 : DNS_NAME
        if (!pattern.test(host)) throw invalid(text, `"${host}" is not a valid ${protocol} host`)
        if (parts[i + 2] !== 'tcp') throw invalid(text, `/${protocol}/${host} must be followed by /tcp/PORT`)
        segments.push({ kind: 'tcp', host, port: parsePort(text, parts[i + 3]), hostKind })
        i += 4
        continue
      }
      case 'node':
      case 'project': {
        const name = checkValue(text, protocol, value)
        if (!NAME.test(name)) throw invalid(text, `"${name}" is not a valid ${protocol} name`)
        segments.push(protocol === 'node' ? { kind: 'node', name } : { kind: 'project', name })
        break
      }
      case 'service':
      case 'worker':
      case 'secure': {
        const address = checkValue(text, protocol, value)
        if (/[\s#]/.test(address)) throw invalid(text, `"${address}" is not a valid address`)
        segments.push(protocol === 'secure' ? { kind: 'secure', address } : { kind: 'service', address })
        break
      }
      case 'tcp':
        throw invalid(text, '/tcp must follow /ip4, /ip6 or /dnsaddr')
      default:
        throw invalid(text, `unknown protocol "/${protocol}"`)
    }
    i += 2
  }
  if (segments.length === 0) throw invalid(text, 'it is empty')
  return segments
}

function formatSegment(s: MultiaddrSegment): string {
  switch (s.kind) {
    case 'tcp':
      return `/${s.hostKind === 'dns' ? 'dnsaddr' : s.hostKind}/${s.host}/tcp/${s.port}`
    case 'node':
      return `/node/${s.name}`
    case 'project':
      return `/project/${s.name}`
    case 'service':
      return `/service/${s.address}`
    case 'secure':
      return `/secure/${s.address}`
  }
}

export function formatMultiaddr(segments: readonly MultiaddrSegment[]): string {
  return segments.map(formatSegment).join('')
}

/** The TCP address of one tcp segment (IPv6 in brackets). */
export function tcpAddressOf(segment: Extract<MultiaddrSegment, { kind: 'tcp' }>): Address {
  return tcp(segment.hostKind === 'ip6' ? `[${segment.host}]:${segment.port}` : `${segment.host}:${segment.port}`)
}

export interface MultiaddrResolvers {
  /** `host:port` of a node of this state folder, by name. */
  resolveNode?: (name: string) => string
}

/**
 * Turns segments into a plain route. `/secure` and `/project` need a secure channel or a
 * project, which this function does not create; they are refused with a clear error.
 */
export function toRoute(segments: readonly MultiaddrSegment[], resolvers: MultiaddrResolvers = {}): Route {
  const hops: Address[] = []
  for (const segment of segments) {
    switch (segment.kind) {
      case 'tcp':
        hops.push(tcpAddressOf(segment))
        break
      case 'service':
        hops.push(local(segment.address))
        break
      case 'node': {
        if (resolvers.resolveNode === undefined) {
          throw new OckamError('OCKAM_ERR_ROUTE_UNRESOLVED', `cannot resolve /node/${segment.name} here`, {
            hint: 'use /ip4/HOST/tcp/PORT for a node started with node create --foreground',
          })
        }
        hops.push(tcp(resolvers.resolveNode(segment.name)))
        break
      }
      case 'secure':
      case 'project':
        throw new OckamError(
          'OCKAM_ERR_ROUTE_UNRESOLVED',
          `/${segment.kind}/${segment.kind === 'secure' ? segment.address : segment.name} needs a ${segment.kind === 'secure' ? 'secure channel' : 'project'}, which this command cannot set up yet`,
          { hint: 'use a plain route of /ip4/…/tcp/… and /service/… segments' },
        )
    }
  }
  checkRoute(hops)
  return hops
}

export function parseRouteArgument(text: string, resolvers: MultiaddrResolvers = {}): Route {
  return toRoute(parseMultiaddr(text), resolvers)
}
