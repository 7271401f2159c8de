/**
 * What the identity, credential and policy commands share: the state folder's database, the
 * vault (inline, DESIGN §4: a short-lived process does not start a thread for a few signatures)
 * opened only when a command first needs a secret key — so listing, showing and verifying
 * never ask for the passphrase — and the services on top. Everything is closed on the way out.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { OckamError } from '../errors.js'
import { createHeldCredentialRepository, type HeldCredentialRepository } from '../state/held-credential-repository.js'
import { resolveStateDir } from '../state/state-dir.js'
import { openStateStore, type StateStore } from '../state/store.js'
import { createIdentitiesService, type IdentitiesService } from '../trust/identities/identities.js'
import type { IdentityVault } from '../trust/identities/vault-signer.js'
import { createPolicyStore, type PolicyStore } from '../trust/stored-policies.js'
import { createVault } from '../trust/vault/create-vault.js'
import type { Vault } from '../trust/vault/types.js'

/** Largest file (or standard input) a command reads, in bytes: exported identities and credentials take ~11 KiB at most. */
export const MAX_CLI_INPUT_BYTES = 64 * 1024

export interface TrustSession {
  readonly store: StateStore
  readonly identities: IdentitiesService
  readonly policies: PolicyStore
  readonly heldCredentials: HeldCredentialRepository
}

/** Runs `fn` with the services of the state folder named by OCKAM_RUNTIME_HOME (or the default). */
export async function withTrustSession<T>(fn: (session: TrustSession) => Promise<T>): Promise<T> {
  const store = openStateStore({ dir: resolveStateDir(process.env) })
  const vault = lazyVault(store.dir)
  try {
    return await fn({
      store,
      identities: createIdentitiesService({ db: store.db, vault }),
      policies: createPolicyStore(store.db),
      heldCredentials: createHeldCredentialRepository(store.db),
    })
  } finally {
    await vault.close()
    store.close()
  }
}

/** An inline vault opened on first use (a wrong passphrase fails the first operation that needs a key). */
function lazyVault(stateDir: string): IdentityVault & { close(): Promise<void> } {
  let opening: Promise<Vault> | undefined
  const open = (): Promise<Vault> => {
    opening ??= createVault({ mode: 'inline', stateDir })
    return opening
  }
  return {
    generateKey: async (type) => (await open()).generateKey(type),
    publicKey: async (handle) => (await open()).publicKey(handle),
    sign: async (handle, data) => (await open()).sign(handle, data),
    deleteKey: async (handle) => (await open()).deleteKey(handle),
    async close() {
      if (opening === undefined) return
      const vault = await opening.catch(() => undefined)
      await vault?.close()
    },
  }
}

/** Reads a whole file, or standard input for `-`, as UTF-8; at most MAX_CLI_INPUT_BYTES. */
export async function readTextInput(path: string, what: string): Promise<string> {
  if (path === '-') return readStdin(what)
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    if (!fstatSync(fd).isFile()) throw new Error('not a regular file')
    const buffer = Buffer.alloc(MAX_CLI_INPUT_BYTES + 1)
    let length = 0
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null)
      if (read === 0) break
      length += read
    }
    if (length > MAX_CLI_INPUT_BYTES) throw tooLarge(path, what)
    return buffer.subarray(0, length).toString('utf8')
  } catch (cause) {
    if (cause instanceof OckamError) throw cause
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message
    throw new OckamError('OCKAM_ERR_CLI_INPUT_UNREADABLE', `cannot read ${what} from ${path} (${reason})`, {
      cause,
      hint: `pass the ${what} itself, or the path of a readable file holding it`,
      data: { path },
    })
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

async function readStdin(what: string): Promise<string> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    length += chunk.length
    if (length > MAX_CLI_INPUT_BYTES) throw tooLarge('standard input', what)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function tooLarge(source: string, what: string): OckamError {
  return new OckamError('OCKAM_ERR_CLI_INPUT_UNREADABLE', `${source} is larger than ${MAX_CLI_INPUT_BYTES} bytes`, {
    hint: `it does not hold a ${what}; check the path`,
  })
}
