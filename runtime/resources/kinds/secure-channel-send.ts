/**
 * One request along a route that may name secure channels (`message send`): the channels are
 * opened with a named identity of the state folder, the request goes through the innermost one,
 * and they are closed again (each sends its close) before the answer is returned.
 */
import { OckamError } from '../../errors.js'
import { parseMultiaddr, toRoute } from '../../multiaddr.js'
import type { OckamNode } from '../../node.js'
import type { StateStore } from '../../state/store.js'
import type { VaultMode } from '../../trust/vault/create-vault.js'
import { hasSecureSegment, openSecureRoute } from './secure-channel-route.js'
import { expectedPeer, nodeTrust } from './secure-channel-trust.js'

export interface SendAlongOptions {
  readonly timeoutMs: number
  /** The identity that opens the channels; default the node's (or the folder's default). */
  readonly identity?: string
  /** Identifiers every channel's peer must have; default anyone. */
  readonly authorized?: readonly string[]
  readonly vaultMode?: VaultMode
}

export interface SendAlongResult {
  readonly reply: Uint8Array
  /** The identifiers of the channels' peers, outermost first (empty for a plain route). */
  readonly peers: string[]
  /** The identity that opened the channels, if any. */
  readonly identity?: string
}

export async function sendAlong(
  host: { readonly node: OckamNode; readonly store?: StateStore | undefined },
  to: string,
  payload: Uint8Array,
  options: SendAlongOptions,
): Promise<SendAlongResult> {
  const segments = parseMultiaddr(to)
  const signal = AbortSignal.timeout(options.timeoutMs)
  if (!hasSecureSegment(segments)) {
    const reply = await host.node.context.request(toRoute(segments), payload, { timeoutMs: options.timeoutMs })
    return { reply: reply.payload, peers: [] }
  }
  if (host.store === undefined) throw new OckamError('OCKAM_ERR_INTERNAL', 'a secure route needs the state folder')
  const trust = await nodeTrust({ node: host.node, store: host.store }, options.vaultMode)
  const material = await trust.material(options.identity)
  const opened = await openSecureRoute(host.node, segments, {
    identity: material,
    trust: expectedPeer(options.authorized),
    timeoutMs: options.timeoutMs,
    signal,
  })
  try {
    const reply = await host.node.context.request(opened.route, payload, { timeoutMs: options.timeoutMs })
    return { reply: reply.payload, peers: opened.channels.map((c) => c.peerIdentifier), identity: material.name }
  } finally {
    await opened.close()
  }
}
