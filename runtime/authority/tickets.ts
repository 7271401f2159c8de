/**
 * Enrollment tickets (DESIGN §6, §12): created by admins and enrollers, stored as the SHA-256
 * of a 256-bit one-time code, redeemed by one atomic UPDATE in the same transaction that makes
 * the redeemer a member.
 */
import { randomBytes } from 'node:crypto'
import { OckamError } from '../errors.js'
import type { MemberRow } from '../state/authority-member-repository.js'
import type { TicketRow } from '../state/authority-ticket-repository.js'
import { immediate } from '../state/sqlite.js'
import { toHex } from '../trust/bytes.js'
import { isIdentifier } from '../trust/identity/identifier.js'
import {
  ANY_RELAY,
  type Attributes,
  checkGrantableAttributes,
  ENROLLER_ATTRIBUTE,
  isRelayName,
  RELAY_ATTRIBUTE,
  toAttributes,
} from './attributes.js'
import {
  DEFAULT_TICKET_TTL_SECONDS,
  DEFAULT_TICKET_USAGE_COUNT,
  MAX_LIST_ITEMS,
  MAX_TICKET_TTL_SECONDS,
  MAX_TICKET_USAGE_COUNT,
  TICKET_CODE_BYTES,
  TICKET_ID_BYTES,
} from './constants.js'
import type { AuthorityCore } from './core.js'
import { encodeTicket } from './ticket-text.js'
import type { Member, TicketInfo, TicketStatus } from './types.js'

export interface CreateTicketOptions {
  /** Granted to the redeemer; reserved and computed names are refused. */
  readonly attributes?: Attributes
  /** Relay name granted as attribute `relay` (`*` = any name: admins only). */
  readonly relay?: string
  /** Uses allowed; default DEFAULT_TICKET_USAGE_COUNT, at most MAX_TICKET_USAGE_COUNT. */
  readonly usageCount?: number
  /** Lifetime in seconds; default DEFAULT_TICKET_TTL_SECONDS, at most MAX_TICKET_TTL_SECONDS. */
  readonly expiresInSeconds?: number
  /** Redeemers become enrollers (admins only). */
  readonly enroller?: boolean
}

export interface CreatedTicket {
  readonly ticket: TicketInfo
  /** The one-time code; only its hash is stored. */
  readonly code: Uint8Array
  /** The self-contained ticket text (`ockam-ticket-v1:…`): a secret. */
  readonly text: string
}

export interface Enrollee {
  readonly identifier: string
  /** Its change history (verified here), so a credential can bind its latest change. */
  readonly history?: Uint8Array
}

export interface Redemption {
  readonly member: Member
  readonly ticket: TicketInfo
}

