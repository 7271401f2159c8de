/**
 * Every authority decoder under fast-check: decode(encode(x)) = x, and mutations of valid
 * encodings (bit flips, truncations, insertions, random inputs) give a typed OckamError of the
 * decoder's own code, never another exception or a hang.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { decodeRevocationEntry, encodeRevocationData } from '../../../runtime/authority/revocation-entry.js'
import { decodeTicket, encodeTicket, type Ticket } from '../../../runtime/authority/ticket-text.js'
import { isOckamError, OckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { encodeCbor } from '../../../runtime/trust/cbor.js'
import {
  decodeCredentialRequest,
  decodeEnrollmentRequest,
  decodeMembersRequest,
  decodeResponse,
  decodeSubscribeRequest,
  encodeCredentialRequest,
  encodeEnrollmentRequest,
  encodeError,
  encodeMembersRequest,
  encodeOk,
  encodePush,
  encodeSubscribeRequest,
  type MembersRequest,
  memberValue,
  parseMemberValue,
  parseRevocationBatch,
  parseTicketValue,
  revocationBatchValue,
  ticketValue,
} from '../../../workers/authority/protocol.js'

const RUNS = 300

const identifierArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `I${Buffer.from(b).toString('hex')}`)
const nameArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/)
const attributesArb = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 20 }).filter((key) => key !== '__proto__'),
  fc.string({ maxLength: 40 }),
  { maxKeys: 6 },
)
const hostArb = fc.oneof(
  fc.constantFrom('127.0.0.1', 'localhost', '[::1]', '[2001:db8::7]', 'project.example.com', '10.0.0.7'),
  fc.domain(),
)
const addressArb = fc.tuple(hostArb, fc.integer({ min: 1, max: 65535 })).map(([host, port]) => `${host}:${port}`)

const ticketArb: fc.Arbitrary<Ticket> = fc.record({
  projectName: nameArb,
  address: addressArb,
  authorityHistory: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  code: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  expires: fc.integer({ min: 0, max: 2 ** 40 }),
})

/** Byte-level mutations of a valid encoding. */
function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([bytes, at, xor]) => {
      const copy = new Uint8Array(bytes)
      if (copy.length > 0) copy[at % copy.length] = (copy[at % copy.length] as number) ^ xor
      return copy
    }),
    fc.tuple(valid, fc.nat()).map(([bytes, cut]) => bytes.subarray(0, cut % Math.max(bytes.length, 1))),
    fc.tuple(valid, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([bytes, at, extra]) => {
      const i = at % (bytes.length + 1)
      return new Uint8Array([...bytes.subarray(0, i), ...extra, ...bytes.subarray(i)])
    }),
    fc.uint8Array({ maxLength: 200 }),
  )
}

function failsOnlyWith(codes: readonly OckamErrorCode[], fn: () => unknown): void {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof OckamError, `not an OckamError: ${String(error)}`)
    assert.ok(codes.includes(error.code), `unexpected ${error.code}: ${error.message}`)
  }
}

