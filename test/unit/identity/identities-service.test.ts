/** The named-identities service over a real state store and an inline vault. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { createIdentityRepository } from '../../../runtime/state/identity-repository.js'
import { openStateStore, type StateStore } from '../../../runtime/state/store.js'
import { DEFAULT_MAX_IDENTITY_CHANGES } from '../../../runtime/trust/constants.js'
import { verifyCredential } from '../../../runtime/trust/credentials/credential.js'
import { createNativeCryptoProvider } from '../../../runtime/trust/crypto/native.js'
import {
  createIdentitiesService,
  DEFAULT_PURPOSE_KEY_TTL_SECONDS,
  type IdentitiesService,
  type IdentityVault,
} from '../../../runtime/trust/identities/index.js'
import { verifyPurposeKeyAttestation } from '../../../runtime/trust/identity/purpose-key.js'
import { importIdentity } from '../../../runtime/trust/identity/text.js'
import { createVault } from '../../../runtime/trust/vault/create-vault.js'
import type { Vault } from '../../../runtime/trust/vault/types.js'

const crypto = createNativeCryptoProvider()
/** A fixed clock start, Unix ms. */
const T0_MS = 1_750_000_000_000

interface Setup {
  store: StateStore
  vault: Vault
  clock: { ms: number }
  service(vault?: IdentityVault): IdentitiesService
}

