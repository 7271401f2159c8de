/**
 * The authority services' wire format: deterministic CBOR (runtime/trust/cbor.ts), structs as
 * arrays, one request per message, one response per request (plus pushes on a revocation
 * subscription). Every decoder bounds its input (MAX_AUTHORITY_MESSAGE_BYTES) before decoding
 * and throws only OCKAM_ERR_AUTHORITY_MESSAGE_INVALID (with the CBOR error as cause).
 *
 *   response   = [1, 0, body] | [1, 1, [code: text, message: text, hint: text / null]] | [1, 2, body]
 *
 *   enrollment   request [1, project: text, code: bstr(32), history: bstr]
 *                ok body [member, credential: bstr]
 *   credentials  request [1, history: bstr / null]
 *                ok body credential: bstr
 *   members      request [1, op: text, params: {text => value}]   (ops and params below)
 *   revocations  request [1, since: uint]
 *                ok / push body [entries: [bstr, …], latest-seq: uint]
 *
 *   member = [identifier: text, attributes: {text => text}, role: text, added-by: text,
 *             enrolled-with: text / null, added-at: uint (ms), updated-at: uint (ms)]
 *   ticket = [id: text, attributes: {text => text}, relay: text / null, enroller: bool,
 *             usage-count: uint, uses-left: uint, expires-at: uint (ms), status: text,
 *             created-by: text, created-at: uint (ms)]
 *   audit  = [seq: uint, actor: text, action: text, details: text (JSON), at: uint (ms)]
 */
import { MAX_AUTHORITY_MESSAGE_BYTES, MAX_REVOCATION_ENTRY_BYTES } from '../../runtime/authority/constants.js'
import type { AuditEntry, Member, TicketInfo, TicketStatus } from '../../runtime/authority/types.js'
import { ERROR_CODES, OckamError, type OckamErrorCode } from '../../runtime/errors.js'
import { type CborValue, decodeCbor, encodeCbor } from '../../runtime/trust/cbor.js'
import { DEFAULT_MAX_IDENTITY_HISTORY_BYTES } from '../../runtime/trust/constants.js'
import { checkAttributes } from '../../runtime/trust/credentials/credential.js'
import { isIdentifier } from '../../runtime/trust/identity/identifier.js'
import {
  AUTHORITY_PROTOCOL_VERSION,
  MAX_AUDIT_DETAILS_CHARS,
  MAX_ERROR_TEXT_CHARS,
  STATUS_ERROR,
  STATUS_OK,
  STATUS_PUSH,
} from './constants.js'

// ---------------------------------------------------------------------------------------------
// Strict readers

export function invalidMessage(why: string, cause?: unknown): OckamError {
  return new OckamError('OCKAM_ERR_AUTHORITY_MESSAGE_INVALID', `authority message: ${why}`, {
    cause,
    hint: 'the peer runs an incompatible ockam-runtime version, or the message was damaged',
  })
}

function decodeBounded(bytes: Uint8Array): CborValue {
  if (!(bytes instanceof Uint8Array)) throw invalidMessage('not bytes')
  if (bytes.length > MAX_AUTHORITY_MESSAGE_BYTES) {
    throw invalidMessage(`${bytes.length} bytes, at most ${MAX_AUTHORITY_MESSAGE_BYTES}`)
  }
  try {
    return decodeCbor(bytes, { maxBytes: MAX_AUTHORITY_MESSAGE_BYTES })
  } catch (cause) {
    throw invalidMessage(cause instanceof Error ? cause.message : 'not CBOR', cause)
  }
}

function array(value: CborValue | undefined, length: number, what: string): readonly CborValue[] {
  if (!Array.isArray(value) || value.length !== length) throw invalidMessage(`${what} must be an array of ${length}`)
  return value as readonly CborValue[]
}

function list(value: CborValue | undefined, what: string): readonly CborValue[] {
  if (!Array.isArray(value)) throw invalidMessage(`${what} must be an array`)
  return value as readonly CborValue[]
}

