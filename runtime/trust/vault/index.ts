export * from './constants.js'
export { type CreateVaultOptions, createVault, type VaultMode } from './create-vault.js'
export { type PassphraseEnv, resolvePassphrase } from './passphrase.js'
export {
  VAULT_KEY_TYPES,
  VAULT_OPERATIONS,
  type Vault,
  type VaultHandshakeFinal,
  type VaultHandshakeKeys,
  type VaultHandshakeMessage,
  type VaultHandshakeResponse,
  type VaultHandshakeRole,
  type VaultHandshakeStarted,
  type VaultKeyInfo,
  type VaultKeyType,
  type VaultOperations,
} from './types.js'
export { openVaultService, type ScryptCost, type VaultService, type VaultServiceOptions } from './vault-service.js'