test('ticket text: decode(encode(t)) = t; any mutation is OCKAM_ERR_AUTHORITY_TICKET_TEXT_INVALID', () => {
  fc.assert(
    fc.property(ticketArb, (ticket) => {
      const decoded = decodeTicket(encodeTicket(ticket))
      assert.deepEqual(decoded, {
        ...ticket,
        authorityHistory: new Uint8Array(ticket.authorityHistory),
        code: new Uint8Array(ticket.code),
      })
      assert.deepEqual(decodeTicket(`  ${encodeTicket(ticket)}\n`), decoded)
    }),
    { numRuns: RUNS },
  )
  const textMutations = fc.oneof(
    fc.tuple(ticketArb, fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(([ticket, at, c]) => {
      const text = encodeTicket(ticket)
      const i = at % text.length
      return text.slice(0, i) + c + text.slice(i + 1)
    }),
    fc.tuple(ticketArb, fc.nat()).map(([ticket, cut]) => encodeTicket(ticket).slice(0, cut % 400)),
    mutated(
      ticketArb.map((ticket) =>
        encodeCbor([1, ticket.projectName, ticket.address, ticket.authorityHistory, ticket.code, ticket.expires]),
      ),
    ).map((bytes) => `ockam-ticket-v1:${Buffer.from(bytes).toString('base64url')}`),
    fc.string({ maxLength: 300 }),
    fc.string({ maxLength: 300 }).map((s) => `ockam-ticket-v1:${s}`),
  )
  fc.assert(
    fc.property(textMutations, (text) =>
      failsOnlyWith(['OCKAM_ERR_AUTHORITY_TICKET_TEXT_INVALID'], () => decodeTicket(text)),
    ),
    { numRuns: RUNS * 2 },
  )
})

test('ticket text: a huge input is refused before it is decoded', () => {
  const started = process.hrtime.bigint()
  assert.throws(
    () => decodeTicket(`ockam-ticket-v1:${'A'.repeat(5_000_000)}`),
    (error: unknown) => isOckamError(error, 'OCKAM_ERR_AUTHORITY_TICKET_TEXT_INVALID'),
  )
  assert.ok(process.hrtime.bigint() - started < 50_000_000n, 'refused in under 50 ms')
})

const revocationArb = fc.record({
  authority: identifierArb,
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  subject: identifierArb,
  revokedAt: fc.integer({ min: 0, max: 2 ** 40 }),
  signerChangeHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
})
const entryArb = fc
  .tuple(revocationArb, fc.uint8Array({ minLength: 64, maxLength: 64 }))
  .map(([fields, signature]) => ({ fields, bytes: encodeCbor([encodeRevocationData(fields), signature]) }))

test('revocation entries: decode(encode(x)) = x; mutations give only typed CBOR or revocation errors', () => {
  fc.assert(
    fc.property(entryArb, ({ fields, bytes }) => {
      const parsed = decodeRevocationEntry(bytes)
      assert.deepEqual(
        { authority: parsed.authority, seq: parsed.seq, subject: parsed.subject, revokedAt: parsed.revokedAt },
        { authority: fields.authority, seq: fields.seq, subject: fields.subject, revokedAt: fields.revokedAt },
      )
      assert.deepEqual(parsed.signerChangeHash, new Uint8Array(fields.signerChangeHash))
      assert.deepEqual(parsed.bytes, bytes)
    }),
    { numRuns: RUNS },
  )
  fc.assert(
    fc.property(mutated(entryArb.map((entry) => entry.bytes)), (bytes) => {
      try {
        decodeRevocationEntry(bytes)
      } catch (error) {
        assert.ok(error instanceof OckamError, String(error))
        assert.match(error.code, /^OCKAM_ERR_(CBOR|REVOCATION)_/)
      }
    }),
    { numRuns: RUNS * 2 },
  )
})

const membersRequestArb: fc.Arbitrary<MembersRequest> = fc.oneof(
  fc.record(
    { op: fc.constant('member-list' as const), after: identifierArb, limit: fc.nat(2000) },
    { requiredKeys: ['op'] },
  ),
  fc.record({ op: fc.constant('member-show' as const), identifier: identifierArb }),
  fc.record(
    {
      op: fc.constant('member-add' as const),
      identifier: identifierArb,
      attributes: attributesArb,
      role: fc.constantFrom('admin' as const, 'enroller' as const, 'member' as const),
    },
    { requiredKeys: ['op', 'identifier'] },
  ),
  fc.record({ op: fc.constant('member-delete' as const), identifier: identifierArb }),
  fc.record(
    {
      op: fc.constant('ticket-create' as const),
      attributes: attributesArb,
      relay: nameArb,
      usageCount: fc.nat(100),
      expiresInSeconds: fc.nat(10_000),
      enroller: fc.boolean(),
    },
    { requiredKeys: ['op'] },
  ),
  fc.constant({ op: 'ticket-list' as const }),
  fc.record({ op: fc.constant('ticket-revoke' as const), id: fc.stringMatching(/^[0-9a-f]{16}$/) }),
  fc.record({ op: fc.constant('audit' as const), after: fc.nat(), limit: fc.nat(100) }, { requiredKeys: ['op'] }),
)

/** A plain copy with null-prototype attribute records turned into ordinary objects, for deepEqual. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown

test('authority requests: decode(encode(x)) = x for every service; mutations give only OCKAM_ERR_AUTHORITY_MESSAGE_INVALID', () => {
  const enrollmentArb = fc.record({
    project: nameArb,
    code: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    history: fc.uint8Array({ maxLength: 200 }),
  })
  const credentialArb = fc.record({ history: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: undefined }) })
  fc.assert(
    fc.property(enrollmentArb, credentialArb, membersRequestArb, fc.nat(), (enrollment, credential, members, since) => {
      assert.deepEqual(plain(decodeEnrollmentRequest(encodeEnrollmentRequest(enrollment))), plain(enrollment))
      assert.deepEqual(plain(decodeCredentialRequest(encodeCredentialRequest(credential))), plain(credential))
      assert.deepEqual(plain(decodeMembersRequest(encodeMembersRequest(members))), plain(members))
      assert.deepEqual(decodeSubscribeRequest(encodeSubscribeRequest(since)), { since })
    }),
    { numRuns: RUNS },
  )
  const anyRequest = fc.oneof(
    enrollmentArb.map(encodeEnrollmentRequest),
    credentialArb.map(encodeCredentialRequest),
    membersRequestArb.map(encodeMembersRequest),
    fc.nat().map(encodeSubscribeRequest),
  )
  const only = ['OCKAM_ERR_AUTHORITY_MESSAGE_INVALID'] as const
  fc.assert(
    fc.property(mutated(anyRequest), (bytes) => {
      failsOnlyWith(only, () => decodeEnrollmentRequest(bytes))
      failsOnlyWith(only, () => decodeCredentialRequest(bytes))
      failsOnlyWith(only, () => decodeMembersRequest(bytes))
      failsOnlyWith(only, () => decodeSubscribeRequest(bytes))
    }),
    { numRuns: RUNS * 2 },
  )
})

test('members requests: unknown ops and params, missing required params are refused', () => {
  const invalid = (error: unknown) => isOckamError(error, 'OCKAM_ERR_AUTHORITY_MESSAGE_INVALID')
  assert.throws(() => decodeMembersRequest(encodeCbor([1, 'drop-tables', new Map()])), invalid)
  assert.throws(() => decodeMembersRequest(encodeCbor([1, 'member-show', new Map()])), invalid)
  assert.throws(() => decodeMembersRequest(encodeCbor([1, 'ticket-list', new Map([['extra', 1]])])), invalid)
  assert.throws(() => decodeMembersRequest(encodeCbor([1, 'constructor', new Map()])), invalid)
  assert.throws(() => decodeMembersRequest(encodeCbor([1, 'member-list', new Map([['toString', 1]])])), invalid)
  assert.throws(() => decodeMembersRequest(encodeCbor([2, 'ticket-list', new Map()])), invalid)
})

const memberArb = fc.record({
  identifier: identifierArb,
  attributes: attributesArb,
  role: fc.constantFrom('admin' as const, 'enroller' as const, 'member' as const),
  addedBy: identifierArb,
  enrolledWith: fc.option(fc.stringMatching(/^[0-9a-f]{16}$/), { nil: undefined }),
  addedAt: fc.nat(),
  updatedAt: fc.nat(),
})
const ticketInfoArb = fc.record({
  id: fc.stringMatching(/^[0-9a-f]{16}$/),
  attributes: attributesArb,
  relay: fc.option(nameArb, { nil: undefined }),
  enroller: fc.boolean(),
  usageCount: fc.nat(),
  usesLeft: fc.nat(),
  expiresAt: fc.nat(),
  status: fc.constantFrom('active' as const, 'used' as const, 'expired' as const, 'revoked' as const),
  createdBy: identifierArb,
  createdAt: fc.nat(),
})

test('authority responses: values round-trip; errors keep their code; mutations give only OCKAM_ERR_AUTHORITY_MESSAGE_INVALID', () => {
  fc.assert(
    fc.property(
      memberArb,
      ticketInfoArb,
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }),
      fc.nat(),
      (member, ticket, entries, latest) => {
        const okMember = decodeResponse(encodeOk(memberValue(member)))
        assert.equal(okMember.status, 'ok')
        assert.deepEqual(plain(parseMemberValue(okMember.status === 'ok' ? okMember.body : null)), plain(member))
        const okTicket = decodeResponse(encodeOk(ticketValue(ticket)))
        assert.deepEqual(plain(parseTicketValue(okTicket.status === 'ok' ? okTicket.body : null)), plain(ticket))
        const push = decodeResponse(encodePush(revocationBatchValue({ entries, latestSeq: latest })))
        assert.equal(push.status, 'push')
        assert.deepEqual(parseRevocationBatch(push.status === 'push' ? push.body : null), {
          entries,
          latestSeq: latest,
        })
      },
    ),
    { numRuns: RUNS },
  )
  const error = decodeResponse(
    encodeError(new OckamError('OCKAM_ERR_AUTHORITY_TICKET_USED', 'used', { hint: 'new one' })),
  )
  assert.equal(error.status, 'error')
  assert.ok(error.status === 'error' && isOckamError(error.error, 'OCKAM_ERR_AUTHORITY_TICKET_USED'))
  assert.equal(error.status === 'error' ? error.error.hint : '', 'new one')
  // A code this version does not know is not mistaken for another.
  assert.throws(
    () => decodeResponse(encodeCbor([1, 1, ['OCKAM_ERR_FROM_THE_FUTURE', 'x', null]])),
    (e: unknown) => isOckamError(e, 'OCKAM_ERR_AUTHORITY_MESSAGE_INVALID'),
  )
  const anyResponse = fc.oneof(
    memberArb.map((member) => encodeOk(memberValue(member))),
    ticketInfoArb.map((ticket) => encodeOk(ticketValue(ticket))),
    fc
      .array(fc.uint8Array({ maxLength: 100 }), { maxLength: 3 })
      .map((entries) => encodePush(revocationBatchValue({ entries, latestSeq: 3 }))),
    fc.constant(encodeError(new OckamError('OCKAM_ERR_AUTHORITY_TICKET_USED', 'used'))),
  )
  fc.assert(
    fc.property(mutated(anyResponse), (bytes) => {
      failsOnlyWith(['OCKAM_ERR_AUTHORITY_MESSAGE_INVALID'], () => {
        const response = decodeResponse(bytes)
        if (response.status === 'error') return
        parseMemberValue(response.body)
      })
      failsOnlyWith(['OCKAM_ERR_AUTHORITY_MESSAGE_INVALID'], () => {
        const response = decodeResponse(bytes)
        if (response.status !== 'error') parseTicketValue(response.body)
      })
      failsOnlyWith(['OCKAM_ERR_AUTHORITY_MESSAGE_INVALID'], () => {
        const response = decodeResponse(bytes)
        if (response.status !== 'error') parseRevocationBatch(response.body)
      })
    }),
    { numRuns: RUNS * 2 },
  )
})

test('an oversized message is refused before decoding', () => {
  const huge = new Uint8Array(61 * 1024)
  for (const decode of [
    decodeEnrollmentRequest,
    decodeCredentialRequest,
    decodeMembersRequest,
    decodeSubscribeRequest,
    decodeResponse,
  ]) {
    assert.throws(
      () => decode(huge),
      (e: unknown) => isOckamError(e, 'OCKAM_ERR_AUTHORITY_MESSAGE_INVALID'),
    )
  }
})
