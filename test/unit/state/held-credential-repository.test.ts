import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createHeldCredentialRepository } from '../../../runtime/state/held-credential-repository.js'
import { createIdentityRepository } from '../../../runtime/state/identity-repository.js'
import { constraintKind } from '../../../runtime/state/sqlite.js'
import { fakeIdentifier, fakeVaultKey, scratchStore } from './helpers.js'

test('held credentials: one per subject and issuer, replaced by put, listed per subject, deleted', (t) => {
  const store = scratchStore(t)
  const identities = createIdentityRepository(store.db)
  const [alice, bob] = [fakeIdentifier(), fakeIdentifier()]
  for (const [name, identifier] of [
    ['alice', alice],
    ['bob', bob],
  ] as const) {
    identities.insert({ name, identifier, history: new Uint8Array([1]), keyHandle: fakeVaultKey(store), createdAt: 1 })
  }
  const repo = createHeldCredentialRepository(store.db)
  const issuer = fakeIdentifier()
  const row = (subject: string, presentation: number[], storedAt: number) => ({
    subject,
    issuer,
    presentation: new Uint8Array(presentation),
    validFrom: 1,
    validUntil: 2,
    storedAt,
  })
  repo.put(row(alice, [1], 10))
  repo.put(row(alice, [2], 11))
  repo.put(row(bob, [3], 12))
  assert.deepEqual(repo.get(alice, issuer), row(alice, [2], 11))
  assert.equal(repo.list().length, 2)
  assert.deepEqual(repo.list(bob), [row(bob, [3], 12)])
  assert.equal(repo.delete(bob, issuer), true)
  assert.equal(repo.delete(bob, issuer), false)
  assert.equal(repo.get(bob, issuer), undefined)
})

test('a held credential must name an identity of this folder and a well-formed issuer', (t) => {
  const store = scratchStore(t)
  const repo = createHeldCredentialRepository(store.db)
  const base = {
    subject: fakeIdentifier(),
    issuer: fakeIdentifier(),
    presentation: new Uint8Array([1]),
    validFrom: 1,
    validUntil: 2,
    storedAt: 1,
  }
  assert.throws(
    () => repo.put(base),
    (error: unknown) => constraintKind(error) === 'foreign-key',
  )
  createIdentityRepository(store.db).insert({
    name: 'a',
    identifier: base.subject,
    history: new Uint8Array([1]),
    keyHandle: fakeVaultKey(store),
    createdAt: 1,
  })
  assert.throws(
    () => repo.put({ ...base, issuer: 'not an identifier' }),
    (error: unknown) => constraintKind(error) === 'check',
  )
  repo.put(base)
  assert.equal(repo.list().length, 1)
})
