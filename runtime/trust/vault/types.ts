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
