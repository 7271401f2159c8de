/**
 * The project authority (DESIGN §6, §12): pure logic over the state database and the identities
 * service, no sockets. The project node is its one writer; its workers (workers/authority/) and
 * the control API call it with the identifier of whoever asks (`actor`), authenticated by a
 * secure channel or, for the CLI on the project host, by the control socket. Every change is
 * written to the audit log in the transaction that makes it.
 */
import type { Database } from 'better-sqlite3'
import { OckamError } from '../errors.js'
import { immediate } from '../state/sqlite.js'
import { createNativeCryptoProvider } from '../trust/crypto/native.js'
import type { CryptoProvider } from '../trust/crypto/provider.js'
import type { IdentitiesService } from '../trust/identities/identities.js'
import { verifyIdentityHistory } from '../trust/identity/history.js'
import { isIdentifier } from '../trust/identity/identifier.js'
import type { Attributes } from './attributes.js'
import { roleAttributes } from './attributes.js'
import { DEFAULT_AUDIT_PAGE, DEFAULT_REVOCATION_ENTRIES_PER_MESSAGE, MAX_LIST_ITEMS } from './constants.js'
import { createAuthorityCore } from './core.js'
import {
  type AddMemberOptions,
  createMemberOperations,
  type DeletedMember,
  type IssueMemberCredentialOptions,
  type MemberCredential,
  type RevocationListener,
} from './members.js'
import { checkAdvertisedAddress, checkProjectName, checkProjectSettings } from './project.js'
import { createRelayOperations, type RelayClaim } from './relays.js'
import { decodeRevocationEntry, type RevocationEntry } from './revocation-entry.js'
import {
  type CreatedTicket,
  type CreateTicketOptions,
  createTicketOperations,
  type Enrollee,
  type Redemption,
} from './tickets.js'
import type { AuditEntry, Member, Project, RelayOwner, TicketInfo } from './types.js'

export interface AuthorityServiceOptions {
  /** The state database (StateStore.db), migrated to version 4 or later, synchronous=FULL. */
  readonly db: Database
  /** This folder's identities: the authority identity signs credentials and revocations. */
  readonly identities: IdentitiesService
  /** For verification; default native. */
  readonly crypto?: CryptoProvider
  /** Clock, Unix ms; default Date.now. */
  readonly now?: () => number
}

export interface CreateProjectRequest {
  readonly name: string
  /** Name of this folder's identity that becomes the authority; must not be the admin. */
  readonly authorityIdentity: string
  /** HOST:PORT tickets carry (`--advertise`, default the listen address). */
  readonly advertisedAddress: string
  /** Identifier of the creator, the first admin. */
  readonly admin: string
  /** The admin's change history, if at hand (a local identity's). */
  readonly adminHistory?: Uint8Array
  /** Default DEFAULT_MEMBER_CREDENTIAL_TTL_SECONDS. */
  readonly credentialTtlSeconds?: number
  /** Default true (ProjectSettings.passthrough). */
  readonly passthrough?: boolean
}

export interface RevocationPage {
  /** Entry bytes with their decoded fields, oldest first. */
  readonly entries: readonly RevocationEntry[]
  /** The authority's latest seq: more remain when it is beyond the last entry returned. */
  readonly latestSeq: number
}

export interface AuthorityService {
  /** Makes this state folder a project host. Throws OCKAM_ERR_AUTHORITY_PROJECT_EXISTS. */
  createProject(request: CreateProjectRequest): Project
  /** Throws OCKAM_ERR_AUTHORITY_NO_PROJECT. */
  project(): Project
  /** The project, or undefined when this folder hosts none. */
  findProject(): Project | undefined

  createTicket(actor: string, options?: CreateTicketOptions): CreatedTicket
  listTickets(actor: string): TicketInfo[]
  revokeTicket(actor: string, id: string): TicketInfo
  /** Spends one use of the ticket and makes the enrollee a member, atomically. */
  redeemTicket(code: Uint8Array, enrollee: Enrollee): Redemption

  addMember(actor: string, identifier: string, options?: AddMemberOptions): Member
  /** Deletes, publishes the signed revocation entry, releases its relay names. */
  deleteMember(actor: string, identifier: string, options?: { signal?: AbortSignal }): Promise<DeletedMember>
  listMembers(actor: string, options?: { after?: string; limit?: number }): Member[]
  showMember(actor: string, identifier: string): Member
  /** The member's role, or undefined for a non-member (no authorization: for the workers). */
  memberRole(identifier: string): Member['role'] | undefined
  /** Only for an existing member, checked again in the transaction that releases it. */
  issueMemberCredential(identifier: string, options?: IssueMemberCredentialOptions): Promise<MemberCredential>

  claimRelay(name: string, identifier: string, attributes?: Attributes): RelayClaim
  releaseRelay(actor: string, name: string): RelayOwner
  relayOwner(name: string): RelayOwner | undefined
  listRelays(): RelayOwner[]