function text(value: CborValue | undefined, what: string, max = 256): string {
  if (typeof value !== 'string' || value.length > max) throw invalidMessage(`${what} must be text of at most ${max}`)
  return value
}

function optionalText(value: CborValue | undefined, what: string, max = 256): string | undefined {
  return value === null ? undefined : text(value, what, max)
}

function uint(value: CborValue | undefined, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidMessage(`${what} must be an unsigned integer`)
  }
  return value
}

function bool(value: CborValue | undefined, what: string): boolean {
  if (typeof value !== 'boolean') throw invalidMessage(`${what} must be a boolean`)
  return value
}

function bytes(value: CborValue | undefined, what: string, max: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length > max) throw invalidMessage(`${what} must be at most ${max} bytes`)
  return value
}

function identifier(value: CborValue | undefined, what: string): string {
  if (!isIdentifier(value)) throw invalidMessage(`${what} must be an identifier`)
  return value
}

function attributes(value: CborValue | undefined, what: string): Record<string, string> {
  if (!(value instanceof Map)) throw invalidMessage(`${what} must be a map`)
  const out = Object.create(null) as Record<string, string>
  for (const [name, item] of value as ReadonlyMap<string, CborValue>) {
    if (typeof item !== 'string') throw invalidMessage(`${what} values must be text`)
    out[name] = item
  }
  try {
    checkAttributes(out)
  } catch (cause) {
    throw invalidMessage(`${what}: ${(cause as Error).message}`, cause)
  }
  return out
}

function attributeMap(record: Readonly<Record<string, string>>): Map<string, string> {
  return new Map(Object.entries(record))
}

function version(value: CborValue | undefined): void {
  if (value !== AUTHORITY_PROTOCOL_VERSION) throw invalidMessage(`unknown version ${String(value)}`)
}

// ---------------------------------------------------------------------------------------------
// Responses

export type AuthorityResponse =
  | { readonly status: 'ok'; readonly body: CborValue }
  | { readonly status: 'push'; readonly body: CborValue }
  | { readonly status: 'error'; readonly error: OckamError }

export function encodeOk(body: CborValue): Uint8Array {
  return encodeCbor([AUTHORITY_PROTOCOL_VERSION, STATUS_OK, body])
}

export function encodePush(body: CborValue): Uint8Array {
  return encodeCbor([AUTHORITY_PROTOCOL_VERSION, STATUS_PUSH, body])
}

export function encodeError(error: OckamError): Uint8Array {
  const clip = (value: string) => value.slice(0, MAX_ERROR_TEXT_CHARS)
  return encodeCbor([
    AUTHORITY_PROTOCOL_VERSION,
    STATUS_ERROR,
    [error.code, clip(error.message), error.hint === undefined ? null : clip(error.hint)],
  ])
}

/** Decodes a response; an error response becomes `{ status: 'error', error }` with the sender's code. */
export function decodeResponse(input: Uint8Array): AuthorityResponse {
  const [v, status, body] = array(decodeBounded(input), 3, 'response')
  version(v)
  if (status === STATUS_OK) return { status: 'ok', body: body as CborValue }
  if (status === STATUS_PUSH) return { status: 'push', body: body as CborValue }
  if (status !== STATUS_ERROR) throw invalidMessage(`unknown status ${String(status)}`)
  const [code, message, hint] = array(body, 3, 'error')
  const codeText = text(code, 'error code', 80)
  const messageText = text(message, 'error message', MAX_ERROR_TEXT_CHARS)
  const hintText = optionalText(hint, 'error hint', MAX_ERROR_TEXT_CHARS)
  // A code this version does not know is reported as such, never trusted as another.
  if (!(codeText in ERROR_CODES)) throw invalidMessage(`unknown error code ${codeText}: ${messageText}`)
  return {
    status: 'error',
    error: new OckamError(codeText as OckamErrorCode, messageText, hintText === undefined ? {} : { hint: hintText }),
  }
}

// ---------------------------------------------------------------------------------------------
// Shared values

export interface MemberView {
  readonly identifier: string
  readonly attributes: Readonly<Record<string, string>>
  readonly role: Member['role']
  readonly addedBy: string
  readonly enrolledWith: string | undefined
  readonly addedAt: number
  readonly updatedAt: number
}

