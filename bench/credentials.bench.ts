/**
 * Verification throughput of the trust libraries, inline on the main thread with the native
 * provider: identity histories, purpose key attestations, credentials, and one handshake's
 * worth in a verifyBatch 'peer' item. Pool variants come later; compare against these.
 *
 *   npx tsc -p . && node dist/bench/credentials.bench.js
 */
import assert from 'node:assert/strict'
import { Bench } from 'tinybench'
import { decodeCbor } from '../runtime/trust/cbor.js'
import { issueCredential, verifyCredential } from '../runtime/trust/credentials/index.js'
import { createNativeCryptoProvider } from '../runtime/trust/crypto/native.js'
import {
  createIdentity,
  createMemorySigner,
  createPurposeKeyAttestation,
  rotateIdentity,
  verifyIdentityHistory,
  verifyPurposeKeyAttestation,
} from '../runtime/trust/identity/index.js'
import { verifyBatch } from '../runtime/trust/verify-batch.js'

const crypto = createNativeCryptoProvider()
const signer = createMemorySigner(crypto)
const now = Math.floor(Date.now() / 1000)

const authorityKey = signer.generateKey()
const authority = await createIdentity(signer, authorityKey, { created: now }, crypto)
const credentialKey = signer.generateKey()
const authorityAttestation = await createPurposeKeyAttestation(signer, authorityKey, authority, {
  purpose: 'credential-signing',
  publicKey: await signer.publicKey(credentialKey),
  created: now,
  expires: now + 86_400,
})

const keys = [signer.generateKey(), signer.generateKey(), signer.generateKey()] as const
const member = await createIdentity(signer, keys[0], { created: now }, crypto)
let rotated = await rotateIdentity(member, signer, keys[0], keys[1], { created: now }, crypto)
rotated = await rotateIdentity(rotated, signer, keys[1], keys[2], { created: now }, crypto)
const channelAttestation = await createPurposeKeyAttestation(signer, keys[0], member, {
  purpose: 'secure-channel',
  publicKey: crypto.x25519GenerateKeyPair().publicKey,
  created: now,
  expires: now + 86_400,
})
const subject = { identifier: member.identifier, latestChangeHash: member.latestChangeHash }
const attributes = { role: 'analyst', env: 'prod', team: 'data', relay: 'postgres' }
const credential = await issueCredential(signer, credentialKey, authorityAttestation, {
  subject,
  attributes,
  created: now,
  expires: now + 900,
})
const credentialOptions = { authorities: [authority], subject, now }
const peerItem = {
  kind: 'peer',
  history: member.history,
  secureChannelAttestation: channelAttestation,
  credentials: [credential],
  authorities: [authority],
  now,
} as const

// Every timed call must succeed, or the figures measure error paths.
assert.ok(verifyCredential(credential, credentialOptions, crypto))
assert.equal(verifyIdentityHistory(rotated.history, { now }, crypto).changes.length, 3)
const [peer] = verifyBatch([peerItem], crypto)
assert.ok(peer?.ok === true && peer.kind === 'peer' && peer.credentials[0]?.ok === true)

const keyPair = crypto.ed25519GenerateKeyPair()
const message = crypto.randomBytes(200)
const signature = crypto.ed25519Sign(keyPair.secretKey, message)

const bench = new Bench({ name: 'trust verification, inline, native provider', time: 700, iterations: 64 })
bench
  .add('ed25519 verify (reference)', () => {
    crypto.ed25519Verify(keyPair.publicKey, message, signature)
  })
  .add('decode credential presentation (CBOR only)', () => {
    decodeCbor(credential)
  })
  .add('identity history, 1 change', () => {
    verifyIdentityHistory(member.history, { now }, crypto)
  })
  .add('identity history, 3 changes', () => {
    verifyIdentityHistory(rotated.history, { now }, crypto)
  })
  .add('purpose key attestation', () => {
    verifyPurposeKeyAttestation(channelAttestation, member, { purpose: 'secure-channel', now }, crypto)
  })
  .add('credential (4 attributes)', () => {
    verifyCredential(credential, credentialOptions, crypto)
  })
  .add('verifyBatch peer: history + attestation + 1 credential', () => {
    verifyBatch([peerItem], crypto)
  })

await bench.run()
console.log(
  `${bench.name} (Node ${process.version}, ${credential.length}-byte credential, ${rotated.history.length}-byte 3-change history)`,
)
console.table(
  bench.tasks.map((task) => {
    const result = task.result
    if (result.state !== 'completed') return { task: task.name, state: result.state }
    return {
      task: task.name,
      'ops/s (median)': Math.round(result.throughput.p50 ?? 0),
      'µs/op (median)': Number(((result.latency.p50 ?? 0) * 1000).toFixed(1)),
      samples: result.latency.samplesCount,
    }
  }),
)
