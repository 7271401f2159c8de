/**
 * What every part of the authority shares: the repositories over one database, the clock, the
 * project and its authority identity, roles, identity histories and the audit log. Internal to
 * runtime/authority/.
 */
import type { Database } from 'better-sqlite3'
import { isOckamError, OckamError } from '../errors.js'
import { createAuditRepository } from '../state/authority-audit-repository.js'
import { createMemberRepository, type MemberRow } from '../state/authority-member-repository.js'
import { createAuthorityProjectRepository } from '../state/authority-project-repository.js'
import { createRelayOwnerRepository } from '../state/authority-relay-repository.js'
import { createPublishedRevocationRepository } from '../state/authority-revocation-repository.js'
import { createTicketRepository } from '../state/authority-ticket-repository.js'
import type { CryptoProvider } from '../trust/crypto/provider.js'
import type { IdentitiesService, NamedIdentity } from '../trust/identities/identities.js'
import { verifyIdentityHistory } from '../trust/identity/history.js'
import { isIdentifier } from '../trust/identity/identifier.js'
import { mergeVerifiedHistory } from '../trust/identity/store.js'
import type { VerifiedIdentity } from '../trust/identity/types.js'
import { type Role, roleOf, toAttributes } from './attributes.js'
import { checkProjectSettings } from './project.js'
import type { Member, Project } from './types.js'

export interface AuthorityCore {
  readonly db: Database
  readonly identities: IdentitiesService
  readonly crypto: CryptoProvider
  readonly nowMs: () => number
  readonly nowSeconds: () => number
  readonly projects: ReturnType<typeof createAuthorityProjectRepository>
  readonly members: ReturnType<typeof createMemberRepository>
  readonly tickets: ReturnType<typeof createTicketRepository>
  readonly relays: ReturnType<typeof createRelayOwnerRepository>
  readonly revocations: ReturnType<typeof createPublishedRevocationRepository>
  readonly audit: ReturnType<typeof createAuditRepository>
  /** The project; throws OCKAM_ERR_AUTHORITY_NO_PROJECT. */
  project(): Project
  /** The authority's named identity in this folder. */
  authorityIdentity(): NamedIdentity
  /** Appends to the audit log (call inside the transaction of the change). */
  record(actor: string, action: string, details: Readonly<Record<string, unknown>>): void
  /** The member's role, or undefined for a non-member. */
  roleOfActor(actor: string): Role | undefined
  /** Throws OCKAM_ERR_AUTHORITY_ACCESS_DENIED unless `actor` is an admin or (when allowed) an enroller. */
  requireRole(actor: string, allowed: readonly Role[], what: string): Role
  /**
   * Verifies `history`, checks it is `identifier`'s, merges it with the one stored (a rollback
   * or fork is refused) and stores the longer; returns the identity now held. Inside a
   * transaction: the member must exist.
   */
  acceptHistory(row: MemberRow, history: Uint8Array): VerifiedIdentity
  /** The stored history of a member, verified; throws OCKAM_ERR_IDENTITY_HISTORY_UNAVAILABLE. */
  storedIdentity(row: MemberRow): VerifiedIdentity
  toMember(row: MemberRow): Member
}

export interface CoreOptions {
  readonly db: Database
  readonly identities: IdentitiesService
  readonly crypto: CryptoProvider
  readonly now: () => number
}