const ROLES = new Set(['admin', 'enroller', 'member'])

export function memberValue(member: MemberView): CborValue {
  return [
    member.identifier,
    attributeMap(member.attributes),
    member.role,
    member.addedBy,
    member.enrolledWith ?? null,
    member.addedAt,
    member.updatedAt,
  ]
}

export function parseMemberValue(value: CborValue | undefined): MemberView {
  const [id, attrs, role, addedBy, enrolledWith, addedAt, updatedAt] = array(value, 7, 'member')
  const roleText = text(role, 'role', 16)
  if (!ROLES.has(roleText)) throw invalidMessage(`unknown role ${roleText}`)
  return {
    identifier: identifier(id, 'member identifier'),
    attributes: attributes(attrs, 'member attributes'),
    role: roleText as Member['role'],
    addedBy: identifier(addedBy, 'added-by'),
    enrolledWith: optionalText(enrolledWith, 'enrolled-with', 16),
    addedAt: uint(addedAt, 'added-at'),
    updatedAt: uint(updatedAt, 'updated-at'),
  }
}

const STATUSES = new Set(['active', 'used', 'expired', 'revoked'])

export function ticketValue(ticket: TicketInfo): CborValue {
  return [
    ticket.id,
    attributeMap(ticket.attributes),
    ticket.relay ?? null,
    ticket.enroller,
    ticket.usageCount,
    ticket.usesLeft,
    ticket.expiresAt,
    ticket.status,
    ticket.createdBy,
    ticket.createdAt,
  ]
}

export function parseTicketValue(value: CborValue | undefined): TicketInfo {
  const [id, attrs, relay, enroller, usageCount, usesLeft, expiresAt, status, createdBy, createdAt] = array(
    value,
    10,
    'ticket',
  )
  const statusText = text(status, 'ticket status', 16)
  if (!STATUSES.has(statusText)) throw invalidMessage(`unknown ticket status ${statusText}`)
  return {
    id: text(id, 'ticket id', 16),
    attributes: attributes(attrs, 'ticket attributes'),
    relay: optionalText(relay, 'ticket relay', 63),
    enroller: bool(enroller, 'ticket enroller'),
    usageCount: uint(usageCount, 'usage count'),
    usesLeft: uint(usesLeft, 'uses left'),
    expiresAt: uint(expiresAt, 'expires-at'),
    status: statusText as TicketStatus,
    createdBy: identifier(createdBy, 'created-by'),
    createdAt: uint(createdAt, 'created-at'),
  }
}

export function auditValue(entry: AuditEntry): CborValue {
  return [
    entry.seq,
    entry.actor,
    entry.action,
    JSON.stringify(entry.details).slice(0, MAX_AUDIT_DETAILS_CHARS),
    entry.at,
  ]
}

export function parseAuditValue(value: CborValue | undefined): AuditEntry {
  const [seq, actor, action, details, at] = array(value, 5, 'audit entry')
  const json = text(details, 'audit details', MAX_AUDIT_DETAILS_CHARS)
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    parsed = { truncated: json }
  }
  return {
    seq: uint(seq, 'audit seq'),
    actor: identifier(actor, 'audit actor'),
    action: text(action, 'audit action', 64),
    details:
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : {},
    at: uint(at, 'audit time'),
  }
}

// ---------------------------------------------------------------------------------------------
// enrollment

export interface EnrollmentRequest {
  readonly project: string
  readonly code: Uint8Array
  /** The enrollee's change history: must be the identity the channel authenticated. */
  readonly history: Uint8Array
}

export function encodeEnrollmentRequest(request: EnrollmentRequest): Uint8Array {
  return encodeCbor([AUTHORITY_PROTOCOL_VERSION, request.project, request.code, request.history])
}

export function decodeEnrollmentRequest(input: Uint8Array): EnrollmentRequest {
  const [v, project, code, history] = array(decodeBounded(input), 4, 'enrollment request')
  version(v)
  return {
    project: text(project, 'project', 63),
    code: bytes(code, 'code', 64),
    history: bytes(history, 'history', DEFAULT_MAX_IDENTITY_HISTORY_BYTES),
  }
}

