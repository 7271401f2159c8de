/**
 * Shared by the secure-channel unit and integration tests: vaults in scratch folders, an
 * authority that issues credentials with its vault, identity material for channels, and a way to
 * wait for a counter without sleeping.
 */
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import type { TestContext } from 'node:test'
import { type CounterEvent, counterChannel } from '../../../runtime/diagnostics.js'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import type { OckamNode } from '../../../runtime/node.js'
import { issueCredential } from '../../../runtime/trust/credentials/credential.js'
import { createNativeCryptoProvider } from '../../../runtime/trust/crypto/native.js'
import { createIdentity } from '../../../runtime/trust/identity/create.js'
import { createPurposeKeyAttestation } from '../../../runtime/trust/identity/purpose-key.js'
import type { VerifiedIdentity } from '../../../runtime/trust/identity/types.js'
import { nowSeconds } from '../../../runtime/trust/identity/validity.js'
import { createVault, type VaultMode } from '../../../runtime/trust/vault/create-vault.js'
import type { Vault } from '../../../runtime/trust/vault/types.js'
import {
  type CreateSecureChannelIdentityOptions,
  createSecureChannelIdentity,
  type SecureChannelIdentity,
} from '../../../workers/secure-channel/identity-material.js'
import { scratchStateDir } from '../vault/helpers.js'

export const crypto = createNativeCryptoProvider()

export async function openVault(t: TestContext, mode: VaultMode = 'inline'): Promise<Vault> {
  const vault = await createVault({ mode, stateDir: scratchStateDir(t), env: {} })
  t.after(() => vault.close())
  return vault
}

export interface TestAuthority {
  readonly identity: VerifiedIdentity
  issue(
    subject: VerifiedIdentity,
    attributes: Record<string, string>,
    window?: { created: number; expires: number },
  ): Promise<Uint8Array>
}

/** An authority whose credential-signing key lives in `vault`. */
export async function makeAuthority(vault: Vault): Promise<TestAuthority> {
  const now = nowSeconds()
  const identityKey = await vault.generateKey('ed25519')
  const identity = await createIdentity(vault, identityKey.handle, { created: now - 60 }, crypto)
  const credentialKey = await vault.generateKey('ed25519')
  const attestation = await createPurposeKeyAttestation(vault, identityKey.handle, identity, {
    purpose: 'credential-signing',
    publicKey: credentialKey.publicKey,
    created: now - 60,
    expires: now + 86_400,
  })
  return {
    identity,
    issue(subject, attributes, window = { created: now - 60, expires: now + 900 }) {
      return issueCredential(vault, credentialKey.handle, attestation, {
        subject: { identifier: subject.identifier, latestChangeHash: subject.latestChangeHash },
        attributes,
        ...window,
      })
    },
  }
}

/** Identity material whose credentials can be set after creation (they name its identity). */
export async function makeMaterial(
  vault: Vault,
  options: CreateSecureChannelIdentityOptions = {},
): Promise<SecureChannelIdentity & { setCredentials(credentials: readonly Uint8Array[]): void }> {
  let credentials: readonly Uint8Array[] = []
  const material = await createSecureChannelIdentity(vault, { ...options, credentials: () => credentials })
  return {
    ...material,
    setCredentials(next) {
      credentials = next
    },
  }
}

/**
 * Resolves when `node`'s counter `name` satisfies `until` (checked now and on every change),
 * rejects after `deadlineMs` with the value it saw. Event-driven: no polling, no sleeps.
 */
export function waitForCounter(
  node: OckamNode,
  name: string,
  until: (value: number) => boolean,
  deadlineMs = 5000,
): Promise<number> {
  if (until(node.counters.get(name))) return Promise.resolve(node.counters.get(name))
  return new Promise((resolve, reject) => {
    const onEvent = (message: unknown) => {
      const event = message as CounterEvent
      if (event.node !== node.name || event.name !== name || !until(event.value)) return
      done()
      resolve(event.value)
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`${node.name}: ${name} stayed at ${node.counters.get(name)} for ${deadlineMs} ms`))
    }, deadlineMs)
    const done = () => {
      clearTimeout(timer)
      diagnosticsChannel.unsubscribe(counterChannel.name, onEvent)
    }
    diagnosticsChannel.subscribe(counterChannel.name, onEvent)
  })
}

export const rejectsWith = (code: OckamErrorCode) => (error: unknown) => {
  assert.ok(isOckamError(error, code), `expected ${code}, got ${String(error)}${isOckamError(error) ? '' : ''}`)
  return true
}

/** True when `needle` occurs anywhere in `haystack`. */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(Buffer.from(needle)) !== -1
}
