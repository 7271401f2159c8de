/** A route is a list of addresses: the onward route of a message, or the way back. */
import { type Address, addressKey } from './address.js'
import { OckamError } from './errors.js'
import { DEFAULT_MAX_ROUTE_HOPS } from './limits.js'

export type Route = readonly Address[]

export function route(...hops: Address[]): Route {
  checkRoute(hops)
  return hops
}

export function checkRoute(hops: Route): void {
  if (hops.length > DEFAULT_MAX_ROUTE_HOPS) {
    throw new OckamError(
      'OCKAM_ERR_ROUTE_INVALID',
      `a route has at most ${DEFAULT_MAX_ROUTE_HOPS} hops, this one has ${hops.length}`,
    )
  }
}

export function formatRoute(r: Route): string {
  return `[${r.map(addressKey).join(' => ')}]`
}