export interface EnrollmentResult {
  readonly member: MemberView
  readonly credential: Uint8Array
}

export function enrollmentResultValue(result: EnrollmentResult): CborValue {
  return [memberValue(result.member), result.credential]
}

export function parseEnrollmentResult(body: CborValue): EnrollmentResult {
  const [member, credential] = array(body, 2, 'enrollment result')
  return { member: parseMemberValue(member), credential: bytes(credential, 'credential', MAX_AUTHORITY_MESSAGE_BYTES) }
}

// ---------------------------------------------------------------------------------------------
// credentials

export interface CredentialRequest {
  /** The member's current change history (after a rotation), or undefined to use the one held. */
  readonly history: Uint8Array | undefined
}

export function encodeCredentialRequest(request: CredentialRequest): Uint8Array {
  return encodeCbor([AUTHORITY_PROTOCOL_VERSION, request.history ?? null])
}

export function decodeCredentialRequest(input: Uint8Array): CredentialRequest {
  const [v, history] = array(decodeBounded(input), 2, 'credential request')
  version(v)
  return { history: history === null ? undefined : bytes(history, 'history', DEFAULT_MAX_IDENTITY_HISTORY_BYTES) }
}

export function parseCredentialResult(body: CborValue): Uint8Array {
  return bytes(body, 'credential', MAX_AUTHORITY_MESSAGE_BYTES)
}

// ---------------------------------------------------------------------------------------------
// members

export type MembersRequest =
  | { readonly op: 'member-list'; readonly after?: string; readonly limit?: number }
  | { readonly op: 'member-show'; readonly identifier: string }
  | {
      readonly op: 'member-add'
      readonly identifier: string
      readonly attributes?: Readonly<Record<string, string>>
      readonly role?: Member['role']
    }
  | { readonly op: 'member-delete'; readonly identifier: string }
  | {
      readonly op: 'ticket-create'
      readonly attributes?: Readonly<Record<string, string>>
      readonly relay?: string
      readonly usageCount?: number
      readonly expiresInSeconds?: number
      readonly enroller?: boolean
    }
  | { readonly op: 'ticket-list' }
  | { readonly op: 'ticket-revoke'; readonly id: string }
  | { readonly op: 'audit'; readonly after?: number; readonly limit?: number }

export type MembersOp = MembersRequest['op']

/** Params of each op: name -> reader; a param not listed is refused. */
const PARAMS: Record<MembersOp, Record<string, (value: CborValue) => unknown>> = {
  'member-list': { after: (v) => identifier(v, 'after'), limit: (v) => uint(v, 'limit') },
  'member-show': { identifier: (v) => identifier(v, 'identifier') },
  'member-add': {
    identifier: (v) => identifier(v, 'identifier'),
    attributes: (v) => attributes(v, 'attributes'),
    role: (v) => {
      const role = text(v, 'role', 16)
      if (!ROLES.has(role)) throw invalidMessage(`unknown role ${role}`)
      return role
    },
  },
  'member-delete': { identifier: (v) => identifier(v, 'identifier') },
  'ticket-create': {
    attributes: (v) => attributes(v, 'attributes'),
    relay: (v) => text(v, 'relay', 63),
    usageCount: (v) => uint(v, 'usageCount'),
    expiresInSeconds: (v) => uint(v, 'expiresInSeconds'),
    enroller: (v) => bool(v, 'enroller'),
  },
  'ticket-list': {},
  'ticket-revoke': { id: (v) => text(v, 'id', 16) },
  audit: { after: (v) => uint(v, 'after'), limit: (v) => uint(v, 'limit') },
}

const REQUIRED: Partial<Record<MembersOp, readonly string[]>> = {
  'member-show': ['identifier'],
  'member-add': ['identifier'],
  'member-delete': ['identifier'],
  'ticket-revoke': ['id'],
}

