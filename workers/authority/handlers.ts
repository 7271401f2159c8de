/**
 * The authority services as functions of (ingress, request bytes) -> response bytes, so they can
 * be tested without a router and wired by any worker. Only a message that came out of an
 * authenticated secure channel is served: its ingress names the peer's identifier, which is the
 * actor of every operation. Anything else (local, TCP, relay ingress) is answered with
 * OCKAM_ERR_AUTHORITY_ACCESS_DENIED (the workers' access control refuses it before that).
 */
import type { AuthorityService } from '../../runtime/authority/authority.js'
import { MAX_AUTHORITY_MESSAGE_BYTES, MAX_LIST_ITEMS } from '../../runtime/authority/constants.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import type { Logger } from '../../runtime/log.js'
import type { Ingress } from '../../runtime/message.js'
import { type CborValue, encodeCbor } from '../../runtime/trust/cbor.js'
import { isIdentifier } from '../../runtime/trust/identity/identifier.js'
import {
  auditValue,
  decodeCredentialRequest,
  decodeEnrollmentRequest,
  decodeMembersRequest,
  encodeError,
  encodeOk,
  enrollmentResultValue,
  type MembersRequest,
  memberValue,
  ticketValue,
} from './protocol.js'

export type AuthorityHandler = (ingress: Ingress, payload: Uint8Array) => Promise<Uint8Array>

/** Items asked of the service per page: one less than it returns, so one more tells there are more. */
const PAGE_ITEMS = MAX_LIST_ITEMS - 1

/** Room left for the response envelope when filling a page. */
const PAGE_BUDGET_BYTES = MAX_AUTHORITY_MESSAGE_BYTES - 1024

/** The authenticated peer of a message; throws OCKAM_ERR_AUTHORITY_ACCESS_DENIED for any other ingress. */
export function channelPeer(ingress: Ingress): string {
  if (ingress.kind !== 'channel' || !isIdentifier(ingress.identifier)) {
    throw new OckamError(
      'OCKAM_ERR_AUTHORITY_ACCESS_DENIED',
      `the authority serves only authenticated secure channels, not ${ingress.kind} messages`,
      { hint: 'reach the project through a secure channel to its authority identity' },
    )
  }
  return ingress.identifier
}

/** Runs `fn`, turning any failure into an error response (internal details stay in the log). */
async function respond(log: Logger | undefined, what: string, fn: () => Promise<CborValue> | CborValue) {
  try {
    return encodeOk(await fn())
  } catch (error) {
    if (isOckamError(error)) return encodeError(error)
    log?.error({ err: error, service: what }, 'authority request failed')
    return encodeError(
      new OckamError('OCKAM_ERR_INTERNAL', `the ${what} service failed`, { hint: 'see the project node log' }),
    )
  }
}

/** The longest prefix of `values` whose encodings fit the page budget. */
function fitPage(values: readonly CborValue[]): CborValue[] {
  const out: CborValue[] = []
  let size = 0
  for (const value of values) {
    size += encodeCbor(value).length
    if (size > PAGE_BUDGET_BYTES) break
    out.push(value)
  }
  return out
}

export interface HandlerOptions {
  readonly log?: Logger
  /**
   * Lifetime of the credentials the enrollment and credentials services issue, in seconds;
   * default the project's setting. For tests that watch renewal in seconds (a project's own
   * setting is at least MIN_MEMBER_CREDENTIAL_TTL_SECONDS).
   */
  readonly credentialTtlSeconds?: number
}

function ttl(options: HandlerOptions): { ttlSeconds?: number } {
  return options.credentialTtlSeconds === undefined ? {} : { ttlSeconds: options.credentialTtlSeconds }
}

/** `enrollment`: redeem a ticket, become a member, receive a credential. */
export function createEnrollmentHandler(service: AuthorityService, options: HandlerOptions = {}): AuthorityHandler {
  return (ingress, payload) =>
    respond(options.log, 'enrollment', async () => {
      const peer = channelPeer(ingress)
      const request = decodeEnrollmentRequest(payload)
      const project = service.project()
      if (request.project !== project.name) {
        throw new OckamError(
          'OCKAM_ERR_AUTHORITY_WRONG_PROJECT',
          `this is project ${project.name}, not ${request.project.slice(0, 63)}`,
          { hint: 'the ticket is for another project' },
        )
      }
      service.redeemTicket(request.code, { identifier: peer, history: request.history })
      // A failure from here on leaves a member without a credential; it asks the credentials service.
      const issued = await service.issueMemberCredential(peer, ttl(options))
      return enrollmentResultValue({ member: issued.member, credential: issued.presentation })
    })
}

/** `credentials`: a member asks for a fresh credential (presenting its current history). */
export function createCredentialsHandler(service: AuthorityService, options: HandlerOptions = {}): AuthorityHandler {
  return (ingress, payload) =>
    respond(options.log, 'credentials', async () => {
      const peer = channelPeer(ingress)
      const request = decodeCredentialRequest(payload)
      const issued = await service.issueMemberCredential(peer, {
        ...ttl(options),
        ...(request.history === undefined ? {} : { history: request.history }),
      })
      return issued.presentation
    })
}

/** `members`: admin and enroller operations on members, tickets and the audit log. */
export function createMembersHandler(service: AuthorityService, options: HandlerOptions = {}): AuthorityHandler {
  return (ingress, payload) =>
    respond(options.log, 'members', async () => {
      const actor = channelPeer(ingress)
      return membersOperation(service, actor, decodeMembersRequest(payload))
    })
}

async function membersOperation(service: AuthorityService, actor: string, request: MembersRequest): Promise<CborValue> {
  switch (request.op) {
    case 'member-list': {
      const limit = Math.min(Math.max(request.limit ?? PAGE_ITEMS, 1), PAGE_ITEMS)
      const fetched = service.listMembers(actor, {
        ...(request.after === undefined ? {} : { after: request.after }),
        limit: limit + 1,
      })
      const page = fitPage(fetched.slice(0, limit).map(memberValue))
      const last = fetched[page.length - 1]
      return [page, page.length < fetched.length && last !== undefined ? last.identifier : null]
    }
    case 'member-show':
      return memberValue(service.showMember(actor, request.identifier))
    case 'member-add':
      return memberValue(
        service.addMember(actor, request.identifier, {
          ...(request.attributes === undefined ? {} : { attributes: request.attributes }),
          ...(request.role === undefined ? {} : { role: request.role }),
        }),
      )
    case 'member-delete': {
      const deleted = await service.deleteMember(actor, request.identifier)
      return [memberValue(deleted.member), deleted.revocation.seq]
    }
    case 'ticket-create': {
      const { op: _op, ...ticketOptions } = request
      const created = service.createTicket(actor, ticketOptions)
      return [ticketValue(created.ticket), created.text]
    }
    case 'ticket-list': {
      const tickets = service.listTickets(actor)
      const page = fitPage(tickets.map(ticketValue))
      return [page, page.length < tickets.length]
    }
    case 'ticket-revoke':
      return ticketValue(service.revokeTicket(actor, request.id))
    case 'audit': {
      const limit = Math.min(Math.max(request.limit ?? PAGE_ITEMS, 1), PAGE_ITEMS)
      const fetched = service.auditLog(actor, {
        ...(request.after === undefined ? {} : { after: request.after }),
        limit: limit + 1,
      })
      const page = fitPage(fetched.slice(0, limit).map(auditValue))
      const last = fetched[page.length - 1]
      return [page, page.length < fetched.length && last !== undefined ? last.seq : null]
    }
  }
}
