/**
 * Addresses: a transport type and a value. Type 0 is local (a worker on this node), type 1 is
 * TCP (`host:port`). Written `type#value` (`0#echo`, `1#127.0.0.1:4000`).
 */
import { OckamError } from './errors.js'
import { DEFAULT_MAX_ADDRESS_BYTES } from './limits.js'

export const LOCAL = 0
export const TCP = 1

export interface Address {
  readonly type: number
  readonly value: string
}

export function address(type: number, value: string): Address {
  if (!Number.isInteger(type) || type < 0 || type > 255) {
    throw new OckamError('OCKAM_ERR_ADDRESS_INVALID', `address type ${type} is not a byte`)
  }
  if (value.length === 0 || Buffer.byteLength(value) > DEFAULT_MAX_ADDRESS_BYTES) {
    throw new OckamError(
      'OCKAM_ERR_ADDRESS_INVALID',
      `address value must be 1 to ${DEFAULT_MAX_ADDRESS_BYTES} bytes, got ${Buffer.byteLength(value)}`,
    )
  }
  return { type, value }
}

export function local(value: string): Address {
  return address(LOCAL, value)
}

export function tcp(hostPort: string): Address {
  return address(TCP, hostPort)
}

/** The key a router uses for a map lookup: `type#value`. */
export function addressKey(a: Address): string {
  return `${a.type}#${a.value}`
}

export function addressEquals(a: Address, b: Address): boolean {
  return a.type === b.type && a.value === b.value
}

export function parseAddress(text: string): Address {
  const hash = text.indexOf('#')
  if (hash <= 0) return local(text)
  const type = Number(text.slice(0, hash))
  if (!/^\d{1,3}$/.test(text.slice(0, hash))) {
    throw new OckamError('OCKAM_ERR_ADDRESS_INVALID', `"${text}" has a non-numeric address type`)
  }
  return address(type, text.slice(hash + 1))
}
