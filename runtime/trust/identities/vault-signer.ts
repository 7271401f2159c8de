/**
 * The vault, seen as the identity library's Signer: the secret keys stay in the vault (its
 * thread in a node, inline in a short-lived CLI process); this only forwards handles and bytes.
 */
import type { Signer } from '../identity/signer.js'
import type { Vault } from '../vault/types.js'

/** The part of a vault the identities service uses. */
export type IdentityVault = Pick<Vault, 'generateKey' | 'publicKey' | 'sign' | 'deleteKey'>

export function vaultSigner(vault: Pick<Vault, 'publicKey' | 'sign'>): Signer {
  return {
    sign: (keyHandle, data) => vault.sign(keyHandle, data),
    publicKey: (keyHandle) => vault.publicKey(keyHandle),
  }
}
