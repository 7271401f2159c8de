/** Vault keys: Ed25519 for signing (identity, credential keys), X25519 for Noise static keys. */
export type VaultKeyType = 'ed25519' | 'x25519'

export const VAULT_KEY_TYPES: readonly VaultKeyType[] = ['ed25519', 'x25519']

/** What the vault tells about a key; never its secret. */
export interface VaultKeyInfo {
  /** Random id (`vk_` + 32 hex digits) naming the key in every vault call. */
  readonly handle: string
  readonly type: VaultKeyType
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array
  /** Unix time in ms. */
  readonly createdAt: number
}

/** Which side of a Noise handshake the vault plays. */
export type VaultHandshakeRole = 'initiator' | 'responder'

/** A handshake message read inside the vault: its decrypted payload, and the peer's static key once known. */
export interface VaultHandshakeMessage {
  readonly payload: Uint8Array
  /** The peer's X25519 static public key, as the handshake authenticated it (initiator: from message 2). */
  readonly remoteStaticPublicKey?: Uint8Array
}

/**
 * What leaves the vault when a handshake ends: the transport keys (bulk AEAD runs on the event
 * loop, DESIGN §4), the handshake hash and the peer's static key. No static or ephemeral secret.
 */
export interface VaultHandshakeKeys {
  readonly sendKey: Uint8Array
  readonly receiveKey: Uint8Array
  readonly handshakeHash: Uint8Array
  readonly remoteStaticPublicKey: Uint8Array
}

/** A handshake started together with its first message written (one thread round trip). */
export interface VaultHandshakeStarted {
  readonly id: string
  readonly message: Uint8Array
}

/** A responder's first step: message 1 read (its payload returned) and message 2 written. */
export interface VaultHandshakeResponse {
  readonly id: string
  /** Message 1's payload, for the caller to check before sending message 2. */
  readonly payload: Uint8Array
  readonly message: Uint8Array
}

/** The last message written (`message`: message 3) or read (`message`: its payload), and the keys. */
export interface VaultHandshakeFinal {
  readonly message: Uint8Array
  readonly keys: VaultHandshakeKeys
}

/**
 * The operations of a vault, synchronous, as the vault's own thread (or an inline vault) runs
 * them. Every method takes and returns structured-cloneable values only, because in thread mode
 * each call crosses a thread boundary. To add an operation (for example a whole Noise handshake
 * step that needs a static key), add it here, implement it in vault-service.ts with
 * `withSecret`, and list it in VAULT_OPERATIONS: both modes then expose it.
 */
export interface VaultOperations {
  generateKey(type: VaultKeyType): VaultKeyInfo
  keyInfo(handle: string): VaultKeyInfo
  listKeys(): VaultKeyInfo[]
  publicKey(handle: string): Uint8Array
  /** Ed25519 signature (64 bytes) of `data` with the key's secret. */
  sign(handle: string, data: Uint8Array): Uint8Array
  /** X25519(secret, peerPublicKey); OCKAM_ERR_CRYPTO_DH_FAILED for a small-order peer key. */
  dh(handle: string, peerPublicKey: Uint8Array): Uint8Array
  /** Deletes the key; false when there was no such key. */
  deleteKey(handle: string): boolean
  /**
   * Starts a Noise XX handshake whose static key is the X25519 key behind `staticKeyHandle` and
   * returns its id. `protocolName` is a full Noise protocol name (see noiseSuiteByName). At most
   * DEFAULT_VAULT_MAX_HANDSHAKES run at once (OCKAM_ERR_VAULT_TOO_MANY_HANDSHAKES beyond); each
   * lives at most DEFAULT_VAULT_HANDSHAKE_TTL_MS.
   */
  handshakeStart(staticKeyHandle: string, role: VaultHandshakeRole, protocolName: string, prologue: Uint8Array): string
  /** Writes the next handshake message around `payload` (sealed once the handshake has a key). */
  handshakeWrite(id: string, payload: Uint8Array): Uint8Array
  /** Reads the next handshake message; a message that fails ends the handshake. */
  handshakeRead(id: string, message: Uint8Array): VaultHandshakeMessage
  /** After the three messages: the transport keys. The handshake is then forgotten and its secrets wiped. */
  handshakeSplit(id: string): VaultHandshakeKeys
  /** Forgets a handshake and wipes its secrets; false when there was none with that id. */
  handshakeAbort(id: string): boolean
  /** Handshakes in progress (a gauge: lets tests see that none leaked). */
  handshakeCount(): number
  /**
   * Whole steps, one thread round trip each (a handshake is 3 calls for the initiator, 2 for the
   * responder, instead of 5 each). A failure in any part ends the handshake.
   * Initiator: start + write message 1 around `payload`.
   */
  handshakeInitiate(
    staticKeyHandle: string,
    protocolName: string,
    prologue: Uint8Array,
    payload: Uint8Array,
  ): VaultHandshakeStarted
  /** Responder: start + read message 1 + write message 2 around `payload2`. */
  handshakeRespond(
    staticKeyHandle: string,
    protocolName: string,
    prologue: Uint8Array,
    message1: Uint8Array,
    payload2: Uint8Array,
  ): VaultHandshakeResponse
  /** Initiator: write message 3 around `payload`, then split. */
  handshakeWriteFinal(id: string, payload: Uint8Array): VaultHandshakeFinal
  /** Responder: read message 3, then split; `message` in the result is its payload. */
  handshakeReadFinal(id: string, message: Uint8Array): VaultHandshakeFinal
}

/** The names of VaultOperations, at run time: the inline and thread vaults are built from this list. */
export const VAULT_OPERATIONS = [
  'generateKey',
  'keyInfo',
  'listKeys',
  'publicKey',
  'sign',
  'dh',
  'deleteKey',
  'handshakeStart',
  'handshakeWrite',
  'handshakeRead',
  'handshakeSplit',
  'handshakeAbort',
  'handshakeCount',
  'handshakeInitiate',
  'handshakeRespond',
  'handshakeWriteFinal',
  'handshakeReadFinal',
] as const satisfies readonly (keyof VaultOperations)[]

type Async<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never
}

/** The vault as the rest of the runtime sees it, the same in both modes. */
export interface Vault extends Async<VaultOperations> {
  readonly mode: 'inline' | 'thread'
  /** Calls that crossed into the vault's thread (0 inline): lets tests see the thread is used. */
  readonly threadCalls: number
  /** Closes the database (and ends the thread); later calls reject with OCKAM_ERR_STOPPED. */
  close(): Promise<void>
}

// Compile-time check that VAULT_OPERATIONS lists every operation.
type Unlisted = Exclude<keyof VaultOperations, (typeof VAULT_OPERATIONS)[number]>
export type AllVaultOperationsListed = [Unlisted] extends [never] ? true : Unlisted
export const allVaultOperationsListed: AllVaultOperationsListed = true

/** The vault operations a secure channel runs its handshake with (DESIGN §4: the whole handshake step). */
export type HandshakeVault = Pick<
  Vault,
  | 'handshakeInitiate'
  | 'handshakeRespond'
  | 'handshakeRead'
  | 'handshakeWriteFinal'
  | 'handshakeReadFinal'
  | 'handshakeAbort'
>
