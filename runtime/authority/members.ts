/**
 * Members (DESIGN §6, §12): added, changed, listed and deleted by admins and enrollers (within
 * limits), and the credentials the authority issues them. Deleting a member publishes a signed,
 * sequence-numbered revocation entry in the same transaction.
 */
import { OckamError, throwIfAborted } from '../errors.js'
import type { MemberRow } from '../state/authority-member-repository.js'
import { immediate } from '../state/sqlite.js'
import { equalBytes } from '../trust/bytes.js'
import { checkAttributes } from '../trust/credentials/credential.js'
import type { VerifiedCredential } from '../trust/credentials/types.js'
import { isIdentifier } from '../trust/identity/identifier.js'
import type { VerifiedIdentity } from '../trust/identity/types.js'
import {
  ADMIN_ATTRIBUTE,
  ANY_RELAY,
  type Attributes,
  checkGrantableAttributes,
  RELAY_ATTRIBUTE,
  type Role,
  roleAttributes,
  roleOf,
} from './attributes.js'
import { MAX_COMMIT_ATTEMPTS, MAX_LIST_ITEMS } from './constants.js'
import type { AuthorityCore } from './core.js'
import { type RevocationEntry, signRevocationEntry, verifyRevocationEntry } from './revocation-entry.js'
import { enrollerLimit, identityRevoked } from './tickets.js'
import type { Member } from './types.js'

export interface AddMemberOptions {
  /** Plain attributes; reserved and computed names are refused (roles come from `role`). */
  readonly attributes?: Attributes
  /** Default 'member'. Only admins make admins and enrollers. */
  readonly role?: Role
  /** The member's change history, if known (else it presents it when asking for a credential). */
  readonly history?: Uint8Array
}

export interface DeletedMember {
  readonly member: Member
  /** The published revocation entry. */
  readonly revocation: RevocationEntry
  /** Relay names the member owned, now free. */
  readonly releasedRelays: readonly string[]
}

export interface IssueMemberCredentialOptions {
  /** The member's change history as presented now (a rotation is taken into account). */
  readonly history?: Uint8Array
  /** Default: the project's credentialTtlSeconds. */
  readonly ttlSeconds?: number
  readonly signal?: AbortSignal
}

export interface MemberCredential {
  /** Presentation bytes (credential + the authority's credential-key attestation). */
  readonly presentation: Uint8Array
  readonly credential: VerifiedCredential
  readonly member: Member
}

export type RevocationListener = (entry: RevocationEntry) => void

