/**
 * One end of a secure channel: the state its two workers share.
 *
 * - The decryptor (address `sc-<id>-d`, any ingress) receives what the peer sends: handshake
 *   messages 2 (initiator) or 1 and 3 (responder), then transport frames.
 * - The encryptor (address `sc-<id>-e`) receives plaintext messages from this node and seals
 *   them for the peer; what comes out of the decryptor names it first in its return route, so
 *   replies go back through the channel.
 *
 * Handshake order (DESIGN §12): message 1 carries no identity. The responder's message 2
 * carries its history and static key attestation; the initiator verifies both on the pool,
 * checks the attested key is the Noise static key, applies its trust policy, and only then
 * sends message 3 with its own history, attestation and credentials. The responder verifies
 * message 3 likewise, and only then discloses its credentials, in its first transport frame
 * (`credentials`). The initiator's channel is usable once that frame arrived and, for a members
 * policy, the responder's attributes satisfied it; a refusal there closes the channel before
 * any application byte was sent. A responder that refuses the initiator says so with a sealed
 * `close` (reason `refused`), so the initiator fails fast instead of timing out.
 *
 * Transport: ordered receiver (a gap closes the channel), frames sent in nonce order through
 * one queue shared by both workers, so a payload, a refresh and a close never race.
 */
import { type Address, LOCAL, local, TCP } from '../../runtime/address.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import { DEFAULT_MAX_ROUTE_HOPS } from '../../runtime/limits.js'
import { type Ingress, LOCAL_INGRESS, type LocalMetadata, type Message, sameIngress } from '../../runtime/message.js'
import type { TaskPool } from '../../runtime/pool/task-pool.js'
import type { Route } from '../../runtime/route.js'
import type { Router } from '../../runtime/router.js'
import { createCryptoProvider } from '../../runtime/trust/crypto/index.js'
import type { CryptoProvider } from '../../runtime/trust/crypto/provider.js'
import type { VerifiedIdentity } from '../../runtime/trust/identity/types.js'
import { secureChannelPrologue } from '../../runtime/trust/noise/prologue.js'
import type { NoiseSuite } from '../../runtime/trust/noise/suite.js'
import type { PolicyDecision } from '../../runtime/trust/policy/evaluate.js'
import type { VaultHandshakeKeys } from '../../runtime/trust/vault/types.js'
import { TCP_CONNECTION_PREFIX } from '../../transports/tcp/constants.js'
import {
  DEFAULT_BATCH_MAX_ITEM_BYTES,
  isDecryptorAddress,
  PASSTHROUGH_SUFFIX,
  passesThroughTo,
  SECURE_CHANNEL_WIRE_VERSION,
} from './constants.js'
import { CredentialRefresh } from './credential-refresh.js'
import { FrameQueue } from './frame-queue.js'
import {
  decodeIdentityPayload,
  decodeMessage1,
  encodeIdentityPayload,
  encodeMessage1,
  type IdentityPayload,
} from './handshake-payload.js'
import type { SecureChannelIdentity } from './identity-material.js'
import { adjustGauge, METRICS } from './metrics.js'
import { PeerCredentials } from './peer-credentials.js'
import {
  type BatchedMessage,
  type ChannelPlaintext,
  type CloseReason,
  decodePlaintext,
  encodeClosePlaintext,
  encodeCredentialsPlaintext,
  encodePayloadPlaintextParts,
  type PlaintextParts,
  plaintextLength,
  Reassembly,
} from './plaintext.js'
import {
  channelLog,
  channelsOf,
  type PeerCredentialsChange,
  peerCredentialsChanged,
  registerChannel,
  unregisterChannel,
} from './registry.js'
import { createTransportReceiver, createTransportSender, type TransportReceiver } from './transport-cipher.js'
import { decideTrust, type TrustPolicy } from './trust-policy.js'
import type { SecureChannel, SecureChannelClosed, SecureChannelInfo, SecureChannelRole } from './types.js'
import { refreshRefused, type VerifiedPeer, verifyCredentials, verifyHandshakePeer } from './verify-peer.js'

const EMPTY = new Uint8Array(0)
/** Handshake failures that are a decision about the peer rather than a broken exchange. */
const REFUSALS = new Set<string>([
  'OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED',
  'OCKAM_ERR_SECURE_CHANNEL_PEER_INVALID',
  'OCKAM_ERR_SECURE_CHANNEL_KEY_NOT_ATTESTED',
])
const LOCAL_METADATA: LocalMetadata = Object.freeze({ ingress: LOCAL_INGRESS })

export interface SessionOptions {
  readonly role: SecureChannelRole
  readonly router: Router
  readonly pool: TaskPool | undefined
  readonly identity: SecureChannelIdentity
  readonly trust: TrustPolicy
  readonly suite: NoiseSuite
  readonly handshakeTimeoutMs: number
  readonly maxMessageBytes: number
  /** Unix seconds. */
  readonly now: () => number
  /** Called once when the handshake ends, either way (a listener frees its half-open slot). */
  readonly onHandshakeEnded?: () => void
  /** Called once the channel is open. */
  readonly onOpen?: (channel: SecureChannel) => void
  /**
   * Pass sealed frames of nested channels through to the peer without sealing them again, and
   * accept them from the peer on the connection of this channel's authenticated frames
   * (PROTOCOL.md, "Passthrough"; THREATS.md). Default true.
   */
  readonly passthrough?: boolean
  /** Offer batching of small messages (PROTOCOL.md, "Batching"); used when both ends offer it. Default true. */
  readonly batch?: boolean
}

