/**
 * Noise handshakes held inside the vault (DESIGN §4): every step that touches a secure-channel
 * static secret (the `es`/`se` DH, the HKDF chain after it, sealing the handshake payload) runs
 * here, in the vault's thread when the vault is threaded. The caller holds only an id and sees
 * handshake messages, payloads and, after Split(), the transport keys it needs for bulk AEAD.
 *
 * The table is bounded (a caller that forgets to abort cannot grow the vault's memory) and every
 * entry has a time to live, swept on each start, so even a crashed caller's handshakes go away.
 * Each handshake holds its own copy of the static secret, wiped when it ends: the key cache may
 * evict (and zero) its copy at any time.
 */

import { OckamError } from '../../errors.js'
import type { CryptoProvider, KeyPair } from '../crypto/provider.js'
import { createXXHandshake, type NoiseHandshake } from '../noise/handshake-xx.js'
import { noiseSuiteByName } from '../noise/suite.js'
import type {
  VaultHandshakeFinal,
  VaultHandshakeKeys,
  VaultHandshakeMessage,
  VaultHandshakeResponse,
  VaultHandshakeRole,
  VaultHandshakeStarted,
} from './types.js'

export interface HandshakeTableOptions {
  readonly provider: CryptoProvider
  /** Handshakes in progress at once; one more is OCKAM_ERR_VAULT_TOO_MANY_HANDSHAKES. */
  readonly maxHandshakes: number
  /** A handshake older than this (ms) is forgotten. */
  readonly ttlMs: number
  /** Milliseconds clock. */
  readonly now: () => number
  /** Unguessable handshake ids. */
  readonly newId: () => string
}

export interface HandshakeTable {
  start(staticKeyPair: KeyPair, role: VaultHandshakeRole, protocolName: string, prologue: Uint8Array): string
  write(id: unknown, payload: unknown): Uint8Array
  read(id: unknown, message: unknown): VaultHandshakeMessage
  split(id: unknown): VaultHandshakeKeys
  abort(id: unknown): boolean
  /** start + write message 1, one step (one thread round trip). */
  initiate(staticKeyPair: KeyPair, protocolName: string, prologue: Uint8Array, payload: unknown): VaultHandshakeStarted
  /** start + read message 1 + write message 2. */
  respond(
    staticKeyPair: KeyPair,
    protocolName: string,
    prologue: Uint8Array,
    message1: unknown,
    payload2: unknown,
  ): VaultHandshakeResponse
  /** write message 3 + split. */
  writeFinal(id: unknown, payload: unknown): VaultHandshakeFinal
  /** read message 3 + split. */
  readFinal(id: unknown, message: unknown): VaultHandshakeFinal
  readonly size: number
  /** Wipes and forgets every handshake (vault close). */
  clear(): void
}

interface Entry {
  readonly handshake: NoiseHandshake
  readonly staticSecret: Uint8Array
  readonly startedAt: number
}

