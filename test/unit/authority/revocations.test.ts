/** Revocation entries: signed format, verification, tampering, the subscriber store (gaps, conflicts, reopen). */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import {
  decodeRevocationEntry,
  encodeRevocationData,
  REVOCATION_SIGNING_DOMAIN,
  revocationSigningInput,
  signRevocationEntry,
  verifyRevocationEntry,
} from '../../../runtime/authority/revocation-entry.js'
import { createRevocationStore, type RevocationStore } from '../../../runtime/authority/revocation-store.js'
import { openStateStore, type StateStore } from '../../../runtime/state/store.js'
import { type CborValue, decodeCbor, encodeCbor } from '../../../runtime/trust/cbor.js'
import { signingInput } from '../../../runtime/trust/identity/domains.js'
import type { VerifiedIdentity } from '../../../runtime/trust/identity/types.js'
import { crypto, enrolledMember, type Host, projectHost, withCode } from './helpers.js'

/** A host with `count` deleted members; returns the published entries' bytes. */
async function revoked(host: Host, count: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const member = await enrolledMember(host)
    out.push((await host.authority.deleteMember(host.admin.identifier, member.identifier)).revocation.bytes)
  }
  return out
}

function subscriberStore(t: TestContext): { dir: string; open(): StateStore } {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-subscriber-'))
  const stores: StateStore[] = []
  t.after(() => {
    for (const store of stores) store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    dir,
    open() {
      const store = openStateStore({ dir: join(dir, 'home') })
      stores.push(store)
      return store
    },
  }
}

const authorityOf = (host: Host): VerifiedIdentity => host.identities.get('authority').identity

test('an entry names the authority, seq, subject and time, signed in its own domain', async (t) => {
  const host = await projectHost(t)
  const member = await enrolledMember(host)
  const { revocation } = await host.authority.deleteMember(host.admin.identifier, member.identifier)
  const verified = verifyRevocationEntry(revocation.bytes, authorityOf(host), crypto)
  assert.equal(verified.authority, host.authorityIdentity.identifier)
  assert.equal(verified.seq, 1)
  assert.equal(verified.subject, member.identifier)
  assert.equal(verified.revokedAt, Math.floor(host.clock.ms / 1000))
  assert.deepEqual(verified.signerChangeHash, authorityOf(host).latestChangeHash)

  const parsed = decodeRevocationEntry(revocation.bytes)
  assert.deepEqual(parsed.data, encodeRevocationData(verified))
  const domain = Buffer.from(revocationSigningInput(parsed.data)).subarray(0, REVOCATION_SIGNING_DOMAIN.length + 1)
  assert.equal(domain.toString('latin1'), `${REVOCATION_SIGNING_DOMAIN}\0`)
  // The same bytes signed for another domain (a credential) do not verify as a revocation, and back.
  assert.equal(
    crypto.ed25519Verify(authorityOf(host).publicKey, signingInput('credential', parsed.data), parsed.signature),
    false,
  )
})

test('tampered, forged or foreign entries are refused with typed errors', async (t) => {
  const host = await projectHost(t)
  const other = await projectHost(t, { name: 'other' })
  const [bytes] = await revoked(host, 1)
  const entry = bytes as Uint8Array
  const authority = authorityOf(host)
  const parsed = decodeRevocationEntry(entry)

  const flippedSignature = encodeCbor([parsed.data, parsed.signature.map((b, i) => (i === 0 ? b ^ 1 : b))])
  assert.throws(
    () => verifyRevocationEntry(flippedSignature, authority, crypto),
    withCode('OCKAM_ERR_REVOCATION_BAD_SIGNATURE'),
  )
  const otherSubject = encodeRevocationData({ ...parsed, subject: other.admin.identifier })
  assert.throws(
    () => verifyRevocationEntry(encodeCbor([otherSubject, parsed.signature]), authority, crypto),
    withCode('OCKAM_ERR_REVOCATION_BAD_SIGNATURE'),
  )
  const laterSeq = encodeRevocationData({ ...parsed, seq: 2 })
  assert.throws(
    () => verifyRevocationEntry(encodeCbor([laterSeq, parsed.signature]), authority, crypto),
    withCode('OCKAM_ERR_REVOCATION_BAD_SIGNATURE'),
  )
  // Signed by another project's authority: refused by whom it names, whatever its signature.
  const [foreign] = await revoked(other, 1)
  assert.throws(
    () => verifyRevocationEntry(foreign as Uint8Array, authority, crypto),
    withCode('OCKAM_ERR_REVOCATION_WRONG_AUTHORITY'),
  )
  // Claims our authority but a change it never made.
  const unknownSigner = encodeRevocationData({ ...parsed, signerChangeHash: new Uint8Array(32).fill(7) })
  assert.throws(
    () => verifyRevocationEntry(encodeCbor([unknownSigner, parsed.signature]), authority, crypto),
    withCode('OCKAM_ERR_REVOCATION_UNKNOWN_SIGNER'),
  )
  // Trailing bytes, truncation.
  assert.throws(
    () => verifyRevocationEntry(new Uint8Array([...entry, 0]), authority, crypto),
    withCode('OCKAM_ERR_CBOR_TRAILING_BYTES'),
  )
  assert.throws(
    () => verifyRevocationEntry(entry.subarray(0, entry.length - 1), authority, crypto),
    withCode('OCKAM_ERR_CBOR_MALFORMED'),
  )
  // A version we do not know.
  const v2 = encodeCbor([2, ...(decodeCbor(parsed.data) as readonly CborValue[]).slice(1)])
  assert.throws(
    () => verifyRevocationEntry(encodeCbor([v2, parsed.signature]), authority, crypto),
    withCode('OCKAM_ERR_REVOCATION_INVALID'),
  )
})

test('entries stay valid after the authority rotates; a subscriber needs the new history for new ones', async (t) => {
  const host = await projectHost(t)
  const [before] = await revoked(host, 1)
  const old = authorityOf(host)
  await host.identities.rotate('authority')
  const rotated = authorityOf(host)
  assert.equal(rotated.identifier, old.identifier)
  const [after] = await revoked(host, 1)
  assert.equal(verifyRevocationEntry(before as Uint8Array, rotated, crypto).seq, 1)
  assert.equal(verifyRevocationEntry(after as Uint8Array, rotated, crypto).seq, 2)

  const subscriber = subscriberStore(t)
  const store = createRevocationStore({ db: subscriber.open().db, authority: old, crypto })
  store.accept([before as Uint8Array])
  assert.throws(() => store.accept([after as Uint8Array]), withCode('OCKAM_ERR_REVOCATION_UNKNOWN_SIGNER'))
  store.updateAuthority(rotated)
  assert.equal(store.accept([after as Uint8Array]).length, 1)
  assert.throws(() => store.updateAuthority(old), withCode('OCKAM_ERR_IDENTITY_ROLLBACK'))
})

test('the subscriber store accepts entries in sequence, skips repeats, detects gaps and conflicts', async (t) => {
  const host = await projectHost(t)
  const entries = await revoked(host, 4)
  const [e1, e2, e3, e4] = entries as [Uint8Array, Uint8Array, Uint8Array, Uint8Array]
  const subscriber = subscriberStore(t)
  const store: RevocationStore = createRevocationStore({
    db: subscriber.open().db,
    authority: authorityOf(host),
    crypto,
  })
  const seen: number[] = []
  store.onRevoked((entry) => seen.push(entry.seq))
  assert.equal(store.lastSeq(), 0)

  assert.throws(
    () => store.accept([e2]),
    (error: unknown) => {
      withCode('OCKAM_ERR_REVOCATION_SEQ_GAP')(error)
      assert.deepEqual((error as { data: unknown }).data, { expected: 1, got: 2, stored: 0 })
      return true
    },
  )
  assert.deepEqual(
    store.accept([e1, e2]).map((entry) => entry.seq),
    [1, 2],
  )
  // A resynchronization that overlaps is harmless.
  assert.deepEqual(
    store.accept([e1, e2, e3]).map((entry) => entry.seq),
    [3],
  )
  // A batch that fails midway keeps what came before the failure.
  const other = await projectHost(t, { name: 'other' })
  const foreign = (await revoked(other, 1))[0] as Uint8Array
  assert.throws(
    () => store.accept([e4, foreign]),
    (error: unknown) => {
      withCode('OCKAM_ERR_REVOCATION_WRONG_AUTHORITY')(error)
      assert.equal((error as { data: { stored: number } }).data.stored, 1)
      return true
    },
  )
  assert.equal(store.lastSeq(), 4)
  assert.deepEqual(seen, [1, 2, 3, 4])
  const subject = decodeRevocationEntry(e3).subject
  assert.equal(store.isRevoked(subject), true)
  assert.equal(store.isRevoked(host.admin.identifier), false)
})

test('a conflicting entry for a stored number is refused', async (t) => {
  const first = await projectHost(t)
  const entries = await revoked(first, 1)
  // Same authority, two different entries with seq 1: sign a second one by hand.
  const authority = first.identities.get('authority')
  const stranger = await first.newcomer()
  const conflicting = await signRevocationEntry(first.identities.signer, authority.keyHandle, authority.identity, {
    seq: 1,
    subject: stranger.identifier,
    revokedAt: 1,
  })
  const subscriber = subscriberStore(t)
  const store = createRevocationStore({ db: subscriber.open().db, authority: authority.identity, crypto })
  store.accept(entries)
  assert.throws(() => store.accept([conflicting]), withCode('OCKAM_ERR_REVOCATION_CONFLICT'))
  assert.equal(store.isRevoked(stranger.identifier), false)
})

test('the subscriber store survives a reopen: revoked identities stay revoked, sync resumes from the last seq', async (t) => {
  const host = await projectHost(t)
  const entries = await revoked(host, 3)
  const subscriber = subscriberStore(t)
  const firstOpen = subscriber.open()
  const store = createRevocationStore({ db: firstOpen.db, authority: authorityOf(host), crypto })
  store.accept(entries.slice(0, 2))
  firstOpen.close()

  const reopened = createRevocationStore({ db: subscriber.open().db, authority: authorityOf(host), crypto })
  assert.equal(reopened.lastSeq(), 2)
  for (const bytes of entries.slice(0, 2)) assert.equal(reopened.isRevoked(decodeRevocationEntry(bytes).subject), true)
  const page = host.authority.entriesSince(reopened.lastSeq())
  assert.deepEqual(
    reopened.accept(page.entries.map((entry) => entry.bytes)).map((entry) => entry.seq),
    [3],
  )
  assert.deepEqual(
    reopened.list().map((entry) => entry.seq),
    [1, 2, 3],
  )
})

test('the authority tells listeners after a deletion commits; a throwing listener changes nothing', async (t) => {
  const host = await projectHost(t)
  const heard: number[] = []
  host.authority.onRevocation(() => {
    throw new Error('listener bug')
  })
  const stop = host.authority.onRevocation((entry) => heard.push(entry.seq))
  await revoked(host, 2)
  stop()
  await revoked(host, 1)
  assert.deepEqual(heard, [1, 2])
  assert.equal(host.authority.entriesSince(0).latestSeq, 3)
})
