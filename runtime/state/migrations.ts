/**
 * The state database's schema, as an append-only list: a released migration is never edited,
 * a change is a new migration with the next version. Each runs in its own transaction.
 */
import type { Database } from 'better-sqlite3'

export interface Migration {
  /** 1, 2, 3, … contiguous. */
  readonly version: number
  readonly name: string
  up(db: Database): void
}

const vaultKeys: Migration = {
  version: 1,
  name: 'vault keys and vault settings',
  up(db) {
    db.exec(`
      -- One row per key. Exactly one of secret (raw 32 bytes, vault without passphrase) and
      -- sealed_secret (AES-256-GCM under the passphrase-derived key, see runtime/trust/vault/sealing.ts).
      CREATE TABLE vault_keys (
        handle TEXT PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('ed25519', 'x25519')),
        public_key BLOB NOT NULL CHECK (length(public_key) = 32),
        secret BLOB CHECK (secret IS NULL OR length(secret) = 32),
        sealed_secret BLOB,
        created_at INTEGER NOT NULL,
        CHECK ((secret IS NULL) <> (sealed_secret IS NULL))
      ) STRICT;

      -- One row, written with the first key (or at the first open with a passphrase): whether
      -- the vault is passphrase-protected, and if so the KDF parameters, salt and verifier.
      CREATE TABLE vault_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        protection TEXT NOT NULL CHECK (protection IN ('none', 'passphrase')),
        kdf TEXT CHECK (kdf IS NULL OR kdf = 'scrypt'),
        kdf_log2_n INTEGER,
        kdf_r INTEGER,
        kdf_p INTEGER,
        salt BLOB,
        verifier BLOB,
        created_at INTEGER NOT NULL,
        CHECK (protection = 'none' OR (kdf IS NOT NULL AND kdf_log2_n IS NOT NULL AND kdf_r IS NOT NULL
          AND kdf_p IS NOT NULL AND salt IS NOT NULL AND verifier IS NOT NULL))
      ) STRICT;
    `)
  },
}

/**
 * TEMPORARY placeholder for version 2 (identities and policies), which another branch adds.
 * The lead replaces it with the real migration at merge; it exists only so version 3 below is
 * contiguous on this branch. Never ship both.
 */
const reservedForIdentities: Migration = {
  version: 2,
  name: 'reserved (identities and policies)',
  up() {},
}

const nodesAndResources: Migration = {
  version: 3,
  name: 'nodes and their persistent resources',
  up(db) {
    db.exec(`
      -- The nodes of this state folder. settings is a JSON object (identity, forwardTo,
      -- managedBy = the config file that declares the node). At most one row is the default
      -- node, the one commands use when no --at/NAME is given. Times are Unix milliseconds.
      CREATE TABLE nodes (
        name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),
        is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
        settings TEXT NOT NULL CHECK (json_valid(settings)),
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX nodes_single_default ON nodes (is_default) WHERE is_default = 1;

      -- What each node should run (runtime/resources/): one row per resource, restored in
      -- rowid order when the node starts. kind names a registered resource kind; spec is its
      -- JSON specification, validated by the kind on every load (as resolved at creation:
      -- a listener asked for port 0 records the port it got).
      CREATE TABLE node_resources (
        node TEXT NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
        spec TEXT NOT NULL CHECK (json_valid(spec)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (node, kind, name)
      ) STRICT;
    `)
  },
}

/** Every migration this binary knows, in order. Other areas append theirs. */
export const MIGRATIONS: readonly Migration[] = [vaultKeys, reservedForIdentities, nodesAndResources]
