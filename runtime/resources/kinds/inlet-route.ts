/**
 * Where an inlet's `to` leads and how its route is opened (DESIGN §7, §12).
 *
 * `RELAY[:SERVICE]` (default service `outlet`) is shorthand for
 * `/project/P/service/forward_to_RELAY/secure/api/service/SERVICE`. A route may use `/project/P`
 * (the project's `api` listener, authenticated as its authority) and `/node/N` (a node of this
 * state folder, at its first TCP listener). Every `/secure/ADDR` opens a channel inside the
 * previous one, each admitting, in order: the project's authority for the project's listener;
 * the identifiers of `--authorized`; behind `forward_to_NAME`, a member the authority gave
 * `relay=NAME` or `relay=*` (so another member answering on the relay gets nothing); else this
 * state folder's identities and, in a project, its members.
 */

import type { OpenedRoute } from '../../../workers/portal/route-session.js'
import {
  createSecureChannel,
  type SecureChannel,
  type TrustPolicy,
  trustAnyOf,
  trustIdentifiers,
  trustMembers,
} from '../../../workers/secure-channel/index.js'
import { local, TCP } from '../../address.js'
import { isRelayName } from '../../authority/attributes.js'
import { OckamError } from '../../errors.js'
import { type MultiaddrSegment, parseMultiaddr, toRoute } from '../../multiaddr.js'
import { projectApiSegments, projectMembership } from '../../project/membership.js'
import { closeWithConnection } from '../../project/project-channel.js'
import type { Route } from '../../route.js'
import { stateFolderIdentifiers } from '../../trust/channel-identity.js'
import { parsePolicy } from '../../trust/policy/parse.js'
import { createResourceRepository } from '../repository.js'
import type { ResourceHost } from '../types.js'
import { splitAtSecure } from './secure-channel-route.js'
import { nodeTrust } from './secure-channel-trust.js'

const RELAY_TARGET = /^([a-z0-9-]{1,63})(?::([A-Za-z0-9][A-Za-z0-9_.-]{0,62}))?$/
const RELAY_PREFIX = 'forward_to_'

/** Checks `to` without opening anything: a relay name (`postgres`, `postgres:a`) or a multiaddr route. */
export function checkInletTarget(to: string): readonly MultiaddrSegment[] {
  const relay = RELAY_TARGET.exec(to)
  if (relay !== null) {
    return [
      { kind: 'project', name: '-' },
      { kind: 'service', address: `${RELAY_PREFIX}${relay[1]}` },
      { kind: 'secure', address: 'api' },
      { kind: 'service', address: relay[2] ?? 'outlet' },
    ]
  }
  if (!to.startsWith('/')) {
    throw new OckamError(
      'OCKAM_ERR_RESOURCE_INVALID',
      `"to": ${JSON.stringify(to.slice(0, 80))} is neither a relay name nor a route`,
      {
        hint: 'give a relay name (postgres, postgres:a) or a route (/project/demo/service/forward_to_postgres/secure/api/service/outlet)',
      },
    )
  }
  const segments = parseMultiaddr(to)
  if (segments.at(-1)?.kind !== 'service') {
    throw new OckamError('OCKAM_ERR_RESOURCE_INVALID', '"to" must end with the outlet: /service/ADDR')
  }
  // Past a relay the route must open an end-to-end channel: else the portal's bytes would be
  // plaintext at the project (DESIGN §12) and nobody would check who answers behind the name.
  const lastSecure = segments.findLastIndex((s) => s.kind === 'secure')
  if (segments.some((s, i) => i > lastSecure && s.kind === 'service' && s.address.startsWith(RELAY_PREFIX))) {
    throw new OckamError('OCKAM_ERR_RESOURCE_INVALID', '"to" goes through a relay without a secure channel after it', {
      hint: 'add /secure/api after /service/forward_to_NAME, or write the relay name alone (postgres, postgres:a)',
    })
  }
  return segments
}

const relayPolicies = new Map<string, TrustPolicy>()

/** Members the authority gave `relay=NAME` or `relay=*`. */
function relayHolders(name: string): TrustPolicy {
  let policy = relayPolicies.get(name)
  if (policy === undefined) {
    policy = trustMembers(parsePolicy(`(or (= subject.relay "${name}") (= subject.relay "*"))`))
    relayPolicies.set(name, policy)
  }
  return policy
}

