/** A project host in a temp state folder: store, inline vault, identities, authority service. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { type AuthorityService, createAuthorityService } from '../../../runtime/authority/authority.js'
import type { Project } from '../../../runtime/authority/types.js'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { openStateStore, type StateStore } from '../../../runtime/state/store.js'
import { createNativeCryptoProvider } from '../../../runtime/trust/crypto/native.js'
import {
  createIdentitiesService,
  type IdentitiesService,
  type NamedIdentity,
} from '../../../runtime/trust/identities/index.js'
import { createIdentity } from '../../../runtime/trust/identity/create.js'
import { createMemorySigner } from '../../../runtime/trust/identity/memory-signer.js'
import type { VerifiedIdentity } from '../../../runtime/trust/identity/types.js'
import { createVault } from '../../../runtime/trust/vault/create-vault.js'
import type { Vault } from '../../../runtime/trust/vault/types.js'

export const crypto = createNativeCryptoProvider()

/** A fixed clock start, Unix ms. */
export const T0_MS = 1_750_000_000_000

export interface Host {
  readonly dir: string
  readonly stateDir: string
  readonly store: StateStore
  readonly vault: Vault
  readonly clock: { ms: number }
  readonly identities: IdentitiesService
  readonly authority: AuthorityService
  readonly authorityIdentity: NamedIdentity
  readonly admin: NamedIdentity
  readonly project: Project
  /** A fresh outside identity (not a member), made with an in-memory signer. */
  newcomer(): Promise<VerifiedIdentity>
}

export interface HostOptions {
  readonly name?: string
  readonly credentialTtlSeconds?: number
  /** Wraps the identities service the authority gets (to slow down or observe signing). */
  readonly wrapIdentities?: (identities: IdentitiesService) => IdentitiesService
}

const signer = createMemorySigner(crypto)

export async function newIdentity(clock: { ms: number } = { ms: T0_MS }): Promise<VerifiedIdentity> {
  return createIdentity(signer, signer.generateKey(), { created: Math.floor(clock.ms / 1000) }, crypto)
}

export async function projectHost(t: TestContext, options: HostOptions = {}): Promise<Host> {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-authority-'))
  const stateDir = join(dir, 'home')
  const store = openStateStore({ dir: stateDir })
  const vault = await createVault({ mode: 'inline', stateDir, env: {} })
  t.after(async () => {
    await vault.close()
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const clock = { ms: T0_MS }
  const identities = createIdentitiesService({ db: store.db, vault, now: () => clock.ms })
  const admin = await identities.create('admin')
  const authorityIdentity = await identities.create('authority')
  const authority = createAuthorityService({
    db: store.db,
    identities: options.wrapIdentities?.(identities) ?? identities,
    crypto,
    now: () => clock.ms,
  })
  const project = authority.createProject({
    name: options.name ?? 'demo',
    authorityIdentity: 'authority',
    advertisedAddress: '127.0.0.1:4000',
    admin: admin.identifier,
    adminHistory: admin.identity.history,
    ...(options.credentialTtlSeconds === undefined ? {} : { credentialTtlSeconds: options.credentialTtlSeconds }),
  })
  return {
    dir,
    stateDir,
    store,
    vault,
    clock,
    identities,
    authority,
    authorityIdentity,
    admin,
    project,
    newcomer: () => newIdentity(clock),
  }
}

/** assert.throws / assert.rejects predicate for an OckamError with `code`. */
export function withCode(code: OckamErrorCode) {
  return (error: unknown) => {
    assert.ok(isOckamError(error, code), `expected ${code}, got ${String(error)}`)
    return true
  }
}

/** A member enrolled through a fresh ticket; returns its identity. */
export async function enrolledMember(
  host: Host,
  attributes: Record<string, string> = {},
  options: { relay?: string; enroller?: boolean } = {},
): Promise<VerifiedIdentity> {
  const identity = await host.newcomer()
  const { code } = host.authority.createTicket(host.admin.identifier, { attributes, ...options })
  host.authority.redeemTicket(code, { identifier: identity.identifier, history: identity.history })
  return identity
}
