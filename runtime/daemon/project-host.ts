/**
 * The project host (DESIGN §1, §12): when this state folder hosts a project and the node is named
 * after it, the node runs the authority's workers (enrollment, credentials, members, revocations)
 * and the relay service, and its `api` listener presents the authority identity. The project row
 * in the state database is what makes a node the project node, so a restart restores it.
 */
import { startAuthorityWorkers } from '../../workers/authority/workers.js'
import { startRelayService } from '../../workers/relay/service.js'
import { type AuthorityService, createAuthorityService } from '../authority/authority.js'
import type { Project } from '../authority/types.js'
import type { Logger } from '../log.js'
import type { OckamNode } from '../node.js'
import { enforceAuthorityRevocations, revokedIdentities } from '../project/revoked-identities.js'
import { nodeTrust } from '../resources/kinds/secure-channel-trust.js'
import type { StateStore } from '../state/store.js'

export interface ProjectHost {
  readonly project: Project
  readonly service: AuthorityService
  /** Stops the relay service and the authority workers. Idempotent. */
  stop(): Promise<void>
}

/** Starts the project's services on `node` if it is the project node of its folder; else undefined. */
export async function startProjectHost(
  host: { readonly node: OckamNode; readonly store: StateStore; readonly log: Logger },
  nodeName: string,
): Promise<ProjectHost | undefined> {
  const trust = await nodeTrust(host)
  const service = createAuthorityService({ db: host.store.db, identities: trust.identities })
  const project = service.findProject()
  if (project === undefined || project.name !== nodeName) return undefined
  const workers = await startAuthorityWorkers(host.node.context, service, { log: host.log })
  let relay: Awaited<ReturnType<typeof startRelayService>>
  try {
    relay = await startRelayService(
      { router: host.node.router },
      { authorize: (name, identifier, attributes) => service.claimRelay(name, identifier, attributes) },
    )
  } catch (error) {
    await workers.stop()
    throw error
  }
  // A deleted member's channels here close at once, and with them its relay registrations.
  const revoked = revokedIdentities(host.node)
  const unwatch = revoked.onRevoked((identifier) => {
    for (const registration of relay.registrations()) {
      if (registration.identifier === identifier) {
        relay
          .drop(registration.name)
          .catch((error: unknown) =>
            host.log.warn(
              { event: 'relay.drop.failed', relay: registration.name, err: error },
              'could not drop a relay',
            ),
          )
      }
    }
  })
  const unenforce = enforceAuthorityRevocations(host.node, service)
  let stopping: Promise<void> | undefined
  host.log.info({ event: 'project.host', project: project.name, authority: project.authority }, 'project host ready')
  return {
    project,
    service,
    stop() {
      stopping ??= (async () => {
        unenforce()
        unwatch()
        await relay.stop().catch(() => {})
        await workers.stop().catch(() => {})
      })()
      return stopping
    },
  }
}
