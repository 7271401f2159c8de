import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { openStateStore, type StateStore } from '../../../runtime/state/store.js'

/** A fresh, migrated state store in a temp folder removed after the test. */
export function scratchStore(t: TestContext): StateStore {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-repo-'))
  const store = openStateStore({ dir: join(dir, 'home') })
  t.after(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return store
}

/** A vault_keys row (what foreign keys point at), with a random handle; returns the handle. */
export function fakeVaultKey(store: StateStore, type: 'ed25519' | 'x25519' = 'ed25519'): string {
  const handle = `vk_${randomBytes(16).toString('hex')}`
  store.db
    .prepare('INSERT INTO vault_keys (handle, type, public_key, secret, created_at) VALUES (?, ?, ?, ?, 0)')
    .run(handle, type, randomBytes(32), randomBytes(32))
  return handle
}

/** A syntactically valid identifier (nothing verifies it at the repository level). */
export function fakeIdentifier(): string {
  return `I${randomBytes(32).toString('hex')}`
}
