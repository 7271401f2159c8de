import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { createNativeCryptoProvider } from '../../../runtime/trust/crypto/native.js'
import type { CryptoProvider, KeyPair } from '../../../runtime/trust/crypto/provider.js'

/** A fresh state folder path (not yet created) under a temp dir removed after the test. */
export function scratchStateDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-vault-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'home')
}

/**
 * The native provider, plus a copy of every secret key it generates. This is how the tests get
 * the raw secret to search the database files for, without any export path in the vault: the
 * vault takes its CryptoProvider as a dependency, and this one is injected only by tests.
 */
export function recordingProvider(): { provider: CryptoProvider; secrets: Uint8Array[] } {
  const native = createNativeCryptoProvider()
  const secrets: Uint8Array[] = []
  const record = (pair: KeyPair): KeyPair => {
    secrets.push(new Uint8Array(pair.secretKey))
    return pair
  }
  return {
    secrets,
    provider: {
      ...native,
      ed25519GenerateKeyPair: () => record(native.ed25519GenerateKeyPair()),
      x25519GenerateKeyPair: () => record(native.x25519GenerateKeyPair()),
    },
  }
}

/** Cheap scrypt for tests that only exercise the logic around it (the default is ~90 ms). */
export const FAST_KDF = { log2N: 10, r: 8, p: 1 } as const
