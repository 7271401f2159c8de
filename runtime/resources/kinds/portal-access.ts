/**
 * Who may use a portal end (DESIGN §6, §12), decided on every `open`/`opened` and on re-checks,
 * from the message's ingress. Only an authenticated channel peer can pass (or this node's own
 * workers); then, in this order:
 * 1. `authorized`: the peer is one of these identifiers (and satisfies `allow` if also given);
 * 2. `allow`: a policy expression over the peer's attributes from the project's authority;
 * 3. a policy stored for this resource or its type (`policy set`);
 * 4. the default: an identity of this state folder, or — when the folder is in a project — a
 *    member (a valid credential from its authority, which the channel verified).
 * Before all of these, an identity the project's authority revoked is refused.
 *
 * A channel peer is judged by what its channel holds now (currentChannelIngress), not by the
 * snapshot in the message: a portal re-checked after the peer's credential expired or was
 * refreshed sees the attributes valid at that moment, and a closed channel admits nothing.
 */

import {
  currentChannelIngress,
  onPeerCredentialsChanged,
  type PeerCredentialsChange,
} from '../../../workers/secure-channel/index.js'
import { OckamError } from '../../errors.js'
import type { Logger } from '../../log.js'
import type { Message } from '../../message.js'
import type { OckamNode } from '../../node.js'
import { hasProject } from '../../project/membership.js'
import { revokedIdentities } from '../../project/revoked-identities.js'
import type { StateStore } from '../../state/store.js'
import { stateFolderIdentifiers } from '../../trust/channel-identity.js'
import type { IdentitiesService } from '../../trust/identities/identities.js'
import type { Policy } from '../../trust/policy/ast.js'
import { evaluatePolicy } from '../../trust/policy/evaluate.js'
import { parsePolicy } from '../../trust/policy/parse.js'
import { createPolicyStore, type PolicyResourceType } from '../../trust/stored-policies.js'

export interface PortalAccessSpec {
  readonly allow?: string
  readonly authorized?: readonly string[]
}

export interface PortalAccess {
  /** What `status` shows. */
  readonly describe: string
  allows(message: Message): boolean
}

/** Parses an `--allow` text, with the resource-invalid error a spec check needs. */
export function checkAllow(text: unknown, what: string): string | undefined {
  if (text === undefined) return undefined
  if (typeof text !== 'string' || text.length === 0 || text.length > 4096) {
    throw new OckamError('OCKAM_ERR_RESOURCE_INVALID', `${what}: "allow" must be a policy expression`)
  }
  try {
    parsePolicy(text)
  } catch (cause) {
    throw new OckamError('OCKAM_ERR_RESOURCE_INVALID', `${what}: "allow": ${(cause as Error).message}`, {
      cause,
      hint: 'for example: (= subject.role "analyst")  — see docs/policies.md',
    })
  }
  return text
}

export function portalAccess(
  host: { readonly node: OckamNode; readonly store: StateStore },
  identities: IdentitiesService,
  resource: { readonly name: string; readonly type: PolicyResourceType },
  spec: PortalAccessSpec,
): PortalAccess {
  const authorized = spec.authorized === undefined ? undefined : new Set(spec.authorized)
  const given: Policy | undefined = spec.allow === undefined ? undefined : parsePolicy(spec.allow)
  const policies = createPolicyStore(host.store.db)
  const revoked = revokedIdentities(host.node)
  // Read at each decision (a few SQLite reads per portal open or re-check), so a policy set or
  // deleted, or an enrollment, while the node runs applies to the next decision without a restart.
  const current = () => {
    const stored = given === undefined ? policies.effective(resource.name, resource.type) : undefined
    return {
      policy: given ?? stored?.policy,
      text: spec.allow ?? stored?.expression,
      inProject: hasProject(host.store),
    }
  }
  return {
    get describe() {
      const { policy, text, inProject } = current()
      return authorized !== undefined
        ? `identifiers ${[...authorized].join(', ')}${policy === undefined ? '' : ' and the policy'}`
        : policy !== undefined
          ? `policy ${text}`
          : inProject
            ? 'this state folder and project members'
            : 'this state folder'
    },
    allows(message) {
      const arrived = message.local.ingress
      if (arrived.kind === 'local') return true
      if (arrived.kind !== 'channel') return false
      const ingress = currentChannelIngress(host.node, arrived.channel)
      if (ingress === undefined || ingress.kind !== 'channel' || ingress.identifier !== arrived.identifier) return false
      // Whatever else admits it, an identity the project revoked is refused (DESIGN §6).
      if (revoked.has(ingress.identifier)) return false
      if (authorized !== undefined && !authorized.has(ingress.identifier)) return false
      const { policy, inProject } = current()
      if (policy !== undefined) {
        // `has_credential` is computed here (never issued): a policy can require membership.
        return evaluatePolicy(policy, {
          subject: {
            identifier: ingress.identifier,
            attributes: { ...ingress.attributes, has_credential: String(ingress.member === true) },
          },
          resource: { name: resource.name, type: resource.type },
        }).allowed
      }
      if (authorized !== undefined) return true
      return (inProject && ingress.member === true) || stateFolderIdentifiers(identities).includes(ingress.identifier)
    },
  }
}

/** What a portal end offers for re-checks (TcpInlet and TcpOutlet both do). */
export interface RecheckablePortals {
  recheck(allow: (message: Message) => boolean): number
}

/**
 * Re-checks `portals` whenever a peer's credentials on one of the node's channels expire or are
 * refreshed (DESIGN §12): the portals whose peer came through that channel are judged again by
 * `access` against what the channel holds now, and those it no longer admits are reset (reason
 * `denied`, OCKAM_ERR_PORTAL_DENIED at both ends). One log line per change that reset any.
 * Returns the unsubscribe.
 */
export function recheckOnPeerCredentials(
  node: OckamNode,
  portals: RecheckablePortals,
  access: PortalAccess,
  log: Logger,
  what: string,
): () => void {
  return onPeerCredentialsChanged(node, (change: PeerCredentialsChange) => {
    const reset = portals.recheck((message) => {
      const ingress = message.local.ingress
      return ingress.kind !== 'channel' || ingress.channel !== change.channel || access.allows(message)
    })
    if (reset === 0) return
    node.counters.inc(`portal.recheck.${change.cause}.reset`, reset)
    log.warn(
      {
        event: 'portal.recheck',
        code: 'OCKAM_ERR_PORTAL_DENIED',
        cause: change.cause,
        peer: change.identifier,
        reset,
      },
      `${what}: ${reset} portal(s) of ${change.identifier} reset: its credentials ${change.cause === 'expired' ? 'expired' : 'were refreshed'} and it is no longer admitted (${access.describe})`,
    )
  })
}