export function createAuthorityCore(options: CoreOptions): AuthorityCore {
  const { db, identities, crypto } = options
  const nowMs = options.now
  const nowSeconds = () => Math.floor(nowMs() / 1000)
  const projects = createAuthorityProjectRepository(db)
  const members = createMemberRepository(db)
  const audit = createAuditRepository(db)

  const project = (): Project => {
    const row = projects.get()
    if (row === undefined) {
      throw new OckamError('OCKAM_ERR_AUTHORITY_NO_PROJECT', 'this state folder hosts no project', {
        hint: 'run: ockam-runtime project create NAME',
      })
    }
    const authority = identities.findByIdentifier(row.authority)
    if (authority === undefined) {
      throw new OckamError(
        'OCKAM_ERR_STATE_RECORD_CORRUPT',
        'the project names an authority identity this folder lacks',
        {
          hint: 'the state database was modified outside ockam-runtime; restore it from a backup',
        },
      )
    }
    let settings: ReturnType<typeof checkProjectSettings>
    try {
      settings = checkProjectSettings(row.settings)
    } catch (cause) {
      throw new OckamError('OCKAM_ERR_STATE_RECORD_CORRUPT', 'the stored project settings are invalid', {
        cause,
        hint: 'the state database was modified outside ockam-runtime; restore it from a backup',
      })
    }
    return {
      name: row.name,
      authority: row.authority,
      authorityIdentityName: authority.name,
      advertisedAddress: row.advertisedAddress,
      settings,
      createdAt: row.createdAt,
    }
  }

  const roleOfActor = (actor: string): Role | undefined => {
    if (!isIdentifier(actor)) return undefined
    const row = members.get(actor)
    return row === undefined ? undefined : roleOf(row.attributes)
  }

  const storedIdentity = (row: MemberRow): VerifiedIdentity => {
    if (row.history === undefined) {
      throw new OckamError(
        'OCKAM_ERR_IDENTITY_HISTORY_UNAVAILABLE',
        `the authority does not hold the identity history of ${row.identifier}`,
        { hint: 'the member presents its identity when it asks for a credential over its secure channel' },
      )
    }
    try {
      return verifyIdentityHistory(row.history, { now: nowSeconds() }, crypto)
    } catch (cause) {
      if (
        isOckamError(cause, 'OCKAM_ERR_IDENTITY_EXPIRED') ||
        isOckamError(cause, 'OCKAM_ERR_IDENTITY_NOT_YET_VALID')
      ) {
        throw cause
      }
      throw new OckamError(
        'OCKAM_ERR_STATE_RECORD_CORRUPT',
        `the stored history of member ${row.identifier} does not verify`,
        {
          cause,
          hint: 'the state database was modified outside ockam-runtime; restore it from a backup',
        },
      )
    }
  }

  return {
    db,
    identities,
    crypto,
    nowMs,
    nowSeconds,
    projects,
    members,
    tickets: createTicketRepository(db),
    relays: createRelayOwnerRepository(db),
    revocations: createPublishedRevocationRepository(db),
    audit,
    project,
    authorityIdentity() {
      return identities.get(project().authorityIdentityName)
    },
    record(actor, action, details) {
      audit.append(actor, action, details, nowMs())
    },
    roleOfActor,
    requireRole(actor, allowed, what) {
      const role = roleOfActor(actor)
      if (role === undefined || !allowed.includes(role)) {
        throw new OckamError(
          'OCKAM_ERR_AUTHORITY_ACCESS_DENIED',
          `${role === undefined ? 'a non-member' : `a ${role}`} may not ${what}`,
          {
            hint: `only ${allowed.join('s and ')}s of the project may ${what}`,
            data: { actor: isIdentifier(actor) ? actor : 'invalid' },
          },
        )
      }
      return role
    },
    acceptHistory(row, history) {
      const presented = verifyIdentityHistory(history, { now: nowSeconds() }, crypto)
      if (presented.identifier !== row.identifier) {
        throw new OckamError(
          'OCKAM_ERR_AUTHORITY_ACCESS_DENIED',
          `the identity presented is ${presented.identifier}, not the authenticated ${row.identifier}`,
          { hint: 'present the identity the secure channel authenticated' },
        )
      }
      const known = row.history === undefined ? undefined : storedIdentity(row)
      const kept = mergeVerifiedHistory(known, presented)
      if (kept !== known) {
        if (!members.replaceHistory(row.identifier, row.history, kept.history, nowMs())) {
          throw new OckamError('OCKAM_ERR_AUTHORITY_BUSY', `member ${row.identifier} changed meanwhile`, {
            hint: 'nothing was changed; try again',
          })
        }
      }
      return kept
    },
    storedIdentity,
    toMember(row) {
      return {
        identifier: row.identifier,
        attributes: Object.freeze(toAttributes(row.attributes)),
        role: roleOf(row.attributes),
        addedBy: row.addedBy,
        enrolledWith: row.enrolledWith,
        hasHistory: row.history !== undefined,
        addedAt: row.addedAt,
        updatedAt: row.updatedAt,
      }
    },
  }
}
