/** The public shapes of the secure-channel API (see index.ts). */
import type { Address } from '../../runtime/address.js'
import type { OckamError } from '../../runtime/errors.js'
import type { TaskPool } from '../../runtime/pool/task-pool.js'
import type { Router } from '../../runtime/router.js'
import type { VerifiedIdentity } from '../../runtime/trust/identity/types.js'
import type { CloseReason } from './plaintext.js'

/** What a channel runs on: a node (`OckamNode` fits) or a worker's router plus the node's pool. */
export interface SecureChannelHost {
  readonly router: Router
  /** The node's CPU pool; verification runs inline without one. */
  readonly pool?: TaskPool | undefined
}

export type SecureChannelRole = 'initiator' | 'responder'

export interface SecureChannelClosed {
  readonly reason: CloseReason
  /** Who closed it: this side, or the peer with a close message. */
  readonly by: 'local' | 'peer'
  readonly error?: OckamError
}

/** One end of an open channel. */
export interface SecureChannel {
  /**
   * The encryptor: send a message along `[address, ...route beyond the peer]` and it comes out of
   * the peer's decryptor with that route, its return route going back through this channel.
   */
  readonly address: Address
  /** Where the peer's frames arrive (the address the peer's encryptor sends to). */
  readonly decryptorAddress: Address
  readonly role: SecureChannelRole
  readonly peerIdentifier: string
  readonly peer: VerifiedIdentity
  /** The peer's attributes from its currently valid credentials (trusted authorities only). */
  readonly attributes: Readonly<Record<string, string>>
  /** Noise h at the end of the handshake: equal on both ends, unique to this channel. */
  readonly handshakeHash: Uint8Array
  readonly isOpen: boolean
  /** Resolves once the channel is closed, either way. */
  readonly closed: Promise<SecureChannelClosed>
  /** Sends this side's current credentials (default: the identity material's) to the peer. */
  refreshCredentials(credentials?: readonly Uint8Array[]): Promise<void>
  /** Sends a close message to the peer and closes both halves here. */
  close(): Promise<void>
}

/** What `listSecureChannels` shows about each channel of a node. */
export interface SecureChannelInfo {
  readonly address: string
  readonly decryptorAddress: string
  readonly role: SecureChannelRole
  readonly state: 'handshake' | 'confirming' | 'open' | 'closed'
  readonly peerIdentifier?: string
  readonly attributes?: Readonly<Record<string, string>>
}
