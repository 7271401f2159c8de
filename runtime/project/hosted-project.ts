/**
 * Making a state folder the host of a project (DESIGN §1, §12), shared by `project create` and
 * `start` with a config that declares a project: the authority gets its own identity
 * (`NAME-authority`), the folder's default identity becomes the first admin, and the project
 * node is named after the project. Also: making one of the folder's own identities a member and
 * storing its credential, which is what `enroll` does from another folder, without a ticket —
 * the authority is right here (a single-machine topology such as the demo).
 */
import { createServer } from 'node:net'
import { parseHostPort } from '../../transports/tcp/host-port.js'
import { createAuthorityService } from '../authority/authority.js'
import { MAX_MEMBER_CREDENTIAL_TTL_SECONDS, MIN_MEMBER_CREDENTIAL_TTL_SECONDS } from '../authority/constants.js'
import type { Project } from '../authority/types.js'
import { createNodeRepository } from '../daemon/node-repository.js'
import { parseDuration } from '../duration.js'
import { OckamError } from '../errors.js'
import type { HeldCredentialRepository } from '../state/held-credential-repository.js'
import type { StateStore } from '../state/store.js'
import type { IdentitiesService } from '../trust/identities/identities.js'
import { enrolledProject } from './enrolled.js'

export interface HostingSession {
  readonly store: StateStore
  readonly identities: IdentitiesService
  readonly heldCredentials: HeldCredentialRepository
}

export interface HostedProjectRequest {
  readonly name: string
  readonly listen: string
  /** What tickets carry; default `listen`. */
  readonly advertise?: string | undefined
  /** Lifetime of member credentials; default DEFAULT_MEMBER_CREDENTIAL_TTL_SECONDS (15 min). */
  readonly credentialTtlSeconds?: number | undefined
  /** Member channels pass end-to-end frames through (default true; ProjectSettings.passthrough). */
  readonly passthrough?: boolean | undefined
}

/** `--credential-ttl` / `project.credentialTtl`: a duration within the authority's bounds. */
export function parseCredentialTtl(text: string): number {
  return parseDuration(text, {
    minSeconds: MIN_MEMBER_CREDENTIAL_TTL_SECONDS,
    maxSeconds: MAX_MEMBER_CREDENTIAL_TTL_SECONDS,
  })
}

/** Binds and releases HOST:PORT, so a taken port is refused before anything is written. */
export async function checkPortFree(address: string): Promise<void> {
  const { host, port } = parseHostPort(address)
  if (port === 0) {
    throw new OckamError('OCKAM_ERR_CLI_USAGE', 'a project needs a fixed listen port: tickets carry it', {
      hint: 'e.g. --listen 127.0.0.1:4000',
    })
  }
  await new Promise<void>((resolve, reject) => {
    const server = createServer()
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new OckamError(
          'OCKAM_ERR_PROJECT_PORT_IN_USE',
          `cannot listen on ${address} (${error.code ?? error.message})`,
          {
            hint: 'choose another listen HOST:PORT, or stop what holds that port',
            data: { address },
          },
        ),
      ),
    )
    server.listen(port, host, () => server.close(() => resolve()))
  })
}

export async function createHostedProject(session: HostingSession, request: HostedProjectRequest): Promise<Project> {
  const { name } = request
  const service = createAuthorityService({ db: session.store.db, identities: session.identities })
  const existing = service.findProject()
  if (existing !== undefined) {
    throw new OckamError(
      'OCKAM_ERR_AUTHORITY_PROJECT_EXISTS',
      `this state folder already hosts project ${existing.name}`,
      {
        hint: 'one project per state folder: use another OCKAM_RUNTIME_HOME for another project',
      },
    )
  }
  if (enrolledProject(session.store.dir) !== undefined) {
    throw new OckamError('OCKAM_ERR_PROJECT_ALREADY_ENROLLED', 'this state folder is a member of a project', {
      hint: 'host a project from another OCKAM_RUNTIME_HOME',
    })
  }
  if (createNodeRepository(session.store.db).get(name) !== undefined) {
    throw new OckamError('OCKAM_ERR_NODE_ALREADY_EXISTS', `there is already a node ${name} in this state folder`, {
      hint: 'the project node is named after the project: choose another project name, or delete that node',
    })
  }
  await checkPortFree(request.listen)
  const admin = await session.identities.ensureDefault()
  const authorityName = `${name}-authority`
  const authority = session.identities.find(authorityName) ?? (await session.identities.create(authorityName))
  return service.createProject({
    name,
    authorityIdentity: authority.name,
    advertisedAddress: request.advertise ?? request.listen,
    admin: admin.identifier,
    adminHistory: admin.identity.history,
    ...(request.credentialTtlSeconds === undefined ? {} : { credentialTtlSeconds: request.credentialTtlSeconds }),
    ...(request.passthrough === undefined ? {} : { passthrough: request.passthrough }),
  })
}

/**
 * Makes the folder's identity `identityName` a member of the project this folder hosts, with
 * `attributes` (kept if it already is one with the same attributes), and stores a fresh
 * credential for it. Returns whether membership was created.
 */
export async function enrollLocalIdentity(
  session: HostingSession,
  identityName: string,
  attributes: Readonly<Record<string, string>>,
): Promise<{ created: boolean; identifier: string }> {
  const service = createAuthorityService({ db: session.store.db, identities: session.identities })
  const project = service.project()
  const admin = session.identities.getDefault()
  const member = session.identities.get(identityName)
  let created = false
  if (service.memberRole(member.identifier) === undefined) {
    service.addMember(admin.identifier, member.identifier, { attributes, history: member.identity.history })
    created = true
  } else {
    const current = service.showMember(admin.identifier, member.identifier).attributes
    if (JSON.stringify(sorted(current)) !== JSON.stringify(sorted(attributes))) {
      throw new OckamError(
        'OCKAM_ERR_CONFIG_INVALID',
        `identity ${identityName} is already a member of project ${project.name} with other attributes`,
        { hint: `change them with ockam-runtime project member commands, or remove the member first` },
      )
    }
  }
  const issued = await service.issueMemberCredential(member.identifier, { history: member.identity.history })
  session.heldCredentials.put({
    subject: member.identifier,
    issuer: project.authority,
    presentation: issued.presentation,
    validFrom: issued.credential.created,
    validUntil: issued.credential.expires,
    storedAt: Date.now(),
  })
  return { created, identifier: member.identifier }
}

function sorted(attributes: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}