export function createMemberOperations(core: AuthorityCore, published: (entry: RevocationEntry) => void) {
  const adminCount = (): number => core.members.countWithAttribute(ADMIN_ATTRIBUTE, 'true')

  const notFound = (identifier: string): OckamError =>
    new OckamError('OCKAM_ERR_AUTHORITY_MEMBER_NOT_FOUND', `${identifier} is not a member of the project`, {
      hint: 'run: ockam-runtime project member list',
      data: { identifier },
    })

  const lastAdmin = (): OckamError =>
    new OckamError('OCKAM_ERR_AUTHORITY_LAST_ADMIN', 'the project would be left without an admin', {
      hint: 'make another member an admin first (project member add IDENTIFIER --role admin)',
    })

  const checkIdentifier = (identifier: unknown): string => {
    if (!isIdentifier(identifier)) {
      throw new OckamError('OCKAM_ERR_IDENTITY_INVALID_IDENTIFIER', 'a member is named by its identifier', {
        hint: 'an identifier is I followed by 64 lowercase hex digits, as `identity show` prints it',
      })
    }
    return identifier
  }

  const addMember = (actor: string, identifier: string, options: AddMemberOptions = {}): Member =>
    immediate(core.db, () => {
      core.project()
      const actorRole = core.requireRole(actor, ['admin', 'enroller'], 'add members')
      checkIdentifier(identifier)
      if (core.revocations.get(identifier) !== undefined) throw identityRevoked(identifier)
      const granted = checkGrantableAttributes(options.attributes ?? {})
      const role = options.role ?? 'member'
      if (role !== 'admin' && role !== 'enroller' && role !== 'member') {
        throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'role must be admin, enroller or member')
      }
      if (actorRole !== 'admin') {
        if (role !== 'member') throw enrollerLimit(`make ${role}s`)
        if (granted[RELAY_ATTRIBUTE] === ANY_RELAY) throw enrollerLimit('grant relay *')
      }
      const existing = core.members.get(identifier)
      if (existing !== undefined) {
        const existingRole = roleOf(existing.attributes)
        if (actorRole !== 'admin' && existingRole !== 'member') throw enrollerLimit(`change ${existingRole}s`)
        if (existingRole === 'admin' && role !== 'admin' && adminCount() <= 1) throw lastAdmin()
      }
      const attributes = { ...granted, ...roleAttributes(role) }
      try {
        checkAttributes(attributes)
      } catch (cause) {
        throw new OckamError('OCKAM_ERR_AUTHORITY_ATTRIBUTES_INVALID', (cause as Error).message, { cause })
      }
      const now = core.nowMs()
      if (existing === undefined) {
        core.members.insert({
          identifier,
          attributes,
          history: undefined,
          addedBy: actor,
          enrolledWith: undefined,
          addedAt: now,
          updatedAt: now,
        })
        core.record(actor, 'member.add', { member: identifier, attributes })
      } else {
        core.members.updateAttributes(identifier, attributes, now)
        core.record(actor, 'member.update', { member: identifier, attributes, previous: { ...existing.attributes } })
      }
      if (options.history !== undefined) core.acceptHistory(core.members.get(identifier) as MemberRow, options.history)
      return core.toMember(core.members.get(identifier) as MemberRow)
    })

  /** Authorizes a deletion against the current rows; returns the member to delete. */
  const checkDelete = (actor: string, identifier: string): MemberRow => {
    core.project()
    const actorRole = core.requireRole(actor, ['admin', 'enroller'], 'delete members')
    checkIdentifier(identifier)
    const target = core.members.get(identifier)
    if (target === undefined) throw notFound(identifier)
    const targetRole = roleOf(target.attributes)
    if (actorRole !== 'admin' && targetRole !== 'member') throw enrollerLimit(`delete ${targetRole}s`)
    if (targetRole === 'admin' && adminCount() <= 1) throw lastAdmin()
    return target
  }

  // Deletions sign outside the transaction; one at a time in this process, so they do not
  // compete for the next sequence number (another process competing is detected and retried).
  let queue: Promise<unknown> = Promise.resolve()
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn)
    queue = run.catch(() => undefined)
    return run
  }

  const deleteMember = (actor: string, identifier: string, options: { signal?: AbortSignal } = {}) =>
    serialized(async (): Promise<DeletedMember> => {
      for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
        throwIfAborted(options.signal, 'the authority operation')
        checkDelete(actor, identifier)
        const authority = core.authorityIdentity()
        const seq = core.revocations.latestSeq() + 1
        const revokedAt = core.nowSeconds()
        const bytes = await signRevocationEntry(core.identities.signer, authority.keyHandle, authority.identity, {
          seq,
          subject: identifier,
          revokedAt,
        })
        const entry = verifyRevocationEntry(bytes, authority.identity, core.crypto)
        const done = immediate(core.db, (): DeletedMember | undefined => {
          if (core.revocations.latestSeq() + 1 !== seq) return undefined
          const target = checkDelete(actor, identifier)
          core.members.delete(identifier)
          core.revocations.insert({ seq, identifier, revokedAt, entry: bytes })
          const releasedRelays = core.relays.releaseAllOf(identifier)
          core.record(actor, 'member.delete', {
            member: identifier,
            attributes: { ...target.attributes },
            revocation: seq,
            releasedRelays,
          })
          return { member: core.toMember(target), revocation: entry, releasedRelays }
        })
        if (done !== undefined) {
          published(done.revocation)
          return done
        }
      }
      throw busy()
    })

  const listMembers = (actor: string, options: { after?: string; limit?: number } = {}): Member[] => {
    core.project()
    core.requireRole(actor, ['admin', 'enroller'], 'list members')
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? MAX_LIST_ITEMS)), MAX_LIST_ITEMS)
    return core.members
      .list(options.after === undefined ? { limit } : { after: options.after, limit })
      .map(core.toMember)
  }

  const showMember = (actor: string, identifier: string): Member => {
    core.project()
    core.requireRole(actor, ['admin', 'enroller'], 'show members')
    const row = core.members.get(checkIdentifier(identifier))
    if (row === undefined) throw notFound(identifier)
    return core.toMember(row)
  }

  /**
   * Issues a credential to a member. The signature is made outside the database (the vault is
   * asynchronous), so the release is a second transaction that checks the member still exists
   * with the attributes and history the credential was made from: a member deleted meanwhile
   * gets nothing (a deletion and an issuance are ordered by SQLite's write lock, and one issued
   * just before a deletion is covered by its revocation entry).
   */
  const issueMemberCredential = async (
    identifier: string,
    options: IssueMemberCredentialOptions = {},
  ): Promise<MemberCredential> => {
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      throwIfAborted(options.signal, 'the authority operation')
      const project = core.project()
      const { row, identity } = immediate(core.db, (): { row: MemberRow; identity: VerifiedIdentity } => {
        const found = core.members.get(checkIdentifier(identifier))
        if (found === undefined) throw notFound(identifier)
        const held =
          options.history === undefined ? core.storedIdentity(found) : core.acceptHistory(found, options.history)
        return { row: core.members.get(identifier) as MemberRow, identity: held }
      })
      const issued = await core.identities.issueCredential(project.authorityIdentityName, {
        subject: { identifier, latestChangeHash: identity.latestChangeHash },
        attributes: row.attributes,
        ttlSeconds: options.ttlSeconds ?? project.settings.credentialTtlSeconds,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
      const current = immediate(core.db, () => {
        const now = core.members.get(identifier)
        if (now === undefined) throw notFound(identifier)
        return now
      })
      if (sameAttributes(current.attributes, row.attributes) && sameHistory(current.history, row.history)) {
        return { presentation: issued.presentation, credential: issued.credential, member: core.toMember(current) }
      }
    }
    throw busy()
  }

  return { addMember, deleteMember, listMembers, showMember, issueMemberCredential }
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key])
}

function sameHistory(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : equalBytes(a, b)
}

function busy(): OckamError {
  return new OckamError('OCKAM_ERR_AUTHORITY_BUSY', 'the member kept changing during the operation', {
    hint: 'nothing was changed; try again',
  })
}
