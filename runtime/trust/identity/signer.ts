/**
 * What the identity and credential libraries need from a vault: signatures by key handle. The
 * secret key never enters these libraries (DESIGN §4: secret-key work runs in the vault's thread).
 */
export interface Signer {
  /** Ed25519 signature of `data` by the key behind `keyHandle`. */
  sign(keyHandle: string, data: Uint8Array): Promise<Uint8Array>
  /** The raw 32-byte Ed25519 public key behind `keyHandle`. */
  publicKey(keyHandle: string): Promise<Uint8Array>
}
