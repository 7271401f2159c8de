/**
 * Member attributes and the names the authority keeps for itself (DESIGN §12). A policy sees
 * `subject.<name>` for every attribute of a credential from the resource's authority, plus the
 * computed `subject.identifier` and `subject.has_credential`: a ticket or an enroller that could
 * grant those names, or the `ockam-` names that make admins and enrollers, would let a member
 * write its own access rights.
 */
import { OckamError } from '../errors.js'
import { checkAttributes } from '../trust/credentials/credential.js'
import { RELAY_NAME_PATTERN } from './constants.js'

/** Names starting with this (in any case) are the authority's. */
export const RESERVED_ATTRIBUTE_PREFIX = 'ockam-'

/** Names a verifier computes; never issued. */
export const COMPUTED_ATTRIBUTE_NAMES: readonly string[] = Object.freeze(['identifier', 'has_credential'])

/** `ockam-admin=true`: may do everything, including granting reserved attributes and relay `*`. */
export const ADMIN_ATTRIBUTE = 'ockam-admin'

/** `ockam-enroller=true`: may create tickets and add or delete plain members, within limits. */
export const ENROLLER_ATTRIBUTE = 'ockam-enroller'

/** The relay name a member may register, or `*` for any name (DESIGN §6). */
export const RELAY_ATTRIBUTE = 'relay'

/** The value that means any relay name. */
export const ANY_RELAY = '*'

export type Attributes = Readonly<Record<string, string>>

export type Role = 'admin' | 'enroller' | 'member'

/** Whether `name` is reserved or computed (compared without case, so `Identifier` is refused too). */
export function isReservedAttribute(name: string): boolean {
  const lower = name.toLowerCase()
  return lower.startsWith(RESERVED_ATTRIBUTE_PREFIX) || COMPUTED_ATTRIBUTE_NAMES.includes(lower)
}

/** The role the reserved attributes give. */
export function roleOf(attributes: Attributes): Role {
  if (attributes[ADMIN_ATTRIBUTE] === 'true') return 'admin'
  if (attributes[ENROLLER_ATTRIBUTE] === 'true') return 'enroller'
  return 'member'
}

/** The reserved attributes of a role. */
export function roleAttributes(role: Role): Record<string, string> {
  if (role === 'admin') return { [ADMIN_ATTRIBUTE]: 'true' }
  if (role === 'enroller') return { [ENROLLER_ATTRIBUTE]: 'true' }
  return {}
}

/** Whether `value` is a relay name (`[a-z0-9-]{1,63}`). */
export function isRelayName(value: unknown): value is string {
  return typeof value === 'string' && RELAY_NAME_PATTERN.test(value)
}

/**
 * Checks attributes someone asks the authority to grant: the credential bounds (count, name
 * and value sizes), no reserved or computed name, and a `relay` value that is a relay name or
 * `*`. Returns a plain object with a null prototype, so `__proto__` is just a name.
 */
export function checkGrantableAttributes(input: unknown): Record<string, string> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new OckamError('OCKAM_ERR_AUTHORITY_ATTRIBUTES_INVALID', 'attributes must be an object of text values')
  }
  let checked: Map<string, string>
  try {
    checked = checkAttributes(input as Record<string, string>)
  } catch (cause) {
    throw new OckamError('OCKAM_ERR_AUTHORITY_ATTRIBUTES_INVALID', (cause as Error).message, {
      cause,
      hint: 'at most 32 attributes, names of 1 to 64 bytes, values of at most 512 bytes',
    })
  }
  const out = Object.create(null) as Record<string, string>
  for (const [name, value] of checked) {
    if (isReservedAttribute(name)) {
      throw new OckamError('OCKAM_ERR_AUTHORITY_RESERVED_ATTRIBUTE', `attribute ${JSON.stringify(name)} is reserved`, {
        hint: `names starting with ${RESERVED_ATTRIBUTE_PREFIX} and the computed names ${COMPUTED_ATTRIBUTE_NAMES.join(', ')} cannot be granted; admins and enrollers are made with member add --role`,
        data: { attribute: name },
      })
    }
    if (name === RELAY_ATTRIBUTE && value !== ANY_RELAY && !isRelayName(value)) {
      throw new OckamError(
        'OCKAM_ERR_RELAY_NAME_INVALID',
        `relay attribute ${JSON.stringify(value)} is not a relay name`,
        {
          hint: 'a relay name is 1 to 63 characters of a-z, 0-9 and -, or * for any name',
        },
      )
    }
    out[name] = value
  }
  return out
}

/** Attributes as a plain object with a null prototype, copied from a Map or a record. */
export function toAttributes(input: ReadonlyMap<string, string> | Attributes): Record<string, string> {
  const out = Object.create(null) as Record<string, string>
  const entries = input instanceof Map ? [...input] : Object.entries(input)
  for (const [name, value] of entries) out[name] = value
  return out
}
