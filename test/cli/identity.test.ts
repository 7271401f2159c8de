/** `identity …` end to end, in a temporary OCKAM_RUNTIME_HOME. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { createNativeCryptoProvider } from '../../runtime/trust/crypto/native.js'
import { importIdentity } from '../../runtime/trust/identity/text.js'
import { nowSeconds } from '../../runtime/trust/identity/validity.js'
import { assertFails, scratchHome } from './trust-helpers.js'

const crypto = createNativeCryptoProvider()

interface IdentityJson {
  name: string
  identifier: string
  isDefault: boolean
  changes: number
  primaryPublicKey: string
  exported?: string
  history?: unknown[]
}

describe('identity commands', { concurrency: true }, () => {
  it('identity create, list, show, default and rotate, in text and JSON', async (t) => {
    const home = scratchHome(t)
    const empty = await home.run(['identity', 'list'])
    assert.equal(empty.code, 0)
    assert.equal(empty.stdout, '', 'no data: an empty list')
    assert.match(empty.stderr, /identity create/)

    const first = await home.ok(['identity', 'create'])
    assert.match(first, /^I[0-9a-f]{64}$/)
    const alice = await home.json<IdentityJson>(['identity', 'create', 'alice'])
    assert.deepEqual([alice.name, alice.isDefault, alice.changes], ['alice', false, 1])

    const listed = await home.ok(['identity', 'list'])
    assert.deepEqual(listed.split('\n'), [
      `*  default  ${first}  1 change`,
      `   alice    ${alice.identifier}  1 change`,
    ])
    assert.equal(await home.ok(['identity', 'show']), first, 'show without a name shows the default')

    const exported = await home.ok(['identity', 'show', 'alice', '--full'])
    assert.match(exported, /^ockam-identity-v1:[A-Za-z0-9_-]+$/)
    assert.equal(importIdentity(exported, { now: nowSeconds() }, crypto).identifier, alice.identifier)

    assert.equal(await home.ok(['identity', 'default', 'alice']), `alice ${alice.identifier}`)
    assert.equal((await home.json<IdentityJson>(['identity', 'default'])).name, 'alice')

    const rotated = await home.json<IdentityJson>(['identity', 'rotate'])
    assert.equal(rotated.identifier, alice.identifier, 'rotation keeps the identifier')
    assert.equal(rotated.changes, 2)
    assert.notEqual(rotated.primaryPublicKey, alice.primaryPublicKey)
    const full = await home.json<IdentityJson>(['identity', 'show', 'alice', '--full'])
    assert.equal(full.history?.length, 2)
    const reimported = importIdentity(full.exported as string, { now: nowSeconds() }, crypto)
    assert.equal(reimported.identifier, alice.identifier)
    assert.equal(reimported.changes.length, 2)
  })

  it('identity errors are one line with a code, change nothing, and usage errors exit 2', async (t) => {
    const home = scratchHome(t)
    await home.ok(['identity', 'create', 'alice'])
    assertFails(await home.run(['identity', 'create', 'alice']), 'OCKAM_ERR_IDENTITY_NAME_TAKEN')
    assertFails(await home.run(['identity', 'create', 'bad name']), 'OCKAM_ERR_IDENTITY_NAME_INVALID')
    assertFails(await home.run(['identity', 'show', 'nobody']), 'OCKAM_ERR_IDENTITY_NOT_FOUND')
    const json = await home.run(['--output', 'json', 'identity', 'rotate', 'nobody'])
    assert.equal(json.code, 1)
    assert.equal(JSON.parse(json.stderr).error.code, 'OCKAM_ERR_IDENTITY_NOT_FOUND')
    const usage = await home.run(['identity', 'show', 'a', 'b'])
    assert.equal(usage.code, 2)
    assert.deepEqual(
      (await home.json<IdentityJson[]>(['identity', 'list'])).map((identity) => identity.name),
      ['alice'],
    )
  })

  it('a passphrase-protected vault: the right passphrase works, a wrong or missing one is one typed line and changes nothing', async (t) => {
    const home = scratchHome(t)
    const right = { OCKAM_RUNTIME_VAULT_PASSPHRASE: 'correct horse battery staple' }
    const wrong = { OCKAM_RUNTIME_VAULT_PASSPHRASE: 'Tr0ub4dor&3' }
    const created = await home.ok(['identity', 'create', 'alice'], right)
    const snapshot = () => {
      const db = new Database(join(home.dir, 'state.sqlite3'), { readonly: true })
      try {
        return {
          keys: db.prepare('SELECT handle FROM vault_keys ORDER BY handle').pluck().all(),
          identities: db.prepare('SELECT name, history, key_handle FROM identities ORDER BY name').all(),
        }
      } finally {
        db.close()
      }
    }
    const before = snapshot()

    assertFails(await home.run(['identity', 'create', 'bob'], wrong), 'OCKAM_ERR_VAULT_PASSPHRASE_WRONG')
    assertFails(await home.run(['identity', 'rotate', 'alice'], wrong), 'OCKAM_ERR_VAULT_PASSPHRASE_WRONG')
    assertFails(await home.run(['identity', 'rotate', 'alice']), 'OCKAM_ERR_VAULT_PASSPHRASE_REQUIRED')
    assert.deepEqual(snapshot(), before, 'nothing changed')

    // Reading public data needs no passphrase; using a key needs the right one.
    assert.equal(await home.ok(['identity', 'show', 'alice']), created)
    const rotated = await home.json<IdentityJson>(['identity', 'rotate', 'alice'], right)
    assert.deepEqual([rotated.identifier, rotated.changes], [created, 2])
  })
})
