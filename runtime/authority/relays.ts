/**
 * Relay name ownership (DESIGN §6, §12): a member may register a name only if its attribute
 * `relay` is that name or `*` (or it is an admin); the first registration makes it the owner,
 * persisted, so no other identity can take the name over, not even while the owner reconnects
 * or after the project restarts.
 */
import { OckamError } from '../errors.js'
import type { RelayOwnerRow } from '../state/authority-relay-repository.js'
import { immediate } from '../state/sqlite.js'
import { isIdentifier } from '../trust/identity/identifier.js'
import { ADMIN_ATTRIBUTE, ANY_RELAY, type Attributes, isRelayName, RELAY_ATTRIBUTE } from './attributes.js'
import type { AuthorityCore } from './core.js'
import type { RelayOwner } from './types.js'

export interface RelayClaim {
  readonly relay: RelayOwner
  /** True when this call made the identity the owner; false when it owned the name already. */
  readonly claimed: boolean
}

/** Whether `attributes` allow registering `name`. */
export function mayRegisterRelay(name: string, attributes: Attributes): boolean {
  const granted = attributes[RELAY_ATTRIBUTE]
  return attributes[ADMIN_ATTRIBUTE] === 'true' || granted === name || granted === ANY_RELAY
}

export function checkRelayName(name: unknown): asserts name is string {
  if (!isRelayName(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name
    throw new OckamError('OCKAM_ERR_RELAY_NAME_INVALID', `${shown} is not a relay name`, {
      hint: 'a relay name is 1 to 63 characters of a-z, 0-9 and -',
    })
  }
}

export function createRelayOperations(core: AuthorityCore) {
  const toOwner = (row: RelayOwnerRow): RelayOwner => ({ name: row.name, owner: row.owner, claimedAt: row.claimedAt })

  const taken = (name: string): OckamError =>
    new OckamError('OCKAM_ERR_RELAY_NAME_TAKEN', `relay name ${name} belongs to another identity`, {
      hint: 'choose another name, or ask a project admin to release it',
      data: { relay: name },
    })

  /**
   * Registers `name` for `identifier`, which must be a current member. `attributes` are those
   * to judge by: the relay service passes what the member's channel credential attests; when
   * omitted, the member's stored attributes count.
   */
  const claimRelay = (name: string, identifier: string, attributes?: Attributes): RelayClaim => {
    checkRelayName(name)
    return immediate(core.db, () => {
      core.project()
      const member = isIdentifier(identifier) ? core.members.get(identifier) : undefined
      if (member === undefined) {
        throw new OckamError('OCKAM_ERR_AUTHORITY_ACCESS_DENIED', 'only members of the project may register relays', {
          hint: 'enroll with a ticket first',
        })
      }
      if (!mayRegisterRelay(name, attributes ?? member.attributes)) {
        throw new OckamError('OCKAM_ERR_RELAY_NOT_ALLOWED', `this member may not register relay ${name}`, {
          hint: `its credential needs attribute relay=${name} (or relay=*): ask for a ticket with --relay ${name}`,
          data: { relay: name },
        })
      }
      const existing = core.relays.get(name)
      if (existing !== undefined) {
        if (existing.owner !== identifier) throw taken(name)
        return { relay: toOwner(existing), claimed: false }
      }
      const row = core.relays.claim(name, identifier, core.nowMs())
      if (row.owner !== identifier) throw taken(name)
      core.record(identifier, 'relay.claim', { relay: name })
      return { relay: toOwner(row), claimed: true }
    })
  }

  /** Frees a name: by its owner or an admin. Throws OCKAM_ERR_RELAY_NOT_FOUND. */
  const releaseRelay = (actor: string, name: string): RelayOwner => {
    checkRelayName(name)
    return immediate(core.db, () => {
      core.project()
      const row = core.relays.get(name)
      if (row === undefined) {
        throw new OckamError('OCKAM_ERR_RELAY_NOT_FOUND', `no relay is registered as ${name}`, {
          hint: 'run: ockam-runtime relay list',
        })
      }
      if (row.owner !== actor) core.requireRole(actor, ['admin'], "release another member's relay name")
      core.relays.release(name)
      core.record(actor, 'relay.release', { relay: name, owner: row.owner })
      return toOwner(row)
    })
  }

  return {
    claimRelay,
    releaseRelay,
    relayOwner: (name: string): RelayOwner | undefined => {
      const row = isRelayName(name) ? core.relays.get(name) : undefined
      return row === undefined ? undefined : toOwner(row)
    },
    listRelays: (): RelayOwner[] => core.relays.list().map(toOwner),
  }
}
