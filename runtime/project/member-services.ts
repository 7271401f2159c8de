/**
 * The project services every node of an enrolled state folder runs (DESIGN §6, §12): the
 * revocation session (started first, so the persisted revocations are refused before the node
 * admits anyone) and the credential refresher of the node's identity. node-host starts them when
 * the node starts and again when `enroll` tells a running node that the folder joined a project.
 */

import { nodeTrust } from '../resources/kinds/secure-channel-trust.js'
import type {
  CredentialRefresher,
  CredentialRefresherOptions,
  CredentialRefresherState,
  ProjectServiceHost,
} from './credential-refresher.js'
import { startCredentialRefresher } from './credential-refresher.js'
import { projectMembership } from './membership.js'
import {
  type RevocationSession,
  type RevocationSessionOptions,
  type RevocationSessionState,
  startRevocationSession,
} from './revocation-session.js'
import { revokedIdentities } from './revoked-identities.js'

export interface MemberServicesOptions {
  readonly refresher?: CredentialRefresherOptions
  readonly revocations?: RevocationSessionOptions
}

export interface MemberServices {
  readonly refresher: CredentialRefresher
  readonly revocations: RevocationSession
  /** For `status`. */
  status(): { credential: CredentialRefresherState; revocations: RevocationSessionState }
  /** Idempotent. */
  stop(): Promise<void>
}

/**
 * Starts them when the folder belongs to a project; else undefined. Not for the project node,
 * whose revoked set the authority fills (project-host.ts); other nodes of the hosting folder
 * subscribe like any member's.
 */
export async function startMemberServices(
  host: ProjectServiceHost,
  options: MemberServicesOptions = {},
): Promise<MemberServices | undefined> {
  const trust = await nodeTrust(host)
  // Read first: if the project record is unreadable the revoked set stays as it was.
  const project = projectMembership(host.store, trust.identities)
  // A project change (enrollment) starts from a clean set: revocations of another authority mean nothing here.
  revokedIdentities(host.node).clear()
  if (project === undefined) return undefined
  const revocations = await startRevocationSession(host, options.revocations)
  const refresher = startCredentialRefresher(host, options.refresher)
  let stopping: Promise<void> | undefined
  return {
    refresher,
    revocations,
    status: () => ({ credential: refresher.state, revocations: revocations.state }),
    stop() {
      stopping ??= (async () => {
        await refresher.stop()
        await revocations.stop()
      })()
      return stopping
    },
  }
}
