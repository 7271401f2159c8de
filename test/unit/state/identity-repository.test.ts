import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createIdentityRepository } from '../../../runtime/state/identity-repository.js'
import { constraintKind } from '../../../runtime/state/sqlite.js'
import { fakeIdentifier, fakeVaultKey, scratchStore } from './helpers.js'

test('the first identity becomes the default, later ones do not; rows read back as written', (t) => {
  const store = scratchStore(t)
  const repo = createIdentityRepository(store.db)
  assert.equal(repo.getDefault(), undefined)
  const first = repo.insert({
    name: 'a',
    identifier: fakeIdentifier(),
    history: new Uint8Array([1, 2, 3]),
    keyHandle: fakeVaultKey(store),
    createdAt: 1000,
  })
  const second = repo.insert({
    name: 'b',
    identifier: fakeIdentifier(),
    history: new Uint8Array([4]),
    keyHandle: fakeVaultKey(store),
    createdAt: 2000,
  })
  assert.equal(first.isDefault, true)
  assert.equal(second.isDefault, false)
  assert.deepEqual(repo.get('a'), first)
  assert.deepEqual(repo.getByIdentifier(second.identifier), second)
  assert.deepEqual(repo.getDefault(), first)
  assert.deepEqual(
    repo.list().map((row) => row.name),
    ['a', 'b'],
  )
  assert.equal(repo.get('missing'), undefined)
})

test('setDefault moves the single default; an unknown name changes nothing', (t) => {
  const store = scratchStore(t)
  const repo = createIdentityRepository(store.db)
  for (const name of ['a', 'b', 'c']) {
    repo.insert({
      name,
      identifier: fakeIdentifier(),
      history: new Uint8Array([1]),
      keyHandle: fakeVaultKey(store),
      createdAt: 1,
    })
  }
  assert.equal(repo.setDefault('c'), true)
  assert.equal(repo.getDefault()?.name, 'c')
  assert.equal(repo.setDefault('nobody'), false)
  assert.deepEqual(
    repo
      .list()
      .filter((row) => row.isDefault)
      .map((row) => row.name),
    ['c'],
  )
  // The partial unique index holds even against a direct write.
  assert.throws(
    () => store.db.prepare("UPDATE identities SET is_default = 1 WHERE name = 'a'").run(),
    (error: unknown) => constraintKind(error) === 'unique',
  )
})

test('a taken name or identifier, an unknown key handle and a malformed identifier are refused', (t) => {
  const store = scratchStore(t)
  const repo = createIdentityRepository(store.db)
  const identifier = fakeIdentifier()
  repo.insert({ name: 'a', identifier, history: new Uint8Array([1]), keyHandle: fakeVaultKey(store), createdAt: 1 })
  const cases: Array<[Parameters<typeof repo.insert>[0], string]> = [
    [
      {
        name: 'a',
        identifier: fakeIdentifier(),
        history: new Uint8Array([1]),
        keyHandle: fakeVaultKey(store),
        createdAt: 1,
      },
      'primary-key',
    ],
    [{ name: 'b', identifier, history: new Uint8Array([1]), keyHandle: fakeVaultKey(store), createdAt: 1 }, 'unique'],
    [
      { name: 'c', identifier: fakeIdentifier(), history: new Uint8Array([1]), keyHandle: 'vk_nope', createdAt: 1 },
      'foreign-key',
    ],
    [
      { name: 'd', identifier: 'Ixyz', history: new Uint8Array([1]), keyHandle: fakeVaultKey(store), createdAt: 1 },
      'check',
    ],
    [
      {
        name: 'e',
        identifier: fakeIdentifier(),
        history: new Uint8Array(0),
        keyHandle: fakeVaultKey(store),
        createdAt: 1,
      },
      'check',
    ],
  ]
  for (const [row, kind] of cases) {
    assert.throws(
      () => repo.insert(row),
      (error: unknown) => constraintKind(error) === kind,
      `${row.name}: ${kind}`,
    )
  }
  assert.equal(repo.list().length, 1, 'a refused insert leaves nothing behind')
})

test('replaceHistory is a compare-and-swap on the stored history; the vault key of an identity cannot be deleted', (t) => {
  const store = scratchStore(t)
  const repo = createIdentityRepository(store.db)
  const oldKey = fakeVaultKey(store)
  const newKey = fakeVaultKey(store)
  repo.insert({
    name: 'a',
    identifier: fakeIdentifier(),
    history: new Uint8Array([1]),
    keyHandle: oldKey,
    createdAt: 1,
  })
  assert.equal(repo.replaceHistory('a', new Uint8Array([9]), new Uint8Array([1, 2]), newKey, 5), false)
  assert.deepEqual(repo.get('a')?.history, new Uint8Array([1]))
  assert.equal(repo.replaceHistory('a', new Uint8Array([1]), new Uint8Array([1, 2]), newKey, 5), true)
  const row = repo.get('a')
  assert.deepEqual(
    [row?.history, row?.keyHandle, row?.updatedAt, row?.createdAt],
    [new Uint8Array([1, 2]), newKey, 5, 1],
  )
  assert.throws(
    () => store.db.prepare('DELETE FROM vault_keys WHERE handle = ?').run(newKey),
    (error: unknown) => constraintKind(error) === 'foreign-key',
  )
  assert.equal(store.db.prepare('DELETE FROM vault_keys WHERE handle = ?').run(oldKey).changes, 1)
})