export function encodeMembersRequest(request: MembersRequest): Uint8Array {
  const params = new Map<string, CborValue>()
  for (const [name, value] of Object.entries(request)) {
    if (name === 'op' || value === undefined) continue
    params.set(name, typeof value === 'object' ? attributeMap(value as Record<string, string>) : (value as CborValue))
  }
  return encodeCbor([AUTHORITY_PROTOCOL_VERSION, request.op, params])
}

export function decodeMembersRequest(input: Uint8Array): MembersRequest {
  const [v, op, params] = array(decodeBounded(input), 3, 'members request')
  version(v)
  const opText = text(op, 'op', 32)
  if (!Object.hasOwn(PARAMS, opText)) throw invalidMessage(`unknown op ${opText}`)
  const readers = PARAMS[opText as MembersOp]
  if (!(params instanceof Map)) throw invalidMessage('params must be a map')
  const out: Record<string, unknown> = { op: opText }
  for (const [name, value] of params as ReadonlyMap<string, CborValue>) {
    const read = Object.hasOwn(readers, name) ? readers[name] : undefined
    if (read === undefined) throw invalidMessage(`unknown param ${name.slice(0, 40)} for ${opText}`)
    out[name] = read(value)
  }
  for (const name of REQUIRED[opText as MembersOp] ?? []) {
    if (!(name in out)) throw invalidMessage(`${opText} needs ${name}`)
  }
  return out as MembersRequest
}

export interface MemberPage {
  readonly members: readonly MemberView[]
  /** Pass as `after` for the next page; undefined on the last page. */
  readonly next: string | undefined
}

export function parseMemberPage(body: CborValue): MemberPage {
  const [members, next] = array(body, 2, 'member page')
  return {
    members: list(members, 'members').map(parseMemberValue),
    next: next === null ? undefined : identifier(next, 'next'),
  }
}

export function parseDeletedMember(body: CborValue): { member: MemberView; revocationSeq: number } {
  const [member, seq] = array(body, 2, 'deleted member')
  return { member: parseMemberValue(member), revocationSeq: uint(seq, 'revocation seq') }
}

export function parseCreatedTicket(body: CborValue): { ticket: TicketInfo; text: string } {
  const [ticket, ticketText] = array(body, 2, 'created ticket')
  return { ticket: parseTicketValue(ticket), text: text(ticketText, 'ticket text', MAX_AUTHORITY_MESSAGE_BYTES) }
}

export function parseTicketPage(body: CborValue): { tickets: TicketInfo[]; more: boolean } {
  const [tickets, more] = array(body, 2, 'ticket page')
  return { tickets: list(tickets, 'tickets').map(parseTicketValue), more: bool(more, 'more') }
}

export function parseAuditPage(body: CborValue): { entries: AuditEntry[]; next: number | undefined } {
  const [entries, next] = array(body, 2, 'audit page')
  return {
    entries: list(entries, 'audit entries').map(parseAuditValue),
    next: next === null ? undefined : uint(next, 'next'),
  }
}

// ---------------------------------------------------------------------------------------------
// revocations

export function encodeSubscribeRequest(since: number): Uint8Array {
  return encodeCbor([AUTHORITY_PROTOCOL_VERSION, since])
}

export function decodeSubscribeRequest(input: Uint8Array): { since: number } {
  const [v, since] = array(decodeBounded(input), 2, 'subscribe request')
  version(v)
  return { since: uint(since, 'since') }
}

export interface RevocationBatch {
  /** Entry bytes, oldest first (verified by the subscriber, not here). */
  readonly entries: readonly Uint8Array[]
  readonly latestSeq: number
}

export function revocationBatchValue(batch: RevocationBatch): CborValue {
  return [batch.entries as Uint8Array[], batch.latestSeq]
}

export function parseRevocationBatch(body: CborValue): RevocationBatch {
  const [entries, latest] = array(body, 2, 'revocation batch')
  return {
    entries: list(entries, 'revocation entries').map((entry) =>
      bytes(entry, 'revocation entry', MAX_REVOCATION_ENTRY_BYTES),
    ),
    latestSeq: uint(latest, 'latest seq'),
  }
}