export function createHandshakeTable(options: HandshakeTableOptions): HandshakeTable {
  const entries = new Map<string, Entry>()

  const forget = (id: string, entry: Entry): void => {
    entries.delete(id)
    entry.staticSecret.fill(0)
  }

  // Map order is start order, so the expired entries are a prefix.
  const sweep = (): void => {
    const oldest = options.now() - options.ttlMs
    for (const [id, entry] of entries) {
      if (entry.startedAt > oldest) break
      forget(id, entry)
    }
  }

  const lookup = (id: unknown): [string, Entry] => {
    const entry = typeof id === 'string' ? entries.get(id) : undefined
    if (entry === undefined || typeof id !== 'string') {
      throw new OckamError('OCKAM_ERR_VAULT_HANDSHAKE_NOT_FOUND', 'no handshake in progress with that id', {
        hint: 'the handshake ended, failed, was aborted or outlived its time to live; start a new one',
      })
    }
    if (entry.startedAt <= options.now() - options.ttlMs) {
      forget(id, entry)
      return lookup(undefined)
    }
    return [id, entry]
  }

  /** A failed handshake is dead (Noise §5.3); a refusal before any change (payload too large) is not. */
  const step = <R>(id: unknown, run: (handshake: NoiseHandshake) => R): R => {
    const [key, entry] = lookup(id)
    try {
      return run(entry.handshake)
    } catch (error) {
      if (entry.handshake.nextAction() === 'failed') forget(key, entry)
      throw error
    }
  }

  /** The combined steps end the handshake when any part fails: the caller only has its id. */
  const endOnThrow = <R>(id: unknown, run: () => R): R => {
    try {
      return run()
    } catch (error) {
      table.abort(id)
      throw error
    }
  }

  const table: HandshakeTable = {
    start(staticKeyPair, role, protocolName, prologue) {
      sweep()
      if (entries.size >= options.maxHandshakes) {
        staticKeyPair.secretKey.fill(0)
        throw new OckamError(
          'OCKAM_ERR_VAULT_TOO_MANY_HANDSHAKES',
          `the vault holds ${options.maxHandshakes} handshakes in progress already`,
          {
            hint: 'wait for handshakes to finish, or lower the half-open handshake limits of the listeners',
            data: { limit: options.maxHandshakes },
          },
        )
      }
      let handshake: NoiseHandshake
      try {
        handshake = createXXHandshake({
          provider: options.provider,
          suite: noiseSuiteByName(protocolName),
          role,
          staticKeyPair,
          prologue: new Uint8Array(prologue),
        })
      } catch (error) {
        staticKeyPair.secretKey.fill(0)
        throw error
      }
      const id = options.newId()
      entries.set(id, { handshake, staticSecret: staticKeyPair.secretKey, startedAt: options.now() })
      return id
    },

    write(id, payload) {
      return step(id, (handshake) => copy(handshake.writeMessage(payload as Uint8Array)))
    },

    read(id, message) {
      return step(id, (handshake) => {
        const payload = copy(handshake.readMessage(message as Uint8Array))
        const remote = handshake.remoteStaticPublicKey()
        return remote === undefined ? { payload } : { payload, remoteStaticPublicKey: copy(remote) }
      })
    },

    split(id) {
      const [key, entry] = lookup(id)
      try {
        const result = entry.handshake.split()
        return {
          sendKey: copy(result.sendKey),
          receiveKey: copy(result.receiveKey),
          handshakeHash: copy(result.handshakeHash),
          remoteStaticPublicKey: copy(result.remoteStaticPublicKey),
        }
      } finally {
        // After split (or a split called out of turn, which is a caller bug) the handshake is over.
        forget(key, entry)
      }
    },

    initiate(staticKeyPair, protocolName, prologue, payload) {
      const id = table.start(staticKeyPair, 'initiator', protocolName, prologue)
      return { id, message: endOnThrow(id, () => table.write(id, payload)) }
    },

    respond(staticKeyPair, protocolName, prologue, message1, payload2) {
      const id = table.start(staticKeyPair, 'responder', protocolName, prologue)
      return endOnThrow(id, () => {
        const read = table.read(id, message1)
        return { id, payload: read.payload, message: table.write(id, payload2) }
      })
    },

    writeFinal(id, payload) {
      return endOnThrow(id, () => {
        const message = table.write(id, payload)
        return { message, keys: table.split(id) }
      })
    },

    readFinal(id, message) {
      return endOnThrow(id, () => {
        const read = table.read(id, message)
        return { message: read.payload, keys: table.split(id) }
      })
    },

    abort(id) {
      const entry = typeof id === 'string' ? entries.get(id) : undefined
      if (entry === undefined) return false
      forget(id as string, entry)
      return true
    },

    get size() {
      return entries.size
    },

    clear() {
      for (const [id, entry] of entries) forget(id, entry)
    },
  }
  return table
}

/** Exact-size copies: a view would carry its whole underlying buffer across the thread boundary. */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}
