/**
 * The task module of the node's CPU pool: pure functions of plain data, so the same code runs
 * on a piscina thread or inline. Batches, not single operations: a pool round trip costs about
 * 30 µs of main-thread CPU here, several Ed25519 verifications' worth (DESIGN §4).
 */
import { OckamError } from '../../runtime/errors.js'
import type { TaskOutcome } from '../../runtime/pool/task-pool.js'
import { createCryptoProvider } from '../../runtime/trust/crypto/index.js'
import { type VerifyItem, verifyBatch } from '../../runtime/trust/verify-batch.js'

export const DEFAULT_MAX_BATCH = 4096

export interface Ed25519VerifyItem {
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
}

export type CryptoTask =
  | { kind: 'ed25519-verify-batch'; items: Ed25519VerifyItem[] }
  /** Identity histories, purpose-key attestations, credentials, whole handshake peers. */
  | { kind: 'trust-verify-batch'; items: VerifyItem[] }

const provider = createCryptoProvider('native')

function run(task: CryptoTask): unknown {
  switch (task.kind) {
    case 'ed25519-verify-batch': {
      if (!Array.isArray(task.items) || task.items.length > DEFAULT_MAX_BATCH) {
        throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `a verify batch holds 0 to ${DEFAULT_MAX_BATCH} items`)
      }
      return task.items.map((item) => provider.ed25519Verify(item.publicKey, item.message, item.signature))
    }
    case 'trust-verify-batch':
      // verifyBatch bounds the batch itself and returns one outcome per item, never throwing.
      return verifyBatch(task.items, provider)
    default:
      throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `unknown task kind ${(task as { kind: unknown }).kind}`)
  }
}

export default function handle(task: CryptoTask): TaskOutcome<unknown> {
  try {
    return { ok: true, value: run(task) }
  } catch (error) {
    const serialized =
      error instanceof OckamError
        ? error.toJSON()
        : new OckamError('OCKAM_ERR_POOL_TASK_FAILED', String((error as Error)?.message ?? error)).toJSON()
    return { ok: false, error: serialized }
  }
}

/** Where the pool loads this module from (compiled .js beside this file). */
export const CRYPTO_TASK_MODULE = new URL(import.meta.url)
