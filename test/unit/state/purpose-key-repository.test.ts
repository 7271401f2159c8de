import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createIdentityRepository } from '../../../runtime/state/identity-repository.js'
import { createPurposeKeyRepository, type PurposeKeyRow } from '../../../runtime/state/purpose-key-repository.js'
import { constraintKind } from '../../../runtime/state/sqlite.js'
import { fakeIdentifier, fakeVaultKey, scratchStore } from './helpers.js'

test('one purpose key per identity and purpose: put replaces and returns the replaced handle; deleteAll returns every handle', (t) => {
  const store = scratchStore(t)
  const identifier = fakeIdentifier()
  createIdentityRepository(store.db).insert({
    name: 'a',
    identifier,
    history: new Uint8Array([1]),
    keyHandle: fakeVaultKey(store),
    createdAt: 1,
  })
  const repo = createPurposeKeyRepository(store.db)
  const row = (purpose: PurposeKeyRow['purpose'], keyHandle: string): PurposeKeyRow => ({
    identifier,
    purpose,
    keyHandle,
    attestation: new Uint8Array([7, 7]),
    validFrom: 10,
    validUntil: 20,
    createdAt: 3,
  })
  const first = fakeVaultKey(store)
  const second = fakeVaultKey(store)
  const channel = fakeVaultKey(store, 'x25519')
  assert.equal(repo.put(row('credential-signing', first)), undefined)
  assert.deepEqual(repo.get(identifier, 'credential-signing'), row('credential-signing', first))
  assert.equal(repo.put(row('credential-signing', second)), first)
  assert.equal(repo.put(row('secure-channel', channel)), undefined)
  assert.deepEqual(
    repo.list(identifier).map((r) => [r.purpose, r.keyHandle]),
    [
      ['credential-signing', second],
      ['secure-channel', channel],
    ],
  )
  assert.deepEqual(repo.deleteAll(identifier).sort(), [second, channel].sort())
  assert.deepEqual(repo.list(identifier), [])
  assert.deepEqual(repo.deleteAll(identifier), [])
})

test('a purpose key needs a stored identity, a known vault key and a known purpose', (t) => {
  const store = scratchStore(t)
  const repo = createPurposeKeyRepository(store.db)
  const identifier = fakeIdentifier()
  const base = {
    identifier,
    purpose: 'credential-signing' as const,
    keyHandle: fakeVaultKey(store),
    attestation: new Uint8Array([1]),
    validFrom: 1,
    validUntil: 2,
    createdAt: 1,
  }
  assert.throws(
    () => repo.put(base),
    (error: unknown) => constraintKind(error) === 'foreign-key',
  )
  createIdentityRepository(store.db).insert({
    name: 'a',
    identifier,
    history: new Uint8Array([1]),
    keyHandle: fakeVaultKey(store),
    createdAt: 1,
  })
  assert.throws(
    () => repo.put({ ...base, keyHandle: 'vk_unknown' }),
    (error: unknown) => constraintKind(error) === 'foreign-key',
  )
  assert.throws(
    () => repo.put({ ...base, purpose: 'other' as never }),
    (error: unknown) => constraintKind(error) === 'check',
  )
  repo.put(base)
  assert.equal(repo.list(identifier).length, 1)
})
