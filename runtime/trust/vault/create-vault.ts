/**
 * One entry point for both ways of running the vault, with the same async interface:
 * - 'thread' (nodes): the vault runs on its own worker thread with its own database connection,
 *   so secrets never enter the main thread and a burst of signatures never stalls the loop;
 * - 'inline' (short-lived CLI processes): no thread start-up cost.
 */
import { OckamError, throwIfAborted } from '../../errors.js'
import { ensureStateDir } from '../../state/state-dir.js'
import { startThreadService } from '../../threads/thread-service.js'
import type { CryptoProvider } from '../crypto/provider.js'
import { type PassphraseEnv, passphraseEnv } from './passphrase.js'
import { VAULT_OPERATIONS, type Vault } from './types.js'
import { openVaultService, type ScryptCost, type VaultService } from './vault-service.js'
import type { VaultThreadInit } from './vault-thread.js'

export type VaultMode = 'inline' | 'thread'

export interface CreateVaultOptions {
  readonly mode: VaultMode
  /** The state folder (see resolveStateDir()); created 0700 if missing. */
  readonly stateDir: string
  /** Wins over OCKAM_RUNTIME_VAULT_PASSPHRASE and OCKAM_RUNTIME_VAULT_PASSPHRASE_FILE. */
  readonly passphrase?: string
  /** Where the passphrase variables are looked up; default process.env. */
  readonly env?: PassphraseEnv
  /** Inline mode only (an object cannot cross threads); the thread uses the native provider. */
  readonly provider?: CryptoProvider
  /** scrypt cost for a vault created now; default DEFAULT_SCRYPT_*. */
  readonly kdf?: ScryptCost
  readonly signal?: AbortSignal
}

type AnyOperation = (...args: never[]) => unknown

export async function createVault(options: CreateVaultOptions): Promise<Vault> {
  throwIfAborted(options.signal, 'opening the vault')
  // Created here, in the main thread, where the 0077 umask can be applied (not in a worker).
  const stateDir = ensureStateDir(options.stateDir)
  if (options.mode === 'inline') return createInlineVault(options, stateDir)
  if (options.mode === 'thread') return createThreadVault(options, stateDir)
  throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `unknown vault mode ${String(options.mode)}`, {
    hint: "use 'inline' or 'thread'",
  })
}

async function createInlineVault(options: CreateVaultOptions, stateDir: string): Promise<Vault> {
  const service = await openVaultService({
    stateDir,
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.provider === undefined ? {} : { provider: options.provider }),
    ...(options.kdf === undefined ? {} : { kdf: options.kdf }),
  })
  const operations: Record<string, (...args: unknown[]) => Promise<unknown>> = {}
  for (const name of VAULT_OPERATIONS) {
    const operation = service[name] as AnyOperation as (...args: unknown[]) => unknown
    // async: a synchronous throw becomes a rejection, as in thread mode.
    operations[name] = async (...args) => operation(...args)
  }
  return {
    ...(operations as unknown as Omit<Vault, 'mode' | 'threadCalls' | 'close'>),
    mode: 'inline',
    threadCalls: 0,
    close: async () => service.close(),
  }
}

async function createThreadVault(options: CreateVaultOptions, stateDir: string): Promise<Vault> {
  if (options.provider !== undefined) {
    throw new OckamError(
      'OCKAM_ERR_INVALID_ARGUMENT',
      'a crypto provider object cannot be passed to the vault thread',
      {
        hint: "drop the provider option (the thread uses the native provider), or use mode 'inline'",
      },
    )
  }
  const init: VaultThreadInit = {
    stateDir,
    env: passphraseEnv(options.env ?? process.env),
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    ...(options.kdf === undefined ? {} : { kdf: options.kdf }),
  }
  const thread = await startThreadService<VaultService>(new URL('./vault-thread.js', import.meta.url), init, {
    name: 'vault',
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
  const operations: Record<string, unknown> = {}
  for (const name of VAULT_OPERATIONS) operations[name] = thread.api[name]
  return {
    ...(operations as unknown as Omit<Vault, 'mode' | 'threadCalls' | 'close'>),
    mode: 'thread',
    get threadCalls() {
      return thread.calls
    },
    close: () => thread.stop(),
  }
}