export function createTicketOperations(core: AuthorityCore) {
  const hashCode = (code: Uint8Array): Uint8Array => {
    if (!(code instanceof Uint8Array) || code.length !== TICKET_CODE_BYTES) {
      throw new OckamError('OCKAM_ERR_AUTHORITY_TICKET_UNKNOWN', 'not a one-time code of this project', {
        hint: `a code is ${TICKET_CODE_BYTES} bytes, carried by the ticket text`,
      })
    }
    return core.crypto.sha256(code)
  }

  const toInfo = (row: TicketRow): TicketInfo => ({
    id: row.id,
    attributes: Object.freeze(toAttributes(row.attributes)),
    relay: row.relay,
    enroller: row.enroller,
    usageCount: row.usageCount,
    usesLeft: row.usesLeft,
    expiresAt: row.expiresAt,
    status: statusOf(row, core.nowMs()),
    createdBy: row.createdBy,
    createdAt: row.createdAt,
  })

  const createTicket = (actor: string, options: CreateTicketOptions = {}): CreatedTicket => {
    const project = core.project()
    const role = core.requireRole(actor, ['admin', 'enroller'], 'create tickets')
    const attributes = checkGrantableAttributes(options.attributes ?? {})
    const usageCount = options.usageCount ?? DEFAULT_TICKET_USAGE_COUNT
    const ttl = options.expiresInSeconds ?? DEFAULT_TICKET_TTL_SECONDS
    if (!Number.isSafeInteger(usageCount) || usageCount < 1 || usageCount > MAX_TICKET_USAGE_COUNT) {
      throw ticketInvalid(`usage count must be 1 to ${MAX_TICKET_USAGE_COUNT}`)
    }
    if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_TICKET_TTL_SECONDS) {
      throw ticketInvalid(`a ticket lifetime must be 1 s to ${MAX_TICKET_TTL_SECONDS / 86_400} days`)
    }
    const relay = options.relay
    if (relay !== undefined) {
      if (relay !== ANY_RELAY && !isRelayName(relay)) {
        throw new OckamError(
          'OCKAM_ERR_RELAY_NAME_INVALID',
          `${JSON.stringify(String(relay).slice(0, 80))} is not a relay name`,
          {
            hint: 'a relay name is 1 to 63 characters of a-z, 0-9 and -, or * for any name',
          },
        )
      }
      const granted = attributes[RELAY_ATTRIBUTE]
      if (granted !== undefined && granted !== relay) {
        throw ticketInvalid(`--relay ${relay} contradicts attribute relay=${granted}`)
      }
    }
    const grantsAnyRelay = relay === ANY_RELAY || attributes[RELAY_ATTRIBUTE] === ANY_RELAY
    if (role !== 'admin' && (options.enroller === true || grantsAnyRelay)) {
      throw enrollerLimit(options.enroller === true ? 'create enroller tickets' : 'grant relay *')
    }
    const code = new Uint8Array(randomBytes(TICKET_CODE_BYTES))
    const now = core.nowMs()
    const row: TicketRow = {
      id: toHex(new Uint8Array(randomBytes(TICKET_ID_BYTES))),
      codeHash: core.crypto.sha256(code),
      attributes,
      relay,
      usageCount,
      usesLeft: usageCount,
      expiresAt: now + ttl * 1000,
      enroller: options.enroller === true,
      revoked: false,
      createdBy: actor,
      createdAt: now,
    }
    const text = encodeTicket({
      projectName: project.name,
      address: project.advertisedAddress,
      authorityHistory: core.authorityIdentity().identity.history,
      code,
      expires: Math.floor(row.expiresAt / 1000),
    })
    immediate(core.db, () => {
      core.tickets.insert(row)
      core.record(actor, 'ticket.create', {
        ticket: row.id,
        attributes: { ...attributes },
        relay: relay ?? null,
        usageCount,
        expiresAt: row.expiresAt,
        enroller: row.enroller,
      })
    })
    return { ticket: toInfo(row), code, text }
  }

  const listTickets = (actor: string): TicketInfo[] => {
    core.project()
    const role = core.requireRole(actor, ['admin', 'enroller'], 'list tickets')
    // Enrollers see the tickets they made; admins see all.
    const rows = core.tickets.list(
      role === 'admin' ? { limit: MAX_LIST_ITEMS } : { createdBy: actor, limit: MAX_LIST_ITEMS },
    )
    return rows.map(toInfo)
  }

  const revokeTicket = (actor: string, id: string): TicketInfo =>
    immediate(core.db, () => {
      core.project()
      const role = core.requireRole(actor, ['admin', 'enroller'], 'revoke tickets')
      const row = typeof id === 'string' ? core.tickets.get(id) : undefined
      // An enroller is told "not found" for others' tickets too: ids are not an oracle.
      if (row === undefined || (role !== 'admin' && row.createdBy !== actor)) {
        throw new OckamError('OCKAM_ERR_AUTHORITY_TICKET_NOT_FOUND', `no ticket with id ${String(id).slice(0, 40)}`, {
          hint: 'run: ockam-runtime project ticket list',
        })
      }
      if (!row.revoked) {
        core.tickets.revoke(row.id)
        core.record(actor, 'ticket.revoke', { ticket: row.id })
      }
      return toInfo(core.tickets.get(row.id) as TicketRow)
    })

  const redeemTicket = (code: Uint8Array, enrollee: Enrollee): Redemption => {
    const codeHash = hashCode(code)
    if (!isIdentifier(enrollee.identifier)) {
      throw new OckamError('OCKAM_ERR_IDENTITY_INVALID_IDENTIFIER', 'the enrollee identifier is malformed')
    }
    return immediate(core.db, () => {
      core.project()
      const now = core.nowMs()
      const spent = core.tickets.redeem(codeHash, now)
      if (spent === undefined) throw whyNotRedeemable(core.tickets.getByCodeHash(codeHash), now)
      // Everything below rolls the spent use back if it throws.
      if (core.revocations.get(enrollee.identifier) !== undefined) throw identityRevoked(enrollee.identifier)
      if (core.members.get(enrollee.identifier) !== undefined) {
        throw new OckamError('OCKAM_ERR_AUTHORITY_ALREADY_MEMBER', `${enrollee.identifier} is already a member`, {
          hint: 'the ticket was not used; a member asks for a fresh credential instead of enrolling again',
          data: { identifier: enrollee.identifier },
        })
      }
      const attributes: Record<string, string> = toAttributes(spent.attributes)
      if (spent.relay !== undefined) attributes[RELAY_ATTRIBUTE] = spent.relay
      if (spent.enroller) attributes[ENROLLER_ATTRIBUTE] = 'true'
      core.members.insert({
        identifier: enrollee.identifier,
        attributes,
        history: undefined,
        addedBy: spent.createdBy,
        enrolledWith: spent.id,
        addedAt: now,
        updatedAt: now,
      })
      if (enrollee.history !== undefined) {
        core.acceptHistory(core.members.get(enrollee.identifier) as MemberRow, enrollee.history)
      }
      core.record(enrollee.identifier, 'ticket.redeem', {
        ticket: spent.id,
        member: enrollee.identifier,
        attributes: { ...attributes },
        usesLeft: spent.usesLeft,
      })
      return {
        member: core.toMember(core.members.get(enrollee.identifier) as MemberRow),
        ticket: toInfo(spent),
      }
    })
  }

  return { createTicket, listTickets, revokeTicket, redeemTicket }
}