export interface InletRouteOptions {
  readonly to: string
  readonly identity?: string | undefined
  readonly authorized?: readonly string[] | undefined
  /** Handshake of the first channel (to the project, or the only one). */
  readonly timeoutMs: number
  /**
   * Handshake of the channels inside it (through the relay). Shorter: a handshake sent to a
   * relay name nobody has registered (the outlet node restarting) is dropped without an
   * answer, and until it times out the session cannot try again.
   */
  readonly nestedTimeoutMs?: number
}

/** Opens the channels `to` names; the caller (the inlet's session) owns and closes them. */
export async function openInletRoute(
  host: ResourceHost,
  options: InletRouteOptions,
  signal: AbortSignal,
): Promise<OpenedRoute> {
  const trust = await nodeTrust(host)
  const project = projectMembership(host.store, trust.identities)
  const material = await trust.material(options.identity)
  const segments: MultiaddrSegment[] = []
  const projectListeners = new Set<number>()
  for (const segment of checkInletTarget(options.to)) {
    if (segment.kind !== 'project') {
      segments.push(segment)
      continue
    }
    if (project === undefined) {
      throw new OckamError('OCKAM_ERR_PROJECT_NONE', 'this state folder is in no project, so it cannot reach a relay', {
        hint: 'enroll first: ockam-runtime enroll TICKET',
      })
    }
    if (segment.name !== '-' && segment.name !== project.name) {
      throw new OckamError(
        'OCKAM_ERR_PROJECT_MISMATCH',
        `this state folder is in project ${project.name}, not ${segment.name}`,
        { hint: `write the relay name alone (postgres), or /project/${project.name}/…` },
      )
    }
    segments.push(...projectApiSegments(project.address))
    projectListeners.add(segments.length - 1)
  }
  const repository = createResourceRepository(host.store.db)
  const resolvers = {
    resolveNode: (name: string) => {
      const listener = repository.list(name, 'tcp-listener')[0]
      if (listener === undefined) {
        throw new OckamError('OCKAM_ERR_ROUTE_UNRESOLVED', `node ${name} of this state folder has no TCP listener`, {
          hint: `give it one: ockam-runtime tcp-listener create --at ${name}`,
        })
      }
      return (listener.spec as { address: string }).address
    },
  }
  const own = trustIdentifiers(...stateFolderIdentifiers(trust.identities))
  const fallback = project === undefined ? own : trustAnyOf(own, trustMembers())
  const { legs, tail } = splitAtSecure(segments)
  const channels: SecureChannel[] = []
  const close = async () => {
    for (const channel of [...channels].reverse()) await channel.close().catch(() => {})
  }
  let index = 0
  try {
    for (const leg of legs) {
      index += leg.before.length + 1
      const isProject = projectListeners.has(index - 1)
      const relay = [...leg.before]
        .reverse()
        .find(
          (s) =>
            s.kind === 'service' &&
            s.address.startsWith(RELAY_PREFIX) &&
            isRelayName(s.address.slice(RELAY_PREFIX.length)),
        )
      if (relay !== undefined && options.authorized === undefined && project === undefined) {
        throw new OckamError(
          'OCKAM_ERR_PROJECT_NONE',
          'a relay route needs a project to say who may answer behind it',
          {
            hint: 'enroll this state folder in the project, or pin the outlet side with --authorized IDENTIFIER',
          },
        )
      }
      const policy =
        isProject && project !== undefined
          ? trustIdentifiers(project.authority.identifier)
          : options.authorized !== undefined
            ? trustIdentifiers(...options.authorized)
            : relay?.kind === 'service'
              ? relayHolders(relay.address.slice(RELAY_PREFIX.length))
              : fallback
      const outer = channels.at(-1)
      const route: Route = [
        ...(outer === undefined ? [] : [outer.address]),
        ...(leg.before.length === 0 ? [] : toRoute(leg.before, resolvers)),
        local(leg.listener),
      ]
      const channel = await createSecureChannel(host.node, route, {
        identity: material,
        trust: policy,
        timeoutMs: outer === undefined ? options.timeoutMs : (options.nestedTimeoutMs ?? options.timeoutMs),
        signal,
      })
      channels.push(channel)
      const first = route[0]
      if (outer === undefined && first?.type === TCP) closeWithConnection(host.node, channel, first.value)
    }
    const inner = channels.at(-1)
    const prefix: Route = inner === undefined ? [] : [inner.address]
    const route: Route = [...prefix, ...toRoute(tail, resolvers)]
    const pingRoute: Route = [...route.slice(0, -1), local('echo')]
    return { route, pingRoute, channels, ...(inner === undefined ? {} : { peer: inner.peerIdentifier }), close }
  } catch (error) {
    await close()
    throw error
  }
}
