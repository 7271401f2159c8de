/**
 * The vault's thread: opens its own connection to the state database and serves the vault
 * operations to the main thread through thread-service. Secrets are decrypted and used only
 * here. New operations need no change in this file: they are methods of the service.
 */
import { exposeThreadService } from '../../threads/expose-thread-service.js'
import type { PassphraseEnv } from './passphrase.js'
import { openVaultService, type ScryptCost, type VaultService } from './vault-service.js'

/** What createVault() sends to the thread (structured-cloned). */
export interface VaultThreadInit {
  readonly stateDir: string
  readonly passphrase?: string
  readonly env: PassphraseEnv
  readonly kdf?: ScryptCost
}

exposeThreadService<VaultService>((init) => openVaultService(init as VaultThreadInit))