function statusOf(row: TicketRow, now: number): TicketStatus {
  if (row.revoked) return 'revoked'
  if (row.usesLeft === 0) return 'used'
  if (row.expiresAt <= now) return 'expired'
  return 'active'
}

function whyNotRedeemable(row: TicketRow | undefined, now: number): OckamError {
  if (row === undefined) {
    return new OckamError('OCKAM_ERR_AUTHORITY_TICKET_UNKNOWN', 'no ticket of this project has that one-time code', {
      hint: 'the ticket is for another project, was mistyped, or was created in another state folder',
    })
  }
  const data = { ticket: row.id }
  switch (statusOf(row, now)) {
    case 'revoked':
      return new OckamError('OCKAM_ERR_AUTHORITY_TICKET_REVOKED', `ticket ${row.id} was revoked`, {
        hint: 'ask the project admin for a new ticket',
        data,
      })
    case 'used':
      return new OckamError(
        'OCKAM_ERR_AUTHORITY_TICKET_USED',
        `ticket ${row.id} has been used ${row.usageCount === 1 ? 'already' : `all ${row.usageCount} times`}`,
        { hint: 'a ticket works as many times as its usage count; ask the project admin for a new one', data },
      )
    default:
      return new OckamError('OCKAM_ERR_AUTHORITY_TICKET_EXPIRED', `ticket ${row.id} expired`, {
        hint: 'ask the project admin for a new ticket (project ticket --expires-in sets a longer lifetime)',
        data: { ...data, expiresAt: row.expiresAt },
      })
  }
}

function ticketInvalid(why: string): OckamError {
  return new OckamError('OCKAM_ERR_AUTHORITY_TICKET_INVALID', why)
}

export function enrollerLimit(what: string): OckamError {
  return new OckamError('OCKAM_ERR_AUTHORITY_ENROLLER_LIMIT', `enrollers cannot ${what}`, {
    hint: 'ask a project admin',
  })
}

export function identityRevoked(identifier: string): OckamError {
  return new OckamError(
    'OCKAM_ERR_AUTHORITY_IDENTITY_REVOKED',
    `${identifier} was removed from the project and revoked`,
    { hint: 'a revoked identity stays revoked: enroll with a new identity', data: { identifier } },
  )
}
