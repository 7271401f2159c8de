/** What the authority service hands out: plain data, no database rows, never a code hash. */
import type { Attributes, Role } from './attributes.js'
import type { ProjectSettings } from './project.js'

export interface Project {
  readonly name: string
  /** Identifier of the authority identity. */
  readonly authority: string
  /** Name of the authority identity in this state folder. */
  readonly authorityIdentityName: string
  /** HOST:PORT tickets carry. */
  readonly advertisedAddress: string
  readonly settings: ProjectSettings
  /** Unix ms. */
  readonly createdAt: number
}

export interface Member {
  readonly identifier: string
  /** Reserved ones (ockam-admin, ockam-enroller) included. */
  readonly attributes: Attributes
  readonly role: Role
  readonly addedBy: string
  /** Id of the ticket it enrolled with, if any. */
  readonly enrolledWith: string | undefined
  /** Whether the authority holds its identity history (needed to issue it a credential). */
  readonly hasHistory: boolean
  /** Unix ms. */
  readonly addedAt: number
  readonly updatedAt: number
}

export type TicketStatus = 'active' | 'used' | 'expired' | 'revoked'

export interface TicketInfo {
  /** Public id (16 hex characters) for list and revoke. */
  readonly id: string
  readonly attributes: Attributes
  readonly relay: string | undefined
  readonly enroller: boolean
  readonly usageCount: number
  readonly usesLeft: number
  /** Unix ms. */
  readonly expiresAt: number
  readonly status: TicketStatus
  readonly createdBy: string
  /** Unix ms. */
  readonly createdAt: number
}

export interface RelayOwner {
  readonly name: string
  readonly owner: string
  /** Unix ms. */
  readonly claimedAt: number
}

export interface AuditEntry {
  readonly seq: number
  readonly actor: string
  readonly action: string
  readonly details: Readonly<Record<string, unknown>>
  /** Unix ms. */
  readonly at: number
}
