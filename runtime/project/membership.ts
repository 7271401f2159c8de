/**
 * The project of a state folder as a node sees it (DESIGN §6, §12): the project it hosts (the
 * authority tables) or the one it enrolled in (`project.json`), with the authority's verified
 * identity — the one authority every resource of the folder trusts — and the credentials the
 * folder's identities hold from it. Read on demand (a few file and SQLite reads), so a running
 * node sees an enrollment made after it started.
 */
import { parseHostPort } from '../../transports/tcp/host-port.js'
import { createAuthorityService } from '../authority/authority.js'
import { OckamError } from '../errors.js'
import type { MultiaddrSegment } from '../multiaddr.js'
import { createAuthorityProjectRepository } from '../state/authority-project-repository.js'
import { createHeldCredentialRepository } from '../state/held-credential-repository.js'
import type { StateStore } from '../state/store.js'
import { DEFAULT_CLOCK_SKEW_SECONDS } from '../trust/constants.js'
import { createNativeCryptoProvider } from '../trust/crypto/native.js'
import type { IdentitiesService } from '../trust/identities/identities.js'
import { verifyIdentityHistory } from '../trust/identity/history.js'
import type { VerifiedIdentity } from '../trust/identity/types.js'
import { nowSeconds } from '../trust/identity/validity.js'
import { enrolledProject, hasEnrolledProject } from './enrolled.js'

export interface ProjectMembership {
  readonly name: string
  /** HOST:PORT where the project node's `api` listener is reached. */
  readonly address: string
  /** The project's authority: the only issuer whose credentials count here. */
  readonly authority: VerifiedIdentity
  /** True in the project host's own state folder. */
  readonly hosted: boolean
}

const crypto = createNativeCryptoProvider()

/** The folder's project, or undefined when it neither hosts nor joined one. */
export function projectMembership(store: StateStore, identities: IdentitiesService): ProjectMembership | undefined {
  const hosted = createAuthorityService({ db: store.db, identities }).findProject()
  if (hosted !== undefined) {
    return {
      name: hosted.name,
      address: hosted.advertisedAddress,
      authority: identities.get(hosted.authorityIdentityName).identity,
      hosted: true,
    }
  }
  const enrolled = enrolledProject(store.dir)
  if (enrolled === undefined) return undefined
  const authority = verifyIdentityHistory(
    Buffer.from(enrolled.authorityHistory, 'base64url'),
    { now: nowSeconds() },
    crypto,
  )
  return { name: enrolled.name, address: enrolled.address, authority, hosted: false }
}

/**
 * Whether the folder hosts or joined a project, from two cheap reads with nothing verified: for
 * decisions taken on every portal open (projectMembership verifies the authority's history).
 */
export function hasProject(store: StateStore): boolean {
  return hasEnrolledProject(store.dir) || createAuthorityProjectRepository(store.db).get() !== undefined
}

/** The presentations `subject` holds from `authority` that have not expired (at most one today). */
export function heldCredentials(store: StateStore, subject: string, authority: string): Uint8Array[] {
  const row = createHeldCredentialRepository(store.db).get(subject, authority)
  if (row === undefined || row.validUntil + DEFAULT_CLOCK_SKEW_SECONDS <= nowSeconds()) return []
  return [row.presentation]
}

/** The folder's project; throws OCKAM_ERR_PROJECT_NONE with what to do when there is none. */
export function requireProject(store: StateStore, identities: IdentitiesService): ProjectMembership {
  const project = projectMembership(store, identities)
  if (project !== undefined) return project
  throw new OckamError('OCKAM_ERR_PROJECT_NONE', 'this state folder neither hosts nor is enrolled in a project', {
    hint: 'create one with: ockam-runtime project create NAME, or join one with: ockam-runtime enroll TICKET',
  })
}

/** `/ip4|ip6|dns/HOST/tcp/PORT/secure/api`: the project node's listener as route segments. */
export function projectApiSegments(address: string): MultiaddrSegment[] {
  const { host, port } = parseHostPort(address)
  const hostKind = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? 'ip4' : host.includes(':') ? 'ip6' : 'dns'
  return [
    { kind: 'tcp', host, port, hostKind },
    { kind: 'secure', address: 'api' },
  ]
}