  /** Published entries with seq > `seq`, at most `limit` (default DEFAULT_REVOCATION_ENTRIES_PER_MESSAGE). */
  entriesSince(seq: number, limit?: number): RevocationPage
  isRevoked(identifier: string): boolean
  /** Called after each deletion commits; returns the unsubscribe function. */
  onRevocation(listener: RevocationListener): () => void

  /** Admins only. Oldest first, from seq > `after`. */
  auditLog(actor: string, options?: { after?: number; limit?: number }): AuditEntry[]
}

export function createAuthorityService(options: AuthorityServiceOptions): AuthorityService {
  const { db, identities } = options
  // Authority tables must be on disk before a redemption or revocation is acknowledged.
  const synchronous = db.pragma('synchronous', { simple: true })
  if (synchronous !== 2 && synchronous !== 3) {
    throw new OckamError(
      'OCKAM_ERR_INTERNAL',
      `the state database runs with synchronous=${String(synchronous)}, not FULL`,
      {
        hint: 'open it with openStateStore, which sets synchronous=FULL',
      },
    )
  }
  const crypto = options.crypto ?? createNativeCryptoProvider()
  const core = createAuthorityCore({ db, identities, crypto, now: options.now ?? Date.now })
  const listeners = new Set<RevocationListener>()
  const publish = (entry: RevocationEntry): void => {
    for (const listener of listeners) {
      try {
        listener(entry)
      } catch {
        // A failing subscriber must not undo or hide a committed revocation.
      }
    }
  }
  const tickets = createTicketOperations(core)
  const members = createMemberOperations(core, publish)
  const relays = createRelayOperations(core)

  const findProject = (): Project | undefined => (core.projects.get() === undefined ? undefined : core.project())

  return {
    createProject(request) {
      checkProjectName(request.name)
      checkAdvertisedAddress(request.advertisedAddress)
      const settings = checkProjectSettings({
        ...(request.credentialTtlSeconds === undefined ? {} : { credentialTtlSeconds: request.credentialTtlSeconds }),
        ...(request.passthrough === undefined ? {} : { passthrough: request.passthrough }),
      })
      if (!isIdentifier(request.admin)) {
        throw new OckamError('OCKAM_ERR_IDENTITY_INVALID_IDENTIFIER', 'the admin must be given by its identifier')
      }
      const authority = identities.get(request.authorityIdentity)
      if (authority.identifier === request.admin) {
        throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'the authority identity must not be the admin identity', {
          hint: 'the authority gets its own identity (DESIGN §12); the creator becomes the admin member',
        })
      }
      if (request.adminHistory !== undefined) {
        const admin = verifyIdentityHistory(request.adminHistory, { now: core.nowSeconds() }, crypto)
        if (admin.identifier !== request.admin) {
          throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'the admin history is of another identifier')
        }
      }
      immediate(db, () => {
        const existing = core.projects.get()
        if (existing !== undefined) {
          throw new OckamError(
            'OCKAM_ERR_AUTHORITY_PROJECT_EXISTS',
            `this state folder already hosts project ${existing.name}`,
            { hint: 'one project per state folder: use another OCKAM_RUNTIME_HOME for another project' },
          )
        }
        const now = core.nowMs()
        core.projects.insert({
          name: request.name,
          authority: authority.identifier,
          advertisedAddress: request.advertisedAddress,
          settings: { ...settings },
          createdAt: now,
        })
        core.members.insert({
          identifier: request.admin,
          attributes: roleAttributes('admin'),
          history: request.adminHistory,
          addedBy: request.admin,
          enrolledWith: undefined,
          addedAt: now,
          updatedAt: now,
        })
        core.record(request.admin, 'project.create', {
          project: request.name,
          authority: authority.identifier,
          advertisedAddress: request.advertisedAddress,
          settings: { ...settings },
        })
      })
      return core.project()
    },
    project: () => core.project(),
    findProject,

    ...tickets,
    ...members,
    memberRole: (identifier) => core.roleOfActor(identifier),
    ...relays,

    entriesSince(seq, limit = DEFAULT_REVOCATION_ENTRIES_PER_MESSAGE) {
      if (!Number.isSafeInteger(seq) || seq < 0) {
        throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a revocation sequence number is a whole number >= 0')
      }
      const bounded = Math.min(Math.max(1, Math.floor(limit)), MAX_LIST_ITEMS)
      return db.transaction(() => ({
        entries: core.revocations.since(seq, bounded).map((row) => {
          const { data: _data, signature: _signature, ...entry } = decodeRevocationEntry(row.entry)
          return entry
        }),
        latestSeq: core.revocations.latestSeq(),
      }))()
    },
    isRevoked: (identifier) => core.revocations.get(identifier) !== undefined,
    onRevocation(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },

    auditLog(actor, opts = {}) {
      core.project()
      core.requireRole(actor, ['admin'], 'read the audit log')
      const limit = Math.min(Math.max(1, Math.floor(opts.limit ?? DEFAULT_AUDIT_PAGE)), MAX_LIST_ITEMS)
      return core.audit.list({ after: opts.after ?? 0, limit })
    },
  }
}
