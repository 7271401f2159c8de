/**
 * What the secure-channel kinds of one node share: the state folder's identities and the
 * vault, opened once per node on first use — the vault on its own thread (DESIGN §4) — and
 * closed when the node stops, after the channels (the first stopping hook runs last).
 * Trust without a project (DESIGN §12): a resource admits the identities of its own state
 * folder unless it names the identifiers it admits (`--authorized`).
 */

import {
  type TrustPolicy,
  trustAnyOf,
  trustAnyone,
  trustIdentifiers,
  trustMembers,
} from '../../../workers/secure-channel/index.js'
import { OckamError } from '../../errors.js'
import type { OckamNode } from '../../node.js'
import { heldCredentials, projectMembership } from '../../project/membership.js'
import { revokedIdentities } from '../../project/revoked-identities.js'
import type { StateStore } from '../../state/store.js'
import {
  type NamedChannelIdentity,
  namedChannelIdentity,
  stateFolderIdentifiers,
} from '../../trust/channel-identity.js'
import { createIdentitiesService, type IdentitiesService } from '../../trust/identities/identities.js'
import { isIdentifier } from '../../trust/identity/identifier.js'
import { createVault, type VaultMode } from '../../trust/vault/create-vault.js'
import type { Vault } from '../../trust/vault/types.js'

export interface NodeTrust {
  readonly identities: IdentitiesService
  readonly vault: Vault
  /**
   * Channel identity material of `name`, else the node's identity, else the default identity
   * (created if none). Its `revoked` refuses the identities the project's authority revoked.
   */
  material(name?: string): Promise<NamedChannelIdentity & { revoked(identifier: string): boolean }>
}

const opened = new WeakMap<OckamNode, Promise<NodeTrust>>()
const nodeIdentities = new WeakMap<OckamNode, string>()

/** The identity a node presents unless a resource names another (`node create --identity`). */
export function setNodeIdentity(node: OckamNode, name: string | undefined): void {
  if (name === undefined) nodeIdentities.delete(node)
  else nodeIdentities.set(node, name)
}

export interface NodeTrustHost {
  readonly node: OckamNode
  readonly store: StateStore
}

/** The node's identities and vault (opened on first call, closed when the node stops). */
export function nodeTrust(host: NodeTrustHost, mode: VaultMode = 'thread'): Promise<NodeTrust> {
  let trust = opened.get(host.node)
  if (trust === undefined) {
    trust = (async () => {
      const vault = await createVault({ mode, stateDir: host.store.dir })
      host.node.onStopping(() => vault.close())
      const identities = createIdentitiesService({ db: host.store.db, vault })
      const revoked = revokedIdentities(host.node)
      return {
        identities,
        vault,
        material: async (name?: string) => {
          const chosen = name ?? nodeIdentities.get(host.node)
          // In a project, every channel presents the identity's credential from the project's
          // authority (read at each presentation, so refreshed ones go out) and trusts only it.
          const project = projectMembership(host.store, identities)
          let subject: string | undefined
          const material = await namedChannelIdentity({
            identities,
            vault,
            ...(chosen === undefined ? {} : { name: chosen }),
            ...(project === undefined
              ? {}
              : {
                  trustedAuthorities: [project.authority],
                  credentials: () =>
                    subject === undefined ? [] : heldCredentials(host.store, subject, project.authority.identifier),
                }),
          })
          subject = material.identity.identifier
          return { ...material, revoked: (identifier: string) => revoked.has(identifier) }
        },
      }
    })()
    opened.set(host.node, trust)
    trust.catch(() => opened.delete(host.node))
  }
  return trust
}

/** Checks `--authorized` identifiers (from the CLI, a config or the database). */
export function checkAuthorized(value: unknown, what: string): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length === 0 || value.length > 64 || !value.every((v) => isIdentifier(v))) {
    throw new OckamError('OCKAM_ERR_RESOURCE_INVALID', `${what}: "authorized" must list 1 to 64 identifiers`, {
      hint: 'an identifier is I followed by 64 lowercase hex digits (see: ockam-runtime identity show)',
    })
  }
  return [...new Set(value as string[])]
}

/**
 * The listener side: the given identifiers; else every identity of the state folder and, when
 * the folder belongs to a project, its members (a valid credential from its authority).
 */
export function admitted(
  host: NodeTrustHost,
  identities: IdentitiesService,
  authorized: readonly string[] | undefined,
): TrustPolicy {
  if (authorized !== undefined) return trustIdentifiers(...authorized)
  const own = trustIdentifiers(...stateFolderIdentifiers(identities))
  return projectMembership(host.store, identities) === undefined ? own : trustAnyOf(own, trustMembers())
}

/**
 * The initiator side: the given identifiers, or else anyone — the listener decides whom it
 * admits, and the caller is shown whom it reached (Ockam's default without a project).
 */
export function expectedPeer(authorized: readonly string[] | undefined): TrustPolicy {
  return authorized === undefined ? trustAnyone() : trustIdentifiers(...authorized)
}
