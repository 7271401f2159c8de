/**
 * Calls to the authority services from a member's node, over a route through its secure channel
 * to the project (`[channel, 'enrollment']`, …). Each is one ctx.request; an error response is
 * thrown as the OckamError the authority sent (its code, message and hint).
 */
import type { AuditEntry, TicketInfo } from '../../runtime/authority/types.js'
import type { Context, RequestOptions } from '../../runtime/context.js'
import type { Route } from '../../runtime/route.js'
import type { CborValue } from '../../runtime/trust/cbor.js'
import {
  decodeResponse,
  type EnrollmentRequest,
  type EnrollmentResult,
  encodeCredentialRequest,
  encodeEnrollmentRequest,
  encodeMembersRequest,
  invalidMessage,
  type MemberPage,
  type MembersRequest,
  type MemberView,
  parseAuditPage,
  parseCreatedTicket,
  parseCredentialResult,
  parseDeletedMember,
  parseEnrollmentResult,
  parseMemberPage,
  parseMemberValue,
  parseTicketPage,
  parseTicketValue,
} from './protocol.js'

async function call(ctx: Context, route: Route, payload: Uint8Array, options: RequestOptions): Promise<CborValue> {
  const reply = await ctx.request(route, payload, options)
  const response = decodeResponse(reply.payload)
  if (response.status === 'error') throw response.error
  if (response.status !== 'ok') throw invalidMessage('a push where a response was expected')
  return response.body
}

/** Redeems a ticket's code at `route` (the project's `enrollment` service). */
export async function enroll(
  ctx: Context,
  route: Route,
  request: EnrollmentRequest,
  options: RequestOptions = {},
): Promise<EnrollmentResult> {
  return parseEnrollmentResult(await call(ctx, route, encodeEnrollmentRequest(request), options))
}

/** Asks the `credentials` service for a fresh credential; returns the presentation bytes. */
export async function requestCredential(
  ctx: Context,
  route: Route,
  history: Uint8Array | undefined,
  options: RequestOptions = {},
): Promise<Uint8Array> {
  return parseCredentialResult(await call(ctx, route, encodeCredentialRequest({ history }), options))
}

/** The `members` service, one method per operation (admins and enrollers). */
export function membersClient(ctx: Context, route: Route, options: RequestOptions = {}) {
  const run = (request: MembersRequest) => call(ctx, route, encodeMembersRequest(request), options)
  return {
    list: async (page: { after?: string; limit?: number } = {}): Promise<MemberPage> =>
      parseMemberPage(await run({ op: 'member-list', ...page })),
    show: async (identifier: string): Promise<MemberView> =>
      parseMemberValue(await run({ op: 'member-show', identifier })),
    add: async (
      identifier: string,
      add: { attributes?: Readonly<Record<string, string>>; role?: MemberView['role'] } = {},
    ): Promise<MemberView> => parseMemberValue(await run({ op: 'member-add', identifier, ...add })),
    delete: async (identifier: string) => parseDeletedMember(await run({ op: 'member-delete', identifier })),
    createTicket: async (
      ticket: Omit<Extract<MembersRequest, { op: 'ticket-create' }>, 'op'> = {},
    ): Promise<{ ticket: TicketInfo; text: string }> =>
      parseCreatedTicket(await run({ op: 'ticket-create', ...ticket })),
    listTickets: async () => parseTicketPage(await run({ op: 'ticket-list' })),
    revokeTicket: async (id: string): Promise<TicketInfo> => parseTicketValue(await run({ op: 'ticket-revoke', id })),
    audit: async (
      page: { after?: number; limit?: number } = {},
    ): Promise<{ entries: AuditEntry[]; next: number | undefined }> =>
      parseAuditPage(await run({ op: 'audit', ...page })),
  }
}