type Phase = 'handshake' | 'confirming' | 'open' | 'closed'

interface CloseOptions {
  readonly by: 'local' | 'peer'
  /** Send a sealed close to the peer first (only possible once transport keys exist). */
  readonly notify: boolean
  readonly error?: OckamError
}

/** The channels of the node that owns `router`. */
export function sessionsOf(router: Router): SecureChannelInfo[] {
  return channelsOf(router)
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

function asOckamError(error: unknown): OckamError {
  if (error instanceof OckamError) return error
  return new OckamError(
    'OCKAM_ERR_INTERNAL',
    `secure channel: ${error instanceof Error ? error.message : String(error)}`,
    {
      cause: error,
    },
  )
}

/**
 * The peer's passthrough address: its decryptor's (`sc-<id>-d`) with the suffix `-p`, reached
 * the same way. Only for a channel that runs directly over one TCP connection (its frames go
 * `[tcp-…, sc-<id>-d]`): over a relay or another channel, the hops on the way take only what
 * they know (a relay receiver hands frames only to decryptors opened through it), so frames
 * nested in such a channel are sealed as before.
 */
function passthroughRouteOf(peerRoute: Route): Route | undefined {
  const [connection, decryptor] = peerRoute
  if (peerRoute.length !== 2 || connection === undefined || decryptor === undefined) return undefined
  if (connection.type !== LOCAL || !connection.value.startsWith(TCP_CONNECTION_PREFIX)) return undefined
  if (!isDecryptorAddress(decryptor)) return undefined
  return [connection, local(`${decryptor.value.slice(0, -1)}${PASSTHROUGH_SUFFIX}`)]
}

export class SecureChannelSession {
  readonly role: SecureChannelRole
  readonly encryptorAddress: Address
  readonly decryptorAddress: Address
  /** The decryptor's second address: sealed frames of nested channels, passed through in the clear. */
  readonly passthroughAddress: Address
  readonly #options: SessionOptions
  readonly #router: Router
  #phase: Phase = 'handshake'
  /** Which handshake message the decryptor waits for. */
  #expecting: 1 | 2 | 3 | 'credentials' | 'frames'
  #vaultHandshake: string | undefined
  /** The peer's decryptor, and the metadata frames leave with (responder: message 1's ingress). */
  #peerRoute: Route = []
  #frameMetadata: LocalMetadata = LOCAL_METADATA
  /** The peer's passthrough address, routed like its decryptor; undefined when passthrough is off. */
  #passthroughRoute: Route | undefined
  /** How this channel's first authenticated frame arrived: passed-through frames must arrive the same way. */
  #framesIngress: Ingress | undefined
  /** The peer said in its handshake payload that it takes part in passthrough. */
  #peerPassthrough = false
  /** Both ends offered batching in their handshake payloads. */
  #batching = false
  /** Return hops the path prepends to this channel's frames (their return route is otherwise empty). */
  #framesReturnHops = 0
  #frames: FrameQueue | undefined
  #receiver: TransportReceiver | undefined
  #handshakeHash: Uint8Array = EMPTY
  #peer: VerifiedIdentity | undefined
  #peerCredentials: PeerCredentials | undefined
  #reassembly: Reassembly | undefined
  readonly #refresh: CredentialRefresh
  #handshakeTimer: NodeJS.Timeout | undefined
  /** Initiator: the first hop of the route to the listener (a TCP address when nothing is under the channel). */
  #initialHop: Address | undefined
  #handshakeEnded = false
  readonly #opened = deferred<SecureChannel>()
  readonly #closed = deferred<SecureChannelClosed>()
  #handle: SecureChannel | undefined

  constructor(id: string, options: SessionOptions) {
    this.role = options.role
    this.#options = options
    this.#router = options.router
    this.encryptorAddress = local(`sc-${id}-e`)
    this.decryptorAddress = local(`sc-${id}-d`)
    this.passthroughAddress = local(`sc-${id}-${PASSTHROUGH_SUFFIX}`)
    this.#expecting = options.role === 'initiator' ? 2 : 1
    this.#refresh = new CredentialRefresh({ now: options.now, due: () => void this.#autoRefresh() })
    // The caller may never await `opened` (a responder); an unhandled rejection would crash the process.
    this.#opened.promise.catch(() => {})
  }

  /** Resolves with the channel once usable; rejects with the reason the handshake failed. */
  get opened(): Promise<SecureChannel> {
    return this.#opened.promise
  }

  get closed(): Promise<SecureChannelClosed> {
    return this.#closed.promise
  }

  /** A method, not a field test: the phase changes across awaits, which TypeScript's narrowing ignores. */
  #isClosed(): boolean {
    return this.#phase === 'closed'
  }

  get phase(): Phase {
    return this.#phase
  }

  info(): SecureChannelInfo {
    return {
      address: this.encryptorAddress.value,
      decryptorAddress: this.decryptorAddress.value,
      role: this.role,
      state: this.#phase,
      ...(this.#peer === undefined
        ? {}
        : { peerIdentifier: this.#peer.identifier, attributes: this.#peerCredentials?.attributes ?? {} }),
    }
  }

  /** Registers the session and arms the handshake timer (the workers are started by the caller). */
  begin(): void {
    const counters = this.#router.counters
    counters.inc(METRICS.handshakesStarted)
    adjustGauge(counters, METRICS.handshaking, 1)
    registerChannel(this.#router, this)
    this.#handshakeTimer = setTimeout(() => {
      this.#router.counters.inc(METRICS.handshakesTimedOut)
      this.#fail(
        new OckamError(
          'OCKAM_ERR_SECURE_CHANNEL_HANDSHAKE_TIMEOUT',
          `the secure-channel handshake did not complete within ${this.#options.handshakeTimeoutMs} ms`,
          { hint: 'check the route to the listener and that the peer is running' },
        ),
      )
    }, this.#options.handshakeTimeoutMs)
  }

  // ---------------------------------------------------------------------------------------------
  // Handshake

  /** Initiator: writes message 1 and sends it along `route` (to the peer's listener). */
  async initiate(route: Route): Promise<void> {
    this.#initialHop = route[0]
    try {
      const { vault, staticKeyHandle } = this.#options.identity
      const suite = this.#options.suite
      const prologue = secureChannelPrologue(SECURE_CHANNEL_WIRE_VERSION, suite)
      const started = await this.#vault(() =>
        vault.handshakeInitiate(staticKeyHandle, suite.protocolName, prologue, EMPTY),
      )
      if (!this.#adoptHandshake(started.id)) return
      await this.#router.send({
        onward: route,
        return: [this.decryptorAddress],
        payload: encodeMessage1(suite, started.message),
        local: LOCAL_METADATA,
      })
    } catch (error) {
      this.#fail(asOckamError(error))
    }
  }

  /** The decryptor's handler: handshake messages first, then transport frames. */
  onRemote(message: Message): Promise<void> | undefined {
    if (this.#isClosed()) return undefined
    // Frames of an open channel (nearly every message): no async frame of their own; what needs
    // waiting (a delivery, a refresh) comes back as a promise whose failure is handled alike.
    if (this.#expecting === 'frames' && this.#phase === 'open') {
      try {
        return this.#onFrame(message)?.catch((error: unknown) => this.#onRemoteFailed(error))
      } catch (error) {
        this.#onRemoteFailed(error)
        return undefined
      }
    }
    return this.#onRemoteHandshake(message)
  }

  #onRemoteFailed(error: unknown): void {
    const failure = asOckamError(error)
    if (this.#phase === 'open') {
      this.#router.log.warn({ err: failure, channel: this.encryptorAddress.value }, 'closing secure channel')
      this.close('protocol-error', { by: 'local', notify: true, error: failure })
    } else {
      this.#fail(failure)
    }
  }

  async #onRemoteHandshake(message: Message): Promise<void> {
    try {
      switch (this.#expecting) {
        case 1:
          return await this.#onMessage1(message)
        case 2:
          return await this.#onMessage2(message)
        case 3:
          return await this.#onMessage3(message)
        default:
          return await this.#onFrame(message)
      }
    } catch (error) {
      this.#onRemoteFailed(error)
    }
  }

  /** Responder: message 1 (forwarded by the listener), answered with message 2. */
  async #onMessage1(message: Message): Promise<void> {
    const { vault, staticKeyHandle, identity, staticKeyAttestation } = this.#options.identity
    const suite = this.#options.suite
    const message1 = decodeMessage1(message.payload, [suite])
    if (message.return.length === 0)
      throw new OckamError('OCKAM_ERR_ROUTER_EMPTY_ROUTE', 'message 1 has no return route')
    this.#expecting = 3
    const prologue = secureChannelPrologue(SECURE_CHANNEL_WIRE_VERSION, suite)
    const payload = encodeIdentityPayload({
      history: identity.history,
      attestation: staticKeyAttestation,
      ...this.#ownFeatures(),
    })
    const response = await this.#vault(() =>
      vault.handshakeRespond(staticKeyHandle, suite.protocolName, prologue, exact(message1.noise), payload),
    )
    if (!this.#adoptHandshake(response.id)) return
    if (response.payload.length !== 0) {
      throw new OckamError('OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED', 'message 1 must carry no payload')
    }
    // Replies to the network leave the way message 1 came (its ingress is kept), never by a new dial.
    this.#peerRoute = message.return
    this.#frameMetadata = { ingress: message.local.ingress }
    await this.#router.send({
      onward: this.#peerRoute,
      return: [this.decryptorAddress],
      payload: response.message,
      local: this.#frameMetadata,
    })
  }

  /** Initiator: message 2 is verified in full before message 3 discloses anything about us. */
  async #onMessage2(message: Message): Promise<void> {
    const material = this.#options.identity
    const id = this.#requireHandshake()
    if (message.return.length === 0)
      throw new OckamError('OCKAM_ERR_ROUTER_EMPTY_ROUTE', 'message 2 has no return route')
    this.#expecting = 'credentials'
    const read = await this.#vault(() => material.vault.handshakeRead(id, exact(message.payload)))
    const presented = decodeIdentityPayload(read.payload, false)
    this.#adoptPeerFeatures(presented)
    const remoteStaticPublicKey = read.remoteStaticPublicKey
    if (remoteStaticPublicKey === undefined)
      throw new OckamError('OCKAM_ERR_INTERNAL', 'message 2 without a static key')
    const peer = await this.#verifyPeer({ ...presented, credentials: [], remoteStaticPublicKey })
    if (this.#isClosed()) return
    this.#admit(peer, 'identity')
    const own = await this.#ownCredentials()
    const payload = encodeIdentityPayload({
      history: material.identity.history,
      attestation: material.staticKeyAttestation,
      credentials: own,
      ...this.#ownFeatures(),
    })
    const { message: message3, keys } = await this.#vault(() => material.vault.handshakeWriteFinal(id, payload))
    this.#vaultHandshake = undefined
    if (this.#isClosed()) return
    this.#activate(keys, message.return, LOCAL_METADATA)
    this.#phase = 'confirming'
    await this.#router.send({
      onward: this.#peerRoute,
      return: [this.decryptorAddress],
      payload: message3,
      local: this.#frameMetadata,
    })
    this.#refresh.presented(own)
  }

  /** Responder: message 3 verified, then (and only then) our credentials go out. */
  async #onMessage3(message: Message): Promise<void> {
    const material = this.#options.identity
    const id = this.#requireHandshake()
    this.#expecting = 'frames'
    const { message: payload3, keys } = await this.#vault(() =>
      material.vault.handshakeReadFinal(id, exact(message.payload)),
    )
    this.#vaultHandshake = undefined
    if (this.#isClosed()) return
    this.#activate(keys, this.#peerRoute, this.#frameMetadata)
    let peer: VerifiedPeer
    try {
      const presented = decodeIdentityPayload(payload3, true)
      this.#adoptPeerFeatures(presented)
      this.#passthroughRoute = this.#passthroughRouteFor(this.#peerRoute)
      peer = await this.#verifyPeer({
        ...presented,
        credentials: presented.credentials ?? [],
        remoteStaticPublicKey: keys.remoteStaticPublicKey,
      })
      if (this.#isClosed()) return
      this.#admit(peer, 'complete')
    } catch (error) {
      // The initiator is authenticated to the extent of the Noise key only; telling it "refused"
      // under the session keys tells it nothing it could not learn from a timeout.
      this.close('refused', { by: 'local', notify: true, error: asOckamError(error) })
      return
    }
    const own = await this.#ownCredentials()
    if (this.#isClosed()) return
    const sent = this.#frames!.enqueue([encodeCredentialsPlaintext(own)])
    this.#markOpen()
    await sent
    this.#refresh.presented(own)
  }

  /** Initiator: the responder's first frame must be its credentials (or a refusal). */
  async #onConfirmation(plaintext: ChannelPlaintext): Promise<void> {
    if (plaintext.type === 'close') {
      const error =
        plaintext.reason === 'refused'
          ? new OckamError('OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER', 'the peer refused this identity', {
              hint: "check that this identity satisfies the peer's trust policy (identifier or credentials)",
            })
          : new OckamError('OCKAM_ERR_SECURE_CHANNEL_CLOSED', `the peer closed the channel (${plaintext.reason})`)
      this.close(plaintext.reason, { by: 'peer', notify: false, error })
      return
    }
    if (plaintext.type !== 'credentials') {
      throw new OckamError('OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED', `expected credentials, got ${plaintext.type}`)
    }
    const peer = this.#peer!
    const check = await verifyCredentials(
      this.#verifierHost(),
      this.#options.identity,
      peer,
      plaintext.credentials,
      this.#options.now(),
    )
    if (this.#isClosed()) return
    this.#countRefusedCredentials(check.refused.length)
    this.#peerCredentials!.set(check.credentials)
    const decision = this.#decide('complete')
    if (!decision.allowed) {
      this.close('refused', { by: 'local', notify: true, error: this.#refusal(decision.reason) })
      return
    }
    this.#expecting = 'frames'
    this.#markOpen()
  }

  #adoptHandshake(id: string): boolean {
    if (this.#isClosed()) {
      void this.#options.identity.vault.handshakeAbort(id).catch(() => {})
      return false
    }
    this.#vaultHandshake = id
    return true
  }

  #requireHandshake(): string {
    const id = this.#vaultHandshake
    if (id === undefined) throw new OckamError('OCKAM_ERR_NOISE_HANDSHAKE_STATE', 'no handshake in progress')
    return id
  }

  async #verifyPeer(presented: Parameters<typeof verifyHandshakePeer>[2]): Promise<VerifiedPeer> {
    const peer = await verifyHandshakePeer(this.#verifierHost(), this.#options.identity, presented, this.#options.now())
    this.#countRefusedCredentials(peer.refusedCredentials.length)
    return peer
  }

  /**
   * A frame a nested channel sealed end to end, sent on to the peer's passthrough address without
   * a second seal: the routes a sealed frame would carry inside ride in the clear after that
   * address (onward) and after the path's own hops (return), and the payload is the frame as is.
   * The peer accepts it only the way this channel's frames arrive.
   */
  #passThrough(route: Route, onward: Route, message: Message): Promise<void> {
    this.#router.counters.inc(METRICS.passthroughSent)
    return this.#router.send({
      onward: [...route, ...onward],
      return: message.return,
      payload: message.payload,
      local: this.#frameMetadata,
    })
  }

  /**
   * The passthrough address's handler: a nested channel's sealed frame that the peer passed
   * through in the clear. Accepted only while open and only the way this channel's authenticated
   * frames arrive (the same TCP connection); delivered marked `sealed`, so the router lets it
   * reach only channel and relay plumbing, never a service (runtime/access-control.ts).
   */
  async onPassthrough(message: Message): Promise<void> {
    const counters = this.#router.counters
    const via = this.#framesIngress
    const pathHops = this.#framesReturnHops
    if (
      // Both ways or neither: only a channel directly over TCP with passthrough on takes them.
      this.#passthroughRoute === undefined ||
      this.#phase !== 'open' ||
      via === undefined ||
      !sameIngress(via, message.local.ingress) ||
      // Only toward relay or channel plumbing, as the sender is allowed to: never into an
      // encryptor (which would authenticate it) or another passthrough address.
      !passesThroughTo(message.onward[1]) ||
      message.return.length < pathHops ||
      message.payload.length > this.#options.maxMessageBytes
    ) {
      counters.inc(METRICS.passthroughRefused)
      return
    }
    counters.inc(METRICS.passthroughReceived)
    // The path prepended as many hops as it does to this channel's frames; the rest is the sender's.
    await this.#deliver(message.onward.slice(1), message.return.slice(pathHops), message.payload, true)
  }

  /** Records a verified peer and applies the trust policy; throws OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED. */
  #admit(peer: VerifiedPeer, phase: 'identity' | 'complete'): void {
    this.#peer = peer.identity
    this.#peerCredentials = new PeerCredentials({
      channel: this.encryptorAddress.value,
      identifier: peer.identity.identifier,
      now: this.#options.now,
      onExpired: () => {
        this.#recheckPolicy('credentials-expired')
        this.#announce('expired')
      },
    })
    this.#peerCredentials.set(peer.credentials)
    const decision = this.#decide(phase)
    if (!decision.allowed) throw this.#refusal(decision.reason)
  }

  #refusal(reason: string | undefined): OckamError {
    return new OckamError(
      'OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED',
      `${this.#peer?.identifier ?? 'the peer'} is refused by the trust policy: ${reason ?? 'not admitted'}`,
      { hint: 'trust this identifier, or have it hold a credential that satisfies the policy' },
    )
  }

  #decide(phase: 'identity' | 'complete'): PolicyDecision {
    const identifier = this.#peer!.identifier
    if (this.#options.identity.revoked?.(identifier) === true) {
      return { allowed: false, reason: `${identifier} was revoked by a trusted authority` }
    }
    const credentials = this.#peerCredentials!
    return decideTrust(
      this.#options.trust,
      {
        identifier: this.#peer!.identifier,
        attributes: credentials.attributes,
        credentialCount: credentials.validCount,
      },
      phase,
    )
  }

  #countRefusedCredentials(count: number): void {
    if (count > 0) this.#router.counters.inc(METRICS.credentialsRefused, count)
  }

  async #ownCredentials(): Promise<readonly Uint8Array[]> {
    const own = await this.#options.identity.credentials()
    if (!Array.isArray(own) || own.some((c) => !(c instanceof Uint8Array))) {
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'identity material credentials() must return Uint8Array[]')
    }
    return own
  }

  #activate(keys: VaultHandshakeKeys, peerRoute: Route, metadata: LocalMetadata): void {
    const { suite } = this.#options
    const provider = transportProvider()
    this.#peerRoute = peerRoute
    this.#frameMetadata = metadata
    this.#passthroughRoute = this.#passthroughRouteFor(peerRoute)
    this.#handshakeHash = keys.handshakeHash
    this.#frames = new FrameQueue({
      router: this.#router,
      sender: createTransportSender({ provider, suite, key: keys.sendKey }),
      peerRoute,
      metadata,
      onLost: (error) => this.close('frame-lost', { by: 'local', notify: false, error }),
    })
    this.#receiver = createTransportReceiver({ provider, suite, key: keys.receiveKey })
    keys.sendKey.fill(0)
    keys.receiveKey.fill(0)
  }

  /** The features this side offers in its identity payload (messages 2 and 3). */
  #ownFeatures(): Pick<IdentityPayload, 'passthrough' | 'batch'> {
    return { passthrough: this.#options.passthrough !== false, batch: this.#options.batch !== false }
  }

  /** What the peer offered: a feature is used only when both ends offer it. */
  #adoptPeerFeatures(presented: Pick<IdentityPayload, 'passthrough' | 'batch'>): void {
    this.#peerPassthrough = presented.passthrough === true
    this.#batching = this.#options.batch !== false && presented.batch === true
  }

  /** Passthrough needs both ends to take part, and this channel to run directly over TCP. */
  #passthroughRouteFor(peerRoute: Route): Route | undefined {
    if (this.#options.passthrough === false || !this.#peerPassthrough) return undefined
    return passthroughRouteOf(peerRoute)
  }

  #endHandshake(succeeded: boolean): void {
    if (this.#handshakeEnded) return
    this.#handshakeEnded = true
    clearTimeout(this.#handshakeTimer)
    const counters = this.#router.counters
    counters.inc(succeeded ? METRICS.handshakesCompleted : METRICS.handshakesFailed)
    adjustGauge(counters, METRICS.handshaking, -1)
    this.#options.onHandshakeEnded?.()
  }

  #markOpen(): void {
    this.#phase = 'open'
    this.#endHandshake(true)
    const counters = this.#router.counters
    counters.inc(METRICS.channelsOpened)
    adjustGauge(counters, METRICS.channelsOpen, 1)
    const handle = this.handle()
    this.#opened.resolve(handle)
    this.#options.onOpen?.(handle)
  }

  #fail(error: OckamError): void {
    if (this.#isClosed()) return
    channelLog(this.#router).warn(
      `handshake:${error.code}`,
      { code: error.code, role: this.role },
      `secure-channel handshake failed: ${error.message}`,
    )
    const refused = REFUSALS.has(error.code)
    this.close(refused ? 'refused' : 'protocol-error', { by: 'local', notify: this.#frames !== undefined, error })
  }

  // ---------------------------------------------------------------------------------------------
  // Transport

  /** The encryptor's handler: seals a local message for the peer. */
  /** Not async: sync refusals throw, the rest is the frame queue's (or the router's) promise. */
  onLocal(message: Message): Promise<void> | undefined {
    const frames = this.#frames
    if (this.#phase !== 'open' || frames === undefined) {
      throw new OckamError('OCKAM_ERR_SECURE_CHANNEL_CLOSED', 'the secure channel is not open')
    }
    const onward = message.onward.slice(1)
    if (onward.length === 0) {
      throw new OckamError('OCKAM_ERR_ROUTER_EMPTY_ROUTE', 'a message into a secure channel needs a route beyond it')
    }
    if (message.local.sealed === true) {
      const route = this.#passthroughRoute
      // Within this channel's own limits, as a sealed message must be: a frame over the message
      // limit goes the sealed way below and is refused there with its typed error.
      if (
        route !== undefined &&
        passesThroughTo(onward[0]) &&
        route.length + onward.length <= DEFAULT_MAX_ROUTE_HOPS &&
        message.payload.length <= this.#options.maxMessageBytes
      ) {
        return this.#passThrough(route, onward, message)
      }
      // What came in the clear over a passthrough hop is sealed again only toward relay or
      // channel plumbing, whose end (a decryptor) authenticates it: sealed toward anything else
      // it would become a message authenticated as this node.
      if (message.local.passedThrough === true && !passesThroughTo(onward[0])) {
        this.#router.counters.inc(METRICS.passthroughRefused)
        throw new OckamError(
          'OCKAM_ERR_ROUTER_ACCESS_DENIED',
          `${this.encryptorAddress.value} seals a frame that arrived passed through only toward relay or channel plumbing`,
        )
      }
    }
    const plaintexts = encodePayloadPlaintextParts(
      onward,
      message.return,
      message.payload,
      frames.maxPlaintextBytes,
      this.#options.maxMessageBytes,
    )
    // Small messages their sender lets wait (portal data, not its credits) wait for the end of
    // this turn and leave together.
    const only = plaintexts.length === 1 ? (plaintexts[0] as PlaintextParts) : undefined
    if (
      this.#batching &&
      only !== undefined &&
      message.local.batchable === true &&
      plaintextLength(only) <= DEFAULT_BATCH_MAX_ITEM_BYTES
    ) {
      return frames.enqueueBatched(only)
    }
    return frames.enqueue(plaintexts)
  }

  #onFrame(message: Message): Promise<void> | undefined {
    const receiver = this.#receiver
    if (receiver === undefined) return
    let bytes: Uint8Array
    try {
      bytes = receiver.open(message.payload)
    } catch (error) {
      const failure = asOckamError(error)
      // Replays, forgeries and tampering change nothing and are dropped. A gap proven by a
      // genuine frame means a frame of this ordered stream was lost, which must never become a
      // silent hole: the channel closes. An unproven one (anyone can claim a later nonce) is a
      // forgery like any other, or it could close any channel whose decryptor address leaked.
      if (failure.code === 'OCKAM_ERR_NOISE_NONCE_GAP' && receiver.provesGap(message.payload)) {
        this.#router.counters.inc(`${METRICS.framesRejected}.${failure.code}`)
        this.close('frame-lost', { by: 'local', notify: true, error: failure })
        return
      }
      const kind = failure.code === 'OCKAM_ERR_NOISE_NONCE_GAP' ? 'unproven_gap' : failure.code
      this.#router.counters.inc(`${METRICS.framesRejected}.${kind}`)
      return
    }
    this.#router.counters.inc(METRICS.framesReceived)
    if (this.#framesIngress === undefined) {
      this.#framesIngress = message.local.ingress
      this.#framesReturnHops = message.return.length
    }
    const plaintext = decodePlaintext(bytes, this.#options.maxMessageBytes)
    if (this.#phase === 'confirming') return this.#onConfirmation(plaintext)
    if (this.#reassembly !== undefined && plaintext.type !== 'payload-next') {
      throw new OckamError(
        'OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED',
        `${plaintext.type} inside a fragmented message`,
      )
    }
    switch (plaintext.type) {
      case 'payload':
        return this.#deliver(plaintext.onward, plaintext.return, plaintext.payload)
      case 'payload-first':
        this.#reassembly = new Reassembly(plaintext)
        return
      case 'payload-next': {
        const reassembly = this.#reassembly
        if (reassembly === undefined) {
          throw new OckamError('OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED', 'payload-next without payload-first')
        }
        const whole = reassembly.push(plaintext.chunk)
        if (whole === undefined) return
        this.#reassembly = undefined
        return this.#deliver(reassembly.onward, reassembly.return, whole)
      }
      case 'batch':
        // Only a peer that both ends agreed with may send one (the handshake's features).
        if (!this.#batching) {
          throw new OckamError('OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED', 'a batch on a channel without batching')
        }
        this.#router.counters.inc(METRICS.batchesReceived)
        return this.#deliverInOrder(plaintext.messages)
      case 'credentials':
        return this.#onRefresh(plaintext.credentials)
      case 'close':
        this.close(plaintext.reason, {
          by: 'peer',
          notify: false,
          error: new OckamError('OCKAM_ERR_SECURE_CHANNEL_CLOSED', `the peer closed the channel (${plaintext.reason})`),
        })
        return
    }
  }

  /**
   * A batch's messages, each handed on once the one before is (a full mailbox keeps their order).
   * Once this end closed the channel (a revoked or refused peer, a local close) the rest are
   * dropped, as frames still waiting in the decryptor's mailbox are: nothing of the peer comes
   * out of a closed channel.
   */
  async #deliverInOrder(messages: readonly BatchedMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i++) {
      if (this.#isClosed()) {
        this.#router.counters.inc(METRICS.messagesUndeliverable, messages.length - i)
        return
      }
      const message = messages[i] as BatchedMessage
      await this.#deliver(message.onward, message.return, message.payload)
    }
  }

  #deliver(onward: Route, ret: Route, payload: Uint8Array, sealed = false): Promise<void> | undefined {
    const counters = this.#router.counters
    if (onward.length === 0 || ret.length + 1 > DEFAULT_MAX_ROUTE_HOPS) {
      counters.inc(METRICS.messagesUndeliverable)
      return undefined
    }
    return this.#router
      .send({
        onward,
        return: [this.encryptorAddress, ...ret],
        payload,
        local: sealed
          ? { ingress: this.#peerCredentials!.ingress, sealed, passedThrough: true }
          : { ingress: this.#peerCredentials!.ingress },
      })
      .then(
        () => counters.inc(METRICS.messagesDelivered),
        (error: unknown) => {
          // The router counted and logged the refusal (no worker, access denied); the channel goes on.
          counters.inc(METRICS.messagesUndeliverable)
          if (!isOckamError(error)) throw error
        },
      )
  }

  /** A refresh must name this peer and come from a trusted authority, every credential of it. */
  async #onRefresh(presentations: readonly Uint8Array[]): Promise<void> {
    const counters = this.#router.counters
    const peer = this.#peer!
    const check = await verifyCredentials(
      this.#verifierHost(),
      this.#options.identity,
      peer,
      presentations,
      this.#options.now(),
    )
    if (this.#isClosed()) return
    if (check.refused.length > 0) {
      counters.inc(METRICS.refreshRefused)
      const error = refreshRefused(check)
      channelLog(this.#router).warn(`refresh:${error.code}`, { code: error.code, peer: peer.identifier }, error.message)
      return
    }
    counters.inc(METRICS.refreshAccepted)
    this.#peerCredentials!.set(check.credentials)
    this.#recheckPolicy('refused')
    this.#announce('refreshed')
  }

  /** Tells the node's listeners (portal ends re-checking their policy) that the peer's credentials changed. */
  #announce(cause: PeerCredentialsChange['cause']): void {
    if (this.#phase !== 'open' || this.#peer === undefined) return
    peerCredentialsChanged(this.#router, {
      channel: this.encryptorAddress.value,
      identifier: this.#peer.identifier,
      cause,
    })
  }

  get channelName(): string {
    return this.encryptorAddress.value
  }

  peerIngress(): Ingress | undefined {
    return this.#phase === 'open' ? this.#peerCredentials?.ingress : undefined
  }

  /** After an expiry or a refresh: a peer the trust policy no longer admits loses the channel. */
  #recheckPolicy(reason: CloseReason): void {
    if (this.#phase !== 'open' || this.#peer === undefined) return
    const decision = this.#decide('complete')
    if (!decision.allowed) {
      this.close(reason, { by: 'local', notify: true, error: this.#refusal(decision.reason) })
    }
  }

  /** Its frames travel inside another channel or through a relay: nothing but TCP under it. */
  get nested(): boolean {
    if (this.role === 'initiator') return this.#initialHop !== undefined && this.#initialHop.type !== TCP
    const ingress = this.#frameMetadata.ingress
    return ingress.kind === 'channel' || ingress.kind === 'relay'
  }

  shutdown(): Promise<void> {
    return this.close('shutdown', { by: 'local', notify: true })
  }

  /**
   * Closes this channel (with a sealed close, reason `refused`) if its peer, known or still
   * handshaking, is `identifier`. For revocation: the handshake check refuses the later ones.
   */
  refusePeer(identifier: string, error: OckamError): boolean {
    if (this.#isClosed() || this.#peer?.identifier !== identifier) return false
    if (this.#phase === 'open') void this.close('refused', { by: 'local', notify: true, error })
    else this.#fail(error)
    return true
  }

  /** Sends this side's credentials again (automatic at half-life, or on demand). */
  async refreshCredentials(credentials?: readonly Uint8Array[]): Promise<void> {
    const frames = this.#frames
    if (this.#phase !== 'open' || frames === undefined) {
      throw new OckamError('OCKAM_ERR_SECURE_CHANNEL_CLOSED', 'the secure channel is not open')
    }
    const own = credentials ?? (await this.#ownCredentials())
    await frames.enqueue([encodeCredentialsPlaintext(own)])
    this.#router.counters.inc(METRICS.refreshSent)
    this.#refresh.presented(own)
  }

  async #autoRefresh(): Promise<void> {
    if (this.#phase !== 'open') return
    try {
      const own = await this.#ownCredentials()
      if (this.#refresh.isUnchanged(own)) this.#refresh.presented(own)
      else await this.refreshCredentials(own)
    } catch (error) {
      channelLog(this.#router).warn('refresh-failed', { err: error }, 'automatic credential refresh failed')
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Closing

  /**
   * Closes this end: no more deliveries, the handshake (if any) aborted in the vault, the
   * workers stopped, and, when `notify`, a sealed close queued after what was already sent.
   * Idempotent; resolves once the close frame was handed to the path (or could not be).
   */
  close(reason: CloseReason, options: CloseOptions): Promise<void> {
    if (this.#isClosed()) return this.#frames?.finish() ?? Promise.resolve()
    const wasOpen = this.#phase === 'open'
    this.#phase = 'closed'
    clearTimeout(this.#handshakeTimer)
    this.#refresh.dispose()
    this.#peerCredentials?.dispose()
    const id = this.#vaultHandshake
    this.#vaultHandshake = undefined
    if (id !== undefined) void this.#vault(() => this.#options.identity.vault.handshakeAbort(id)).catch(() => {})
    this.#receiver?.destroy()
    this.#receiver = undefined
    this.#reassembly = undefined
    const finished =
      this.#frames?.finish(options.notify ? encodeClosePlaintext(reason) : undefined) ?? Promise.resolve()
    const counters = this.#router.counters
    if (wasOpen) {
      counters.inc(METRICS.channelsClosed)
      adjustGauge(counters, METRICS.channelsOpen, -1)
    } else {
      this.#endHandshake(false)
      this.#opened.reject(
        options.error ??
          new OckamError('OCKAM_ERR_SECURE_CHANNEL_CLOSED', `the channel closed during its handshake (${reason})`),
      )
    }
    unregisterChannel(this.#router, this)
    // Not awaited: this may run inside one of the two workers' own handlers.
    void this.#router.stopWorker(this.encryptorAddress)
    void this.#router.stopWorker(this.decryptorAddress)
    this.#closed.resolve({ reason, by: options.by, ...(options.error === undefined ? {} : { error: options.error }) })
    return finished
  }

  /** The public handle, once the peer is known. */
  handle(): SecureChannel {
    if (this.#handle !== undefined) return this.#handle
    const session = this
    const peer = this.#peer!
    const credentials = this.#peerCredentials!
    this.#handle = {
      address: this.encryptorAddress,
      decryptorAddress: this.decryptorAddress,
      role: this.role,
      peerIdentifier: peer.identifier,
      peer,
      get attributes() {
        return credentials.attributes
      },
      handshakeHash: this.#handshakeHash,
      get isOpen() {
        return session.#phase === 'open'
      },
      closed: this.#closed.promise,
      refreshCredentials: (own) => this.refreshCredentials(own),
      close: () => this.close('normal', { by: 'local', notify: true }),
    }
    return this.#handle
  }

  #verifierHost() {
    return { pool: this.#options.pool, counters: this.#router.counters }
  }

  #vault<T>(call: () => Promise<T>): Promise<T> {
    this.#router.counters.inc(METRICS.vaultCalls)
    return call()
  }
}

/**
 * An exact-size copy. A payload from a TCP read is a view into the whole read buffer, and
 * structured cloning a view (to the vault thread) copies its entire underlying buffer: tens of
 * KiB per handshake message, and bytes that belong to other messages.
 */
function exact(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes)
}

let provider: CryptoProvider | undefined
/** Bulk AEAD runs inline on the event loop with the native provider (DESIGN §4). */
function transportProvider(): CryptoProvider {
  provider ??= createCryptoProvider('native')
  return provider
}
