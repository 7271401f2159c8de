/**
 * Where the CLI finds its project (DESIGN §1): the project this state folder hosts (the authority
 * tables) or the one it enrolled in (`project.json`, 0600), and a short-lived node of the CLI's
 * own that opens a secure channel to the project's `api` listener trusting only the authority.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseHostPort } from '../../transports/tcp/host-port.js'
import { trustIdentifiers } from '../../workers/secure-channel/index.js'
import { local } from '../address.js'
import { createAuthorityService } from '../authority/authority.js'
import type { Context } from '../context.js'
import { createDefaultNode } from '../defaults.js'
import { OckamError } from '../errors.js'
import { createLogger, defaultLogLevel } from '../log.js'
import type { MultiaddrSegment } from '../multiaddr.js'
import { openSecureRoute } from '../resources/kinds/secure-channel-route.js'
import { nodeTrust } from '../resources/kinds/secure-channel-trust.js'
import type { Route } from '../route.js'
import { resolveStateDir } from '../state/state-dir.js'
import { openStateStore, type StateStore } from '../state/store.js'
import type { NamedChannelIdentity } from '../trust/channel-identity.js'
import { isIdentifier } from '../trust/identity/identifier.js'

/** How long the CLI waits for the channel handshake and each authority request (ms). */
export const PROJECT_REQUEST_TIMEOUT_MS = 15_000

const ENROLLED_FILE = 'project.json'

/** The project a state folder enrolled in. */
export interface EnrolledProject {
  readonly name: string
  readonly address: string
  readonly authority: string
  /** base64url of the authority's exported history. */
  readonly authorityHistory: string
  readonly enrolledAt: number
}

export interface ProjectTarget {
  readonly name: string
  /** HOST:PORT to dial. */
  readonly address: string
  readonly authority: string
  readonly hosted: boolean
}

export function enrolledProject(stateDir: string): EnrolledProject | undefined {
  const path = join(stateDir, ENROLLED_FILE)
  if (!existsSync(path)) return undefined
  const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<EnrolledProject>
  if (
    typeof value.name !== 'string' ||
    typeof value.address !== 'string' ||
    typeof value.authority !== 'string' ||
    !isIdentifier(value.authority) ||
    typeof value.authorityHistory !== 'string'
  ) {
    throw new OckamError('OCKAM_ERR_PROJECT_RECORD_INVALID', `${path} is not a project record`, {
      hint: 'remove it and enroll again with a new ticket',
    })
  }
  return value as EnrolledProject
}

export function saveEnrolledProject(stateDir: string, project: EnrolledProject): void {
  writeFileSync(join(stateDir, ENROLLED_FILE), `${JSON.stringify(project, null, 2)}\n`, { mode: 0o600 })
}

/** The project this folder hosts (dialled at its advertised address), else the one it enrolled in. */
export function projectTarget(
  store: StateStore,
  identities: Parameters<typeof createAuthorityService>[0]['identities'],
): ProjectTarget {
  const hosted = createAuthorityService({ db: store.db, identities }).findProject()
  if (hosted !== undefined) {
    return { name: hosted.name, address: hosted.advertisedAddress, authority: hosted.authority, hosted: true }
  }
  const enrolled = enrolledProject(store.dir)
  if (enrolled !== undefined) {
    return { name: enrolled.name, address: enrolled.address, authority: enrolled.authority, hosted: false }
  }
  throw new OckamError('OCKAM_ERR_PROJECT_NONE', 'this state folder neither hosts nor is enrolled in a project', {
    hint: 'create one with: ockam-runtime project create NAME, or join one with: ockam-runtime enroll TICKET',
  })
}

/** `/ip4|ip6|dns/HOST/tcp/PORT/secure/api` as segments. */
export function apiSegments(address: string): MultiaddrSegment[] {
  const { host, port } = parseHostPort(address)
  const hostKind = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? 'ip4' : host.includes(':') ? 'ip6' : 'dns'
  return [
    { kind: 'tcp', host, port, hostKind },
    { kind: 'secure', address: 'api' },
  ]
}

export interface ProjectChannel {
  readonly ctx: Context
  readonly store: StateStore
  readonly material: NamedChannelIdentity
  readonly identities: Awaited<ReturnType<typeof nodeTrust>>['identities']
  /** The route to a service of the project node through the channel. */
  to(service: string): Route
}

export interface WithProjectChannelOptions {
  /** Whom to dial and trust; default the project of the state folder. */
  readonly target?: (channel: Omit<ProjectChannel, 'to' | 'ctx'>) => { address: string; authority: string }
}

/** Runs `fn` over a secure channel to the project's `api` listener, opened with the default identity. */
export async function withProjectChannel<T>(
  fn: (channel: ProjectChannel) => Promise<T>,
  options: WithProjectChannelOptions = {},
): Promise<T> {
  const level = process.env.OCKAM_LOG_LEVEL === undefined ? 'error' : defaultLogLevel()
  const node = createDefaultNode({ name: 'cli', pool: { threads: 0 }, log: createLogger({ name: 'cli', level }) })
  const store = openStateStore({ dir: resolveStateDir(process.env) })
  try {
    await node.start()
    const trust = await nodeTrust({ node, store }, 'inline')
    const material = await trust.material()
    const base = { store, material, identities: trust.identities }
    const { address, authority } = options.target?.(base) ?? projectTarget(store, trust.identities)
    const opened = await openSecureRoute(node, apiSegments(address), {
      identity: material,
      trust: trustIdentifiers(authority),
      timeoutMs: PROJECT_REQUEST_TIMEOUT_MS,
    })
    try {
      return await fn({ ...base, ctx: node.context, to: (service) => [...opened.route, local(service)] })
    } finally {
      await opened.close()
    }
  } finally {
    await node.stop()
    store.close()
  }
}
