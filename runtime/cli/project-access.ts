import { trustIdentifiers } from '../../workers/secure-channel/index.js'
import { local } from '../address.js'
import type { Context } from '../context.js'
import { createDefaultNode } from '../defaults.js'
import { createLogger, defaultLogLevel } from '../log.js'
import { type ProjectMembership, projectApiSegments, requireProject } from '../project/membership.js'
import { openSecureRoute } from '../resources/kinds/secure-channel-route.js'
import { nodeTrust } from '../resources/kinds/secure-channel-trust.js'
import type { Route } from '../route.js'
import { resolveStateDir } from '../state/state-dir.js'
import { openStateStore, type StateStore } from '../state/store.js'
import type { NamedChannelIdentity } from '../trust/channel-identity.js'

/** How long the CLI waits for the channel handshake and each authority request (ms). */
export const PROJECT_REQUEST_TIMEOUT_MS = 15_000

function toTarget(project: ProjectMembership): { address: string; authority: string } {
  return { address: project.address, authority: project.authority.identifier }
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
  /** The identity of this folder that opens the channel; default the default identity. */
  readonly identity?: string
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
    const material = await trust.material(options.identity)
    const base = { store, material, identities: trust.identities }
    const { address, authority } = options.target?.(base) ?? toTarget(requireProject(store, trust.identities))
    const opened = await openSecureRoute(node, projectApiSegments(address), {
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
