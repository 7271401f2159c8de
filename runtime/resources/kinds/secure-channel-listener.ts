/**
 * Resource kind `secure-channel-listener`, and the `api` listener every node runs. Spec
 * `{ address, identity?, authorized? }`: the local address it listens on, the named identity
 * it presents (default: the node's, else the folder's default) and the identifiers it admits
 * (default: the identities of its own state folder, DESIGN §12, as they are when it starts).
 * The responder channels it opens are closed (with a close message to the peer) when the
 * listener stops or the node stops, before the node's transports go down.
 */

import { DEFAULT_SECURE_CHANNEL_LISTENER_ADDRESS } from '../../../workers/secure-channel/constants.js'
import {
  listSecureChannels,
  type SecureChannel,
  startSecureChannelListener,
  type TrustPolicy,
} from '../../../workers/secure-channel/index.js'
import { OckamError } from '../../errors.js'
import type { ResourceHandle, ResourceHost, ResourceKind } from '../types.js'
import { admitted, checkAuthorized, nodeTrust } from './secure-channel-trust.js'

export const SECURE_CHANNEL_LISTENER_KIND = 'secure-channel-listener'

export interface SecureChannelListenerSpec {
  /** Local address, e.g. `api`. */
  readonly address: string
  /** Named identity of the state folder; default the node's identity, else the default identity. */
  readonly identity?: string
  /** Identifiers admitted; default every identity of the state folder. */
  readonly authorized?: readonly string[]
}

export interface RunningListener {
  readonly address: string
  readonly identifier: string
  readonly identityName: string
  /** Identifiers it admits. */
  readonly admits: readonly string[]
  /** Responder channels it opened that are still open. */
  readonly open: number
  /** Channels it opened since it started. */
  readonly accepted: number
  /** Stops accepting and closes its channels (each sends close). Idempotent. */
  stop(): Promise<void>
}

const ADDRESS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/

function invalid(message: string): OckamError {
  return new OckamError('OCKAM_ERR_RESOURCE_INVALID', message, {
    hint: 'a secure-channel-listener spec is { address: "NAME", identity?: "NAME", authorized?: ["I…"] }',
  })
}

/** The identifiers a policy names, for `status` (members of a project are shown as `members`). */
function admittedIdentifiers(policy: TrustPolicy): string[] {
  if (policy.kind === 'identifiers') return [...policy.identifiers]
  if (policy.kind === 'members') return ['members']
  if (policy.kind === 'any-of') return policy.policies.flatMap(admittedIdentifiers)
  return []
}

/** Starts a listener whose channels are closed when it stops or the node stops. */
export async function startTrackedListener(
  host: Pick<ResourceHost, 'node' | 'store'>,
  spec: SecureChannelListenerSpec,
  /** Overrides whom it admits (the project node admits anyone: its services authorize each request). */
  override?: TrustPolicy,
  /** Passthrough of nested channels' frames; default true (the channel layer's default). */
  passthrough?: boolean,
): Promise<RunningListener> {
  const trust = await nodeTrust(host)
  const material = await trust.material(spec.identity)
  const policy = override ?? admitted(host, trust.identities, spec.authorized)
  const admits = admittedIdentifiers(policy)
  const open = new Set<SecureChannel>()
  let accepted = 0
  const listener = await startSecureChannelListener(host.node, {
    identity: material,
    trust: policy,
    address: spec.address,
    ...(passthrough === undefined ? {} : { passthrough }),
    onChannel(channel) {
      accepted++
      open.add(channel)
      void channel.closed.then(() => open.delete(channel))
    },
  })
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      unhook()
      await listener.stop()
      await Promise.all([...open].map((channel) => channel.close().catch(() => {})))
    })()
    return stopping
  }
  const unhook = host.node.onStopping(stop)
  return {
    address: spec.address,
    identifier: material.identity.identifier,
    identityName: material.name,
    admits,
    get open() {
      return open.size
    },
    get accepted() {
      return accepted
    },
    stop,
  }
}

/** The `api` listener of a node (not a recorded resource: every node runs it). */
export function startApiListener(
  host: Pick<ResourceHost, 'node' | 'store'>,
  options: {
    readonly authorized?: readonly string[] | undefined
    readonly admits?: TrustPolicy
    /** Default true: channels to this listener pass nested channels' frames through. */
    readonly passthrough?: boolean
  } = {},
): Promise<RunningListener> {
  return startTrackedListener(
    host,
    {
      address: DEFAULT_SECURE_CHANNEL_LISTENER_ADDRESS,
      ...(options.authorized === undefined ? {} : { authorized: options.authorized }),
    },
    options.admits,
    options.passthrough,
  )
}

/** Open channels of a node, for `status` and `secure-channel list` (both roles). */
export function openChannelsOf(host: Pick<ResourceHost, 'node'>) {
  return listSecureChannels(host.node)
}

export function secureChannelListenerKind(): ResourceKind<SecureChannelListenerSpec> {
  return {
    kind: SECURE_CHANNEL_LISTENER_KIND,
    restoreOrder: 1,
    validate(spec) {
      if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalid('the spec must be an object')
      const { address, identity, authorized, ...rest } = spec as Record<string, unknown>
      if (Object.keys(rest).length > 0) throw invalid(`unknown fields: ${Object.keys(rest).join(', ').slice(0, 100)}`)
      if (typeof address !== 'string' || !ADDRESS.test(address)) throw invalid('"address" must be a local address name')
      if (address === DEFAULT_SECURE_CHANNEL_LISTENER_ADDRESS) {
        throw invalid(`every node already runs the "${DEFAULT_SECURE_CHANNEL_LISTENER_ADDRESS}" listener`)
      }
      if (identity !== undefined && typeof identity !== 'string') throw invalid('"identity" must be an identity name')
      const ids = checkAuthorized(authorized, 'secure-channel-listener')
      return {
        address,
        ...(identity === undefined ? {} : { identity }),
        ...(ids === undefined ? {} : { authorized: ids }),
      }
    },
    defaultName: (spec) => spec.address,
    satisfies: (desired, recorded) => JSON.stringify(desired) === JSON.stringify(recorded),
    async start(host, spec): Promise<ResourceHandle<SecureChannelListenerSpec>> {
      const running = await startTrackedListener(host, spec)
      return {
        spec,
        summary: () => ({
          address: running.address,
          identity: running.identityName,
          identifier: running.identifier,
          admits: running.admits,
        }),
        counters: () => ({ channels: running.open, accepted: running.accepted }),
        stop: () => running.stop(),
      }
    },
  }
}
