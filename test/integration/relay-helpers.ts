/**
 * Three in-process nodes over loopback TCP with real secure channels: a project node (listener,
 * relay service), a member node (listener `api` trusting the inlet identity, relay session) and
 * an inlet-side node. The authorize hook stands in for authority.claimRelay: attribute `relay`
 * equal to the name or `*`, and a persisted owner per name (kept across project restarts here).
 */
import { once } from 'node:events'
import type { TestContext } from 'node:test'
import { type Address, local, tcp } from '../../runtime/address.js'
import { OckamError } from '../../runtime/errors.js'
import type { Vault } from '../../runtime/trust/vault/types.js'
import type { OpenedRoute } from '../../workers/portal/route-session.js'
import {
  type RelayService,
  type RelayServiceOptions,
  type RelaySession,
  type RelaySessionOptions,
  startRelayService,
  startRelaySession,
} from '../../workers/relay/index.js'
import { createSecureChannel } from '../../workers/secure-channel/initiator.js'
import { startSecureChannelListener } from '../../workers/secure-channel/listener.js'
import { trustIdentifiers, trustMembers } from '../../workers/secure-channel/trust-policy.js'
import { startTestNode, type TestNode } from '../helpers/testnet.js'
import { makeAuthority, makeMaterial, openVault, type TestAuthority } from '../unit/secure-channel/fixtures.js'

export type Material = Awaited<ReturnType<typeof makeMaterial>>

/** Generous: every wait in these tests ends by this deadline or fails. */
export const DEADLINE_MS = 8000

export interface RelayNet {
  readonly vault: Vault
  readonly authority: TestAuthority
  project: TestNode
  readonly projectId: Material
  service: RelayService
  readonly member: TestNode
  readonly memberId: Material
  readonly inlet: TestNode
  readonly inletId: Material
  /** name → owner identifier, as the authority would persist it. */
  readonly owners: Map<string, string>
  readonly authorize: RelayServiceOptions['authorize']
  readonly serviceOptions: Omit<RelayServiceOptions, 'authorize'>
  /** Starts a project node (again) on `address` with the same identity, listener and service options. */
  startProject(t: TestContext, address?: string): Promise<void>
  memberSession(t: TestContext, options?: Partial<RelaySessionOptions>, identity?: Material): RelaySession
}

export async function member(vault: Vault, authority: TestAuthority, attributes: Record<string, string>) {
  const material = await makeMaterial(vault, { trustedAuthorities: [authority.identity] })
  material.setCredentials([await authority.issue(material.identity, attributes)])
  return material
}

export async function relayNet(
  t: TestContext,
  serviceOptions: Omit<RelayServiceOptions, 'authorize'> = {},
  /** Replaces the stand-in hook (for example with a real authority's claimRelay). */
  authorizeOverride?: RelayServiceOptions['authorize'],
): Promise<RelayNet> {
  const vault = await openVault(t)
  const authority = await makeAuthority(vault)
  const projectId = await member(vault, authority, {})
  const memberId = await member(vault, authority, { relay: 'postgres' })
  const inletId = await member(vault, authority, { role: 'client' })
  const owners = new Map<string, string>()
  const standIn: RelayServiceOptions['authorize'] = (name, identifier, attributes) => {
    if (attributes.relay !== name && attributes.relay !== '*') {
      throw new OckamError('OCKAM_ERR_RELAY_NOT_ALLOWED', `this member may not register relay ${name}`)
    }
    const owner = owners.get(name)
    if (owner !== undefined && owner !== identifier) {
      throw new OckamError('OCKAM_ERR_RELAY_NAME_TAKEN', `relay name ${name} belongs to another identity`)
    }
    owners.set(name, identifier)
  }
  const authorize = authorizeOverride ?? standIn
  const memberNode = await startTestNode(t, 'member', { listen: [] })
  const inlet = await startTestNode(t, 'inlet', { listen: [] })
  await startSecureChannelListener(memberNode.node, {
    identity: memberId,
    trust: trustIdentifiers(inletId.identity.identifier),
  })
  const net: RelayNet = {
    vault,
    authority,
    project: undefined as unknown as TestNode,
    projectId,
    service: undefined as unknown as RelayService,
    member: memberNode,
    memberId,
    inlet,
    inletId,
    owners,
    authorize,
    serviceOptions,
    async startProject(tc, address = '127.0.0.1:0') {
      net.project = await startTestNode(tc, 'project', { listen: [address] })
      await startSecureChannelListener(net.project.node, { identity: projectId, trust: trustMembers() })
      net.service = await startRelayService(net.project.node, { ...serviceOptions, authorize })
    },
    memberSession(tc, options = {}, identity = memberId) {
      const session = startRelaySession(memberNode.node, {
        name: 'postgres',
        connect: (signal) =>
          createSecureChannel(memberNode.node, [tcp(net.project.address), local('api')], {
            identity,
            trust: trustIdentifiers(projectId.identity.identifier),
            signal,
            timeoutMs: 2000,
          }),
        pingIntervalMs: 100,
        maxMissedPings: 3,
        requestTimeoutMs: 1000,
        backoff: { initialMs: 20, maxMs: 200 },
        ...options,
      })
      tc.after(() => session.stop())
      return session
    },
  }
  await net.startProject(t)
  return net
}

/** The next `event` of `emitter`, or a rejection after DEADLINE_MS. */
export async function next<T extends unknown[]>(
  emitter: NodeJS.EventEmitter,
  event: string,
  deadlineMs = DEADLINE_MS,
): Promise<T> {
  return (await once(emitter, event, { signal: AbortSignal.timeout(deadlineMs) })) as T
}

/**
 * What an inlet's route session opens in these tests: the inlet's channel to the project, then
 * the end-to-end channel through `hop` (a test worker on the project node: a dropper, a hole)
 * and `forward_to_postgres` to the member; `outlet` is the member's outlet address.
 */
export async function openRouteThrough(
  net: RelayNet,
  hop: string,
  outlet: Address,
  signal: AbortSignal,
  e2eTimeoutMs?: number,
): Promise<OpenedRoute> {
  const node = net.inlet.node
  const project = await createSecureChannel(node, [tcp(net.project.address), local('api')], {
    identity: net.inletId,
    trust: trustIdentifiers(net.projectId.identity.identifier),
    signal,
  })
  const e2e = await createSecureChannel(
    node,
    [project.address, local(hop), local('forward_to_postgres'), local('api')],
    {
      identity: net.inletId,
      trust: trustIdentifiers(net.memberId.identity.identifier),
      signal,
      ...(e2eTimeoutMs === undefined ? {} : { timeoutMs: e2eTimeoutMs }),
    },
  )
  return {
    route: [e2e.address, outlet],
    pingRoute: [e2e.address, local('echo')],
    channels: [project, e2e],
    close: async () => {
      await e2e.close()
      await project.close()
    },
  }
}
