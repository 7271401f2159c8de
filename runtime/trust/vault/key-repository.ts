/** The vault's rows in the state database (tables created by runtime/state/migrations.ts). */
import type { Database } from 'better-sqlite3'
import type { VaultKeyType } from './types.js'

export interface KeyRow {
  readonly handle: string
  readonly type: VaultKeyType
  readonly publicKey: Uint8Array
  /** Raw secret (vault without passphrase) … */
  readonly secret: Uint8Array | null
  /** … or the sealed one (passphrase-protected vault). */
  readonly sealedSecret: Uint8Array | null
  readonly createdAt: number
}

export type PublicKeyRow = Omit<KeyRow, 'secret' | 'sealedSecret'>

export type SettingsRow =
  | { readonly protection: 'none'; readonly createdAt: number }
  | {
      readonly protection: 'passphrase'
      readonly kdf: 'scrypt'
      readonly log2N: number
      readonly r: number
      readonly p: number
      readonly salt: Uint8Array
      readonly verifier: Uint8Array
      readonly createdAt: number
    }

interface RawKeyRow {
  handle: string
  type: VaultKeyType
  public_key: Buffer
  secret: Buffer | null
  sealed_secret: Buffer | null
  created_at: number
}

interface RawSettingsRow {
  protection: 'none' | 'passphrase'
  kdf: 'scrypt' | null
  kdf_log2_n: number | null
  kdf_r: number | null
  kdf_p: number | null
  salt: Buffer | null
  verifier: Buffer | null
  created_at: number
}

export interface KeyRepository {
  readSettings(): SettingsRow | undefined
  /** Writes the settings unless a row exists; returns the row now in force. */
  initSettings(settings: SettingsRow): SettingsRow
  insertKey(row: KeyRow): void
  getKey(handle: string): KeyRow | undefined
  getPublicKey(handle: string): PublicKeyRow | undefined
  listKeys(): PublicKeyRow[]
  deleteKey(handle: string): boolean
  /** Runs `fn` in one IMMEDIATE transaction. */
  transaction<R>(fn: () => R): R
}

export function createKeyRepository(db: Database): KeyRepository {
  const selectSettings = db.prepare('SELECT * FROM vault_settings WHERE id = 1')
  const insertSettings = db.prepare(
    `INSERT OR IGNORE INTO vault_settings (id, protection, kdf, kdf_log2_n, kdf_r, kdf_p, salt, verifier, created_at)
     VALUES (1, @protection, @kdf, @log2N, @r, @p, @salt, @verifier, @createdAt)`,
  )
  const insertKey = db.prepare(
    `INSERT INTO vault_keys (handle, type, public_key, secret, sealed_secret, created_at)
     VALUES (@handle, @type, @publicKey, @secret, @sealedSecret, @createdAt)`,
  )
  const selectKey = db.prepare('SELECT * FROM vault_keys WHERE handle = ?')
  const selectPublic = db.prepare('SELECT handle, type, public_key, created_at FROM vault_keys WHERE handle = ?')
  const selectAll = db.prepare(
    'SELECT handle, type, public_key, created_at FROM vault_keys ORDER BY created_at, handle',
  )
  const deleteKey = db.prepare('DELETE FROM vault_keys WHERE handle = ?')

  const readSettings = (): SettingsRow | undefined => {
    const row = selectSettings.get() as RawSettingsRow | undefined
    return row === undefined ? undefined : toSettings(row)
  }

  return {
    readSettings,
    initSettings(settings) {
      const p = settings.protection === 'passphrase' ? settings : undefined
      insertSettings.run({
        protection: settings.protection,
        kdf: p?.kdf ?? null,
        log2N: p?.log2N ?? null,
        r: p?.r ?? null,
        p: p?.p ?? null,
        salt: p?.salt ?? null,
        verifier: p?.verifier ?? null,
        createdAt: settings.createdAt,
      })
      return readSettings() ?? settings
    },
    insertKey: (row) => void insertKey.run(row),
    getKey(handle) {
      const row = selectKey.get(handle) as RawKeyRow | undefined
      return row === undefined
        ? undefined
        : { ...toPublic(row), secret: row.secret ?? null, sealedSecret: row.sealed_secret ?? null }
    },
    getPublicKey(handle) {
      const row = selectPublic.get(handle) as RawKeyRow | undefined
      return row === undefined ? undefined : toPublic(row)
    },
    listKeys: () => (selectAll.all() as RawKeyRow[]).map(toPublic),
    deleteKey: (handle) => deleteKey.run(handle).changes > 0,
    transaction: (fn) => db.transaction(fn).immediate(),
  }
}

function toPublic(row: RawKeyRow): PublicKeyRow {
  return { handle: row.handle, type: row.type, publicKey: new Uint8Array(row.public_key), createdAt: row.created_at }
}

function toSettings(row: RawSettingsRow): SettingsRow {
  if (row.protection === 'none') return { protection: 'none', createdAt: row.created_at }
  return {
    protection: 'passphrase',
    kdf: 'scrypt',
    log2N: row.kdf_log2_n ?? 0,
    r: row.kdf_r ?? 0,
    p: row.kdf_p ?? 0,
    salt: new Uint8Array(row.salt ?? []),
    verifier: new Uint8Array(row.verifier ?? []),
    createdAt: row.created_at,
  }
}