async function setup(t: TestContext): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-identities-'))
  const stateDir = join(dir, 'home')
  const store = openStateStore({ dir: stateDir })
  const vault = await createVault({ mode: 'inline', stateDir, env: {} })
  t.after(async () => {
    await vault.close()
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const clock = { ms: T0_MS }
  return {
    store,
    vault,
    clock,
    service: (v: IdentityVault = vault) => createIdentitiesService({ db: store.db, vault: v, now: () => clock.ms }),
  }
}

const seconds = (clock: { ms: number }) => Math.floor(clock.ms / 1000)

function rejectsWith(code: OckamErrorCode) {
  return (error: unknown) => {
    assert.ok(isOckamError(error, code), `expected ${code}, got ${String(error)}`)
    return true
  }
}

test('create: the first identity is the default, names are checked, a taken name costs no vault key', async (t) => {
  const { service, vault, clock } = await setup(t)
  const identities = service()
  const first = await identities.create()
  clock.ms += 1000
  const alice = await identities.create('alice')
  assert.equal(first.name, 'default')
  assert.deepEqual([first.isDefault, alice.isDefault], [true, false])
  assert.match(first.identifier, /^I[0-9a-f]{64}$/)
  assert.deepEqual(await vault.publicKey(alice.keyHandle), alice.identity.publicKey)
  assert.deepEqual(
    identities.list().map((named) => named.name),
    ['default', 'alice'],
  )
  assert.equal(identities.getDefault().identifier, first.identifier)
  assert.equal(identities.findByIdentifier(alice.identifier)?.name, 'alice')
  assert.equal(identities.find('nobody'), undefined)
  assert.throws(() => identities.get('nobody'), rejectsWith('OCKAM_ERR_IDENTITY_NOT_FOUND'))

  const keys = (await vault.listKeys()).length
  await assert.rejects(identities.create('alice'), rejectsWith('OCKAM_ERR_IDENTITY_NAME_TAKEN'))
  for (const bad of ['', '-x', 'a b', 'x'.repeat(65), 'é', '../x']) {
    await assert.rejects(identities.create(bad), rejectsWith('OCKAM_ERR_IDENTITY_NAME_INVALID'), bad)
  }
  assert.equal((await vault.listKeys()).length, keys)
})

test('create: when the row cannot be written (a racing process took the name), the new key is deleted', async (t) => {
  const { service, vault, store } = await setup(t)
  const identities = service()
  await identities.create('other')
  const racing: IdentityVault = {
    ...vault,
    async generateKey(type) {
      const key = await vault.generateKey(type)
      // Another process inserts "alice" between our check and our insert.
      const intruder = await vault.generateKey('ed25519')
      createIdentityRepository(store.db).insert({
        name: 'alice',
        identifier: `I${'ab'.repeat(32)}`,
        history: new Uint8Array([1]),
        keyHandle: intruder.handle,
        createdAt: 0,
      })
      return key
    },
  }
  const before = new Set((await vault.listKeys()).map((key) => key.handle))
  await assert.rejects(service(racing).create('alice'), rejectsWith('OCKAM_ERR_IDENTITY_NAME_TAKEN'))
  const added = (await vault.listKeys()).filter((key) => !before.has(key.handle))
  assert.equal(added.length, 1, 'only the intruder key remains; ours was deleted')
})

test('default: setDefault moves it, ensureDefault creates one only in an empty folder', async (t) => {
  const { service } = await setup(t)
  const identities = service()
  assert.throws(() => identities.getDefault(), rejectsWith('OCKAM_ERR_IDENTITY_NO_DEFAULT'))
  const made = await identities.ensureDefault()
  assert.equal(made.name, 'default')
  assert.equal((await identities.ensureDefault()).identifier, made.identifier)
  await identities.create('bob')
  assert.equal(identities.setDefault('bob').isDefault, true)
  assert.equal(identities.resolve().name, 'bob')
  assert.equal(identities.get('default').isDefault, false)
  assert.throws(() => identities.setDefault('nobody'), rejectsWith('OCKAM_ERR_IDENTITY_NOT_FOUND'))
  assert.equal(identities.resolve().name, 'bob')
})

test('rotate keeps the identifier, verifies, deletes the old primary key and renews purpose keys', async (t) => {
  const { service, vault, clock } = await setup(t)
  const identities = service()
  const before = await identities.create('alice')
  const signing = await identities.purposeKey('alice', 'credential-signing')
  clock.ms += 5_000
  const after = await identities.rotate('alice')
  assert.equal(after.identifier, before.identifier)
  assert.equal(after.identity.changes.length, 2)
  assert.notDeepEqual(after.identity.publicKey, before.identity.publicKey)
  assert.deepEqual(await vault.publicKey(after.keyHandle), after.identity.publicKey)
  await assert.rejects(vault.publicKey(before.keyHandle), rejectsWith('OCKAM_ERR_VAULT_KEY_NOT_FOUND'))
  await assert.rejects(vault.publicKey(signing.keyHandle), rejectsWith('OCKAM_ERR_VAULT_KEY_NOT_FOUND'))
  const imported = importIdentity(identities.export('alice'), { now: seconds(clock) }, crypto)
  assert.deepEqual(imported.latestChangeHash, after.identity.latestChangeHash)

  const renewed = await identities.purposeKey('alice', 'credential-signing')
  assert.notEqual(renewed.keyHandle, signing.keyHandle)
  verifyPurposeKeyAttestation(
    renewed.attestation,
    after.identity,
    { purpose: 'credential-signing', now: seconds(clock) },
    crypto,
  )
  assert.throws(
    () =>
      verifyPurposeKeyAttestation(
        signing.attestation,
        after.identity,
        { purpose: 'credential-signing', now: seconds(clock) },
        crypto,
      ),
    rejectsWith('OCKAM_ERR_PURPOSE_KEY_STALE'),
  )
})

test('rotate: a rotation by another process in between fails typed and leaves no extra key', async (t) => {
  const { service, vault } = await setup(t)
  const identities = service()
  await identities.create('alice')
  const other = service()
  let raced = false
  const racing: IdentityVault = {
    ...vault,
    async generateKey(type) {
      const key = await vault.generateKey(type)
      if (!raced) {
        raced = true
        await other.rotate('alice')
      }
      return key
    },
  }
  const keys = (await vault.listKeys()).length
  await assert.rejects(service(racing).rotate('alice'), rejectsWith('OCKAM_ERR_IDENTITY_CONCURRENT_CHANGE'))
  assert.equal(identities.get('alice').identity.changes.length, 2, 'the other rotation stands')
  assert.equal((await vault.listKeys()).length, keys, 'their new key replaced their old one; ours is gone')
})

test(`rotate stops at ${DEFAULT_MAX_IDENTITY_CHANGES} changes without touching the vault`, async (t) => {
  const { service, vault } = await setup(t)
  const identities = service()
  await identities.create('alice')
  for (let i = 1; i < DEFAULT_MAX_IDENTITY_CHANGES; i++) await identities.rotate('alice')
  assert.equal(identities.get('alice').identity.changes.length, DEFAULT_MAX_IDENTITY_CHANGES)
  const keys = (await vault.listKeys()).length
  await assert.rejects(identities.rotate('alice'), rejectsWith('OCKAM_ERR_IDENTITY_TOO_MANY_CHANGES'))
  assert.equal((await vault.listKeys()).length, keys)
  assert.equal(keys, 1, 'every replaced primary key was deleted')
})

test('purpose keys: reused while valid long enough, renewed near expiry (old key deleted), X25519 for channels', async (t) => {
  const { service, vault, clock } = await setup(t)
  const identities = service()
  const alice = await identities.create('alice')
  const first = await identities.purposeKey(undefined, 'credential-signing')
  assert.equal(first.validUntil - first.validFrom, DEFAULT_PURPOSE_KEY_TTL_SECONDS)
  assert.equal((await identities.purposeKey('alice', 'credential-signing')).keyHandle, first.keyHandle)

  const channel = await identities.purposeKey('alice', 'secure-channel')
  assert.equal((await vault.keyInfo(channel.keyHandle)).type, 'x25519')
  const verified = verifyPurposeKeyAttestation(
    channel.attestation,
    alice.identity,
    { purpose: 'secure-channel', now: seconds(clock) },
    crypto,
  )
  assert.deepEqual(verified.publicKey, channel.publicKey)

  // Asking for more validity than is left renews the key.
  const longer = await identities.purposeKey('alice', 'credential-signing', {
    minRemainingSeconds: DEFAULT_PURPOSE_KEY_TTL_SECONDS + 10,
  })
  assert.notEqual(longer.keyHandle, first.keyHandle)
  assert.ok(longer.validUntil - seconds(clock) >= DEFAULT_PURPOSE_KEY_TTL_SECONDS + 10)
  await assert.rejects(vault.publicKey(first.keyHandle), rejectsWith('OCKAM_ERR_VAULT_KEY_NOT_FOUND'))

  // After expiry (plus skew) it is renewed too.
  clock.ms += (longer.validUntil - seconds(clock) + 61) * 1000
  const expired = await identities.purposeKey('alice', 'credential-signing', { minRemainingSeconds: 0 })
  assert.notEqual(expired.keyHandle, longer.keyHandle)
  assert.equal((await identities.purposeKey('alice', 'secure-channel')).keyHandle === channel.keyHandle, false)
})

test('issueCredential: verifiable by the issuer identity, bound to the subject, attestation outlives it', async (t) => {
  const { service, clock } = await setup(t)
  const identities = service()
  const issuer = await identities.create('authority')
  const member = await identities.create('member')
  const subject = { identifier: member.identifier, latestChangeHash: member.identity.latestChangeHash }
  const issued = await identities.issueCredential('authority', {
    subject,
    attributes: { role: 'analyst' },
    ttlSeconds: 900,
  })
  assert.equal(issued.credential.expires - issued.credential.created, 900)
  const verified = verifyCredential(
    issued.presentation,
    { authorities: [issuer.identity], subject, now: seconds(clock) },
    crypto,
  )
  assert.deepEqual([...verified.attributes], [['role', 'analyst']])
  assert.equal(verified.issuer, issuer.identifier)

  // A credential for 365 days needs a key attested at least that long: one is made.
  const long = await identities.issueCredential(undefined, { subject, attributes: {}, ttlSeconds: 365 * 86_400 })
  clock.ms += 364 * 86_400 * 1000
  verifyCredential(long.presentation, { authorities: [issuer.identity], subject, now: seconds(clock) }, crypto)

  for (const ttlSeconds of [0, -1, 1.5, 365 * 86_400 + 1]) {
    await assert.rejects(
      identities.issueCredential(undefined, { subject, attributes: {}, ttlSeconds }),
      rejectsWith('OCKAM_ERR_INVALID_ARGUMENT'),
    )
  }
})

test('a stored history or attestation changed outside ockam-runtime is refused, not trusted', async (t) => {
  const { service, store } = await setup(t)
  const identities = service()
  const alice = await identities.create('alice')
  await identities.purposeKey('alice', 'credential-signing')

  const attestation = store.db.prepare('SELECT attestation FROM identity_purpose_keys').pluck().get() as Buffer
  const tampered = Buffer.from(attestation)
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
  store.db.prepare('UPDATE identity_purpose_keys SET attestation = ?').run(tampered)
  await assert.rejects(
    identities.purposeKey('alice', 'credential-signing'),
    rejectsWith('OCKAM_ERR_STATE_RECORD_CORRUPT'),
  )

  const history = Buffer.from(alice.identity.history)
  history[history.length - 1] = (history[history.length - 1] as number) ^ 1
  store.db.prepare('UPDATE identities SET history = ? WHERE name = ?').run(history, 'alice')
  assert.throws(() => identities.get('alice'), rejectsWith('OCKAM_ERR_STATE_RECORD_CORRUPT'))
  assert.throws(() => identities.list(), rejectsWith('OCKAM_ERR_STATE_RECORD_CORRUPT'))
})

test('with the vault on its own thread (a node): keys committed by the thread satisfy the foreign keys', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-identities-thread-'))
  const stateDir = join(dir, 'home')
  const store = openStateStore({ dir: stateDir })
  const vault = await createVault({ mode: 'thread', stateDir, env: {} })
  t.after(async () => {
    await vault.close()
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const identities = createIdentitiesService({ db: store.db, vault })
  const alice = await identities.ensureDefault()
  const key = await identities.purposeKey(undefined, 'secure-channel')
  const rotated = await identities.rotate()
  assert.equal(rotated.identifier, alice.identifier)
  await assert.rejects(vault.keyInfo(key.keyHandle), rejectsWith('OCKAM_ERR_VAULT_KEY_NOT_FOUND'))
  assert.ok(vault.threadCalls > 0, 'the work went through the thread')
})
